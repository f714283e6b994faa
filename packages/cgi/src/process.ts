import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createCgiError } from './errors.js';
import { type ScriptCommand, spawnScript, stopGroup } from './group.js';

/** A script's child process: stdout and stderr always piped, stdin only when there is a body. */
type ScriptChild = ChildProcessByStdio<Writable | null, Readable, Readable>;

/** How a script ended. */
export interface ScriptExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** How scripts are started: by the launcher process, or by the server itself. */
export type ScriptLauncherKind = 'helper' | 'direct';

/** What {@link ScriptProcess.start} needs. */
export interface ScriptSpawnOptions extends ScriptCommand {
  /** Milliseconds between SIGTERM and SIGKILL. */
  readonly killGrace: number;
  /** Who spawns it: the launcher process (default) or this process. */
  readonly launcher?: ScriptLauncherKind;
}

/** A script's standard streams: stdout and stderr always, stdin only when there is a body. */
export interface ScriptStdio {
  readonly stdin: Writable | null;
  readonly stdout: Readable;
  readonly stderr: Readable;
}

/** How a {@link ScriptProcess} reaches its process, wherever it was spawned. */
export interface ScriptControl {
  readonly pid: number;
  /** Settles when the script has exited. */
  readonly exited: Promise<ScriptExit>;
  /** Stops the script's process group (SIGTERM, SIGKILL after `grace` ms); resolves with its exit. */
  stop(grace: number): Promise<ScriptExit>;
}

/**
 * One running script. It leads its own process group, so `kill()` reaches whatever it started too (a
 * shell's `sleep`, a pipeline) and nothing is left holding the output pipe open.
 */
export class ScriptProcess implements ScriptStdio {
  readonly stdin: Writable | null;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly pid: number;
  /** Settles when the script has exited. */
  readonly exited: Promise<ScriptExit>;
  /** Why the server stopped it, once it has. */
  killedFor: string | undefined;
  #exit: ScriptExit | undefined;
  readonly #control: ScriptControl;
  readonly #killGrace: number;
  #killing: Promise<ScriptExit> | undefined;

  constructor(stdio: ScriptStdio, control: ScriptControl, killGrace: number) {
    this.stdin = stdio.stdin;
    this.stdout = stdio.stdout;
    this.stderr = stdio.stderr;
    this.pid = control.pid;
    this.#control = control;
    this.#killGrace = killGrace;
    this.exited = control.exited.then((exit) => {
      this.#exit = exit;
      return exit;
    });
    // A script that stops reading its input must not crash the server with EPIPE.
    this.stdin?.on('error', () => {});
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
    this.#killing ??= this.#control.stop(this.#killGrace).then(() => this.exited);
    return this.#killing;
  }

  /**
   * Spawns a script from this process. Returns the running script at once (libuv reports a failed
   * `execve` synchronously, so a child with a pid runs).
   */
  static spawnDirect(options: ScriptSpawnOptions): ScriptProcess | Promise<never> {
    let child: ScriptChild;
    try {
      child = spawnScript(options) as ScriptChild;
    } catch (cause) {
      return Promise.reject(spawnError(options.command, undefined, String(cause), cause));
    }
    const pid = child.pid;
    if (pid !== undefined) {
      child.on('error', () => {});
      const exited = new Promise<ScriptExit>((resolve) => {
        child.once('exit', (code, signal) => resolve({ code, signal }));
      });
      const control: ScriptControl = { pid, exited, stop: (grace) => stopGroup(child, exited, grace) };
      return new ScriptProcess(child, control, options.killGrace);
    }
    // No pid: the spawn failed, and Node emits why on the next tick.
    return new Promise<never>((_resolve, reject) => {
      child.once('error', (cause: NodeJS.ErrnoException) => {
        reject(spawnError(options.command, cause.code, cause.message, cause));
      });
    });
  }
}

/** The error for a script that could not be started: 403 when the system refused it, 500 otherwise. */
export function spawnError(command: string, code: string | undefined, message: string, cause?: unknown) {
  if (code === 'EACCES' || code === 'EPERM') {
    return createCgiError('SRV_ERR_CGI_FORBIDDEN', `not allowed to run ${command}`, { cause });
  }
  return createCgiError('SRV_ERR_CGI_SPAWN_FAILED', `cannot run ${command}: ${message}`, { cause });
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
