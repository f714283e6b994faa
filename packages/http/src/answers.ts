/**
 * The answers the server gives on its own, not through a handler's `do<METHOD>()`: a request refused
 * before it was handled (framing, a full queue), a connection with no parsed request (parser error,
 * timeout, HTTP/0.9), a request body that broke mid-handling. Each goes through a handler instance,
 * so `sendError()`, `errorMessageFormat` and the log line are the handler class's own.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { displayHost } from '@srv/core/internal';
import type { Connection } from './connection.js';
import type { ParserError, Problem } from './diagnose.js';
import { createHttpError } from './errors.js';
import type { HTTPExchange } from './exchange.js';
import { escapeControlCharacters, formatLogDate } from './format.js';
import type { BaseHTTPRequestHandler } from './handler.js';
import type { HTTPServer } from './server.js';

/** A new handler for one exchange; a constructor that throws is reported and the response destroyed. */
export function createHandler(
  server: HTTPServer,
  connection: Connection,
  exchange: HTTPExchange,
): BaseHTTPRequestHandler | undefined {
  try {
    return new server.Handler(connection.socket, connection.clientAddress, server, connection.info, exchange);
  } catch (error) {
    server.handleError(connection.socket, connection.clientAddress, error);
    exchange.res.destroy();
    return undefined;
  }
}

/** Sends the error page of `problem` and ends the response. */
export function sendProblem(server: HTTPServer, handler: BaseHTTPRequestHandler, problem: Problem): void {
  try {
    handler.sendError(problem.code, problem.message, problem.explain);
  } catch (error) {
    server.handleError(handler.request, handler.clientAddress, error);
    handler.res.destroy();
    return;
  }
  if (!handler.res.writableEnded) handler.res.end();
}

/** Closes the connection once `res` has gone out. */
export function closeWhenFinished(res: ServerResponse, connection: Connection): void {
  if (res.writableFinished || res.destroyed) connection.close();
  else res.once('finish', () => connection.close());
}

/**
 * Answers a parsed request that is not handled (its framing failed before dispatch, or the
 * dispatcher refused it): one error response, then the connection closes.
 */
export function refuseRequest(
  server: HTTPServer,
  connection: Connection,
  req: IncomingMessage,
  res: ServerResponse,
  problem: Problem,
): void {
  if (res.headersSent || res.destroyed || connection.socket.destroyed) {
    connection.socket.destroy();
    return;
  }
  res.shouldKeepAlive = false;
  const handler = createHandler(server, connection, { req, res });
  if (!handler) return;
  handler.closeConnection = true;
  sendProblem(server, handler, problem);
  closeWhenFinished(res, connection);
}

/** The dispatcher refused the request (a full serial queue): logged, 503, and the connection closes. */
export function answerDispatchFailed(
  server: HTTPServer,
  connection: Connection,
  req: IncomingMessage,
  res: ServerResponse,
  error: unknown,
): void {
  server.logger.warn(
    { err: error },
    `request from ${displayHost(connection.clientAddress.host)} not served: ${error instanceof Error ? error.message : String(error)}`,
  );
  refuseRequest(server, connection, req, res, {
    code: 503,
    explain: 'The server is too busy to serve this request',
  });
}

/** Answers a connection that has no parsed request (parser error, timeout) through a handler. */
export function answerWithoutRequest(server: HTTPServer, connection: Connection, problem: Problem): void {
  const socket = connection.socket;
  const inFlight = socket._httpMessage as ServerResponse | null | undefined;
  // (Node detaches a response from its socket on 'finish', which may come after writableFinished.)
  if (inFlight && !socket.destroyed && !inFlight.destroyed) {
    // The response before it is still going out (pipelined garbage after a good request): this
    // answer follows it, as the next response on the connection.
    inFlight.once('finish', () => answerWithoutRequest(server, connection, problem));
    return;
  }
  if (socket.destroyed || !socket.writable || socket._httpMessage) {
    socket.destroy();
    return;
  }
  const req = new IncomingMessage(socket as Socket);
  req.method = problem.command ?? '';
  req.url = '';
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  req.httpVersion = '1.1';
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.useChunkedEncodingByDefault = false;
  res.assignSocket(socket as Socket);
  connection.closing = true;
  res.once('finish', () => {
    res.detachSocket(socket as Socket);
    socket.end();
  });
  const handler = createHandler(server, connection, {
    req,
    res,
    requestline: problem.requestline ?? '',
    command: problem.command ?? '',
    requestVersion: 'HTTP/1.1',
  });
  if (!handler) {
    socket.destroy();
    return;
  }
  sendProblem(server, handler, problem);
}

/**
 * Bad bytes in the body of a request that is being handled: no second response can follow the
 * handler's, so the connection is closed and the body stream (the handler's `rfile`) errors with
 * `SRV_ERR_BAD_REQUEST_BODY`, so a handler reading it stops.
 */
export function abortBody(
  server: HTTPServer,
  connection: Connection,
  req: IncomingMessage,
  error: ParserError,
): void {
  connection.closing = true;
  // llhttp reports a client that half-closed mid-body as a bad EOF: that is an abort, not an attack.
  const reason =
    error.code === 'HPE_INVALID_EOF_STATE'
      ? 'client connection lost'
      : `bad request body (${error.reason ?? error.message})`;
  if (!server.quiet) {
    const requestline = `${req.method} ${req.url} HTTP/${req.httpVersion}`;
    server.logger.error(
      `${displayHost(connection.clientAddress.host)} - - [${formatLogDate()}] ${escapeControlCharacters(`"${requestline}" aborted: ${reason}`)}`,
    );
  }
  // The socket first, so destroying the request does not hand the error to the socket's listeners.
  connection.socket.destroy();
  req.destroy(createHttpError('SRV_ERR_BAD_REQUEST_BODY', reason, { cause: error }));
}
