import { describe, expect, it, onTestFinished } from 'vitest';
import {
  isSrvError,
  LineReader,
  type LineReaderOptions,
  StreamRequestHandler,
  StreamWriter,
  TCPServer,
} from '../src/index.js';
import { readAll, startServer } from '../src/testing.js';

async function serve(Handler: ConstructorParameters<typeof TCPServer>[1], input: string): Promise<string> {
  const t = await startServer(new TCPServer(['127.0.0.1', 0], Handler));
  onTestFinished(() => t.close());
  const socket = await t.connect();
  socket.end(input);
  return (await readAll(socket)).toString();
}

describe('StreamRequestHandler rfile and wfile are made on first use', () => {
  it('a handler that uses neither makes neither: readerOptions() is never asked', async () => {
    const seen: string[] = [];
    class Direct extends StreamRequestHandler {
      protected override readerOptions(): LineReaderOptions {
        seen.push('readerOptions');
        return super.readerOptions();
      }
      override handle(): void {
        seen.push(`listeners ${this.request.listenerCount('data')}`);
        this.request.write('direct\n');
      }
    }
    expect(await serve(Direct, 'x\n')).toBe('direct\n');
    // No reader was attached to the connection and none was configured.
    expect(seen).toEqual(['listeners 0']);
  });

  it('the reader takes the limits setup() left, once, and is the same object on every access', async () => {
    const seen: number[] = [];
    class Limited extends StreamRequestHandler {
      #limit = 0;
      override setup(): void {
        super.setup();
        // Set after super.setup(): a reader made there would not see it.
        this.#limit = 4;
      }
      protected override readerOptions(): LineReaderOptions {
        seen.push(this.#limit);
        return { maxLineLength: this.#limit };
      }
      override async handle(): Promise<void> {
        const reader = this.rfile;
        expect(this.rfile).toBe(reader);
        expect(reader.maxLineLength).toBe(4);
        try {
          await this.rfile.readline();
          this.wfile.tryWrite('no error\n');
        } catch (error) {
          this.wfile.tryWrite(isSrvError(error, 'SRV_ERR_LINE_TOO_LONG') ? 'too long\n' : 'other\n');
        }
      }
    }
    expect(await serve(Limited, 'abcdefgh\n')).toBe('too long\n');
    expect(seen).toEqual([4]);
  });

  it('assigning rfile or wfile replaces them', async () => {
    class Replaced extends StreamRequestHandler {
      override setup(): void {
        super.setup();
        this.rfile = new LineReader(Buffer.from('from a buffer\n'));
        const writer = new StreamWriter(this.request);
        this.wfile = writer;
        if (this.wfile !== writer) throw new Error('wfile was not replaced');
      }
      override async handle(): Promise<void> {
        const line = await this.rfile.readline();
        await this.wfile.write(`read: ${line.toString()}`);
      }
    }
    expect(await serve(Replaced, 'ignored\n')).toBe('read: from a buffer\n');
  });

  it('finish() waits for bytes wfile buffered before the connection is closed', async () => {
    const big = 'x'.repeat(4 * 1024 * 1024);
    class Big extends StreamRequestHandler {
      override handle(): void {
        // Not awaited: finish() must flush before the server half-closes the connection.
        void this.wfile.write(big).catch(() => {});
      }
    }
    expect((await serve(Big, '')).length).toBe(big.length);
  });
});
