/**
 * How messages cross a forking child's IPC channel. The channel uses Node's `json` serialization: the
 * per-connection messages (`conn`, `done` and Node's own handle acknowledgements) are tiny objects, and
 * JSON costs far less per message than `advanced` (a V8 serializer set up for every message). Messages
 * that carry bytes or arbitrary structured values (`init`, `datagram`, `reply`, `log`) travel
 * V8-serialized inside a JSON envelope, so they keep structured-clone fidelity.
 */
import { deserialize, serialize } from 'node:v8';
import type { FromWorker, ToWorker } from './protocol.js';

/** A message V8-serialized (base64) inside a JSON envelope. */
interface Envelope {
  readonly t: 'v8';
  readonly b: string;
}

/** Messages sent as plain JSON: small, and made of JSON values only. */
const plain = new Set(['conn', 'done', 'ready', 'shutdown', 'stop', 'ping', 'pong']);

/** What goes on the channel for a message. */
export function encodeMessage<M extends ToWorker | FromWorker>(message: M): M | Envelope {
  if (plain.has(message.t)) return message;
  return { t: 'v8', b: serialize(message).toString('base64') };
}

/** The message that came off the channel. */
export function decodeMessage<M extends ToWorker | FromWorker>(received: M | Envelope): M {
  if (received.t !== 'v8') return received as M;
  return deserialize(Buffer.from((received as Envelope).b, 'base64')) as M;
}
