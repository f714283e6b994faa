/**
 * A port of its own for each relayed HTTP exchange, carried on the worker's one channel. A
 * `MessagePort` per request costs far more than the request (creating and transferring one is a
 * handle in each thread), while a worker serves one request at a time on a channel that exists
 * anyway: messages are tagged with the exchange's id and routed to its {@link MuxPort} on the other
 * side. Messages on one channel arrive in order, so unlike a transferred port nothing can be lost in
 * transit, and `close()` takes effect at once.
 */
import { EventEmitter } from 'node:events';
import type { RelayMessage } from './relay.js';

/** What carries an exchange's messages: `{ t: 'x', id, m }` on the worker's channel. */
export interface MuxEnvelope {
  readonly t: 'x';
  readonly id: number;
  /** The relay message, or `null`: the other end closed. */
  readonly m: RelayMessage | null;
}

/** The ports in use on one channel, by id; routes envelopes arriving from the other side. */
export class MuxRouter {
  readonly #ports = new Map<number, MuxPort>();
  readonly #send: (envelope: MuxEnvelope, transfer?: ArrayBuffer[]) => void;

  constructor(send: (envelope: MuxEnvelope, transfer?: ArrayBuffer[]) => void) {
    this.#send = send;
  }

  /** A port for exchange `id`. */
  open(id: number): MuxPort {
    const port = new MuxPort(id, this.#send, () => this.#ports.delete(id));
    this.#ports.set(id, port);
    return port;
  }

  /** Delivers an envelope from the other side (unknown ids belong to ports closed here already). */
  route(envelope: MuxEnvelope): void {
    const port = this.#ports.get(envelope.id);
    if (port === undefined) return;
    if (envelope.m === null) port.closedByPeer();
    else port.emit('message', envelope.m);
  }

  /** The other side is gone (its thread exited): every port closes. */
  closeAll(): void {
    for (const port of [...this.#ports.values()]) port.closedByPeer();
  }
}

/** One exchange's end: the subset of `MessagePort` the relay uses. */
export class MuxPort extends EventEmitter {
  /** Closing right after a last message loses nothing (see the module comment). */
  readonly closesInOrder = true;
  readonly #id: number;
  readonly #send: (envelope: MuxEnvelope, transfer?: ArrayBuffer[]) => void;
  readonly #forget: () => void;
  #closed = false;

  constructor(
    id: number,
    send: (envelope: MuxEnvelope, transfer?: ArrayBuffer[]) => void,
    forget: () => void,
  ) {
    super();
    this.#id = id;
    this.#send = send;
    this.#forget = forget;
  }

  postMessage(message: RelayMessage, transfer?: ArrayBuffer[]): void {
    if (this.#closed) return;
    this.#send({ t: 'x', id: this.#id, m: message }, transfer);
  }

  start(): void {}

  /** Closes both ends, as `MessagePort#close()` does. */
  close(): void {
    if (this.#closed) return;
    this.#send({ t: 'x', id: this.#id, m: null });
    this.closedByPeer();
  }

  /** Closes this end only: the other end said its last word and closes itself. */
  detach(): void {
    this.closedByPeer();
  }

  /** @internal The other end closed (or its thread is gone). */
  closedByPeer(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#forget();
    this.emit('close');
  }
}
