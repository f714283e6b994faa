import { describe, expect, test } from 'vitest';
import { exchange, startDemo } from './helpers.js';

describe('hello: the same page for every path', () => {
  test('GET any path → the Hello World page; HEAD → headers only; HTTP/1.0', async () => {
    const demo = await startDemo('hello');
    for (const path of ['/', '/any/thing?x=1']) {
      const response = await fetch(`${demo.origin}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      const body = await response.text();
      expect(body).toContain('<h3>Hello World</h3>');
      expect(body).toContain('<title>Sample Page</title>');
    }
    const head = await fetch(`${demo.origin}/x`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).not.toBe('0');
    expect(await head.text()).toBe('');
    // HTTP/1.0 as in the tutorial: even an HTTP/1.1 client gets one answer, then the connection closes.
    const raw = await exchange(
      demo.port,
      'GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /again HTTP/1.1\r\nHost: x\r\n\r\n',
      undefined,
      false,
    );
    expect(raw).toMatch(/^HTTP\/1\.[01] 200 OK\r\n/);
    expect(raw).toMatch(/\r\nConnection: close\r\n/i);
    expect(raw.match(/HTTP\/1\.[01] 200 OK/g)).toHaveLength(1);
    expect(raw).toContain('Hello World');
    expect((await demo.stop()).code).toBe(0);
  });
});

describe('pages: routes, uptime, headers and a 404 naming the path', () => {
  test('/, /stats.html, /headers (escaped) and 404 (escaped)', async () => {
    const started = Date.now();
    const demo = await startDemo('pages');
    const home = await fetch(`${demo.origin}/`);
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('<h3>This is Home Page</h3>');

    const stats = await (await fetch(`${demo.origin}/stats.html`)).text();
    const uptime = Number(/running for (\d+) seconds/.exec(stats)?.[1]);
    expect(uptime).toBeGreaterThanOrEqual(0);
    expect(uptime).toBeLessThanOrEqual(Math.ceil((Date.now() - started) / 1000));

    const headers = await (
      await fetch(`${demo.origin}/headers`, { headers: { 'X-Demo': '<b>&"x"' } })
    ).text();
    expect(headers).toMatch(/x-demo:&lt;b&gt;&amp;&quot;x&quot;<br \/>/i);
    expect(headers).not.toContain('<b>');

    const missing = await fetch(`${demo.origin}/nothing%3Cscript%3E?a=1`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain(
      "This requested document '/nothing%3Cscript%3E?a=1' was not found",
    );

    // Raw bytes: a URL client would encode the markup before it reached the server.
    const raw = await exchange(demo.port, 'GET /<script>alert(1)</script> HTTP/1.0\r\n\r\n');
    expect(raw).not.toContain('<script>');
    expect(raw).toMatch(/^HTTP\/1\.[01] 404 /);
    expect(raw).toContain("'/&lt;script&gt;alert(1)&lt;/script&gt;'");

    const head = await fetch(`${demo.origin}/stats.html`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await fetch(`${demo.origin}/missing`, { method: 'HEAD' })).status).toBe(404);
    expect((await demo.stop()).code).toBe(0);
  });
});

describe.each([
  ['threading', /^Handling with thread (Thread-\d+)$/],
  ['forking', /^Handling with forking (\d+)$/],
])('%s: the pages, each request elsewhere', (name, logLine) => {
  test('answers the pages and logs where it handled them', async () => {
    const demo = await startDemo(name);
    const home = await fetch(`${demo.origin}/`);
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('<h3>This is Home Page</h3>');
    const stats = await (await fetch(`${demo.origin}/stats.html`)).text();
    expect(stats).toMatch(/This server has been running for \d+ seconds/);
    const headers = await (await fetch(`${demo.origin}/headers`, { headers: { 'X-Demo': '<i>' } })).text();
    expect(headers).toMatch(/x-demo:&lt;i&gt;<br \/>/i);
    const missing = await fetch(`${demo.origin}/gone`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain("'/gone'");
    const [line] = await demo.lines(logLine, 1);
    if (name === 'forking') expect(Number(logLine.exec(line!)?.[1])).not.toBe(demo.pid);
    expect((await demo.stop()).code).toBe(0);
  });
});
