/**
 * The end of the synchronous stretch after `endHeaders()`: a handler that awaits something before its
 * first body byte sends its head then, as Python's `end_headers` does. While a run's own synchronous
 * part is going (see {@link deferHeads}), that run flushes its head itself when the part ends; other
 * heads ended in one turn share one microtask.
 */
import type { BaseHTTPRequestHandler } from './handler.js';

const settled: Promise<void> = Promise.resolve();
// Handlers whose `endHeaders()` ran since the last flush microtask (see `endHeaders`).
let headersToFlush: BaseHTTPRequestHandler[] = [];
// The handler whose run is in its synchronous part, and whether its `endHeaders()` ran meanwhile.
let running: BaseHTTPRequestHandler | undefined;
let runningEnded = false;

/** Sends `handler`'s head now unless its body took it already; a failing `flushHeaders` is reported. */
function flushHead(handler: BaseHTTPRequestHandler): void {
  const res = handler.res;
  try {
    if (!res.headersSent && !res.writableEnded && !res.destroyed) handler.flushHeaders();
  } catch (error) {
    handler.server.handleError(handler.request, handler.clientAddress, error);
  }
}

/** The microtask after `endHeaders()`: each head goes out now unless its body already took it. */
function flushEndedHeaders(): void {
  // A flush may run handler code (a `flushHeaders` override) that ends more heads: they join this run.
  const handlers = headersToFlush;
  try {
    for (let index = 0; index < handlers.length; index++) flushHead(handlers[index]!);
  } finally {
    // A fresh array: emptying this one (`length = 0`) is a call into the runtime.
    headersToFlush = [];
  }
}

/** Flushes `handler`'s head at the end of this synchronous stretch unless its body takes it first. */
export function flushAtEndOfTurn(handler: BaseHTTPRequestHandler): void {
  if (handler === running) {
    runningEnded = true;
    return;
  }
  // A promise reaction, not `queueMicrotask` (which makes an async resource and a bound function).
  if (headersToFlush.length === 0) void settled.then(flushEndedHeaders);
  headersToFlush.push(handler);
}

/**
 * Marks the start of `handler`'s run's synchronous part: a head it ends meanwhile is flushed by
 * {@link endDeferring} (the same moment the microtask would have come, without one). False when
 * another run's part is already going (a run started from inside a handler): that one uses the microtask.
 */
export function deferHeads(handler: BaseHTTPRequestHandler): boolean {
  if (running !== undefined) return false;
  running = handler;
  runningEnded = false;
  return true;
}

/** The end of the synchronous part {@link deferHeads} began: its ended head goes out now. */
export function endDeferring(): void {
  const handler = running;
  running = undefined;
  if (runningEnded && handler !== undefined) {
    runningEnded = false;
    flushHead(handler);
  }
}
