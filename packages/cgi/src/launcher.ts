/**
 * Scripts are spawned by a small launcher process rather than by the server itself. On Linux libuv
 * spawns with fork(), which copies the parent's page tables and blocks the event loop until the
 * child has exec'd: the larger and busier the server, the longer each spawn stalls every connection
 * it serves. A small process that does nothing else spawns faster, off the server's event loop, and
 * relays the scripts' stdio with backpressure (launcher-protocol.ts).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import {
  dataFd,
  Frame,
  FrameReader,
  type FromLauncher,
  type ToLauncher,
  writeFrame,
} from './launcher-protocol.js';
import { type ScriptExit, ScriptProcess, type ScriptSpawnOptions, spawnError } from './process.js';

/** The launcher's entry: beside this module once built, in `dist/` when this runs from source. */
function launcherEntry(): URL {
  const beside = new URL('./launcher-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  return new URL('../dist/launcher-worker.js', import.meta.url);
}

// Per script: how much output the server holds before it asks the launcher to stop reading.
const highWaterMark = 256 * 1024;

/** The server's end of one script the launcher runs. */
class RemoteScript {
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly stdin: Writable | null;
  readonly exited: Promise<ScriptExit>;
  resolveExit!: (exit: ScriptExit) => void;
  #paused = false;
  #pendingWrite: ((error?: Error | null) => void) | undefined;
  outEnded = false;
  errEnded = false;
  exit: ScriptExit | undefined;
  /** Set once the launcher has spawned it. */
  pid: number | undefined;

  constructor(
    readonly id: number,
    readonly launcher: ScriptLauncher,
    hasInput: boolean,
  ) {
    this.exited = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
    this.stdout = new Readable({
      highWaterMark,
      read: () => {
        if (!this.#paused) return;
        this.#paused = false;
        launcher.send({ t: 'resume', id });
      },
    });
    this.stderr = new Readable({ highWaterMark, read: () => {} });
    this.stdin = hasInput
      ? new Writable({
          highWaterMark,
          write: (chunk: Buffer, _encoding, callback) => {
            this.#pendingWrite = callback;
            if (!launcher.frame(Frame.stdin, id, chunk)) this.onWritten('the CGI launcher exited');
          },
          final: (callback) => {
            launcher.frame(Frame.stdinEnd, id);
            callback();
          },
        })
      : null;
  }

  onOutput(chunk: Buffer): void {
    if (this.stdout.destroyed) return;
    if (!this.stdout.push(chunk) && !this.#paused) {
      this.#paused = true;
      this.launcher.send({ t: 'pause', id: this.id });
    }
  }

  onWritten(error: string | undefined): void {
    const callback = this.#pendingWrite;
    this.#pendingWrite = undefined;
    callback?.(error === undefined ? null : new Error(error));
  }

  /**
   * The launcher is gone: its scripts, orphaned, are killed here (each leads its own process group),
   * their outputs end and their exits settle.
   */
  abandon(): void {
    if (this.pid !== undefined && this.exit === undefined) {
      try {
        process.kill(-this.pid, 'SIGKILL');
      } catch {}
    }
    if (!this.outEnded) this.stdout.push(null);
    if (!this.errEnded) this.stderr.push(null);
    this.outEnded = this.errEnded = true;
    this.onWritten('the CGI launcher exited');
    if (this.exit === undefined) {
      this.exit = { code: null, signal: 'SIGKILL' };
      this.resolveExit(this.exit);
    }
  }

  get done(): boolean {
    return this.outEnded && this.errEnded && this.exit !== undefined;
  }
}

interface PendingStart {
  readonly script: RemoteScript;
  readonly options: ScriptSpawnOptions;
  resolve(script: ScriptProcess): void;
  reject(error: unknown): void;
}

/**
 * The launcher process of this server process: started with the first script, restarted after it
 * dies, never keeping the server alive on its own. Scripts it was running when it died end with
 * their output cut (the requests fail with 502).
 */
export class ScriptLauncher {
  readonly #entry: URL;
  readonly #startTimeout: number;
  #child: ChildProcess | undefined;
  #data: Socket | undefined;
  #ready: Promise<void> | undefined;
  #nextId = 0;
  /** Set when the launcher could not be started: scripts are spawned directly from then on. */
  #unavailable = false;
  readonly #starting = new Map<number, PendingStart>();
  readonly #scripts = new Map<number, RemoteScript>();

  /** `entry`: the launcher's module; `startTimeout`: ms it has to say it is ready. */
  constructor(entry: URL = launcherEntry(), startTimeout = 10_000) {
    this.#entry = entry;
    this.#startTimeout = startTimeout;
  }

  /** The launcher's pid, once it runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts a script through the launcher (see {@link startScript}). */
  start(options: ScriptSpawnOptions): ScriptProcess | Promise<ScriptProcess> {
    if (this.#unavailable) return ScriptProcess.spawnDirect(options);
    const ready = this.#ensure();
    const id = ++this.#nextId;
    const script = new RemoteScript(id, this, options.hasInput);
    return new Promise<ScriptProcess>((resolve, reject) => {
      this.#starting.set(id, { script, options, resolve, reject });
      this.#scripts.set(id, script);
      const message: ToLauncher = {
        t: 'spawn',
        id,
        command: options.command,
        args: options.args,
        cwd: options.cwd,
        env: options.env,
        user: options.user,
        hasInput: options.hasInput,
      };
      ready.then(
        () => this.send(message),
        () => {
          // The launcher cannot run here: this script and every later one are spawned directly.
          this.#starting.delete(id);
          this.#scripts.delete(id);
          try {
            resolve(ScriptProcess.spawnDirect(options));
          } catch (error) {
            reject(error);
          }
        },
      );
    });
  }

  /** Sends a message to the launcher; dropped when it is gone (its scripts are abandoned then). */
  send(message: ToLauncher): void {
    const child = this.#child;
    if (child?.connected) child.send(message);
  }

  /** Sends a frame on the data pipe; false when the launcher is gone. */
  frame(type: (typeof Frame)['stdin' | 'stdinEnd'], id: number, payload?: Buffer): boolean {
    const data = this.#data;
    if (data === undefined || data.destroyed) return false;
    writeFrame(data, type, id, payload);
    return true;
  }

  /** Stops the launcher (and so the scripts it runs). For tests and orderly shutdown. */
  close(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.disconnect();
    });
  }

  #ensure(): Promise<void> {
    if (this.#ready) return this.#ready;
    this.#ready = new Promise<void>((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = fork(this.#entry, [], {
          // A small young generation keeps the launcher's memory small; measured, it costs no spawn rate.
          execArgv: ['--max-semi-space-size=1'],
          env: withoutNodeOptions(process.env),
          serialization: 'json',
          stdio: ['ignore', 'ignore', 'inherit', 'ipc', 'pipe'],
        });
      } catch (error) {
        this.#fallBack(error);
        reject(error);
        return;
      }
      this.#child = child;
      child.unref();
      child.channel?.unref();
      const data = child.stdio[dataFd] as Socket;
      this.#data = data;
      data.unref();
      data.on('error', () => {});
      const frames = new FrameReader((type, id, payload) => this.#onFrame(type, id, payload));
      data.on('data', (chunk: Buffer) => frames.push(chunk));
      let ready = false;
      // A launcher that cannot say it is ready (an executable that is not Node, say) is given up on.
      const timer = setTimeout(() => child.kill('SIGKILL'), this.#startTimeout);
      timer.unref();
      child.on('message', (message: FromLauncher) => {
        if (message.t !== 'ready' || ready) return;
        ready = true;
        clearTimeout(timer);
        resolve();
      });
      child.on('error', (error) => {
        if (ready) return;
        clearTimeout(timer);
        this.#fallBack(error);
        reject(error);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (this.#child === child) {
          this.#child = undefined;
          this.#data = undefined;
          this.#ready = undefined;
        }
        if (!ready) {
          // Nothing was spawned: the waiting scripts fall back to direct spawns (see start()).
          const error = new Error(`the CGI launcher exited with ${signal ?? `code ${code}`} while starting`);
          this.#fallBack(error);
          reject(error);
          return;
        }
        this.#abandonAll();
      });
    });
    // Nobody may be waiting yet when it fails; the callers see it through their own `then`.
    this.#ready.catch(() => {});
    return this.#ready;
  }

  #fallBack(error: unknown): void {
    if (this.#unavailable) return;
    this.#unavailable = true;
    process.emitWarning(
      `the CGI launcher could not start (${error instanceof Error ? error.message : String(error)}); scripts are spawned by the server itself`,
      { code: 'SRV_CGI_LAUNCHER_UNAVAILABLE' },
    );
  }

  #abandonAll(): void {
    for (const [id, pending] of this.#starting) {
      this.#starting.delete(id);
      pending.reject(spawnError(pending.options.command, undefined, 'the CGI launcher exited'));
    }
    for (const script of this.#scripts.values()) script.abandon();
    this.#scripts.clear();
  }

  #onFrame(type: number, id: number, payload: Buffer): void {
    const script = this.#scripts.get(id);
    if (script === undefined) return;
    switch (type) {
      case Frame.spawned: {
        const pending = this.#starting.get(id);
        this.#starting.delete(id);
        if (pending === undefined) return;
        script.pid = payload.readUInt32BE(0);
        const control = {
          pid: script.pid,
          exited: script.exited,
          stop: (grace: number) => {
            this.send({ t: 'stop', id, grace });
            return script.exited;
          },
        };
        pending.resolve(new ScriptProcess(script, control, pending.options.killGrace));
        return;
      }
      case Frame.failed: {
        const pending = this.#starting.get(id);
        this.#starting.delete(id);
        this.#scripts.delete(id);
        const { code, message } = JSON.parse(payload.toString()) as { code?: string; message: string };
        pending?.reject(spawnError(pending.options.command, code, message));
        return;
      }
      case Frame.exit:
        script.exit = JSON.parse(payload.toString()) as ScriptExit;
        script.resolveExit(script.exit);
        break;
      case Frame.stdinAck:
        script.onWritten(payload.length === 0 ? undefined : payload.toString());
        return;
      case Frame.stdout:
        script.onOutput(payload);
        return;
      case Frame.stderr:
        if (!script.stderr.destroyed) script.stderr.push(payload);
        return;
      case Frame.stdoutEnd:
        script.outEnded = true;
        script.stdout.push(null);
        break;
      case Frame.stderrEnd:
        script.errEnded = true;
        script.stderr.push(null);
        break;
      default:
        return;
    }
    if (script.done) this.#scripts.delete(id);
  }
}

/** The server's environment for the launcher, without NODE_OPTIONS (no inspector port, no preloads). */
function withoutNodeOptions(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _dropped, ...rest } = env;
  return rest;
}

let shared: ScriptLauncher | undefined;

/** This process's launcher. */
export function sharedLauncher(): ScriptLauncher {
  shared ??= new ScriptLauncher();
  return shared;
}

/**
 * Starts a script directly (never through a shell) in its own process group: through the launcher
 * process unless `options.launcher` is `'direct'` or this is a worker thread. A failure rejects:
 * `EACCES` becomes `SRV_ERR_CGI_FORBIDDEN` (403), anything else `SRV_ERR_CGI_SPAWN_FAILED` (500).
 */
export function startScript(options: ScriptSpawnOptions): ScriptProcess | Promise<ScriptProcess> {
  if ((options.launcher ?? 'helper') === 'helper' && isMainThread) return sharedLauncher().start(options);
  return ScriptProcess.spawnDirect(options);
}
