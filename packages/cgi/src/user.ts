import { readFile } from 'node:fs/promises';
import { createCgiError } from './errors.js';

/** A user id and its primary group id. */
export interface UserIds {
  readonly uid: number;
  readonly gid: number;
}

/** Finds `user` (a name or a numeric id) in passwd-format text. */
export function findUser(passwd: string, user: string | number): UserIds | undefined {
  for (const line of passwd.split('\n')) {
    const fields = line.split(':');
    if (fields.length < 4) continue;
    const uid = Number(fields[2]);
    const gid = Number(fields[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    if (typeof user === 'number' ? uid === user : fields[0] === user) return { uid, gid };
  }
  return undefined;
}

/**
 * The ids scripts run as: `undefined` unless the server runs as root (an unprivileged server cannot
 * switch, and has nothing to lose to its own scripts). As root, the configured user from `/etc/passwd`,
 * or a numeric id with the same group id; a name that does not exist is an error rather than running
 * scripts as root.
 */
export async function resolveScriptUser(
  user: string | number | null,
  passwdFile = '/etc/passwd',
): Promise<UserIds | undefined> {
  if (user === null || typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const passwd = await readFile(passwdFile, 'utf8').catch(() => '');
  const found = findUser(passwd, user);
  if (found) return found;
  if (typeof user === 'number') return { uid: user, gid: user };
  throw createCgiError(
    'SRV_ERR_CGI_SPAWN_FAILED',
    `user ${JSON.stringify(user)} not found; refusing to run scripts as root`,
  );
}
