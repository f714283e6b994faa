import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createCgiError } from './errors.js';
import type { UserIds } from './user.js';

/** How a script ended. */
export interface ScriptExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** What {@link startScript} needs. */
export interface ScriptSpawnOptions {
  /** The program: the script itself, or its configured interpreter. */
  readonly command: string;
  /** Arguments (the script's path first when an interpreter runs it). */
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Ids to run as (only when the server is root). */
  readonly user?: UserIds | undefined;
  /** Milliseconds between SIGTERM and SIGKILL. */
  readonly killGrace: number;
  /** Give the script a stdin pipe; without one it reads `/dev/null` (one pipe less per request). */
  readonly hasInput: boolean;
}

/** A script's child process: stdout and stderr always piped, stdin only when there is a body. */
export type ScriptChild = ChildProcessByStdio<Writable | null, Readable, Readable>;

/**
 * One running script. It leads its own process group, so `kill()` reaches whatever it started too (a
 * shell's `sleep`, a pipeline) and nothing is left holding the output pipe open.
 */
export class ScriptProcess {
  readonly child: ScriptChild;
  /** Settles when the script has exited. */
  readonly exited: Promise<ScriptExit>;
  /** Why the server stopped it, once it has. */
  killedFor: string | undefined;
  #exit: ScriptExit | undefined;
  readonly #killGrace: number;
  #killing: Promise<ScriptExit> | undefined;

  private constructor(child: ScriptChild, killGrace: number) {
    this.child = child;
    this.#killGrace = killGrace;
    this.exited = new Promise<ScriptExit>((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
    });
    // A script that stops reading its input must not crash the server with EPIPE.
    child.stdin?.on('error', () => {});
  }

  /** True once the script has exited. */
  get hasExited(): boolean {
    return this.#exit !== undefined;
  }

  /** How the script ended, once it has. */
  get exit(): ScriptExit | undefined {
    return this.#exit;
  }

  /**
   * Sends SIGTERM to the script's process group, then SIGKILL after the grace period; resolves once
   * the script has exited. Idempotent.
   */
  kill(reason: string): Promise<ScriptExit> {
    this.killedFor ??= reason;
    this.#killing ??= (async () => {
      this.#signal('SIGTERM');
      const timer = setTimeout(() => this.#signal('SIGKILL'), this.#killGrace);
      try {
        return await this.exited;
      } finally {
        clearTimeout(timer);
        // Children that ignored SIGTERM or outlived the leader go too.
        this.#signal('SIGKILL');
      }
    })();
    return this.#killing;
  }

  #signal(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        if (!this.hasExited) this.child.kill(signal);
      } catch {}
    }
  }

  /**
   * Spawns a script directly (never through a shell) in its own process group. Returns the running
   * script at once (libuv reports a failed `execve` synchronously, so a child with a pid runs); a
   * failure rejects: `EACCES` becomes `SRV_ERR_CGI_FORBIDDEN` (403), anything else
   * `SRV_ERR_CGI_SPAWN_FAILED` (500).
   */
  static start(options: ScriptSpawnOptions): ScriptProcess | Promise<never> {
    let child: ScriptChild;
    try {
      child = spawn(options.command, options.args, {
        cwd: options.cwd,
        env: options.env,
        stdio: [options.hasInput ? 'pipe' : 'ignore', 'pipe', 'pipe'],
        detached: true,
        shell: false,
        windowsHide: true,
        ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
      }) as ScriptChild;
    } catch (cause) {
      return Promise.reject(
        createCgiError('SRV_ERR_CGI_SPAWN_FAILED', `cannot run ${options.command}: ${String(cause)}`, {
          cause,
        }),
      );
    }
    if (child.pid !== undefined) {
      child.on('error', () => {});
      return new ScriptProcess(child, options.killGrace);
    }
    // No pid: the spawn failed, and Node emits why on the next tick.
    return new Promise<never>((_resolve, reject) => {
      child.once('error', (cause: NodeJS.ErrnoException) => {
        if (cause.code === 'EACCES' || cause.code === 'EPERM') {
          reject(createCgiError('SRV_ERR_CGI_FORBIDDEN', `not allowed to run ${options.command}`, { cause }));
          return;
        }
        reject(
          createCgiError('SRV_ERR_CGI_SPAWN_FAILED', `cannot run ${options.command}: ${cause.message}`, {
            cause,
          }),
        );
      });
    });
  }
}

/** Splits a stream into lines for the log, each cut at `maxLength` characters. */
export function forEachLine(
  stream: NodeJS.ReadableStream,
  onLine: (line: string) => void,
  maxLength = 4096,
): void {
  let pending = '';
  // Created on the first output only: most scripts write nothing to stderr.
  let decoder: StringDecoder | undefined;
  stream.on('data', (chunk: Buffer | string) => {
    if (typeof chunk === 'string') pending += chunk;
    else {
      decoder ??= new StringDecoder('utf8');
      pending += decoder.write(chunk);
    }
    let newline = pending.indexOf('\n');
    while (newline !== -1) {
      onLine(pending.slice(0, newline).replace(/\r$/, '').slice(0, maxLength));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
    if (pending.length > maxLength) {
      onLine(pending.slice(0, maxLength));
      pending = '';
    }
  });
  stream.on('end', () => {
    if (decoder) pending += decoder.end();
    if (pending !== '') onLine(pending.slice(0, maxLength));
    pending = '';
  });
  stream.on('error', () => {});
}
