/**
 * The nine servers of the tutorial, in its order: name, ports, what each shows, and how to build it.
 * Each server lives in its own module under `servers/`, built as its own file so that threads and
 * child processes can load its handler (see tsup.config.ts), and imported only when asked for.
 */
import type { SocketAddress } from '@srv/core';
import type { DemoOptions } from './options.js';

/** What srv-demo needs of a server: every srv server class fits. */
export interface DemoServer {
  readonly ready: Promise<void>;
  readonly address: SocketAddress;
  serveForever(): Promise<void>;
  close(): Promise<void>;
}

/** One row of the tutorial's table. */
export interface Demo {
  readonly name: string;
  /** The tutorial section it comes from. */
  readonly section: string;
  /** What the banner says it serves. */
  readonly protocol: 'HTTP' | 'TIME';
  /** Host bound unless `--bind` says otherwise (`''` = every IPv4 interface, the tutorial's `''`). */
  readonly host: string;
  /** The documented port. */
  readonly port: number;
  /** Its port under `srv-demo all`, where the rows sharing a port get their own. */
  readonly allPort: number;
  /** What a user sees. */
  readonly shows: string;
  /** Takes `--slow`. */
  readonly slow: boolean;
  /** Takes `--directory`. */
  readonly directory: boolean;
  /** Loads the server's module (only the servers asked for are loaded) and constructs the server. */
  readonly create: (options: DemoOptions) => Promise<DemoServer>;
}

export const demos: readonly Demo[] = [
  {
    name: 'hello',
    section: 'BaseHTTPServer',
    protocol: 'HTTP',
    host: '',
    port: 6789,
    allPort: 6789,
    shows: 'the same "Hello World" page for any path; HEAD gets the headers only',
    slow: false,
    directory: false,
    create: async (options) => (await import('./servers/hello.js')).createHelloServer(options),
  },
  {
    name: 'pages',
    section: 'BaseHTTPServer, different requests',
    protocol: 'HTTP',
    host: '',
    port: 7890,
    allPort: 7890,
    shows: '/, /stats.html (uptime), /headers, 404 naming the path; one request at a time',
    slow: true,
    directory: false,
    create: async (options) => (await import('./servers/pages.js')).createPagesServer(options),
  },
  {
    name: 'threading',
    section: 'ThreadingMixIn',
    protocol: 'HTTP',
    host: '',
    port: 7890,
    allPort: 7891,
    shows: 'the pages in worker threads: slow requests overlap ("Handling with thread <name>")',
    slow: true,
    directory: false,
    create: async (options) => (await import('./servers/threading.js')).createThreadingServer(options),
  },
  {
    name: 'forking',
    section: 'ForkingMixIn',
    protocol: 'HTTP',
    host: '',
    port: 7890,
    allPort: 7892,
    shows: 'the pages in child processes: slow requests overlap ("Handling with forking <pid>")',
    slow: true,
    directory: false,
    create: async (options) => (await import('./servers/forking.js')).createForkingServer(options),
  },
  {
    name: 'static',
    section: 'SimpleHTTPServer',
    protocol: 'HTTP',
    host: '',
    port: 9876,
    allPort: 9876,
    shows: 'browse and download the files of a directory',
    slow: false,
    directory: true,
    create: async (options) => (await import('./servers/static.js')).createStaticServer(options),
  },
  {
    name: 'static-threading',
    section: 'SimpleHTTPServer with ThreadingMixIn',
    protocol: 'HTTP',
    host: '',
    port: 9876,
    allPort: 9877,
    shows: 'the same files, served from worker threads',
    slow: false,
    directory: true,
    create: async (options) =>
      (await import('./servers/static-threading.js')).createStaticThreadingServer(options),
  },
  {
    name: 'cgi',
    section: 'CGIHTTPServer',
    protocol: 'HTTP',
    host: '',
    port: 9876,
    allPort: 9878,
    shows: 'the files, and the scripts in cgi-bin/ run as CGI in child processes',
    slow: false,
    directory: true,
    create: async (options) => (await import('./servers/cgi.js')).createCgiServer(options),
  },
  {
    name: 'time',
    section: 'TCPServer',
    protocol: 'TIME',
    host: '0.0.0.0',
    port: 8765,
    allPort: 8765,
    shows: 'send asctime, seconds or rfc822 and get the time (telnet / nc)',
    slow: false,
    directory: false,
    create: async (options) => (await import('./servers/time.js')).createTimeServer(options),
  },
  {
    name: 'time6',
    section: 'TCPServer over IPv6',
    protocol: 'TIME',
    host: '::',
    port: 8765,
    allPort: 8765,
    shows: 'the time server on an IPv6-only socket, sharing 8765 with time (nc -6 ::1 8765)',
    slow: false,
    directory: false,
    create: async (options) => (await import('./servers/time6.js')).createTime6Server(options),
  },
];

/** The demo called `name`, if any. */
export function findDemo(name: string): Demo | undefined {
  return demos.find((demo) => demo.name === name);
}
