import { type ChildProcess, spawn } from 'node:child_process';
import type { UserIds } from './user.js';

/** What a script is started with, wherever it is spawned from. */
export interface ScriptCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Give it a stdin pipe; without one it reads `/dev/null`. */
  readonly hasInput: boolean;
  /** Ids to run as (only when the server is root). */
  readonly user?: UserIds | undefined;
}

/**
 * Spawns a script directly (never through a shell) as the leader of its own process group, stdout and
 * stderr piped. Throws for arguments Node rejects; a failed `execve` leaves `pid` undefined and Node
 * emits why on the next tick.
 */
export function spawnScript(script: ScriptCommand): ChildProcess {
  return spawn(script.command, script.args, {
    cwd: script.cwd,
    env: script.env,
    stdio: [script.hasInput ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    detached: true,
    shell: false,
    windowsHide: true,
    ...(script.user ? { uid: script.user.uid, gid: script.user.gid } : {}),
  });
}

/**
 * Sends `signal` to the process group `child` leads (scripts are spawned detached, so each leads its
 * own), falling back to the child alone when the group is gone.
 */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  const pid = child.pid;
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    } catch {}
  }
}

/**
 * Stops a script's process group: SIGTERM, SIGKILL after `grace` ms, and SIGKILL once more when the
 * leader has exited, so children that ignored SIGTERM or outlived it go too. Resolves with `exited`.
 */
export async function stopGroup<T>(child: ChildProcess, exited: Promise<T>, grace: number): Promise<T> {
  signalGroup(child, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), grace);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
    signalGroup(child, 'SIGKILL');
  }
}
