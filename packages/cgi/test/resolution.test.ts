import { chmod, mkdir, mkdtemp, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { isAlive, lacks, rawRequest, startCgi } from './helpers.js';

/** A document root with a `cgi-bin/` that the test changes between requests (readable by `nobody`). */
async function scratchRoot(): Promise<{ root: string; bin: string }> {
  const root = await mkdtemp(path.join(tmpdir(), 'srv-cgi-resolution-'));
  onTestFinished(() => rm(root, { recursive: true, force: true }));
  await chmod(root, 0o755);
  const bin = path.join(root, 'cgi-bin');
  await mkdir(bin, { mode: 0o755 });
  await chmod(bin, 0o755);
  return { root, bin };
}

function script(word: string): string {
  return `#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n${word}\\n'\n`;
}

/** Writes an executable script answering `word` (chmod too: the umask may strip the mode). */
async function writeScript(file: string, word: string): Promise<void> {
  await writeFile(file, script(word), { mode: 0o755 });
  await chmod(file, 0o755);
}

describe('remembered script resolution', () => {
  it('sees a script rewritten, chmod-ed, replaced or removed on the very next request', async () => {
    const { root, bin } = await scratchRoot();
    const file = path.join(bin, 'a.sh');
    await writeScript(file, 'one');
    const t = await startCgi({ directory: root });
    const get = () => rawRequest(t, 'GET /cgi-bin/a.sh HTTP/1.1');

    expect((await get()).body).toBe('one\n');
    expect((await get()).body).toBe('one\n');
    await writeFile(file, script('two'));
    expect((await get()).body).toBe('two\n');
    await chmod(file, 0o644);
    expect((await get()).status).toBe(403);
    await chmod(file, 0o755);
    expect((await get()).body).toBe('two\n');
    const replacement = path.join(bin, 'a.sh.new');
    await writeScript(replacement, 'three');
    await rename(replacement, file);
    expect((await get()).body).toBe('three\n');
    await unlink(file);
    expect((await get()).status).toBe(404);
  });

  it('a symlink re-pointed outside the CGI directory is refused on the next request', async () => {
    const { root, bin } = await scratchRoot();
    const inside = path.join(bin, 'inside.sh');
    const outside = path.join(root, 'outside.sh');
    await writeScript(inside, 'inside');
    await writeScript(outside, 'outside');
    const link = path.join(bin, 'link.sh');
    await symlink('inside.sh', link);
    const t = await startCgi({ directory: root });
    const get = () => rawRequest(t, 'GET /cgi-bin/link.sh/extra HTTP/1.1');

    expect((await get()).body).toBe('inside\n');
    expect((await get()).body).toBe('inside\n');
    await unlink(link);
    await symlink('../outside.sh', link);
    const refused = await get();
    expect(refused.status).toBe(403);
    expect(refused.body).not.toContain('outside');
    await unlink(link);
    await symlink('inside.sh', link);
    expect((await get()).body).toBe('inside\n');
  });

  it('a directory that takes the place of a script is a 403, a script in its place a 200 again', async () => {
    const { root, bin } = await scratchRoot();
    const file = path.join(bin, 'x.sh');
    await writeScript(file, 'file');
    const t = await startCgi({ directory: root });
    const get = () => rawRequest(t, 'GET /cgi-bin/x.sh HTTP/1.1');

    expect((await get()).body).toBe('file\n');
    await unlink(file);
    await mkdir(file, { mode: 0o755 });
    expect((await get()).status).toBe(403);
    await rm(file, { recursive: true });
    await writeScript(file, 'again');
    expect((await get()).body).toBe('again\n');
  });
});

describe('answering', () => {
  it.skipIf(lacks('python3'))(
    'a short complete output goes out framed with its length; a streaming one stays chunked',
    async () => {
      const t = await startCgi();
      // Whether the end of the output follows its header block within two event-loop turns depends on
      // scheduling; either way the framing is the server's own and the body whole.
      const framings: string[] = [];
      while (!framings.includes('length') && framings.length < 20) {
        for (const method of ['GET', 'HEAD']) {
          const response = await rawRequest(t, `${method} /htbin/hello.sh HTTP/1.1`);
          expect(response.body).toBe(method === 'GET' ? 'Hello World\n' : '');
          const length = response.header('content-length');
          if (length === undefined) {
            // Streamed: GET is chunked; a HEAD answer has no body, so Node frames it with neither header.
            expect(response.header('transfer-encoding')).toBe(method === 'GET' ? 'chunked' : undefined);
            framings.push('chunked');
          } else {
            expect(length).toBe('12');
            expect(response.header('transfer-encoding')).toBeUndefined();
            framings.push('length');
          }
        }
      }
      expect(framings).toContain('length');
      const big = await fetch(`${t.origin}/cgi-bin/big.py`);
      expect(big.headers.get('transfer-encoding')).toBe('chunked');
      expect((await big.arrayBuffer()).byteLength).toBe(4 * 1024 * 1024);
    },
  );

  it('the answer is complete when the output ends; the time limit still stops a script that lingers', async () => {
    const t = await startCgi({ scriptTimeout: 1000, maxScripts: 1, queueTimeout: 5000 });
    const response = await rawRequest(t, 'GET /cgi-bin/linger.sh HTTP/1.1');
    expect(response.status).toBe(200);
    expect(response.body).toBe('answered\n');
    const pid = Number(/pid (\d+)/.exec(await t.waitForLine(/linger\.sh: pid \d+/))![1]);
    // The script still runs and still holds the only slot: the next request waits for it.
    expect(isAlive(pid)).toBe(true);
    let nextAnswered = false;
    const next = rawRequest(t, 'GET /htbin/hello.sh HTTP/1.1').then((answer) => {
      nextAnswered = true;
      return answer;
    });
    await t.waitForLine(/linger\.sh ran longer than 1000 ms; script ended by SIGTERM/);
    expect(nextAnswered).toBe(false);
    expect((await next).body).toBe('Hello World\n');
    expect(isAlive(pid)).toBe(false);
  });

  it('a non-zero exit after a complete answer is logged', async () => {
    const t = await startCgi();
    const response = await rawRequest(t, 'GET /cgi-bin/linger.sh?fail HTTP/1.1');
    expect(response.body).toBe('answered\n');
    await t.waitForLine(/CGI script \/cgi-bin\/linger\.sh exited with status 3/);
  });
});
