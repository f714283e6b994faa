// srv-demo serves one named server on an inherited listening socket: `--fd N`, or systemd's LISTEN_FDS.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { createInheritableListener, type InheritableListener, readAll, readUntil } from '@srv/core/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { binPath } from './helpers.js';

async function listeningSocket(): Promise<InheritableListener> {
  const listener = await createInheritableListener();
  onTestFinished(() => listener.close());
  return listener;
}

describe('srv-demo on an inherited socket', () => {
  for (const how of ['--fd 3', 'LISTEN_FDS as systemd-socket-activate passes it'] as const) {
    it(`hello serves the socket (${how}) and SIGTERM exits 0`, async () => {
      const socket = await listeningSocket();
      const stdio: Array<'ignore' | 'pipe' | number> = ['ignore', 'pipe', 'pipe', socket.fd];
      const child =
        how === '--fd 3'
          ? spawn(process.execPath, [binPath, 'hello', '--fd', '3', '--quiet'], { stdio })
          : spawn(
              'sh',
              ['-c', 'LISTEN_PID=$$ exec "$0" "$@"', process.execPath, binPath, 'hello', '--quiet'],
              {
                stdio,
                env: { ...process.env, LISTEN_FDS: '1' },
              },
            );
      onTestFinished(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
      const exited = once(child, 'exit');
      const banner = (
        await readUntil(child.stdout as unknown as net.Socket, (b) => b.includes('\n'))
      ).toString();
      await socket.close();
      expect(banner).toBe(
        `Serving HTTP on 127.0.0.1 port ${socket.port} (http://127.0.0.1:${socket.port}/) ...\n`,
      );
      const client = net.connect(socket.port, '127.0.0.1');
      onTestFinished(() => void client.destroy());
      await once(client, 'connect');
      client.write('GET / HTTP/1.0\r\n\r\n');
      expect((await readAll(client)).toString()).toMatch(
        /^HTTP\/1\.[01] 200 OK\r\n[\s\S]*<h3>Hello World<\/h3>/,
      );
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      expect(code).toBe(0);
    });
  }

  it('all with --fd is a usage error', async () => {
    const child = spawn(process.execPath, [binPath, 'all', '--fd', '3'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stderr = readUntil(child.stderr as unknown as net.Socket, () => false);
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(2);
    expect((await stderr).toString()).toBe(
      'srv-demo: an inherited socket (--fd, LISTEN_FDS) serves one server: name it instead of all (see --help)\n',
    );
  });
});
