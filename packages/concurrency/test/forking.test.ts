import { startServer } from '@srv/core/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ForkingTCPServer, ThreadingTCPServer } from '../src/index.js';
import { WhoEcho } from './fixtures/handlers.js';
import { handlerModule, lineReader } from './helpers.js';

describe('forking dispatcher', () => {
  it('serves a connection in a child process without losing the first bytes', async () => {
    const server = new ForkingTCPServer(['127.0.0.1', 0], WhoEcho, { handlerModule });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const socket = await t.connect();
    const lines = lineReader(socket);
    socket.write('early\n');
    const who = JSON.parse(await lines.next());
    expect(who.pid).not.toBe(process.pid);
    expect(who).toMatchObject({ thread: 'MainThread', isWorker: true, serverClass: 'TCPServer' });
    expect(await lines.next()).toBe('early\n');
  });

  it('mixin classes read like Python', async () => {
    const server = new ThreadingTCPServer(['127.0.0.1', 0], WhoEcho, { handlerModule });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    expect(server.dispatcher.name).toBe('threading');
    expect(ThreadingTCPServer.name).toBe('ThreadingTCPServer');
  });
});
