/**
 * One handler's run: Python's `setup()`, `handle()` (after `100 Continue` when asked), `finish()`, and
 * what a failure among them becomes — a 500 while nothing is out, a cut connection once part of a
 * response is, one log line (no stack) when the client itself went away. And a `CONNECT` tunnel's run.
 */
import { type IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { closeWhenFinished, createHandler } from './answers.js';
import type { Connection, Tagged } from './connection.js';
import { type BaseHTTPRequestHandler, resolvedFinish } from './handler.js';
import { deferHeads, endDeferring } from './head-flush.js';
import { discardHeaders } from './response.js';
import type { HTTPServer } from './server.js';

/**
 * Runs `handler` to the end of its response; never rejects. Each step that returns no promise
 * (the default `setup()` and `finish()`, a synchronous `do<METHOD>()`) is followed at once, so a
 * request costs no `async` frame and only the turns its own promises take; undefined when the
 * whole run was synchronous.
 */
export function runHandler(
  server: HTTPServer,
  handler: BaseHTTPRequestHandler,
  connection: Connection,
  expectContinue: boolean,
): Promise<void> | undefined {
  // A head ended in this synchronous part goes out at its end (see head-flush.ts), without a microtask.
  const deferring = deferHeads(handler);
  try {
    return runSteps(server, handler, connection, expectContinue);
  } finally {
    if (deferring) endDeferring();
  }
}

function runSteps(
  server: HTTPServer,
  handler: BaseHTTPRequestHandler,
  connection: Connection,
  expectContinue: boolean,
): Promise<void> | undefined {
  let setup: Promise<unknown> | undefined;
  try {
    setup = settle(handler.setup());
  } catch (error) {
    failSafely(server, handler, connection, error);
    return complete(handler, connection);
  }
  if (setup || expectContinue) return handleAfter(server, handler, connection, expectContinue, setup);
  let handled: Promise<unknown> | undefined;
  try {
    handled = settle(handler.handle());
  } catch (error) {
    failSafely(server, handler, connection, error);
    return finishAndComplete(server, handler, connection, true);
  }
  if (handled) return finishAfter(server, handler, connection, handled);
  return finishAndComplete(server, handler, connection, false);
}

/** The rest of a run whose `setup()` returned a promise, or that first answers `Expect: 100-continue`. */
async function handleAfter(
  server: HTTPServer,
  handler: BaseHTTPRequestHandler,
  connection: Connection,
  expectContinue: boolean,
  setup: Promise<unknown> | undefined,
): Promise<void> {
  try {
    if (setup) await setup;
  } catch (error) {
    failSafely(server, handler, connection, error);
    return complete(handler, connection);
  }
  let failed = false;
  try {
    if (!expectContinue || (await handler.handleExpect100())) {
      const handled = settle(handler.handle());
      if (handled) await handled;
    }
  } catch (error) {
    failed = true;
    failSafely(server, handler, connection, error);
  }
  return finishAndComplete(server, handler, connection, failed);
}

/**
 * Waits for `handle()`'s promise, then finishes. Its own frame per run: a handler may go on after its
 * response is complete, while the connection's next request is already being handled.
 */
async function finishAfter(
  server: HTTPServer,
  handler: BaseHTTPRequestHandler,
  connection: Connection,
  handled: Promise<unknown>,
): Promise<void> {
  let failed = false;
  try {
    await handled;
  } catch (error) {
    failed = true;
    failSafely(server, handler, connection, error);
  }
  return finishAndComplete(server, handler, connection, failed);
}

/** `finish()` (also after a failed `handle()`), then the end of the response. */
function finishAndComplete(
  server: HTTPServer,
  handler: BaseHTTPRequestHandler,
  connection: Connection,
  failed: boolean,
): Promise<void> | undefined {
  let finished: Promise<unknown> | undefined;
  try {
    finished = settle(handler.finish());
  } catch (error) {
    // A failure of finish() after one of handle() is not reported twice.
    if (!failed) failSafely(server, handler, connection, error);
    return complete(handler, connection);
  }
  if (!finished) return complete(handler, connection);
  return finished.then(
    () => complete(handler, connection),
    (error: unknown) => {
      if (!failed) failSafely(server, handler, connection, error);
      return complete(handler, connection);
    },
  );
}

/** Ends what the handler left open, and closes the connection when the handler asked. */
function complete(handler: BaseHTTPRequestHandler, connection: Connection): undefined {
  const { res } = handler;
  if (!res.writableEnded && !res.destroyed && !connection.closing) res.end();
  if (handler.closeConnection) closeWhenFinished(res, connection);
  return undefined;
}

/** {@link handlerFailed}, whose own failure (an overridden `handleError` that throws) is dropped. */
function failSafely(
  server: HTTPServer,
  handler: BaseHTTPRequestHandler,
  connection: Connection,
  error: unknown,
): void {
  try {
    handlerFailed(server, handler, connection, error);
  } catch {
    // runHandler never rejects; what is left of the response is still ended (as after any failure).
  }
}

function handlerFailed(
  server: HTTPServer,
  handler: BaseHTTPRequestHandler,
  connection: Connection,
  error: unknown,
): void {
  const { res } = handler;
  const aborted = connection.cut ? '' : abortReason(error, handler);
  if (aborted !== undefined) {
    // The client left mid-request (or its body broke): nothing to answer and no stack worth
    // printing; one line per request (a flood of aborted uploads must not flood the log).
    if (aborted !== '' && !server.quiet) handler.logError('"%s" aborted: %s', handler.requestline, aborted);
    connection.closing = true;
    connection.socket.destroy();
    if (!res.destroyed) res.destroy();
    return;
  }
  server.handleError(connection.socket, connection.clientAddress, error);
  if (res.headersSent || res.writableEnded || res.destroyed) {
    // Part of a response is out: the client can only learn of the failure from a cut connection
    // (what was written still goes out first; a chunked body then lacks its last chunk).
    connection.closing = true;
    const socket = connection.socket as Tagged & { uncork?(): void; writableCorked?: number };
    while ((socket.writableCorked ?? 0) > 0) socket.uncork?.();
    socket.end();
    return;
  }
  discardHeaders(res);
  handler.closeConnection = true;
  try {
    handler.sendError(500);
  } catch (secondary) {
    server.handleError(connection.socket, connection.clientAddress, secondary);
    res.destroy();
  }
}

/**
 * Why a handler's failure is the client's doing: its request body broke (`SRV_ERR_BAD_REQUEST_BODY`,
 * already logged: `''`) or the connection went away mid-request; undefined for a real failure.
 */
function abortReason(error: unknown, handler: BaseHTTPRequestHandler): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'SRV_ERR_BAD_REQUEST_BODY') return '';
  const gone = handler.req.destroyed || handler.request.destroyed || handler.res.destroyed;
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE') {
    return `client connection lost (${String(code)})`;
  }
  if (gone && (error as { message?: unknown } | undefined)?.message === 'aborted') {
    return 'client connection lost';
  }
  return undefined;
}

/** Awaits only what is a promise: a synchronous handler method costs no extra turn of the microtask queue. */
function settle(value: unknown): Promise<unknown> | undefined {
  return value !== resolvedFinish && typeof (value as PromiseLike<unknown> | undefined)?.then === 'function'
    ? (value as Promise<unknown>)
    : undefined;
}

/**
 * A `CONNECT` request: after it the connection is a tunnel, so the handler gets the socket itself as
 * its body (`rfile`) and the connection closes after its response. Runs after the requests before it.
 */
export function serveTunnel(
  server: HTTPServer,
  connection: Connection,
  req: IncomingMessage,
  head: Buffer,
): void {
  const socket = connection.socket;
  if (head.length > 0) socket.unshift(head);
  connection.phase = 'active';
  connection.pending += 1;
  connection.tail = connection.tail.then(async () => {
    try {
      const res = new ServerResponse(req);
      res.shouldKeepAlive = false;
      res.useChunkedEncodingByDefault = false;
      res.assignSocket(socket as Socket);
      const handler = createHandler(server, connection, { req, res, body: socket });
      if (!handler) return;
      handler.closeConnection = true;
      await runHandler(server, handler, connection, false);
      if (!socket.destroyed) {
        if (res.writableFinished) socket.end();
        else res.once('finish', () => socket.end());
      }
    } finally {
      connection.pending -= 1;
    }
  });
}
