import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFailed, onTestFinished } from 'vitest';
import { type CodeBlock, extractBlocks, findReadmes, isServerBlock, speaksHttp } from '../src/extract.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..', '..');
// Inside this package, so the blocks resolve @srv/* (its dependencies) like any project would.
const work = path.resolve(here, '..', '.blocks');
const harness = new URL('../harness/port-zero.mjs', import.meta.url).href;
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

const readmes = findReadmes(repo);
const blocks = readmes.flatMap((readme) =>
  extractBlocks(readFileSync(path.join(repo, readme), 'utf8'), readme),
);

/** Where a block is written and run from, per README (blocks of one README can import each other). */
function placeOf(block: CodeBlock): { source: string; run: string; cwd: string } {
  const dir = block.readme.replace(/\.md$/, '').replaceAll('/', '_');
  const name = block.fileName ?? `block-${block.line}.${block.language === 'ts' ? 'ts' : 'mjs'}`;
  const compiled = block.language === 'ts' ? name.replace(/\.([cm]?)ts$/, '.$1js') : name;
  return {
    source: path.join(work, block.language === 'ts' ? 'src' : 'out', dir, name),
    run: path.join(work, 'out', dir, compiled),
    cwd: path.join(work, 'out', dir),
  };
}

/** TypeScript errors per source file, as `README.md:line: message`. */
const typeErrors = new Map<string, string[]>();

beforeAll(() => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  writeFileSync(path.join(work, 'package.json'), '{ "private": true, "type": "module" }\n');
  // The repository's own compiler settings (strict, noImplicitOverride, …): what its code must pass.
  writeFileSync(
    path.join(work, 'tsconfig.json'),
    `${JSON.stringify(
      {
        extends: '../../../tsconfig.base.json',
        compilerOptions: {
          rootDir: 'src',
          outDir: 'out',
          declaration: false,
          sourceMap: false,
          noEmit: false,
        },
        include: ['src'],
      },
      null,
      2,
    )}\n`,
  );
  const sources = new Map<string, CodeBlock>();
  for (const block of blocks) {
    if (block.skip !== undefined) continue;
    const { source, cwd } = placeOf(block);
    mkdirSync(path.dirname(source), { recursive: true });
    mkdirSync(cwd, { recursive: true });
    writeFileSync(source, block.code);
    sources.set(path.relative(work, source), block);
  }
  if ([...sources.values()].some((block) => block.language === 'ts')) {
    // Emits even with errors (noEmitOnError is off): each block's test reports its own errors.
    const result = spawnSync(process.execPath, [tsc, '-p', work, '--pretty', 'false'], { encoding: 'utf8' });
    for (const line of result.stdout.split('\n')) {
      const match = /^(.+?)\((\d+),\d+\): (error .*)$/.exec(line);
      // tsc names files relative to its working directory.
      const file = match ? path.relative(work, path.resolve(match[1]!)) : '';
      const block = sources.get(file);
      if (!match || !block) continue;
      const where = `${block.readme}:${block.line + Number(match[2])}`;
      typeErrors.set(file, [...(typeErrors.get(file) ?? []), `${where}: ${match[3]}`]);
    }
    if (result.status !== 0 && typeErrors.size === 0)
      throw new Error(`tsc failed:\n${result.stdout}${result.stderr}`);
  }
  for (const block of blocks) {
    if (block.skip === undefined && block.language === 'js') {
      const { source, run } = placeOf(block);
      if (source !== run) copyFileSync(source, run);
    }
  }
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  const skipped = blocks.filter((block) => block.skip !== undefined);
  const lines = skipped.map((block) => `  ${block.readme}:${block.line}: ${block.skip}`);
  console.log(
    `readme-test: ${blocks.length - skipped.length} blocks run (TypeScript ones type-checked first), ${skipped.length} not run:\n${lines.join('\n')}`,
  );
});

interface Running {
  readonly child: ChildProcess;
  output(): string;
}

/** The host a client on this machine uses for a bound address. */
function clientHost(address: string): string {
  if (address === '::') return '::1';
  if (address === '0.0.0.0') return '127.0.0.1';
  return address;
}

/** One GET of `/`: any answer below 500 shows the server runs (a README's document root may not exist here). */
async function getOnce(host: string, port: number): Promise<string> {
  const request = http.get({ host, port, path: '/', agent: false, headers: { connection: 'close' } });
  const [response] = (await once(request, 'response')) as [http.IncomingMessage];
  response.resume();
  await once(response, 'end');
  expect(response.statusCode).toBeLessThan(500);
  return `HTTP ${response.statusCode}`;
}

/** One line over TCP, and the first bytes of the answer. */
async function lineOnce(host: string, port: number): Promise<string> {
  const socket = net.connect(port, host);
  onTestFinished(() => {
    socket.destroy();
  });
  socket.setEncoding('utf8');
  await once(socket, 'connect');
  socket.write('hello\n');
  const [data] = (await once(socket, 'data')) as [string];
  socket.destroy();
  expect(data.length).toBeGreaterThan(0);
  return data;
}

/** Runs a block's file with the port-zero harness, in a process group of its own (killed after the test). */
function start(file: string, cwd: string): Running {
  const child = spawn(process.execPath, ['--import', harness, file], {
    cwd,
    env: { ...process.env, SRV_README_TEST: '1' },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onTestFinished(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {}
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  // A block that hangs fails by the test's timeout: what it printed says where.
  onTestFailed(() => console.log(`${path.relative(work, file)} printed:\n${output}`));
  return { child, output: () => output };
}

/** Resolves with the block's bound sockets once every bind call it made has bound; rejects if it exits first. */
function allBound(running: Running): Promise<Array<{ kind: string; host: string; port: number }>> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const text = running.output();
      const calls = text.match(/^@@readme-test bind \d+$/gm)?.length ?? 0;
      const bound = [...text.matchAll(/^@@readme-test bound \d+ (tcp|udp) (\S+) (\d+)$/gm)].map((m) => ({
        kind: m[1]!,
        host: clientHost(m[2]!),
        port: Number(m[3]),
      }));
      if (calls > 0 && bound.length === calls) {
        running.child.stdout!.off('data', check);
        running.child.stderr!.off('data', check);
        resolve(bound);
      }
    };
    running.child.stdout!.on('data', check);
    running.child.stderr!.on('data', check);
    running.child.once('exit', (code, signal) =>
      reject(new Error(`exited (${code ?? signal}) before serving:\n${running.output()}`)),
    );
    check();
  });
}

describe('README code blocks', () => {
  for (const block of blocks) {
    const name = `${block.readme}:${block.line} (${block.language}${block.fileName ? `, ${block.fileName}` : ''})`;
    if (block.skip !== undefined) {
      it.skip(`${name}: not run: ${block.skip}`, () => {});
      continue;
    }
    it(`${name} ${isServerBlock(block) ? 'serves one request, then stops on SIGINT' : 'runs to the end'}`, async () => {
      const { source, run, cwd } = placeOf(block);
      expect(typeErrors.get(path.relative(work, source)) ?? []).toEqual([]);
      const running = start(run, cwd);
      const exited = once(running.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      if (!isServerBlock(block)) {
        const [code, signal] = await exited;
        expect({ code, signal, output: running.output() }).toMatchObject({ code: 0, signal: null });
        return;
      }
      const bound = await allBound(running);
      for (const socket of bound) {
        if (socket.kind !== 'tcp') continue;
        await (speaksHttp(block) ? getOnce(socket.host, socket.port) : lineOnce(socket.host, socket.port));
      }
      process.kill(-running.child.pid!, 'SIGINT');
      const [code, signal] = await exited;
      // Stopped by Ctrl-C: a clean exit where the block handles SIGINT, else Node's default death by it.
      expect(code === 0 || signal === 'SIGINT', `exit ${code ?? signal}:\n${running.output()}`).toBe(true);
    });
  }
});

describe('the root README quick start', () => {
  it('runs the pnpm version the packageManager field pins, without a global install', () => {
    const pinned = (
      JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { packageManager: string }
    ).packageManager;
    const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
    const quickStart = /## Quick start\n[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const commands = quickStart.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
    expect(commands).toHaveLength(2);
    for (const command of commands) {
      expect(command).not.toMatch(/npm i(?:nstall)? -g|sudo/);
      for (const use of command.matchAll(/\bpnpm@[\w.-]+/g)) expect(use[0]).toBe(pinned);
    }
  });
});
