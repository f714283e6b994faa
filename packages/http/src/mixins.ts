import { ForkingMixIn, ThreadingMixIn } from '@srv/concurrency';
import { HTTPServer } from './server.js';

/**
 * Python's `ThreadingHTTPServer`: an {@link HTTPServer} whose connections are served in worker threads
 * (the socket stays here; bytes are relayed). `daemonThreads` is true, as in Python. The handler must
 * be loadable in a worker: pass `handlerModule` (the `import.meta.url` of the built module exporting
 * it), or give the class static `moduleUrl`/`exportName`.
 */
export class ThreadingHTTPServer extends ThreadingMixIn(HTTPServer) {
  /** Python's `daemon_threads`: do not wait for handler threads at exit. */
  static daemonThreads = true;
}

/**
 * Python 3.14's `ForkingHTTPServer`: an {@link HTTPServer} whose connections are served by pre-started
 * child processes (each receives the socket itself). The handler must be loadable there, as for
 * {@link ThreadingHTTPServer}.
 */
export class ForkingHTTPServer extends ForkingMixIn(HTTPServer) {}
