import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it, onTestFinished } from 'vitest';

/** Alive and not a zombie (a container's init may be slow to reap orphans). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('the forking primary process', () => {
  it('killed with SIGKILL leaves no child behind', async () => {
    const parent = spawn(process.execPath, [new URL('./fixtures/parent.js', import.meta.url).pathname], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    onTestFinished(() => {
      if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
    });
    parent.stdout.setEncoding('utf8');
    let output = '';
    while (!output.includes('\n')) {
      const [chunk] = (await once(parent.stdout, 'data')) as [string];
      output += chunk;
    }
    const { port, pids } = JSON.parse(output) as { port: number; pids: number[] };
    expect(pids).toHaveLength(3);
    // A child in the middle of a connection holds an open socket: only the lost parent can end it.
    const client = connect({ host: '127.0.0.1', port });
    onTestFinished(() => {
      client.destroy();
    });
    client.on('error', () => {});
    const clientClosed = once(client, 'close');
    const [greeting] = (await once(client.setEncoding('utf8'), 'data')) as [string];
    expect(pids).toContain(JSON.parse(greeting).pid);
    expect(pids.every(isRunning)).toBe(true);
    onTestFinished(() => {
      for (const pid of pids.filter(isRunning)) process.kill(pid, 'SIGKILL');
    });
    const exited = once(parent, 'exit');
    parent.kill('SIGKILL');
    await exited;
    // The children notice the closed IPC channel on their own; give them up to 5 s.
    const deadline = Date.now() + 5000;
    while (pids.some(isRunning) && Date.now() < deadline) await delay(25);
    expect(pids.filter(isRunning)).toEqual([]);
    await clientClosed;
  });

  it('Ctrl-C (SIGINT to the whole process group) lets the parent drain: children do not die first', async () => {
    const parent = spawn(process.execPath, [new URL('./fixtures/parent.js', import.meta.url).pathname], {
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    });
    onTestFinished(() => {
      if (parent.exitCode === null && parent.signalCode === null) process.kill(-parent.pid!, 'SIGKILL');
    });
    parent.stdout.setEncoding('utf8');
    let output = '';
    while (!output.includes('\n')) {
      const [chunk] = (await once(parent.stdout, 'data')) as [string];
      output += chunk;
    }
    const { port, pids } = JSON.parse(output) as { port: number; pids: number[] };
    const client = connect({ host: '127.0.0.1', port });
    onTestFinished(() => {
      client.destroy();
    });
    client.setEncoding('utf8');
    const [greeting] = (await once(client, 'data')) as [string];
    expect(pids).toContain(JSON.parse(greeting).pid);
    const exited = once(parent, 'exit');
    process.kill(-parent.pid!, 'SIGINT');
    // The child serving us ignores the terminal's SIGINT and goes on until we are done.
    client.write('still here\n');
    const [echo] = (await once(client, 'data')) as [string];
    expect(echo).toBe('still here\n');
    client.end();
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(pids.filter(isRunning)).toEqual([]);
  });
});
