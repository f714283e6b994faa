import { TCPServer } from '@srv/core';
import { startServer } from '@srv/core/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { threading } from '../src/index.js';
import { WhoEcho } from './fixtures/handlers.js';
import { handlerModule, lineReader } from './helpers.js';

describe('threading dispatcher', () => {
  it('runs the handler in a worker thread with the in-process API', async () => {
    const server = new TCPServer(['127.0.0.1', 0], WhoEcho, {
      dispatcher: threading(),
      handlerModule,
      workerData: { greeting: 'hi' },
    });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const socket = await t.connect();
    const lines = lineReader(socket);
    const who = JSON.parse(await lines.next());
    expect(who).toMatchObject({
      thread: 'Thread-1',
      pid: process.pid,
      isWorker: true,
      isPrimary: false,
      remotePort: socket.localPort,
      serverClass: 'TCPServer',
      workerData: { greeting: 'hi' },
    });
    socket.write('hello\n');
    expect(await lines.next()).toBe('hello\n');
  });
});
