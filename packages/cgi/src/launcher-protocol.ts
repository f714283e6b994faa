/**
 * How a server and its script launcher (see launcher.ts) talk. Two channels:
 * - the IPC channel carries control messages as JSON (small messages are far cheaper as JSON than
 *   with the structured-clone serializer);
 * - a second pipe, the launcher's fd {@link dataFd}, carries the scripts' stdio as binary frames, so
 *   output is copied once more but never encoded.
 *
 * A frame is a 9-byte header (type u8, script id u32 BE, payload length u32 BE) and the payload.
 * Everything the launcher reports travels as frames, in order; the server's requests (spawn, flow
 * control, stop) travel as messages, and request bodies as frames.
 */

import type { Writable } from 'node:stream';
import type { ScriptCommand } from './group.js';

/** The launcher's file descriptor of the data pipe. */
export const dataFd = 4;

/** Frame types. */
export const Frame = {
  /** Launcher → server: a chunk of the script's stdout. */
  stdout: 1,
  /** Launcher → server: a chunk of the script's stderr. */
  stderr: 2,
  /** Launcher → server: the script's stdout ended. */
  stdoutEnd: 3,
  /** Launcher → server: the script's stderr ended. */
  stderrEnd: 4,
  /** Server → launcher: a chunk of the request body for the script's stdin (answered with `stdinAck`). */
  stdin: 5,
  /** Server → launcher: the request body ended; close the script's stdin. */
  stdinEnd: 6,
  /** Launcher → server: the script runs; payload its pid (u32 BE). */
  spawned: 7,
  /** Launcher → server: the script could not be started; payload JSON `{ code?, message }`. */
  failed: 8,
  /** Launcher → server: the script exited; payload JSON `{ code, signal }`. */
  exit: 9,
  /** Launcher → server: a stdin chunk was written; payload empty, or the error's message (UTF-8). */
  stdinAck: 10,
} as const;

/** A frame type. */
export type FrameType = (typeof Frame)[keyof typeof Frame];

const headerSize = 9;
const empty = Buffer.alloc(0);

/** Writes one frame (header and payload) to `stream`, as one writev. Returns `write()`'s answer. */
export function writeFrame(stream: Writable, type: FrameType, id: number, payload: Buffer = empty): boolean {
  const header = Buffer.allocUnsafe(headerSize);
  header[0] = type;
  header.writeUInt32BE(id, 1);
  header.writeUInt32BE(payload.length, 5);
  if (payload.length === 0) return stream.write(header);
  stream.cork();
  stream.write(header);
  const more = stream.write(payload);
  stream.uncork();
  return more;
}

/** Splits a byte stream back into frames; payloads are views of the chunks read when they fit in one. */
export class FrameReader {
  #chunks: Buffer[] = [];
  #size = 0;

  constructor(private readonly onFrame: (type: number, id: number, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    while (this.#size >= headerSize) {
      const header = this.#peekHeader();
      const length = header.readUInt32BE(5);
      if (this.#size < headerSize + length) return;
      this.#take(headerSize);
      this.onFrame(header[0]!, header.readUInt32BE(1), length === 0 ? empty : this.#take(length));
    }
  }

  #peekHeader(): Buffer {
    const first = this.#chunks[0]!;
    if (first.length >= headerSize) return first.subarray(0, headerSize);
    const header = Buffer.allocUnsafe(headerSize);
    let offset = 0;
    for (const chunk of this.#chunks) {
      offset += chunk.copy(header, offset, 0, Math.min(chunk.length, headerSize - offset));
      if (offset === headerSize) break;
    }
    return header;
  }

  #take(length: number): Buffer {
    const first = this.#chunks[0]!;
    this.#size -= length;
    if (first.length >= length) {
      if (first.length === length) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(length);
      return first.subarray(0, length);
    }
    const out = Buffer.allocUnsafe(length);
    let offset = 0;
    while (offset < length) {
      const chunk = this.#chunks[0]!;
      const count = Math.min(chunk.length, length - offset);
      chunk.copy(out, offset, 0, count);
      offset += count;
      if (count === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(count);
    }
    return out;
  }
}

/** Server → launcher messages. Every message but `spawn` names a script the launcher knows by `id`. */
export type ToLauncher =
  /** Start a script (with a stdin pipe when `hasInput`: the request body follows as frames). */
  | ({ t: 'spawn'; id: number } & ScriptCommand)
  /** Stop / resume reading the script's stdout (the server's consumer is behind / caught up). */
  | { t: 'pause'; id: number }
  | { t: 'resume'; id: number }
  /** Stop the script's process group: SIGTERM, SIGKILL after `grace` ms, SIGKILL again at its exit. */
  | { t: 'stop'; id: number; grace: number };

/** Launcher → server: only that it is listening; all else is frames. */
export type FromLauncher = { t: 'ready' };
