import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../src/child-channel.js';
import type { FromWorker, ToWorker } from '../../src/protocol.js';

/** What Node's `json` channel does to a message: stringify, then parse on the other side. */
function overJson<M extends ToWorker | FromWorker>(message: M): M {
  return decodeMessage<M>(JSON.parse(JSON.stringify(encodeMessage(message))));
}

describe('forking child channel', () => {
  it('sends the per-connection messages as plain JSON', () => {
    const info = {
      local: { family: 'IPv4', host: '127.0.0.1', port: 8765 },
      remote: { family: 'IPv4', host: '127.0.0.1', port: 50123 },
      tls: false,
    } as const;
    const conn: ToWorker = { t: 'conn', id: 7, info };
    expect(encodeMessage(conn)).toBe(conn);
    expect(overJson(conn)).toEqual(conn);
    const done: FromWorker = { t: 'done', id: 7 };
    expect(encodeMessage(done)).toBe(done);
  });

  it('keeps bytes and structured values intact across a JSON channel', () => {
    const data = new Uint8Array([0, 1, 2, 255, 10, 13]);
    const reply = overJson<FromWorker>({ t: 'reply', id: 3, data });
    expect(reply).toEqual({ t: 'reply', id: 3, data });
    expect((reply as { data: unknown }).data).toBeInstanceOf(Uint8Array);

    const fields = { when: new Date(0), nested: { big: 10n, list: [1, 'two'] }, missing: undefined };
    const log = overJson<FromWorker>({ t: 'log', level: 'warn', message: 'm', fields });
    expect(log).toEqual({ t: 'log', level: 'warn', message: 'm', fields });

    const failed = overJson<FromWorker>({
      t: 'failed',
      error: { name: 'Error', message: 'x', stack: undefined, code: 'SRV_ERR_INVALID_HANDLER' },
    });
    expect(failed).toEqual({
      t: 'failed',
      error: { name: 'Error', message: 'x', stack: undefined, code: 'SRV_ERR_INVALID_HANDLER' },
    });
  });
});
