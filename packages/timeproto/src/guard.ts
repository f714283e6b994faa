/**
 * What keeps a UDP time service from being turned into a weapon. UDP sources are unauthenticated: one
 * datagram spoofed from the server's own address and port starts a self-loop, one spoofed from another
 * UDP service (echo, chargen, daytime, DNS on ports below 1024) starts a loop between the two (the
 * "Loop DoS" class, CVE-2024-2169), and a flood spoofed from a victim turns the server into a reflector.
 * The guard answers none of those: no reply to refused source ports, and at most `rate` replies per
 * second to any one source address (a token bucket with `burst`).
 */
import type { SocketAddress } from '@srv/core';

/** Options of the UDP guard (also options of {@link TimeUDPServer} and flags of `srv-time serve`). */
export interface UdpGuardOptions {
  /**
   * Source ports whose datagrams are never answered: numbers and inclusive `[from, to]` ranges.
   * Default `[[0, 1023]]` (the well-known services a loop would bounce between). The server's own
   * port is always refused as well (a datagram "from itself" would start a self-loop).
   */
  refusedSourcePorts?: ReadonlyArray<number | readonly [number, number]>;
  /** Replies per second to one source address; 0 = no limit. Default 20 (`--udp-rate N`). */
  udpRate?: number;
  /** Replies one source address may get at once before the rate applies. Default twice the rate (40). */
  udpBurst?: number;
}

/** Why a datagram gets no answer; undefined when it is answered. */
export type DropReason = 'refused-port' | 'rate';

interface Source {
  tokens: number;
  updated: number;
  dropped: number;
  /** When the last drop line for this source was logged (undefined: never). */
  logged: number | undefined;
}

/** One log line per source per minute, counting the datagrams dropped since the previous one. */
const logIntervalMs = 60_000;
/** Past this many tracked sources, the ones whose bucket is full again are forgotten. */
const maxTrackedSources = 10_000;

const defaultRefusedPorts: ReadonlyArray<readonly [number, number]> = [[0, 1023]];

/** Counts a source's datagrams and decides which to answer (the clock is injectable for tests). */
export class UdpGuard {
  readonly rate: number;
  readonly burst: number;
  readonly #refused: ReadonlyArray<readonly [number, number]>;
  readonly #sources = new Map<string, Source>();
  readonly #now: () => number;

  constructor(options: UdpGuardOptions = {}, now: () => number = () => performance.now()) {
    const rate = options.udpRate ?? 20;
    if (!Number.isFinite(rate) || rate < 0) throw new RangeError(`udpRate must be ≥ 0, got ${rate}`);
    const burst = options.udpBurst ?? rate * 2;
    if (!Number.isFinite(burst) || burst < (rate > 0 ? 1 : 0)) {
      throw new RangeError(`udpBurst must be ≥ 1, got ${burst}`);
    }
    this.rate = rate;
    this.burst = burst;
    this.#refused = (options.refusedSourcePorts ?? defaultRefusedPorts).map((entry) =>
      typeof entry === 'number' ? ([entry, entry] as const) : entry,
    );
    this.#now = now;
  }

  /** True when datagrams from `port` are never answered (`ownPort` always is). */
  isRefusedPort(port: number, ownPort: number): boolean {
    if (port === ownPort) return true;
    for (const [from, to] of this.#refused) if (port >= from && port <= to) return true;
    return false;
  }

  /**
   * Decides about one datagram from `remote` to a server on `ownPort`: undefined to answer it, else
   * why not. `log` gets at most one line per source address per minute, counting the drops.
   */
  check(remote: SocketAddress, ownPort: number, log: (line: string) => void): DropReason | undefined {
    const now = this.#now();
    if (this.isRefusedPort(remote.port, ownPort)) {
      this.#drop(remote, now, 'refused-port', log);
      return 'refused-port';
    }
    if (this.rate === 0) return undefined;
    const source = this.#source(remote.host, now);
    source.tokens = Math.min(this.burst, source.tokens + ((now - source.updated) / 1000) * this.rate);
    source.updated = now;
    if (source.tokens >= 1) {
      source.tokens -= 1;
      return undefined;
    }
    this.#drop(remote, now, 'rate', log);
    return 'rate';
  }

  #source(host: string, now: number): Source {
    let source = this.#sources.get(host);
    if (source === undefined) {
      if (this.#sources.size >= maxTrackedSources) this.#forgetIdle(now);
      source = { tokens: this.burst, updated: now, dropped: 0, logged: undefined };
      this.#sources.set(host, source);
    }
    return source;
  }

  #drop(remote: SocketAddress, now: number, reason: DropReason, log: (line: string) => void): void {
    const source = this.#source(remote.host, now);
    source.dropped += 1;
    if (source.logged !== undefined && now - source.logged < logIntervalMs) return;
    const why =
      reason === 'rate'
        ? `over ${this.rate}/s`
        : `source port ${remote.port} refused (below 1024, listed, or the server's own)`;
    log(
      `dropped ${source.dropped} datagram${source.dropped === 1 ? '' : 's'} from ${remote.host}${source.logged === undefined ? '' : ' in the last minute'} (${why})`,
    );
    source.dropped = 0;
    source.logged = now;
  }

  /** Forgets sources whose bucket has refilled and that logged nothing this minute (bounded memory). */
  #forgetIdle(now: number): void {
    for (const [host, source] of this.#sources) {
      const full =
        this.rate === 0 || source.tokens + ((now - source.updated) / 1000) * this.rate >= this.burst;
      if (full && (source.logged === undefined || now - source.logged >= logIntervalMs)) {
        this.#sources.delete(host);
      }
    }
    // A spoofed flood from ever-new addresses: start over rather than grow without bound.
    if (this.#sources.size >= maxTrackedSources) this.#sources.clear();
  }

  /** How many source addresses are tracked (for tests). */
  get trackedSources(): number {
    return this.#sources.size;
  }
}
