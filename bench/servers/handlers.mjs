// Stream handlers for the concurrency groups. Threading and forking workers import this module by URL
// (handlerModule), so it must do nothing on import.
import { StreamRequestHandler } from '@srv/core';

/** Reads one line, answers `hello`, and the server closes: the hand-off unit of work. */
export class HelloHandler extends StreamRequestHandler {
  async handle() {
    await this.rfile.readline();
    await this.wfile.write('hello\n');
  }
}

/** Echoes line after line until the client closes: relay latency. */
export class EchoHandler extends StreamRequestHandler {
  static disableNagleAlgorithm = true;

  async handle() {
    for await (const line of this.rfile) await this.wfile.write(line);
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Reads one line, blocks its thread for BLOCK_MS (1000) synchronously, answers: a handler that stalls a loop. */
export class BlockingHandler extends StreamRequestHandler {
  async handle() {
    await this.rfile.readline();
    Atomics.wait(sleeper, 0, 0, Number(process.env.BLOCK_MS ?? 1000));
    await this.wfile.write('done\n');
  }
}
