import { type BigIntStats, lstatSync, statSync } from 'node:fs';
import { locateScript, type ResolvedScript, type ScriptVersion } from './path.js';

/**
 * Remembered script resolutions. Resolving a script walks the path with a stat per segment and two
 * `realpath`s (a readlink per component), each a trip through libuv's thread pool; a remembered one is
 * trusted only while one synchronous `lstat` of the script's path (and a `stat` when that path is a
 * symlink) still shows the same file: device, inode, mode, owner, size, mtime and ctime to the
 * nanosecond. So a script that was removed, replaced (renamed over, or a symlink re-pointed),
 * rewritten, chmod'ed or chown'ed is resolved afresh — and refused if it must be — on the very next
 * request. Only successful resolutions are kept; a 403 or 404 is looked up again every time.
 */
export class ScriptCache {
  readonly maxEntries: number;
  readonly #entries = new Map<string, { script: ResolvedScript; version: ScriptVersion }>();

  /** @param maxEntries resolutions kept (oldest forgotten first) */
  constructor(maxEntries = 256) {
    this.maxEntries = maxEntries;
  }

  /** Resolutions held. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The script a collapsed CGI path names, as `resolveScript` finds it: synchronously when a
   * remembered resolution is still valid, otherwise resolved (and remembered) afresh.
   */
  resolve(
    root: string,
    collapsedPath: string,
    cgiDirectories: readonly string[],
    options: { dotfiles?: boolean } = {},
  ): ResolvedScript | Promise<ResolvedScript> {
    const key = `${options.dotfiles === true ? 1 : 0}\0${root}\0${collapsedPath}\0${cgiDirectories.join('\0')}`;
    const known = this.#entries.get(key);
    if (known !== undefined) {
      if (isCurrent(known.version)) return known.script;
      this.#entries.delete(key);
    }
    return locateScript(root, collapsedPath, cgiDirectories, options).then((found) => {
      this.#entries.delete(key);
      if (this.#entries.size >= this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
      this.#entries.set(key, found);
      return found.script;
    });
  }

  /** Forgets every resolution. */
  clear(): void {
    this.#entries.clear();
  }
}

function isSame(a: BigIntStats, b: BigIntStats): boolean {
  return (
    a.ino === b.ino &&
    a.ctimeNs === b.ctimeNs &&
    a.mtimeNs === b.mtimeNs &&
    a.mode === b.mode &&
    a.size === b.size &&
    a.uid === b.uid &&
    a.gid === b.gid &&
    a.dev === b.dev
  );
}

/** True while the script's path still shows the very file it was resolved to. */
function isCurrent(version: ScriptVersion): boolean {
  // Synchronous on purpose: an lstat of a cached inode takes microseconds, a thread-pool trip far more.
  try {
    const link = lstatSync(version.filePath, { bigint: true, throwIfNoEntry: false });
    if (link === undefined || !isSame(link, version.link)) return false;
    if (!link.isSymbolicLink()) return true;
    const file = statSync(version.filePath, { bigint: true, throwIfNoEntry: false });
    return file !== undefined && isSame(file, version.file);
  } catch {
    return false;
  }
}
