/**
 * The microtask after `endHeaders()`: a handler that awaits something before its first body byte sends
 * its head then, as Python's `end_headers` does. Every head ended in one turn shares one microtask.
 */
import type { BaseHTTPRequestHandler } from './handler.js';

// Handlers whose `endHeaders()` ran since the last flush microtask (see `endHeaders`).
let headersToFlush: BaseHTTPRequestHandler[] = [];
/** The microtask after `endHeaders()`: each head goes out now unless its body already took it. */
function flushEndedHeaders(): void {
  // A flush may run handler code (a `flushHeaders` override) that ends more heads: they join this run.
  const handlers = headersToFlush;
  try {
    for (let index = 0; index < handlers.length; index++) {
      const handler = handlers[index]!;
      const res = handler.res;
      try {
        if (!res.headersSent && !res.writableEnded && !res.destroyed) handler.flushHeaders();
      } catch (error) {
        handler.server.handleError(handler.request, handler.clientAddress, error);
      }
    }
  } finally {
    // A fresh array: emptying this one (`length = 0`) is a call into the runtime.
    headersToFlush = [];
  }
}
/** Flushes `handler`'s head at the end of this turn unless its body takes it first. */
export function flushAtEndOfTurn(handler: BaseHTTPRequestHandler): void {
  if (headersToFlush.length === 0) queueMicrotask(flushEndedHeaders);
  headersToFlush.push(handler);
}
