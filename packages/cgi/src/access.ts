import { stat } from 'node:fs/promises';
import path from 'node:path';
import { type CgiError, createCgiError } from './errors.js';
import type { ResolvedScript } from './path.js';
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

/**
 * The system refused to start a script (EACCES): finds out why, for the log and the 403 page. The usual
 * cause is a server running as root from a checkout under a private directory (root's home, a `chmod
 * 700` parent), whose scripts run as `nobody`, who cannot enter it.
 */
export async function explainRefusal(
  error: CgiError,
  command: string,
  script: ResolvedScript,
  user: UserIds | undefined,
  scriptUser: string | number | null,
): Promise<CgiError> {
  const ids = user ?? { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 };
  const who =
    user === undefined
      ? `the server's own user (uid ${ids.uid})`
      : typeof scriptUser === 'string'
        ? `${scriptUser} (uid ${ids.uid})`
        : `uid ${ids.uid}`;
  const found = await findUnreachablePath(script.scriptFilename, ids, true).catch(() => undefined);
  if (found === undefined) {
    return createCgiError(
      'SRV_ERR_CGI_FORBIDDEN',
      `${error.message}: the system refused to start it as ${who}, although the permission bits allow ` +
        'it (a noexec mount, a security module, or a supplementary group?)',
      { cause: error },
    );
  }
  const action = found.lacks === 'search' ? 'enter' : found.lacks;
  const fix =
    user === undefined
      ? 'let that user reach it (chmod u+x on each directory above the script, u+rx on the script)'
      : 'let that user reach it (chmod o+x on each directory above the script, o+rx on the script), keep ' +
        'the scripts in a directory it can reach, or set scriptUser to a user that can';
  return createCgiError(
    'SRV_ERR_CGI_FORBIDDEN',
    `not allowed to run ${command}: scripts run as ${who}, who cannot ${action} ${found.path} ` +
      `(${formatOwnership(found)}); ${fix}`,
    {
      cause: error,
      explain:
        'The user CGI scripts run as cannot reach this script: a directory above it, or the script ' +
        'itself, does not let that user in. Make the script readable and executable, and every ' +
        'directory above it searchable, for that user (the server log names the path)',
    },
  );
}
