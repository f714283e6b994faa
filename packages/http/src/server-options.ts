import { type BaseServerOptions, SrvError } from '@srv/core';
import type { HTTPHandlerClass, ProtocolVersion } from './exchange.js';

/** Options of {@link HTTPServer}; each also readable as a static field of a subclass. */
export interface HTTPServerOptions extends BaseServerOptions {
  /** Default: the handler class's static `protocolVersion` (`'HTTP/1.1'`). */
  protocolVersion?: ProtocolVersion;
  /** Milliseconds from a request's first byte (a new connection's accept) to its complete headers; 0 = none. Default 60000. */
  headersTimeout?: number;
  /** Milliseconds from a request's first byte to its complete body; 0 = none. Default 300000. */
  requestTimeout?: number;
  /** Milliseconds an idle keep-alive connection stays open; 0 = forever. Default 5000. */
  keepAliveTimeout?: number;
  /** More header lines than this → 431. Default 100 (Python's `_MAXHEADERS`). */
  maxHeaderLines?: number;
  /** Longest request line or header line, with its CRLF → 414 / 431. Default 65536 (Python's `_MAXLINE`). */
  maxLineLength?: number;
  /** Bytes of request line plus headers Node's parser accepts before 414 / 431. Default 131072. */
  maxHeaderSize?: number;
  /**
   * Milliseconds a connection may have output waiting that the client accepts no byte of; then it is
   * closed and logged once (nginx's `send_timeout`). A slow client that reads is never cut off: every
   * byte it takes restarts the clock. 0 = none. Default 60000.
   */
  sendTimeout?: number;
  /** No access log lines, and no per-request error lines (`code 404, message …`, aborts). Default false. */
  quiet?: boolean;
  /**
   * A path (like `/healthz`) answered `200 ok` to GET and HEAD while serving and `503 draining` once
   * {@link HTTPServer.beginDrain} was called, before any handler or dispatcher queue, and not logged.
   * Default: none (the path reaches the handler like any other).
   */
  healthPath?: string;
  /**
   * Also answer the health path (or `/` without one) on a plain HTTP listener on this port, on the
   * server's host: no TLS and no PROXY header, as orchestrators' probes send. Default: none.
   */
  healthPort?: number;
}

const defaults = {
  headersTimeout: 60_000,
  sendTimeout: 60_000,
  requestTimeout: 300_000,
  keepAliveTimeout: 5_000,
  maxHeaderLines: 100,
  maxLineLength: 65536,
  maxHeaderSize: 131072,
};

type NumericOption = keyof typeof defaults;

/** What an {@link HTTPServer} settles its options to: the option, else its class's static, else the default. */
export interface HTTPServerSettings extends Record<NumericOption, number> {
  readonly protocolVersion: ProtocolVersion;
  readonly quiet: boolean;
}

type HTTPServerStatics = Partial<Record<NumericOption, number>> & {
  quiet?: boolean;
  protocolVersion?: ProtocolVersion;
};

/** Settles and checks an {@link HTTPServer}'s options; a bad one is `SRV_ERR_INVALID_OPTION`. */
export function settleOptions(
  options: HTTPServerOptions,
  ServerClass: object,
  Handler: HTTPHandlerClass,
): HTTPServerSettings {
  const statics = ServerClass as HTTPServerStatics;
  const pick = (key: NumericOption): number => {
    const value = options[key] ?? statics[key] ?? defaults[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new SrvError(
        'SRV_ERR_INVALID_OPTION',
        `${key} must be a non-negative number, got ${String(value)}`,
      );
    }
    return value;
  };
  const protocolVersion =
    options.protocolVersion ?? statics.protocolVersion ?? Handler.protocolVersion ?? 'HTTP/1.1';
  if (protocolVersion !== 'HTTP/1.0' && protocolVersion !== 'HTTP/1.1') {
    throw new SrvError(
      'SRV_ERR_INVALID_OPTION',
      `protocolVersion must be 'HTTP/1.0' or 'HTTP/1.1', got ${String(protocolVersion)}`,
    );
  }
  return {
    protocolVersion,
    quiet: options.quiet ?? statics.quiet ?? false,
    headersTimeout: pick('headersTimeout'),
    requestTimeout: pick('requestTimeout'),
    keepAliveTimeout: pick('keepAliveTimeout'),
    sendTimeout: pick('sendTimeout'),
    maxHeaderLines: pick('maxHeaderLines'),
    maxLineLength: pick('maxLineLength'),
    maxHeaderSize: pick('maxHeaderSize'),
  };
}
