/**
 * Tutorial section "SimpleHTTPServer": `HTTPServer` with `SimpleHTTPRequestHandler` browses a
 * directory: listings, files to view and download.
 */
import { HTTPServer } from '@srv/http';
import { SimpleHTTPRequestHandler } from '@srv/static';
import { type DemoOptions, listenAddress } from '../options.js';

/** What the file handlers need in every worker: handed over as the server's `workerData`. */
export interface DirectoryData {
  /** The absolute directory served. */
  readonly directory: string;
}

/**
 * `SimpleHTTPRequestHandler` serving the directory given to srv-demo. Python would write
 * `partial(SimpleHTTPRequestHandler, directory=…)`; a class made at run time cannot be loaded by a
 * worker thread or child process, so this one reads the directory from the server's `workerData`.
 */
export class DirectoryRequestHandler extends SimpleHTTPRequestHandler {
  static override readonly moduleUrl: string = import.meta.url;
  static override readonly exportName: string = 'DirectoryRequestHandler';

  override get directory(): string {
    return (this.server.workerData as Partial<DirectoryData> | undefined)?.directory ?? super.directory;
  }
}

/** `HTTPServer(('', 9876), SimpleHTTPRequestHandler)`, serving `--directory` (the sample by default). */
export function createStaticServer(options: DemoOptions): HTTPServer {
  const workerData: DirectoryData = { directory: options.directory };
  return new HTTPServer(listenAddress(options), DirectoryRequestHandler, {
    workerData,
    quiet: options.quiet,
  });
}
