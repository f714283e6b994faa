/**
 * The internal `node:http` server that parses srv's connections (llhttp) and never listens: its
 * options and Node's own timers set for srv, its events reduced to the three the server answers.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ParserError } from './diagnose.js';
import { SrvServerResponse } from './response.js';

/** What the parser hands the server. */
export interface ParserEvents {
  /** A request whose head has arrived; `expectContinue` when it asks for `100 Continue`. */
  request(req: IncomingMessage, res: ServerResponse, expectContinue: boolean): void;
  /** A `CONNECT` request: the connection becomes a tunnel. */
  connect(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Bytes llhttp refused. */
  clientError(error: ParserError, socket: Duplex): void;
}

/** A `node:http` server for parsing only; connections reach it through `emit('connection', socket)`. */
export function createParser(maxHeaderSize: number, events: ParserEvents): http.Server {
  const inner = http.createServer({
    // Buffers sendHeader() lines and hands them to Node as one writeHead() array (see response.ts).
    ServerResponse: SrvServerResponse,
    maxHeaderSize,
    requireHostHeader: false,
    joinDuplicateHeaders: false,
  });
  // maxHeadersCount drops extra lines silently; srv counts rawHeaders itself and answers 431.
  inner.maxHeadersCount = 0;
  // A client that half-closes after its request still gets the answer (Python's behaviour): Node
  // otherwise ends the connection on the client's FIN, before a request still waiting in the serial
  // queue (or a worker) has answered.
  (inner as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  // Node's own keep-alive timer would race srv's (and is absent over a worker relay).
  inner.keepAliveTimeout = 0;
  inner.headersTimeout = 0;
  inner.requestTimeout = 0;
  inner.timeout = 0;
  inner.on('request', (req: IncomingMessage, res: ServerResponse) => events.request(req, res, false));
  inner.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => events.request(req, res, true));
  // Python ignores expectations other than 100-continue; so does srv (Node would answer 417).
  inner.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) =>
    events.request(req, res, false),
  );
  inner.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    events.connect(req, socket, head),
  );
  inner.on('clientError', (error: ParserError, socket: Duplex) => events.clientError(error, socket));
  return inner;
}
