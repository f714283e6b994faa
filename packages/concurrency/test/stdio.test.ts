import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';

/** Collects a child's stream as text; `until(re)` resolves once it matches. */
function collect(stream: NodeJS.ReadableStream) {
  let text = '';
  const waiters: Array<{ re: RegExp; resolve: (match: RegExpMatchArray) => void }> = [];
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    text += chunk;
    for (const waiter of [...waiters]) {
      const match = text.match(waiter.re);
      if (match) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(match);
      }
    }
  });
  return {
    get text() {
      return text;
    },
    until(re: RegExp): Promise<RegExpMatchArray> {
      const match = text.match(re);
      if (match) return Promise.resolve(match);
      return new Promise((resolve) => waiters.push({ re, resolve }));
    },
  };
}

describe('a worker thread printing', () => {
  it('writes its stdout and stderr lines to the descriptors itself, not through the main thread', async () => {
    const child = spawn(process.execPath, [new URL('./fixtures/printing.js', import.meta.url).pathname], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const stdout = collect(child.stdout);
    const stderr = collect(child.stderr);
    const [, port] = await stdout.until(/^\{"port":(\d+)\}\n/);

    const socket = connect(Number(port), '127.0.0.1');
    onTestFinished(() => {
      socket.destroy();
    });
    socket.setEncoding('utf8');
    socket.write('go\n');
    let answer = '';
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    await once(socket, 'close');
    expect(answer).toBe('printed\n');

    child.kill('SIGINT');
    await stdout.until(/^relayed .*\n/m);
    await once(child, 'exit');
    expect(stdout.text).toMatch(/^stdout from Thread-\d+\n/m);
    expect(stdout.text.match(/from Thread-/g)).toHaveLength(1);
    expect(stderr.text).toMatch(/^stderr from Thread-\d+\n/m);
    // Node would have written both through this process's own process.stdout/stderr.
    expect(stdout.text).toMatch(/^relayed \{"stdout":0,"stderr":0\}\n/m);
  });
});
