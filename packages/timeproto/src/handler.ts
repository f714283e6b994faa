import {
  DatagramRequestHandler,
  formatAddress,
  isSrvError,
  type LineReaderOptions,
  type Logger,
  type SocketAddress,
  StreamRequestHandler,
  stderrLogger,
} from '@srv/core';
import { displayHost } from '@srv/core/internal';
import {
  answerWord,
  type Clock,
  type ClockInput,
  encodeRfc868,
  formatDaytime,
  formatLogTime,
  isTimeWord,
  toClock,
} from './format.js';

/**
 * How the time handlers behave. Each is a static field of the handler class (subclass to change it,
 * Python's way) and an option of {@link TimeServer} / {@link TimeUDPServer}, which wins when set. All
 * but a `clock` function reach threading and forking workers.
 */
export interface TimeHandlerOptions {
  /** Where the time comes from: a function, or a fixed `Date` / epoch milliseconds. Default: the system clock. */
  clock?: ClockInput;
  /** `asctime` and daytime in UTC instead of local time (`rfc822` is always UTC). Default false. */
  utc?: boolean;
  /** Answer line after line until end of input or `quit` (telnet style). Default false: one request, like the tutorial. */
  interactive?: boolean;
  /** Longest request line in bytes, line ending included; a longer one gets an error line and the connection closes. Default 1024. */
  maxLineLength?: number;
  /** Milliseconds a connection may stay silent before it is closed (up to a quarter more); 0 = never. Default 30000. */
  idleTimeout?: number;
  /** Log `[time] -- connected from:<addr>` for each connection (info level). Default true. */
  logConnections?: boolean;
}

/** The resolved {@link TimeHandlerOptions} a handler works with. */
export interface TimeHandlerSettings {
  readonly clock: Clock;
  readonly utc: boolean;
  readonly interactive: boolean;
  readonly maxLineLength: number;
  readonly idleTimeout: number;
  readonly logConnections: boolean;
}

interface HandlerStatics {
  clock?: ClockInput | undefined;
  utc?: boolean;
  interactive?: boolean;
  maxLineLength?: number;
  timeout?: number;
  logConnections?: boolean;
}

function pick<T>(value: unknown, check: (value: unknown) => value is T): T | undefined {
  return check(value) ? value : undefined;
}

const isBoolean = (value: unknown): value is boolean => typeof value === 'boolean';
const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0;
const isClock = (value: unknown): value is ClockInput =>
  typeof value === 'function' || typeof value === 'number' || value instanceof Date;

// Settings are the same for every request of one server and handler class: compute them once.
const settingsCache = new WeakMap<object, Map<unknown, TimeHandlerSettings>>();

/** Merges a handler class's static fields with the server's options (the options win). */
function settingsOf(handler: object, server: unknown): TimeHandlerSettings {
  if (typeof server !== 'object' || server === null) return computeSettings(handler, server);
  let byClass = settingsCache.get(server);
  if (byClass === undefined) {
    byClass = new Map();
    settingsCache.set(server, byClass);
  }
  let settings = byClass.get(handler.constructor);
  if (settings === undefined) {
    settings = computeSettings(handler, server);
    byClass.set(handler.constructor, settings);
  }
  return settings;
}

function computeSettings(handler: object, server: unknown): TimeHandlerSettings {
  const statics = handler.constructor as HandlerStatics;
  const options = ((server as { options?: unknown } | undefined)?.options ?? {}) as Record<string, unknown>;
  return {
    clock: toClock(pick(options.clock, isClock) ?? statics.clock),
    utc: pick(options.utc, isBoolean) ?? statics.utc ?? false,
    interactive: pick(options.interactive, isBoolean) ?? statics.interactive ?? false,
    maxLineLength: pick(options.maxLineLength, isCount) ?? statics.maxLineLength ?? 1024,
    idleTimeout: pick(options.idleTimeout, isCount) ?? statics.timeout ?? 30_000,
    logConnections: pick(options.logConnections, isBoolean) ?? statics.logConnections ?? true,
  };
}

/** `127.0.0.1:54321` also for IPv4 clients of a dual-stack socket (`::ffff:127.0.0.1`). */
function formatClient(address: SocketAddress): string {
  const host = displayHost(address.host);
  return host === address.host ? formatAddress(address) : `${host}:${address.port}`;
}

function loggerOf(server: unknown): Logger {
  return (server as { logger?: Logger } | undefined)?.logger ?? stderrLogger;
}

function logLine(handler: { settings: TimeHandlerSettings; server: unknown }, message: string): void {
  loggerOf(handler.server).info(`[${formatLogTime(handler.settings.clock())}] -- ${message}`);
}

/** The error line sent before closing a connection whose request line is too long. */
export function lineTooLongMessage(maxLineLength: number): string {
  return `error: request line longer than ${maxLineLength} bytes\n`;
}

/**
 * The tutorial's `TimeRequestHandler`: reads a line and answers `asctime`, `seconds` or `rfc822` with
 * the time in that form, anything else with the help text. One request per connection unless
 * `interactive`. A request line longer than `maxLineLength` gets an error line and the connection is
 * closed; a connection silent for `idleTimeout` ms is closed.
 */
export class TimeRequestHandler<S = unknown> extends StreamRequestHandler<S> {
  /** Where threading and forking workers load this class from. */
  static readonly moduleUrl: string = import.meta.url;
  static readonly exportName: string = 'TimeRequestHandler';
  /** See {@link TimeHandlerOptions.clock}. */
  static clock: ClockInput | undefined = undefined;
  /** See {@link TimeHandlerOptions.utc}. */
  static utc = false;
  /** See {@link TimeHandlerOptions.interactive}. */
  static interactive = false;
  /** See {@link TimeHandlerOptions.logConnections}. */
  static logConnections = true;
  /** See {@link TimeHandlerOptions.maxLineLength}. */
  static override maxLineLength = 1024;
  /** The idle timeout in milliseconds ({@link TimeHandlerOptions.idleTimeout}). */
  static override timeout = 30_000;

  /** This request's settings (static fields merged with the server's options). Ready after `setup()`. */
  settings!: TimeHandlerSettings;

  override setup(): void {
    this.settings = settingsOf(this, this.server);
    super.setup();
  }

  /** The reader's limits come from the merged settings, so server options apply too. */
  protected override readerOptions(): LineReaderOptions {
    return { maxLineLength: this.settings.maxLineLength, timeout: this.settings.idleTimeout };
  }

  override async handle(): Promise<void> {
    if (this.settings.logConnections) this.logMessage(`connected from:${formatClient(this.clientAddress)}`);
    const { interactive } = this.settings;
    for (;;) {
      // One frame per request line: the read's error handling is inline, not in an async helper.
      let line: Buffer | undefined;
      try {
        line = await this.rfile.readline();
      } catch (error) {
        line = await this.#readFailed(error);
      }
      if (line === undefined) return;
      const word = line.toString('utf8').trim();
      if (interactive) {
        if (line.length === 0 || word.toLowerCase() === 'quit') return;
        if (word === '') continue;
      }
      // The answer fits the socket's buffer (the usual case): nothing to wait for.
      const full = this.wfile.tryWrite(this.answer(word));
      if (full !== undefined) await full;
      if (!interactive) return;
    }
  }

  /** The reply to one request word (trimmed), newline included. Override to add words. */
  answer(word: string): string {
    // The settings carry `utc`: no options object per answer.
    return answerWord(word, this.settings.clock(), this.settings);
  }

  /** Logs one line as the tutorial prints it: `[2026-11-24 19:02:46] -- <message>`. */
  logMessage(message: string): void {
    logLine(this, message);
  }

  /** A failed read: undefined when the connection is to be closed (line too long or idle), else rethrown. */
  async #readFailed(error: unknown): Promise<undefined> {
    if (isSrvError(error, 'SRV_ERR_LINE_TOO_LONG')) {
      await this.wfile.write(lineTooLongMessage(this.settings.maxLineLength));
      return undefined;
    }
    if (isSrvError(error, 'SRV_ERR_TIMEOUT')) return undefined;
    throw error;
  }
}

/**
 * The line protocol over UDP: a datagram holds the word, the reply datagram the answer (the same text
 * as over TCP, newline included).
 */
export class TimeDatagramHandler<S = unknown> extends DatagramRequestHandler<S> {
  static readonly moduleUrl: string = import.meta.url;
  static readonly exportName: string = 'TimeDatagramHandler';
  static clock: ClockInput | undefined = undefined;
  static utc = false;
  static maxLineLength = 1024;
  /** Datagrams are not connections: logging them is off unless asked for. */
  static logConnections = false;

  settings!: TimeHandlerSettings;

  override setup(): void {
    super.setup();
    this.settings = settingsOf(this, this.server);
  }

  override async handle(): Promise<void> {
    if (this.settings.logConnections) this.logMessage(`datagram from:${formatClient(this.clientAddress)}`);
    const data = this.request.data;
    if (data.length > this.settings.maxLineLength) {
      await this.wfile.write(lineTooLongMessage(this.settings.maxLineLength));
      return;
    }
    const newline = data.indexOf(0x0a);
    const word = (newline === -1 ? data : data.subarray(0, newline)).toString('utf8').trim();
    // Over UDP an unknown word (an empty or 1-byte datagram too) gets no answer: the help text would
    // make a spoofed datagram worth 190 bytes to its victim. TCP keeps it (a handshake proves the peer).
    if (!isTimeWord(word)) return;
    await this.wfile.write(answerWord(word, this.settings.clock(), { utc: this.settings.utc }));
  }

  logMessage(message: string): void {
    logLine(this, message);
  }
}

/** RFC 867 Daytime over TCP: sends the date line on connect and closes; nothing is read. */
export class DaytimeRequestHandler<S = unknown> extends StreamRequestHandler<S> {
  static readonly moduleUrl: string = import.meta.url;
  static readonly exportName: string = 'DaytimeRequestHandler';
  static clock: ClockInput | undefined = undefined;
  static utc = false;
  static logConnections = true;

  settings!: TimeHandlerSettings;

  override setup(): void {
    super.setup();
    this.settings = settingsOf(this, this.server);
  }

  override async handle(): Promise<void> {
    if (this.settings.logConnections) this.logMessage(`connected from:${formatClient(this.clientAddress)}`);
    await this.wfile.write(formatDaytime(this.settings.clock(), { utc: this.settings.utc }));
  }

  logMessage(message: string): void {
    logLine(this, message);
  }
}

/** RFC 867 Daytime over UDP: any datagram is answered with the date line. */
export class DaytimeDatagramHandler<S = unknown> extends DatagramRequestHandler<S> {
  static readonly moduleUrl: string = import.meta.url;
  static readonly exportName: string = 'DaytimeDatagramHandler';
  static clock: ClockInput | undefined = undefined;
  static utc = false;
  static logConnections = false;

  settings!: TimeHandlerSettings;

  override setup(): void {
    super.setup();
    this.settings = settingsOf(this, this.server);
  }

  override async handle(): Promise<void> {
    if (this.settings.logConnections) this.logMessage(`datagram from:${formatClient(this.clientAddress)}`);
    await this.wfile.write(formatDaytime(this.settings.clock(), { utc: this.settings.utc }));
  }

  logMessage(message: string): void {
    logLine(this, message);
  }
}

/** RFC 868 Time over TCP: sends the 4-byte time on connect and closes; nothing is read. */
export class Rfc868RequestHandler<S = unknown> extends StreamRequestHandler<S> {
  static readonly moduleUrl: string = import.meta.url;
  static readonly exportName: string = 'Rfc868RequestHandler';
  static clock: ClockInput | undefined = undefined;
  static logConnections = true;

  settings!: TimeHandlerSettings;

  override setup(): void {
    super.setup();
    this.settings = settingsOf(this, this.server);
  }

  override async handle(): Promise<void> {
    if (this.settings.logConnections) this.logMessage(`connected from:${formatClient(this.clientAddress)}`);
    await this.wfile.write(encodeRfc868(this.settings.clock()));
  }

  logMessage(message: string): void {
    logLine(this, message);
  }
}

/** RFC 868 Time over UDP: any datagram is answered with the 4-byte time. */
export class Rfc868DatagramHandler<S = unknown> extends DatagramRequestHandler<S> {
  static readonly moduleUrl: string = import.meta.url;
  static readonly exportName: string = 'Rfc868DatagramHandler';
  static clock: ClockInput | undefined = undefined;
  static logConnections = false;

  settings!: TimeHandlerSettings;

  override setup(): void {
    super.setup();
    this.settings = settingsOf(this, this.server);
  }

  override async handle(): Promise<void> {
    if (this.settings.logConnections) this.logMessage(`datagram from:${formatClient(this.clientAddress)}`);
    await this.wfile.write(encodeRfc868(this.settings.clock()));
  }

  logMessage(message: string): void {
    logLine(this, message);
  }
}
