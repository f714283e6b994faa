import type { ChildProcess } from 'node:child_process';

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
