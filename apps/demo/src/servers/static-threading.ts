/**
 * Tutorial section "SimpleHTTPServer", threaded version: the same handler on a `ThreadingMixIn`
 * server, so a large download does not hold up the next visitor.
 */
import { ThreadingMixIn } from '@srv/concurrency';
import { HTTPServer } from '@srv/http';
import { type DemoOptions, listenAddress } from '../options.js';
import { type DirectoryData, DirectoryRequestHandler } from './static.js';

// The build copies the handler into this file, where its `moduleUrl` points: workers load it from here.
export { DirectoryRequestHandler };

/** `class ThreadingServer(ThreadingMixIn, HTTPServer): pass`. */
export class ThreadingServer extends ThreadingMixIn(HTTPServer) {
  // Workers rebuild this very class from the built module that defines it.
  static override readonly moduleUrl: string = import.meta.url;
  static override readonly exportName: string = 'ThreadingServer';
}

/** `ThreadingServer(('', 9876), SimpleHTTPRequestHandler)`. */
export function createStaticThreadingServer(options: DemoOptions): ThreadingServer {
  const workerData: DirectoryData = { directory: options.directory };
  return new ThreadingServer(listenAddress(options), DirectoryRequestHandler, {
    workerData,
    quiet: options.quiet,
  });
}
