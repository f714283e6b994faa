import { once } from 'node:events';
import type net from 'node:net';
import type { Logger } from '@srv/core';

/** Where the fixture handlers live (built JavaScript a worker can import). */
export const handlerModule = new URL('./fixtures/handlers.js', import.meta.url);

/** A logger that keeps what it is told, for asserting on errors handled in workers. */
export function recordingLogger(): Logger & { entries: Array<{ message: string; err: unknown }> } {
  const entries: Array<{ message: string; err: unknown }> = [];
  const log = (fields: object | string, message?: string) => {
    if (typeof fields === 'string') entries.push({ message: fields, err: undefined });
    else entries.push({ message: message ?? '', err: (fields as { err?: unknown }).err });
  };
  return { entries, info: log, warn: log, error: log };
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
