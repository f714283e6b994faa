import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, onTestFinished, test } from 'vitest';
import { lacks, startDemo } from './helpers.js';

describe.each(['static', 'static-threading', 'cgi'])('%s: the bundled sample directory', (name) => {
  test('lists the directory, serves files, redirects and indexes subdirectories', async () => {
    const demo = await startDemo(name);
    const listing = await fetch(`${demo.origin}/`);
    expect(listing.status).toBe(200);
    const html = await listing.text();
    for (const entry of ['hello.txt', 'README.txt', 'data.json', 'docs/', 'images/', 'cgi-bin/']) {
      expect(html).toContain(entry);
    }
    const file = await fetch(`${demo.origin}/hello.txt`);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await file.text()).toBe('Hello from srv-demo!\n');
    const redirect = await fetch(`${demo.origin}/docs`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/docs/');
    expect(await (await fetch(`${demo.origin}/docs/`)).text()).toContain('A directory with an index.html');
    expect((await fetch(`${demo.origin}/nothing-here`)).status).toBe(404);
    expect((await demo.stop()).code).toBe(0);
  });
});

describe.each(['static', 'static-threading', 'cgi'])('%s --directory', (name) => {
  test('serves the given directory instead of the sample, in whichever thread or process', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'srv-demo-'));
    onTestFinished(() => rmSync(directory, { recursive: true, force: true }));
    writeFileSync(join(directory, 'mine.txt'), 'my own file\n');
    const demo = await startDemo(name, ['--directory', directory]);
    const listing = await (await fetch(`${demo.origin}/`)).text();
    expect(listing).toContain('mine.txt');
    expect(listing).not.toContain('hello.txt');
    expect(await (await fetch(`${demo.origin}/mine.txt`)).text()).toBe('my own file\n');
    // Past the 8 MiB after which reads grow: from a thread, its chunks move to the main thread.
    const big = randomBytes(10 * 1024 * 1024 + 17);
    writeFileSync(join(directory, 'big.bin'), big);
    const whole = Buffer.from(await (await fetch(`${demo.origin}/big.bin`)).arrayBuffer());
    expect(whole.equals(big)).toBe(true);
    // From threads, a written chunk's memory goes back to its thread and carries a later chunk:
    // downloads at once stay byte-exact.
    const together = await Promise.all(
      [1, 2, 3].map(async () => Buffer.from(await (await fetch(`${demo.origin}/big.bin`)).arrayBuffer())),
    );
    for (const copy of together) expect(copy.equals(big)).toBe(true);
    const part = await fetch(`${demo.origin}/big.bin`, { headers: { range: 'bytes=1000-9000999' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(big.subarray(1000, 9001000))).toBe(true);
    expect((await demo.stop()).code).toBe(0);
  });
});

describe('cgi: the sample scripts run', () => {
  test.skipIf(lacks('python3'))('the shell script and the Python script answer GET and POST', async () => {
    const demo = await startDemo('cgi');
    const shell = await fetch(`${demo.origin}/cgi-bin/hello.sh?x=1&y=2`);
    expect(shell.status).toBe(200);
    expect(shell.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await shell.text()).toBe(
      'Hello from a CGI shell script!\nREQUEST_METHOD=GET\nQUERY_STRING=x=1&y=2\n',
    );

    const python = await fetch(`${demo.origin}/cgi-bin/env.py?name=srv`);
    expect(python.status).toBe(200);
    const page = await python.text();
    expect(page).toContain('<h3>Hello from a CGI Python script!</h3>');
    expect(page).toContain('<tr><td>GATEWAY_INTERFACE</td><td>CGI/1.1</td></tr>');
    expect(page).toContain('<li>name = srv</li>');

    const posted = await fetch(`${demo.origin}/cgi-bin/env.py`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=%3Cb%3Ebold',
    });
    expect(posted.status).toBe(200);
    const answer = await posted.text();
    expect(answer).toContain('<tr><td>REQUEST_METHOD</td><td>POST</td></tr>');
    expect(answer).toContain('<li>name = &lt;b&gt;bold</li>');
    expect((await demo.stop()).code).toBe(0);
  });
});
