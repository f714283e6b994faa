/**
 * Tutorial section "responding to different requests": routes `/`, `/stats.html` and `/headers`, a
 * 404 page for anything else, on a plain `HTTPServer` that handles one request at a time. With
 * `--slow S` each page blocks S seconds, and a second browser tab waits for the first: the lesson that
 * leads to the threading and forking servers.
 */
import { BaseHTTPRequestHandler, escapeHtml, HTTPServer, type ProtocolVersion } from '@srv/http';
import { sleepBlocking } from '../blocking.js';
import { type DemoOptions, graceFor, listenAddress, type PagesData } from '../options.js';

const homePage = `<html>
  <head><title>Home Page</title></head>
  <body>
    <h3>This is Home Page</h3>
    <p>Home Page Like This and Nobody Care</p>
  </body>
</html>
`;

function statsPage(seconds: number): string {
  return `<html>
  <head><title>Statistics</title></head>
  <body>
    <h3>This is Statistics Page</h3>
    <p>This server has been running for ${seconds} seconds</p>
  </body>
</html>
`;
}

// The tutorial interpolates the path into HTML as is; escaping it keeps `/<script>…` inert.
function notFoundPage(path: string): string {
  return `<html>
  <head><title>Not Found</title></head>
  <body>
    This requested document '${escapeHtml(path)}' was not found
  </body>
</html>
`;
}

// When the handler runs without srv-demo's workerData, uptime counts from this module's loading.
const moduleLoadTime = Date.now();

/**
 * The tutorial's `RequestHandler` of this section. Subclassed by the threading and forking servers,
 * which only add their log line.
 */
export class PagesRequestHandler extends BaseHTTPRequestHandler {
  static override protocolVersion: ProtocolVersion = 'HTTP/1.0';

  /** Start time and delay, the same in every thread and process (the server's `workerData`). */
  protected get data(): PagesData {
    const data = this.server.workerData as Partial<PagesData> | undefined;
    return { startTime: data?.startTime ?? moduleLoadTime, slow: data?.slow ?? 0 };
  }

  /** `srv-demo --quiet`: the subclasses print no `Handling with …` line. */
  protected get isQuiet(): boolean {
    return (this.server.workerData as Partial<PagesData> | undefined)?.quiet === true;
  }

  protected writeHeaders(doc: string | undefined, length: number): void {
    this.sendResponse(doc === undefined ? 404 : 200);
    this.sendHeader('Content-type', 'text/html; charset=utf-8');
    this.sendHeader('Content-Length', length);
    this.endHeaders();
  }

  protected getDoc(filename: string): string | undefined {
    if (filename === '/') return homePage;
    if (filename === '/stats.html') return statsPage(Math.floor((Date.now() - this.data.startTime) / 1000));
    if (filename === '/headers') {
      let result = '';
      for (const [name, value] of this.headers) result += `${escapeHtml(name)}:${escapeHtml(value)}<br />\n`;
      return result;
    }
    return undefined;
  }

  /** The routed part of the request target: the query does not pick the page. */
  protected get filename(): string {
    const query = this.path.indexOf('?');
    return query === -1 ? this.path : this.path.slice(0, query);
  }

  doHEAD(): void {
    const doc = this.getDoc(this.filename);
    this.writeHeaders(doc, Buffer.byteLength(doc ?? notFoundPage(this.path)));
  }

  async doGET(): Promise<void> {
    const doc = this.getDoc(this.filename);
    const body = doc ?? notFoundPage(this.path);
    this.writeHeaders(doc, Buffer.byteLength(body));
    // The tutorial's `time.sleep(10)`: it blocks the whole thread, as Python's does.
    sleepBlocking(this.data.slow);
    await this.wfile.write(body);
  }
}

/** `HTTPServer(('', 7890), RequestHandler)`: Python's plain server handles requests one by one. */
export function createPagesServer(options: DemoOptions): HTTPServer {
  const workerData: PagesData = { startTime: Date.now(), slow: options.slow, quiet: options.quiet };
  return new HTTPServer(listenAddress(options), PagesRequestHandler, {
    dispatcher: 'serial',
    workerData,
    quiet: options.quiet,
    graceMs: graceFor(options.slow),
  });
}
