import { once } from 'node:events';
import { readUntil } from '@srv/core/testing';
import { describe, expect, it } from 'vitest';
import { BaseHTTPRequestHandler } from '../src/index.js';
import { serve } from './helpers.js';

// A handler may go on working after its response is complete; the connection's next request starts
// meanwhile. Each handler's end must stay its own (a mix-up here once crashed the server).
describe('handlers that outlive their responses', () => {
  it('finish in their own order, a failure after the response stays with its handler, the server serves on', async () => {
    const gates = new Map<string, () => void>();
    const started = new EventTarget();
    const finished: string[] = [];
    const failed: string[] = [];
    class Lingering extends BaseHTTPRequestHandler {
      async doGET(): Promise<void> {
        this.sendResponse(200);
        this.sendHeader('Content-Length', 2);
        this.endHeaders();
        await this.wfile.write('ok');
        await new Promise<void>((resolve) => {
          gates.set(this.path, resolve);
          started.dispatchEvent(new Event(this.path));
        });
        if (this.path === '/fail') throw new Error('failed after its response');
      }
      override finish(): Promise<void> {
        finished.push(this.path);
        return super.finish();
      }
    }
    const t = await serve(Lingering);
    t.server.handleError = (_request, _client, error) => {
      failed.push(String((error as Error).message));
    };
    const socket = await t.connect();
    const answers = (count: number) =>
      readUntil(socket, (received) => received.toString('latin1').split('\r\n\r\nok').length > count);

    const firstWaits = once(started, '/one');
    socket.write('GET /one HTTP/1.1\r\nHost: a\r\n\r\n');
    await firstWaits;
    const secondWaits = once(started, '/fail');
    socket.write('GET /fail HTTP/1.1\r\nHost: a\r\n\r\n');
    await secondWaits;
    // Both handlers are waiting, both responses are out.
    const both = (await answers(2)).toString('latin1');
    expect(both.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);

    gates.get('/one')!();
    while (!finished.includes('/one')) await new Promise((resolve) => setImmediate(resolve));
    expect(finished).toEqual(['/one']);
    gates.get('/fail')!();
    while (!finished.includes('/fail')) await new Promise((resolve) => setImmediate(resolve));
    expect(finished).toEqual(['/one', '/fail']);
    expect(failed).toEqual(['failed after its response']);

    // A failed handler closes its connection (as Python's does); the server serves the next one.
    await once(socket, 'close');
    const next = await t.connect();
    const thirdWaits = once(started, '/three');
    next.write('GET /three HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    await thirdWaits;
    gates.get('/three')!();
    const third = (await readUntil(next, (received) => received.includes('\r\n\r\nok'))).toString('latin1');
    expect(third).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    next.destroy();
  });
});
