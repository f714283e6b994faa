import { once } from 'node:events';
import type net from 'node:net';
import type { Logger } from '@srv/core';

/** Where the fixture handlers live (built JavaScript a worker can import). */
export const handlerModule = new URL('./fixtures/handlers.js', import.meta.url);

interface Entry {
  readonly message: string;
  readonly err: unknown;
}

/** A logger that keeps what it is told, for asserting on errors handled in workers. */
export function recordingLogger(): Logger & {
  entries: Entry[];
  /** Resolves with the first entry (already logged or to come) that matches. */
  waitFor(predicate: (entry: Entry) => boolean): Promise<Entry>;
} {
  const entries: Entry[] = [];
  const waiters = new Set<{ predicate: (entry: Entry) => boolean; resolve: (entry: Entry) => void }>();
  const log = (fields: object | string, message?: string) => {
    const entry =
      typeof fields === 'string'
        ? { message: fields, err: undefined }
        : { message: message ?? '', err: (fields as { err?: unknown }).err };
    entries.push(entry);
    for (const waiter of waiters) {
      if (!waiter.predicate(entry)) continue;
      waiters.delete(waiter);
      waiter.resolve(entry);
    }
  };
  return {
    entries,
    info: log,
    warn: log,
    error: log,
    waitFor(predicate) {
      const found = entries.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.add({ predicate, resolve }));
    },
  };
}

/** Reads a socket line by line: `next()` resolves with the next line (newline included; '' at the end). */
export function lineReader(socket: net.Socket): { next(): Promise<string> } {
  let buffered = '';
  let ended = false;
  let wake: (() => void) | undefined;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    wake?.();
  });
  socket.on('close', () => {
    ended = true;
    wake?.();
  });
  return {
    async next() {
      for (;;) {
        const index = buffered.indexOf('\n');
        if (index !== -1) {
          const line = buffered.slice(0, index + 1);
          buffered = buffered.slice(index + 1);
          return line;
        }
        if (ended) {
          const rest = buffered;
          buffered = '';
          return rest;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
  };
}

/** Resolves when the socket has closed. */
export async function closed(socket: net.Socket): Promise<void> {
  if (!socket.destroyed) await once(socket, 'close');
}
