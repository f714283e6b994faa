import { DatagramRequestHandler, StreamRequestHandler } from '../src/index.js';

/** Echoes each line back until the client closes. */
export class EchoHandler extends StreamRequestHandler {
  override async handle(): Promise<void> {
    for await (const line of this.rfile) await this.wfile.write(line);
  }
}

/** Echoes a datagram back, upper-cased. */
export class UpperHandler extends DatagramRequestHandler {
  override async handle(): Promise<void> {
    const data = await this.rfile.read();
    await this.wfile.write(data.toString().toUpperCase());
  }
}

/** A promise with its resolve function, for ordering tests without sleeps. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
