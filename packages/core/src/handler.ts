import type { Duplex } from 'node:stream';
import type { SocketAddress } from './address.js';
import type { DatagramInfo } from './datagram-listener.js';
import { createError } from './errors.js';
import { BufferWriter, LineReader, type LineReaderOptions, StreamWriter } from './io.js';
import type { ConnectionInfo } from './listener.js';

const handlerBrand = Symbol.for('srv.handler');

/** One received datagram: Python's `(data, socket)` request of a UDP server. */
export interface DatagramRequest {
  /** The packet's bytes. */
  readonly data: Buffer;
  /** Sender, receiving address and the way to reply. */
  readonly info: DatagramInfo;
}

/**
 * What the server hands a dispatcher: a connection or a datagram, with where it came from. `head`
 * holds bytes a server already read from the connection (to know its first request exists) before
 * giving it to a dispatcher that runs elsewhere (`Dispatcher.runsElsewhere`): whoever serves the
 * connection must see them before any byte still to come.
 */
export type ServerRequest =
  | {
      readonly kind: 'stream';
      readonly request: Duplex;
      readonly info: ConnectionInfo;
      readonly head?: Buffer;
    }
  | { readonly kind: 'datagram'; readonly request: DatagramRequest; readonly info: DatagramInfo };

/** Connection details given to every handler beside the request itself. */
export type RequestInfo = ConnectionInfo | DatagramInfo;

/**
 * The base of class handlers (Python's `BaseRequestHandler`). The server creates one per request and
 * calls `setup()`, `handle()`, then `finish()` (also when `handle()` throws); each may be async.
 */
export class BaseRequestHandler<Req = unknown, S = unknown> {
  /** The request: the connection (a `Duplex`) for stream servers, a {@link DatagramRequest} for UDP. */
  readonly request: Req;
  /** The client's address (`{ family, host, port }`). */
  readonly clientAddress: SocketAddress;
  /** The server that accepted the request. */
  readonly server: S;
  /** Both ends of the connection and whether it is TLS. */
  readonly info: RequestInfo;

  constructor(request: Req, clientAddress: SocketAddress, server: S, info?: RequestInfo) {
    this.request = request;
    this.clientAddress = clientAddress;
    this.server = server;
    this.info = info ?? {
      local: { family: 'IPv4', host: '', port: 0 },
      remote: clientAddress,
      tls: false,
    };
  }

  /** Called before `handle()`. */
  setup(): void | Promise<void> {}

  /** Serves the request. Override this. */
  handle(): void | Promise<void> {}

  /** Called after `handle()`, even when it threw. */
  finish(): void | Promise<void> {}
}
Object.defineProperty(BaseRequestHandler.prototype, handlerBrand, { value: true });

/** Options read from a stream handler's static fields. */
export interface StreamHandlerDefaults {
  timeout: number;
  maxLineLength: number;
  disableNagleAlgorithm: boolean;
}

/**
 * Python's `StreamRequestHandler`: `rfile` reads lines and bytes from the connection with limits,
 * `wfile` writes with backpressure. Static fields tune it per subclass.
 */
export class StreamRequestHandler<S = unknown> extends BaseRequestHandler<Duplex, S> {
  /** Milliseconds a read may wait for data before the connection is closed; 0 = never. */
  static timeout = 0;
  /** Longest line accepted by `rfile.readline()` and line iteration, in bytes. */
  static maxLineLength = 65536;
  /** Sets TCP_NODELAY on the connection. */
  static disableNagleAlgorithm = false;

  #rfile: LineReader | undefined;
  #wfile: StreamWriter | undefined;

  /**
   * Reads from the connection. Made on first use, with the limits of {@link readerOptions} as they are
   * then (after `setup()` in the usual run), so a handler that never reads pays nothing for it.
   * Assigning replaces it.
   */
  get rfile(): LineReader {
    this.#rfile ??= new LineReader(this.request, this.readerOptions());
    return this.#rfile;
  }

  set rfile(reader: LineReader) {
    this.#rfile = reader;
  }

  /** Writes to the connection. Made on first use; assigning replaces it. */
  get wfile(): StreamWriter {
    this.#wfile ??= new StreamWriter(this.request);
    return this.#wfile;
  }

  set wfile(writer: StreamWriter) {
    this.#wfile = writer;
  }

  /** Sets TCP_NODELAY when `disableNagleAlgorithm`; `rfile` and `wfile` are made when first used. */
  override setup(): void {
    const defaults = this.constructor as unknown as StreamHandlerDefaults;
    const socket = this.request as Duplex & { setNoDelay?(value: boolean): unknown };
    if (defaults.disableNagleAlgorithm) socket.setNoDelay?.(true);
  }

  /**
   * The limits `setup()` gives `rfile`: the static `timeout` and `maxLineLength`. Override to take
   * them from elsewhere (per-server options, say).
   */
  protected readerOptions(): LineReaderOptions {
    const defaults = this.constructor as unknown as StreamHandlerDefaults;
    return { timeout: defaults.timeout, maxLineLength: defaults.maxLineLength };
  }

  override finish(): void | Promise<void> {
    // Nothing buffered (the usual case): done now, without a promise to wait for.
    const stream = this.#wfile?.stream ?? this.request;
    if (stream.destroyed || stream.writableLength === 0) return;
    return this.wfile.flush();
  }
}

/**
 * Python's `DatagramRequestHandler`: `rfile` reads the packet, `wfile` collects the reply, which
 * `finish()` sends back as one datagram (nothing is sent when nothing was written).
 */
export class DatagramRequestHandler<S = unknown> extends BaseRequestHandler<DatagramRequest, S> {
  /** Largest packet read (Python's `max_packet_size`); longer packets are truncated by the kernel. */
  static maxPacketSize = 8192;

  rfile!: LineReader;
  wfile!: BufferWriter;

  override setup(): void {
    this.rfile = new LineReader(this.request.data);
    this.wfile = new BufferWriter();
  }

  override async finish(): Promise<void> {
    if (this.wfile.length > 0) await this.request.info.reply(this.wfile.getValue());
  }
}

/** Context given to a plain function handler. */
export interface HandlerContext<S = unknown> {
  readonly clientAddress: SocketAddress;
  readonly server: S;
  readonly info: RequestInfo;
}

/** What the server calls on a handler instance. */
export interface HandlerInstance {
  setup(): void | Promise<void>;
  handle(): void | Promise<void>;
  finish(): void | Promise<void>;
}

/** A class handler: constructed per request with `(request, clientAddress, server, info)`. */
export type HandlerClass<Req = unknown, S = unknown> = new (
  request: Req,
  clientAddress: SocketAddress,
  server: S,
  info?: RequestInfo,
) => HandlerInstance;

/** A plain function handler `(request, ctx) => …`, accepted wherever a class is. */
export type HandlerFunction<Req = unknown, S = unknown> = (
  request: Req,
  context: HandlerContext<S>,
) => unknown;

/** A handler: a {@link BaseRequestHandler} subclass or a plain function. */
export type RequestHandler<Req = unknown, S = unknown> = HandlerClass<Req, S> | HandlerFunction<Req, S>;

/** A server's handler must be a class or a function; anything else is `SRV_ERR_INVALID_HANDLER`. */
export function checkHandler(value: unknown): void {
  if (typeof value !== 'function') {
    throw createError(
      'SRV_ERR_INVALID_HANDLER',
      'the handler must be a BaseRequestHandler subclass or a function',
    );
  }
}

/** True when `value` is a handler class (works across duplicate copies of this package). */
export function isHandlerClass(value: unknown): value is HandlerClass {
  if (typeof value !== 'function') return false;
  const prototype = (value as { prototype?: Record<symbol, unknown> }).prototype;
  return prototype !== undefined && prototype[handlerBrand] === true;
}

/** Runs one request through a handler, class (setup/handle/finish) or function. */
export async function runHandler<Req, S>(
  handler: RequestHandler<Req, S>,
  request: Req,
  clientAddress: SocketAddress,
  server: S,
  info: RequestInfo,
): Promise<void> {
  // Only promises are awaited: a synchronous step costs no turn of the microtask queue.
  if (!isHandlerClass(handler)) {
    const result = (handler as HandlerFunction<Req, S>)(request, { clientAddress, server, info });
    if (isThenable(result)) await result;
    return;
  }
  const instance = new (handler as HandlerClass<Req, S>)(request, clientAddress, server, info);
  const setup = instance.setup();
  if (isThenable(setup)) await setup;
  try {
    const handled = instance.handle();
    if (isThenable(handled)) await handled;
  } finally {
    const finished = instance.finish();
    if (isThenable(finished)) await finished;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}
