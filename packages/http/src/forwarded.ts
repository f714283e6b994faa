/**
 * A worker's side of a forwarded request (threading's `forwardsRequests`): the primary's llhttp parsed
 * the request, and its head arrives as data ({@link ForwardedHead}) on a socket-like stream whose
 * readable side is the decoded body and whose writable side goes back to the primary's `res`. Here the
 * handler's `IncomingMessage` and `ServerResponse` are built from that head directly: no parser, no
 * `node:http` connection, nothing per request but the two objects Node's server would make. What
 * Node's server does around them (`parserOnIncoming`, `resOnFinish`) is done here for this one
 * request: the response owns the stream while it is written, the body is discarded if the handler
 * left it, the response's `close` follows its `finish`, and a response marked last ends the stream.
 */
import { IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type ForwardedHead, trailersMarker } from './forward.js';
import { SrvServerResponse } from './response.js';

/** Where @srv/concurrency puts the parsed head on a worker's exchange stream. */
const headMarker = Symbol.for('srv.http.forwarded-head');

/** The head of a request the primary already parsed, when `stream` carries one. */
export function forwardedHeadOf(stream: Duplex): ForwardedHead | undefined {
  return (stream as Duplex & { [headMarker]?: ForwardedHead })[headMarker];
}

/** Node's internals of the two messages that its server sets and this module sets the same way. */
interface RawRequest extends IncomingMessage {
  _consuming: boolean;
  _dump(): void;
  /** What the parser calls with a message's header lines, then (once complete) its trailer lines. */
  _addHeaderLines(lines: string[], count: number): void;
}
interface RawResponse extends ServerResponse {
  _expect_continue: boolean;
  _last: boolean;
  _closed: boolean;
}

/** What {@link buildForwardedExchange} made: the handler's pair and how Node's server would emit it. */
export interface ForwardedExchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Node would emit `checkContinue` (HTTP/1.1 and `Expect: 100-continue`). */
  readonly expectContinue: boolean;
}

function emitCloseOnce(res: RawResponse): void {
  if (res._closed) return;
  res._closed = true;
  (res as { destroyed: boolean }).destroyed = true;
  res.emit('close');
}

/** Node's own flag on an outgoing message that a write returned false (`kNeedDrain`), found once. */
let needDrainKey: symbol | undefined;

function needDrain(res: ServerResponse): symbol | undefined {
  needDrainKey ??= Object.getOwnPropertySymbols(res).find((key) => key.description === 'kNeedDrain');
  return needDrainKey;
}

/** Node's server's `socketOnDrain`: a response that waits for the stream to drain hears of it. */
function onSocketDrain(this: Duplex & { _httpMessage?: RawResponse | null }): void {
  const res = this._httpMessage;
  if (!res || res.writableFinished) return;
  const key = needDrain(res);
  const flags = res as unknown as Record<symbol, boolean>;
  if (key === undefined || flags[key]) {
    if (key !== undefined) flags[key] = false;
    res.emit('drain');
  }
}

function onSocketClose(this: Duplex & { _httpMessage?: RawResponse | null }): void {
  const res = this._httpMessage;
  if (res) process.nextTick(emitCloseOnce, res);
}

/**
 * Builds the request and response of one forwarded request on `socket` (see the module comment). The
 * request's body flows from `socket` with its backpressure: `socket` pauses while the request's buffer
 * is full and resumes when the handler reads.
 */
export function buildForwardedExchange(socket: Duplex, head: ForwardedHead): ForwardedExchange {
  const req = new IncomingMessage(socket as Socket) as RawRequest;
  const dot = head.httpVersion.indexOf('.');
  req.httpVersionMajor = Number(head.httpVersion.slice(0, dot));
  req.httpVersionMinor = Number(head.httpVersion.slice(dot + 1));
  req.httpVersion = head.httpVersion;
  req.method = head.method;
  req.url = head.url;
  // As Node's parser does: raw lines now, the `headers` object when first asked for.
  req._addHeaderLines(head.rawHeaders, head.rawHeaders.length);
  if (head.body) {
    socket.on('data', (chunk: Buffer) => {
      if (!req.push(chunk)) socket.pause();
    });
    socket.once('end', () => {
      const trailers = (socket as Duplex & { [trailersMarker]?: string[] })[trailersMarker];
      req.complete = true;
      if (trailers !== undefined) req._addHeaderLines(trailers, trailers.length);
      req.push(null);
    });
  } else {
    req.complete = true;
    req.push(null);
  }

  const res = new SrvServerResponse<IncomingMessage>(req) as unknown as SrvServerResponse & RawResponse;
  res.shouldKeepAlive = head.keepAlive;
  // Node's `assignSocket`, with this module's own close listener.
  (socket as Duplex & { _httpMessage?: unknown })._httpMessage = res;
  socket.on('close', onSocketClose);
  socket.on('drain', onSocketDrain);
  (res as { socket: Duplex | null }).socket = socket;
  if (head.expectContinue) res._expect_continue = true;
  res.once('finish', () => {
    // Node's `resOnFinish`: a body the handler never read is discarded.
    if (!req._consuming && !req.readableFlowing) req._dump();
    socket.off('close', onSocketClose);
    socket.off('drain', onSocketDrain);
    (socket as Duplex & { _httpMessage?: unknown })._httpMessage = null;
    (res as { socket: Duplex | null }).socket = null;
    process.nextTick(emitCloseOnce, res);
    if (res._last) {
      const ending = socket as Duplex & { destroySoon?(): void };
      if (typeof ending.destroySoon === 'function') ending.destroySoon();
      else socket.end();
    }
  });
  return { req, res, expectContinue: head.expectContinue };
}
