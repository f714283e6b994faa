/**
 * What runs inside a worker thread or child process: the primary's server rebuilt in attach mode,
 * fed one request at a time, reporting back when each is over. Shared by both worker entries.
 */
import type { Duplex } from 'node:stream';
import {
  type BaseServer,
  type ConnectionInfo,
  type DatagramInfo,
  type DatagramRequest,
  type Dispatcher,
  type Logger,
  type ServerRequest,
  type SocketAddress,
  stderrLogger,
  type WorkerServerSpec,
} from '@srv/core';
import { createAttachedServer } from '@srv/core/internal';
import type { FromWorker } from './protocol.js';
import { serializeError } from './protocol.js';

type Send = (message: FromWorker) => void;

/** The worker's own dispatcher: runs each request right here, as it comes. */
class WorkerDispatcher implements Dispatcher {
  readonly name = 'worker';
  // The primary (threading) or this runtime (forking) already dealt with TLS.
  readonly handlesTls = true;
  readonly #inFlight = new Set<Promise<void>>();

  start(): void {}

  dispatch(_request: ServerRequest, run: () => Promise<void>): Promise<void> {
    const job = run().finally(() => this.#inFlight.delete(job));
    this.#inFlight.add(job);
    return job;
  }

  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  async close(): Promise<void> {}
}

function toFields(fields: object): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value instanceof Error) result[key] = { $error: serializeError(value) };
    else if (value === null || ['string', 'number', 'boolean', 'undefined'].includes(typeof value))
      result[key] = value;
    else {
      try {
        result[key] = structuredClone(value);
      } catch {
        result[key] = String(value);
      }
    }
  }
  return result;
}

/** A logger whose lines are written by the primary's logger. */
function relayLogger(send: Send): Logger {
  const log =
    (level: 'info' | 'warn' | 'error') =>
    (fieldsOrMessage: object | string, message?: string): void => {
      if (typeof fieldsOrMessage === 'string')
        send({ t: 'log', level, message: fieldsOrMessage, fields: undefined });
      else send({ t: 'log', level, message: message ?? '', fields: toFields(fieldsOrMessage) });
    };
  return { info: log('info'), warn: log('warn'), error: log('error') };
}

/** Where an exchange's stream keeps its server, for {@link onExchangeError}. */
const serverKey = Symbol('srv.exchange-server');

/**
 * One `error` listener for every exchange (`this` is its stream), as core's for a connection: a reset
 * or a broken pipe is the client's doing (it went away); anything else is worth a line.
 */
function onExchangeError(
  this: Duplex & { [serverKey]?: BaseServer<unknown> },
  error: NodeJS.ErrnoException,
): void {
  if (error.code === 'ECONNRESET' || error.code === 'EPIPE' || error.code === 'SRV_ERR_TIMEOUT') return;
  this[serverKey]?.logger.warn({ err: error }, `exchange error: ${error.message}`);
}

/** The server rebuilt in a worker, and the way to feed it. */
export class WorkerRuntime {
  readonly server: BaseServer<unknown>;
  readonly #dispatcher: WorkerDispatcher;
  readonly #send: Send;

  private constructor(server: BaseServer<unknown>, dispatcher: WorkerDispatcher, send: Send) {
    this.server = server;
    this.#dispatcher = dispatcher;
    this.#send = send;
  }

  /** Rebuilds the server; rejects (with a coded error) when the handler or server cannot be loaded. */
  static async create(spec: WorkerServerSpec, send: Send): Promise<WorkerRuntime> {
    const dispatcher = new WorkerDispatcher();
    // Lines for the default stderr logger go straight to stderr (one write each, so lines from several
    // workers never interleave); any other logger is the primary's, so they travel there.
    const logger = spec.logsToStderr ? stderrLogger : relayLogger(send);
    const server = await createAttachedServer(spec, { dispatcher, logger });
    return new WorkerRuntime(server, dispatcher, send);
  }

  /**
   * Serves one connection; reports `done` once the server is done with it (its handler has finished,
   * or for HTTP every request on it).
   */
  serveConnection(id: number, stream: Duplex, info: ConnectionInfo): void {
    const report = () => this.#send({ t: 'done', id });
    this.server.attach(stream, info).then(report, report);
  }

  /**
   * Serves one HTTP request the primary already parsed (threading's exchanges): straight to the
   * server's `processRequest`, as a datagram goes, without `attach`'s bookkeeping of a connection
   * (queue, in-flight count, the set of open streams, the shutdown check). The primary owns the
   * connection, its timeouts and its shutdown, and ran `verifyRequest`; this thread's own dispatcher
   * counts the request while it runs. Reports `done` once it is over.
   */
  serveExchange(id: number, stream: Duplex, info: ConnectionInfo): void {
    const server = this.server;
    const report = () => this.#send({ t: 'done', id });
    stream.on('error', onExchangeError);
    (stream as Duplex & { [serverKey]?: BaseServer<unknown> })[serverKey] = server;
    server
      .processRequest(stream, info.remote, { kind: 'stream', request: stream, info })
      .catch((error: unknown) => server.handleError(stream, info.remote, error))
      .then(report, report);
  }

  /** Serves one datagram; replies travel back to the primary, which sends them from its socket. */
  serveDatagram(id: number, data: Uint8Array, local: SocketAddress, remote: SocketAddress): void {
    const info: DatagramInfo = {
      local,
      remote,
      reply: async (payload) => {
        const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
        this.#send({ t: 'reply', id, data: new Uint8Array(bytes) });
      },
    };
    const request: DatagramRequest = {
      data: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
      info,
    };
    // The primary already ran verifyRequest; go straight to the handler.
    void this.server
      .processRequest(request, remote, { kind: 'datagram', request, info })
      .catch((error: unknown) => this.server.handleError(request, remote, error))
      .finally(() => this.#send({ t: 'done', id }));
  }

  /**
   * The primary is shutting down: so does the rebuilt server, which lets a subclass answer its own
   * in-flight work (`HTTPServer` closes idle keep-alive connections, answers with `Connection: close`).
   */
  shutdown(): void {
    void this.server.shutdown();
  }

  /** Lets in-flight requests finish, then closes the server. */
  async stop(): Promise<void> {
    await this.#dispatcher.drain();
    await this.server.close();
  }
}
