/**
 * What passes between {@link HTTPServer} and a handler class: the request/response pair, the statics a
 * class may override (Python's class attributes) and the constructor's shape.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import type { RequestInfo, SocketAddress } from '@srv/core';
import type { BaseHTTPRequestHandler } from './handler.js';
import type { HTTPServer } from './server.js';

/** Python's `DEFAULT_ERROR_MESSAGE` (3.12+): the page `sendError` renders. */
export const defaultErrorMessageFormat = `<!DOCTYPE HTML>
<html lang="en">
    <head>
        <meta charset="utf-8">
        <title>Error response</title>
    </head>
    <body>
        <h1>Error response</h1>
        <p>Error code: %(code)d</p>
        <p>Message: %(message)s.</p>
        <p>Error code explanation: %(code)s - %(explain)s.</p>
    </body>
</html>
`;

/** The HTTP versions a handler can speak. */
export type ProtocolVersion = 'HTTP/1.0' | 'HTTP/1.1';

/**
 * One request/response pair handed to a handler by {@link HTTPServer}. `body` replaces `req` as the
 * source of `rfile` (CONNECT tunnels read the connection itself); the other fields describe requests
 * Node's parser rejected, which are still answered through a handler.
 */
export interface HTTPExchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly body?: Readable;
  readonly requestline?: string;
  readonly command?: string;
  readonly requestVersion?: string;
}

/** The static fields a handler class can override (Python's class attributes). */
export interface HTTPHandlerStatics {
  serverVersion: string;
  sysVersion: string;
  protocolVersion: ProtocolVersion;
  errorMessageFormat: string;
  errorContentType: string;
  timeout: number;
  maxLineLength: number;
  responses: Readonly<Record<number, readonly [string, string]>>;
}

/** A class usable as the handler of an {@link HTTPServer}. */
export type HTTPHandlerClass = (new (
  request: Duplex,
  clientAddress: SocketAddress,
  server: HTTPServer,
  info?: RequestInfo,
  exchange?: HTTPExchange,
) => BaseHTTPRequestHandler) & { protocolVersion?: ProtocolVersion };
