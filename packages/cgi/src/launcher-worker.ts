/**
 * The script launcher: a small process that spawns CGI scripts for its parent server and relays their
 * stdio to it (see launcher.ts for why, launcher-protocol.ts for how). It holds no state but its
 * running scripts; when the server goes away it stops them and exits.
 */
import type { ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { spawnScript, stopGroup } from './group.js';
import {
  dataFd,
  Frame,
  FrameReader,
  type FrameType,
  type FromLauncher,
  type ToLauncher,
  writeFrame,
} from './launcher-protocol.js';

interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  stopping: boolean;
  /** Output pipes still open. */
  open: number;
  /** The server asked to stop reading its stdout. */
  paused: boolean;
}

const running = new Map<number, Running>();

const data = new Socket({ fd: dataFd, readable: true, writable: true });
data.on('error', () => {});

// Frames go out once per event-loop turn, together: a short script's start, output and ends
// usually leave in one write.
let corked = false;

function uncork(): void {
  corked = false;
  data.uncork();
}

// While the server is not reading the data pipe, no script's output is read either.
let blocked = false;

function frame(type: FrameType, id: number, payload?: Buffer): void {
  if (data.destroyed) return;
  if (!corked) {
    corked = true;
    data.cork();
    setImmediate(uncork);
  }
  if (writeFrame(data, type, id, payload) || blocked) return;
  blocked = true;
  for (const script of running.values()) {
    script.child.stdout?.pause();
    script.child.stderr?.pause();
  }
  data.once('drain', () => {
    blocked = false;
    for (const script of running.values()) {
      if (!script.paused) script.child.stdout?.resume();
      script.child.stderr?.resume();
    }
  });
}

function report(type: FrameType, id: number, value: object): void {
  frame(type, id, Buffer.from(JSON.stringify(value)));
}

/** Forgets a script once it has exited, its output pipes are closed and no stop is under way. */
function settle(id: number, script: Running): void {
  const { child } = script;
  if (script.open === 0 && (child.exitCode !== null || child.signalCode !== null)) running.delete(id);
}

function relay(id: number, script: Running, stream: Readable, chunk: FrameType, end: FrameType): void {
  stream.on('data', (bytes: Buffer) => frame(chunk, id, bytes));
  stream.once('end', () => frame(end, id));
  stream.once('close', () => {
    script.open -= 1;
    if (!script.stopping) settle(id, script);
  });
  stream.on('error', () => {});
}

function start(message: Extract<ToLauncher, { t: 'spawn' }>): void {
  const { id } = message;
  let child: ChildProcess;
  try {
    child = spawnScript(message);
  } catch (error) {
    report(Frame.failed, id, { code: (error as NodeJS.ErrnoException).code, message: String(error) });
    return;
  }
  const pid = child.pid;
  if (pid === undefined) {
    // libuv reports a failed exec synchronously; Node emits why on the next tick.
    child.once('error', (error: NodeJS.ErrnoException) =>
      report(Frame.failed, id, { code: error.code, message: error.message }),
    );
    return;
  }
  child.on('error', () => {});
  const script: Running = {
    child,
    exited: new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        report(Frame.exit, id, { code, signal });
        resolve();
        if (!script.stopping) settle(id, script);
      });
    }),
    stopping: false,
    open: 2,
    paused: false,
  };
  running.set(id, script);
  const pidBytes = Buffer.allocUnsafe(4);
  pidBytes.writeUInt32BE(pid);
  frame(Frame.spawned, id, pidBytes);
  relay(id, script, child.stdout as Readable, Frame.stdout, Frame.stdoutEnd);
  relay(id, script, child.stderr as Readable, Frame.stderr, Frame.stderrEnd);
  child.stdin?.on('error', () => {});
}

function stop(id: number, script: Running, grace: number): void {
  if (script.stopping) return;
  script.stopping = true;
  void stopGroup(script.child, script.exited, grace).then(() => {
    script.stopping = false;
    settle(id, script);
  });
}

// Request bodies: each frame is written to the script's stdin and acknowledged once written, which
// is the server's backpressure.
const input = new FrameReader((type, id, payload) => {
  const stdin = running.get(id)?.child.stdin;
  if (type === Frame.stdinEnd) {
    stdin?.end();
    return;
  }
  if (type !== Frame.stdin) return;
  if (!stdin || stdin.destroyed) {
    frame(Frame.stdinAck, id, Buffer.from('the script closed its input'));
    return;
  }
  stdin.write(payload, (error) => frame(Frame.stdinAck, id, error ? Buffer.from(error.message) : undefined));
});
data.on('data', (chunk: Buffer) => input.push(chunk));

process.on('message', (message: ToLauncher) => {
  if (message.t === 'spawn') {
    start(message);
    return;
  }
  const script = running.get(message.id);
  if (script === undefined) return;
  switch (message.t) {
    case 'pause':
      script.paused = true;
      script.child.stdout?.pause();
      return;
    case 'resume':
      script.paused = false;
      if (!blocked) script.child.stdout?.resume();
      return;
    case 'stop':
      stop(message.id, script, message.grace);
      return;
  }
});

// Terminal signals reach the whole foreground group: the server decides when to stop, and this
// process follows when its channel closes.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
process.on('disconnect', () => {
  const stopping = [...running].map(([id, script]) => {
    stop(id, script, 2000);
    return script.exited;
  });
  // Each stop ends with a SIGKILL to the script's group once its leader has exited.
  void Promise.all(stopping).then(() => process.exit(0));
});

process.send?.({ t: 'ready' } satisfies FromLauncher);
