import path from 'node:path';
import { readUntil } from '@srv/core/testing';
import { HTTPServer } from '@srv/http';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CGIHTTPRequestHandler } from '../src/index.js';
import { isAlive, isRoot, lacks, parseEnvLines, rawRequest, startCgi, www } from './helpers.js';

const cgiBin = path.join(www, 'cgi-bin');

describe('environment (RFC 3875 §4.1)', () => {
  it('GET with a query and PATH_INFO: every variable, and nothing else from the server', async () => {
    process.env.SRV_CGI_TEST_SECRET = 'leaked';
    process.env.SRV_CGI_TEST_SHARED = 'shared';
    const t = await startCgi({ inheritEnv: ['SRV_CGI_TEST_SHARED'], env: { FROM_CONFIG: 'yes' } });
    const socket = await t.connect();
    const target = '/cgi-bin/env.js/extra/pa%20th?a=1&b=%20x';
    const clientPort = socket.localPort;
    socket.write(
      `GET ${target} HTTP/1.1\r\nHost: localhost:${t.port}\r\nUser-Agent: t\r\nConnection: close\r\n\r\n`,
    );
    const { parseResponse } = await import('./helpers.js');
    const response = parseResponse(await readUntil(socket, () => false));
    expect(response.status).toBe(200);
    expect(response.header('content-type')).toBe('application/json');
    const { env } = JSON.parse(response.body) as { env: Record<string, string> };
    expect(env).toEqual({
      PATH: process.env.PATH,
      SRV_CGI_TEST_SHARED: 'shared',
      FROM_CONFIG: 'yes',
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_SOFTWARE: response.header('server'),
      SERVER_NAME: 'localhost',
      SERVER_PORT: String(t.port),
      SERVER_PROTOCOL: 'HTTP/1.1',
      REQUEST_METHOD: 'GET',
      REQUEST_URI: target,
      SCRIPT_NAME: '/cgi-bin/env.js',
      SCRIPT_FILENAME: path.join(cgiBin, 'env.js'),
      PATH_INFO: '/extra/pa th',
      PATH_TRANSLATED: path.join(www, 'extra', 'pa th'),
      QUERY_STRING: 'a=1&b=%20x',
      REMOTE_ADDR: '127.0.0.1',
      REMOTE_PORT: String(clientPort),
      HTTP_HOST: `localhost:${t.port}`,
      HTTP_USER_AGENT: 't',
      HTTP_CONNECTION: 'close',
    });
  });

  it.skipIf(lacks('python3'))(
    'POST form body: streamed to stdin with CONTENT_LENGTH and CONTENT_TYPE (python3)',
    async () => {
      const t = await startCgi();
      const response = await fetch(`${t.origin}/cgi-bin/env.py`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'name=ann&x=%26',
      });
      expect(response.status).toBe(200);
      const result = (await response.json()) as {
        env: Record<string, string>;
        body: string;
        cwd: string;
        uid: number;
        argv: string[];
      };
      expect(result.body).toBe('name=ann&x=%26');
      expect(result.env).toMatchObject({
        REQUEST_METHOD: 'POST',
        CONTENT_LENGTH: '14',
        CONTENT_TYPE: 'application/x-www-form-urlencoded',
        QUERY_STRING: '',
        PATH_INFO: '',
      });
      expect(result.env).not.toHaveProperty('PATH_TRANSLATED');
      expect(result.env).not.toHaveProperty('HTTP_CONTENT_LENGTH');
      expect(result.cwd).toBe(cgiBin);
      expect(result.argv).toEqual([]);
      if (isRoot) expect(result.uid).toBe(65534);
    },
  );

  it.skipIf(lacks('perl'))(
    'chunked POST: spooled, passed with the computed CONTENT_LENGTH (perl)',
    async () => {
      const t = await startCgi();
      const response = await rawRequest(
        t,
        'POST /cgi-bin/env.pl HTTP/1.1\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked',
        '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
      );
      expect(response.status).toBe(200);
      const env = parseEnvLines(response.body);
      expect(env).toMatchObject({ CONTENT_LENGTH: '11', CONTENT_TYPE: 'text/plain', BODY: 'hello world' });
      expect(env).not.toHaveProperty('HTTP_TRANSFER_ENCODING');
    },
  );

  it('a body over maxBodySize is refused with 413, chunked or not', async () => {
    const t = await startCgi({ maxBodySize: 8 });
    const plain = await rawRequest(t, 'POST /cgi-bin/env.pl HTTP/1.1\r\nContent-Length: 9', '123456789');
    expect(plain.status).toBe(413);
    const chunked = await rawRequest(
      t,
      'POST /cgi-bin/env.pl HTTP/1.1\r\nTransfer-Encoding: chunked',
      '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
    );
    expect(chunked.status).toBe(413);
    const expecting = await t.exchange(
      'POST /cgi-bin/env.pl HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n',
    );
    expect(expecting.toString('latin1')).toMatch(/^HTTP\/1\.1 413 /);
    expect(t.lines.some((line) => line.includes('BODY='))).toBe(false);
  });

  it('IPv6 client: REMOTE_ADDR ::1 and a bracketed SERVER_NAME (sh)', async () => {
    const t = await startCgi({}, ['::1', 0]);
    const response = await fetch(`${t.origin}/cgi-bin/env.sh`);
    const env = parseEnvLines(await response.text());
    expect(env).toMatchObject({ REMOTE_ADDR: '::1', SERVER_NAME: '[::1]', SERVER_PORT: String(t.port) });
    expect(env.CWD).toBe(cgiBin);
  });

  it('merges repeated headers, drops Proxy, X_Foo and credentials', async () => {
    const t = await startCgi();
    const response = await rawRequest(
      t,
      [
        'GET /cgi-bin/env.sh HTTP/1.1',
        'Cookie: a=1',
        'Cookie: b=2',
        'Accept: text/a',
        'Accept: text/b',
        'Proxy: http://evil.example:3128',
        'X_Foo: spoofed',
        'X-Foo: real',
        'Authorization: Basic dXNlcjpwYXNz',
        'Proxy-Authorization: Basic dXNlcjpwYXNz',
      ].join('\r\n'),
    );
    const env = parseEnvLines(response.body);
    expect(env.HTTP_COOKIE).toBe('a=1; b=2');
    expect(env.HTTP_ACCEPT).toBe('text/a, text/b');
    expect(env.HTTP_X_FOO).toBe('real');
    expect(env).not.toHaveProperty('HTTP_PROXY');
    expect(env).not.toHaveProperty('HTTP_AUTHORIZATION');
    expect(env).not.toHaveProperty('HTTP_PROXY_AUTHORIZATION');
    expect(response.body).not.toContain('spoofed');
    expect(response.body).not.toContain('evil.example');
  });

  it.skipIf(lacks('python3'))('passes credentials and query words only when configured', async () => {
    const t = await startCgi({ passAuthorization: true, queryArgv: true });
    const withAuth = await fetch(`${t.origin}/cgi-bin/env.py?foo+b%20r`, {
      headers: { authorization: 'Basic eA==' },
    });
    const result = (await withAuth.json()) as { env: Record<string, string>; argv: string[] };
    expect(result.env.HTTP_AUTHORIZATION).toBe('Basic eA==');
    expect(result.argv).toEqual(['foo', 'b r']);
    const dashed = (await (await fetch(`${t.origin}/cgi-bin/env.py?-c+x`)).json()) as { argv: string[] };
    expect(dashed.argv).toEqual([]);
    const off = await startCgi();
    expect(
      ((await (await fetch(`${off.origin}/cgi-bin/env.py?foo`)).json()) as { argv: string[] }).argv,
    ).toEqual([]);
  });
});

describe('identity', () => {
  it('AUTH_TYPE and REMOTE_USER come only from a subclass that authenticated', async () => {
    class Authenticated extends CGIHTTPRequestHandler.withOptions({ directory: www }) {
      override async doGET(): Promise<void> {
        if (this.headers.get('x-test-login') === 'ann') this.remoteUser = { type: 'Basic', user: 'ann' };
        await super.doGET();
      }
    }
    const { startServer } = await import('@srv/core/testing');
    const t = await startServer(new HTTPServer(['127.0.0.1', 0], Authenticated, { quiet: true }));
    onTestFinished(() => t.close());
    const signedIn = parseEnvLines(
      await (await fetch(`${t.origin}/cgi-bin/env.sh`, { headers: { 'x-test-login': 'ann' } })).text(),
    );
    expect(signedIn).toMatchObject({ AUTH_TYPE: 'Basic', REMOTE_USER: 'ann' });
    const anonymous = parseEnvLines(
      await (await fetch(`${t.origin}/cgi-bin/env.sh`, { headers: { 'remote-user': 'root' } })).text(),
    );
    expect(anonymous).not.toHaveProperty('AUTH_TYPE');
    expect(anonymous).not.toHaveProperty('REMOTE_USER');
  });

  it('as root, an unknown scriptUser refuses to run scripts (500) rather than run them as root', async () => {
    const t = await startCgi({ scriptUser: 'srv-cgi-no-such-user' });
    const response = await rawRequest(t, 'GET /htbin/hello.sh HTTP/1.1');
    expect(response.status).toBe(isRoot ? 500 : 200);
  });
});

describe('responses (RFC 3875 §6)', () => {
  it('passes Status 201 and 404 through with the script headers', async () => {
    const t = await startCgi();
    const created = await rawRequest(t, 'GET /cgi-bin/status.sh?201 HTTP/1.1');
    expect(created.status).toBe(201);
    expect(created.reason).toBe('Created');
    expect(created.header('location')).toBe('http://example.com/new');
    expect(created.header('x-script')).toBe('yes');
    expect(created.body).toBe('created\n');
    const missing = await rawRequest(t, 'GET /cgi-bin/status.sh?404 HTTP/1.1');
    expect(missing.status).toBe(404);
    expect(missing.body).toBe('no such thing\n');
    const empty = await rawRequest(t, 'GET /cgi-bin/status.sh?204 HTTP/1.1');
    expect(empty.status).toBe(204);
    expect(empty.body).toBe('');
  });

  it("never trusts the script's Content-Length or Transfer-Encoding for framing", async () => {
    const t = await startCgi();
    const response = await rawRequest(t, 'GET /cgi-bin/status.sh?framing HTTP/1.1');
    expect(response.status).toBe(200);
    // The server frames the body itself: by its own count of the bytes when the whole output was
    // there at once, else chunked; never with what the script claimed.
    expect([[['content-length', '13']], [['transfer-encoding', 'chunked']]]).toContainEqual(
      response.headers.filter(([name]) => name === 'content-length' || name === 'transfer-encoding'),
    );
    expect(response.body).toBe('not one byte\n');
    const cookies = await rawRequest(t, 'GET /cgi-bin/status.sh?cookies HTTP/1.1');
    expect(cookies.headers.filter(([name]) => name === 'set-cookie')).toEqual([
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ]);
  });

  it.skipIf(lacks('python3'))(
    'local redirect: re-dispatched internally as GET, to a script or a file',
    async () => {
      const t = await startCgi();
      const response = await fetch(`${t.origin}/cgi-bin/redirect.sh?local`, {
        method: 'POST',
        body: 'x=1',
        redirect: 'manual',
      });
      expect(response.status).toBe(200);
      const { env, body } = (await response.json()) as { env: Record<string, string>; body: string };
      expect(env).toMatchObject({
        REQUEST_METHOD: 'GET',
        QUERY_STRING: 'from=redirect',
        SCRIPT_NAME: '/cgi-bin/env.py',
      });
      expect(env).not.toHaveProperty('CONTENT_LENGTH');
      expect(body).toBe('');
      const file = await fetch(`${t.origin}/cgi-bin/redirect.sh?static`, { redirect: 'manual' });
      expect(file.status).toBe(200);
      expect(await file.text()).toBe('hello static\n');
    },
  );

  it('a local redirect loop ends in 500', async () => {
    const t = await startCgi({ maxLocalRedirects: 3 });
    const response = await fetch(`${t.origin}/cgi-bin/redirect.sh?loop`, { redirect: 'manual' });
    expect(response.status).toBe(500);
    await t.waitForLine(/more than 3 local redirects/);
  });

  it('client redirect → 302; client redirect with document keeps its status and body', async () => {
    const t = await startCgi();
    const client = await fetch(`${t.origin}/cgi-bin/redirect.sh?client`, { redirect: 'manual' });
    expect(client.status).toBe(302);
    expect(client.headers.get('location')).toBe('http://example.com/elsewhere');
    await client.body?.cancel();
    const document = await fetch(`${t.origin}/cgi-bin/redirect.sh?document`, { redirect: 'manual' });
    expect(document.status).toBe(301);
    expect(document.headers.get('location')).toBe('http://example.com/moved');
    expect(document.headers.get('content-type')).toBe('text/html');
    expect(await document.text()).toContain('moved</a>');
  });

  it('HEAD runs the script and discards its body', async () => {
    const t = await startCgi();
    const response = await rawRequest(t, 'HEAD /cgi-bin/status.sh?201 HTTP/1.1');
    expect(response.status).toBe(201);
    expect(response.header('x-script')).toBe('yes');
    expect(response.body).toBe('');
  });

  it('no Content-Type, Location or Status → 502, logged with stderr', async () => {
    const t = await startCgi();
    const response = await rawRequest(t, 'GET /cgi-bin/nocontenttype.sh HTTP/1.1');
    expect(response.status).toBe(502);
    expect(response.body).not.toContain('SCRIPT-BODY');
    await t.waitForLine(/nocontenttype\.sh: about to misbehave/);
    await t.waitForLine(/none of Content-Type, Location or Status/);
  });

  it.skipIf(lacks('perl'))('exit before the header block ends → 502, logged with stderr (perl)', async () => {
    const t = await startCgi();
    const response = await rawRequest(t, 'GET /cgi-bin/early.pl HTTP/1.1');
    expect(response.status).toBe(502);
    await t.waitForLine(/early\.pl: early exit on purpose/);
    await t.waitForLine(/ended its output before the end of its header block/);
  });
});

describe('resources', () => {
  it('header timeout → 504, and the script is gone', async () => {
    const t = await startCgi({ scriptHeaderTimeout: 300 });
    const started = Date.now();
    const response = await rawRequest(t, 'GET /cgi-bin/slow.sh HTTP/1.1');
    expect(response.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(10_000);
    const pid = Number(/pid (\d+)/.exec(await t.waitForLine(/slow\.sh: pid \d+/))![1]);
    expect(isAlive(pid)).toBe(false);
  });

  it('a client that disconnects mid-output gets its script killed', async () => {
    const t = await startCgi();
    const socket = await t.connect();
    socket.write('GET /cgi-bin/stream.sh HTTP/1.1\r\nHost: x\r\n\r\n');
    await readUntil(socket, (received) => received.toString('latin1').split('streaming').length > 20);
    const pid = Number(/pid (\d+)/.exec(await t.waitForLine(/stream\.sh: pid \d+/))![1]);
    socket.destroy();
    await t.waitForLine(/client went away; stopped \/cgi-bin\/stream\.sh; script ended by /);
    expect(isAlive(pid)).toBe(false);
  });

  it('past scriptTimeout the script is stopped and the response cut off', async () => {
    const t = await startCgi({ scriptTimeout: 300 });
    const socket = await t.connect();
    socket.write('GET /cgi-bin/stream.sh HTTP/1.1\r\nHost: x\r\n\r\n');
    const received = await readUntil(socket, () => false);
    expect(received.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    // Cut off: the chunked body never gets its last chunk.
    expect(received.toString('latin1').endsWith('0\r\n\r\n')).toBe(false);
    await t.waitForLine(/stream\.sh ran longer than 300 ms; script ended by /);
  });

  it.skipIf(lacks('python3'))(
    'large output arrives whole (backpressure), over HTTP/1.1 and HTTP/1.0',
    async () => {
      const t = await startCgi();
      const response = await fetch(`${t.origin}/cgi-bin/big.py`);
      const body = Buffer.from(await response.arrayBuffer());
      expect(body.length).toBe(4 * 1024 * 1024);
      expect(body.subarray(body.length - 16).toString()).toBe('0123456789abcdef');
      const old = await t.exchange('GET /htbin/hello.sh HTTP/1.0\r\n\r\n');
      const text = old.toString('latin1');
      expect(text).toMatch(/^HTTP\/1\.[01] 200 OK\r\n/);
      expect(text).not.toMatch(/transfer-encoding/i);
      expect(text.endsWith('\r\n\r\nHello World\n')).toBe(true);
    },
  );

  it.skipIf(lacks('python3'))(
    'a client that stops reading holds its script back: output is never buffered without bound',
    async () => {
      const t = await startCgi();
      const socket = await t.connect();
      socket.pause();
      socket.write('GET /cgi-bin/flood.py HTTP/1.1\r\nHost: x\r\n\r\n');
      await t.waitForLine(/flood\.py: MiB 1$/);
      // Unchecked, the script writes its whole GiB in this time; every hop's buffers together hold a
      // few MiB (the kernel's socket buffers most of them).
      await new Promise((resolve) => setTimeout(resolve, 500));
      const written = Math.max(
        ...t.lines.flatMap((line) => {
          const match = /flood\.py: MiB (\d+)$/.exec(line);
          return match ? [Number(match[1])] : [];
        }),
      );
      expect(written).toBeGreaterThan(0);
      expect(written).toBeLessThan(48);
      socket.destroy();
      await t.waitForLine(/client went away; stopped \/cgi-bin\/flood\.py/);
    },
  );

  it('beyond maxScripts and the queue → 503', async () => {
    const t = await startCgi({ maxScripts: 1, maxQueuedScripts: 0, scriptHeaderTimeout: 20_000 });
    const busy = await t.connect();
    busy.write('GET /cgi-bin/slow.sh HTTP/1.1\r\nHost: x\r\n\r\n');
    await t.waitForLine(/slow\.sh: pid \d+/);
    const refused = await rawRequest(t, 'GET /cgi-bin/env.sh HTTP/1.1');
    expect(refused.status).toBe(503);
    expect(refused.header('retry-after')).toBe('1');
    const pid = Number(/pid (\d+)/.exec(await t.waitForLine(/slow\.sh: pid \d+/))![1]);
    // A reset: a FIN alone is a half-close, whose request is still answered (RFC 9112 §9.6, Python).
    busy.resetAndDestroy();
    await t.waitForLine(/client went away; stopped \/cgi-bin\/slow\.sh/);
    expect(isAlive(pid)).toBe(false);
  });
});

describe('script resolution', () => {
  it.each([
    '/cgi-bin/../x',
    '/cgi-bin/.%2e/.%2e/bin/sh',
    '/cgi-bin%2f..%2fx',
    '///nocgi.py/../cgi-bin/nothere.sh',
    '/cgi-bin/%2e%2e/%2e%2e/%2e%2e/%2e%2e/usr/bin/id',
    '/htbin/../../../../bin/sh',
  ])('traversal %s → 4xx, nothing outside runs', async (target) => {
    const t = await startCgi();
    const response = await rawRequest(t, `GET ${target} HTTP/1.1`);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(response.body).not.toContain('ran outside');
    expect(response.body).not.toContain('uid=');
    expect(t.lines.some((line) => line.includes('RAN'))).toBe(false);
  });

  it('non-executable → 403, directory → 403, missing → 404, NUL → 400', async () => {
    const t = await startCgi();
    expect((await rawRequest(t, 'GET /cgi-bin/noexec.sh HTTP/1.1')).status).toBe(403);
    expect((await rawRequest(t, 'GET /cgi-bin/ HTTP/1.1')).status).toBe(403);
    expect((await rawRequest(t, 'GET /cgi-bin/sub HTTP/1.1')).status).toBe(403);
    expect((await rawRequest(t, 'GET /cgi-bin/nothere.sh HTTP/1.1')).status).toBe(404);
    expect((await rawRequest(t, 'GET /cgi-bin/env.sh%00.txt HTTP/1.1')).status).toBe(400);
    expect((await rawRequest(t, 'GET /cgi-bin/env.sh?a=%00 HTTP/1.1')).status).toBe(400);
    expect(t.lines.some((line) => line.includes('RAN'))).toBe(false);
  });

  it('a script that cannot be started → 500', async () => {
    const t = await startCgi();
    expect((await rawRequest(t, 'GET /cgi-bin/badshebang.sh HTTP/1.1')).status).toBe(500);
    await t.waitForLine(/cannot run .*badshebang\.sh/);
  });

  it('a configured interpreter runs a non-executable script', async () => {
    const t = await startCgi({ interpreters: { '.sh': '/bin/sh' } });
    const response = await rawRequest(t, 'GET /cgi-bin/noexec.sh HTTP/1.1');
    expect(response.status).toBe(200);
    expect(response.body).toBe('ran\n');
  });

  it.skipIf(lacks('python3'))(
    'nested directories, /htbin, and static files outside the CGI directories',
    async () => {
      const t = await startCgi();
      const deep = await fetch(`${t.origin}/cgi-bin/sub/deep.py/x/y`);
      expect(await deep.text()).toBe('deep /cgi-bin/sub/deep.py /x/y\n');
      expect(await (await fetch(`${t.origin}/htbin/hello.sh`)).text()).toBe('Hello World\n');
      const file = await fetch(`${t.origin}/hello.txt`);
      expect(await file.text()).toBe('hello static\n');
      const post = await fetch(`${t.origin}/hello.txt`, { method: 'POST', body: 'x' });
      expect(post.status).toBe(405);
      expect(await post.text()).toContain('Can only POST to CGI scripts');
    },
  );
});
