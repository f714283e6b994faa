import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { UserIds } from './user.js';

/** What stops a user from running a script: the first path it cannot pass, and which permission it lacks. */
export interface UnreachablePath {
  /** A directory above the script, or the script itself. */
  readonly path: string;
  /** `search` (x on a directory), `read` or `execute`. */
  readonly lacks: 'search' | 'read' | 'execute';
  /** Permission bits of that path (`0o700`). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

interface Owned {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/**
 * The `rwx` bits (0–7) of `file` that apply to `ids`: the owner's when the user owns it, else the
 * group's when its primary group matches, else everyone else's. Supplementary groups are not known
 * here, so a file they would open is reported as closed (the diagnosis then names it, and the log
 * says the system refused anyway).
 */
export function permissionsFor(file: Owned, ids: UserIds): number {
  if (ids.uid === 0) return 0o7;
  if (file.uid === ids.uid) return (file.mode >> 6) & 0o7;
  if (file.gid === ids.gid) return (file.mode >> 3) & 0o7;
  return file.mode & 0o7;
}

/**
 * Walks from `/` down to `script` and returns the first path `ids` cannot pass: a directory it cannot
 * search (scripts also start in their own directory, so each one needs it), or the script it cannot
 * execute, or read (`needsRead`: an interpreter opens the file). `undefined` when the bits allow it all.
 * Only used after the system refused a spawn, to say why: never on the request path.
 */
export async function findUnreachablePath(
  script: string,
  ids: UserIds,
  needsRead: boolean,
): Promise<UnreachablePath | undefined> {
  const absolute = path.resolve(script);
  const directories: string[] = [];
  for (let dir = path.dirname(absolute); ; dir = path.dirname(dir)) {
    directories.unshift(dir);
    if (path.dirname(dir) === dir) break;
  }
  const describe = (target: string, info: Owned, lacks: UnreachablePath['lacks']): UnreachablePath => ({
    path: target,
    lacks,
    mode: info.mode & 0o7777,
    uid: info.uid,
    gid: info.gid,
  });
  for (const dir of directories) {
    const info = await stat(dir).catch(() => undefined);
    if (info === undefined) return undefined;
    if ((permissionsFor(info, ids) & 0o1) === 0) return describe(dir, info, 'search');
  }
  const info = await stat(absolute).catch(() => undefined);
  if (info === undefined) return undefined;
  const bits = permissionsFor(info, ids);
  if ((bits & 0o1) === 0) return describe(absolute, info, 'execute');
  if (needsRead && (bits & 0o4) === 0) return describe(absolute, info, 'read');
  return undefined;
}

/** `mode 0700, owner 0:0`. */
export function formatOwnership(found: UnreachablePath): string {
  return `mode ${found.mode.toString(8).padStart(4, '0')}, owner ${found.uid}:${found.gid}`;
}
