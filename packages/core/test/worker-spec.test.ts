import { describe, expect, it } from 'vitest';
import { TCPServer } from '../src/index.js';
import { EchoHandler } from './fixtures.js';

describe('describeForWorker', () => {
  it('gives a structured-cloneable spec even when handlerModule is a URL', async () => {
    const handlerModule = new URL('./fixtures.ts', import.meta.url);
    const server = new TCPServer(['127.0.0.1', 0], EchoHandler, {
      handlerModule,
      handlerExport: 'EchoHandler',
      workerData: { n: 1 },
    });
    await server.ready;
    const spec = await server.describeForWorker();
    expect(spec.options.handlerModule).toBe(handlerModule.href);
    expect(spec.handler).toEqual({ url: handlerModule.href, exportName: 'EchoHandler' });
    // What a worker thread or an 'advanced' IPC channel does to it; Node >= 22 throws on URL objects.
    expect(structuredClone(spec)).toEqual(spec);
    await server.close();
  });
});
