/**
 * A script's output, from its stdout to the response: the header block read within its time and size
 * limits, a short body answered in one write with its length, a long or open-ended one streamed with
 * backpressure, the script stopped when the client leaves or a limit passes, and how it ended logged.
 * A local redirect (RFC 3875 §6.2.2) is handed back to the handler, which serves its target.
 */
import type { Readable, Writable } from 'node:stream';
import type { SimpleHTTPRequestHandler } from '@srv/static';
import { CgiError, createCgiError } from './errors.js';
import { forEachLine, type ScriptExit, type ScriptProcess } from './process.js';
import { classifyResponse, HeaderBlockReader, type ScriptHeaders } from './response.js';

/** What the output needs of the handler. */
export interface ScriptResponder {
  /** The response body (its `stream` is watched for the client going away). */
  readonly wfile: SimpleHTTPRequestHandler['wfile'];
  /** HEAD: the script's body is read and dropped. */
  readonly isHead: boolean;
  logError(format: string, ...args: unknown[]): void;
  /** The status line and the script's headers; `contentLength` when the whole body is known. */
  sendScriptHeaders(
    headers: ScriptHeaders,
    kind: 'document' | 'client-redirect',
    contentLength?: number,
  ): void;
}

/** The handler's limits on a script's output. */
export interface OutputLimits {
  readonly maxScriptHeaderSize: number;
  readonly scriptHeaderTimeout: number;
  readonly scriptTimeout: number;
}

/**
 * Answers with a running script's output. Resolves with the script's headers when it asked for a
 * local redirect (its `location` is the new target), else undefined once the response is complete;
 * throws a {@link CgiError} when the script failed before any of the response was sent.
 */
export async function serveScript(
  responder: ScriptResponder,
  script: ScriptProcess,
  name: string,
  input: Readable | undefined,
  options: OutputLimits,
): Promise<ScriptHeaders | undefined> {
  const wfile = responder.wfile;
  const response = wfile.stream;
  forEachLine(script.stderr, (line) => responder.logError('CGI script %s: %s', name, line));
  if (input && script.stdin) input.pipe(script.stdin);

  let failure: CgiError | undefined;
  const stop = (error: CgiError) => {
    failure ??= error;
    void script.kill(error.message);
  };
  const onClientGone = () => {
    if (!wfile.finished)
      stop(createCgiError('SRV_ERR_CGI_BAD_RESPONSE', `client went away; stopped ${name}`));
  };
  response.once('close', onClientGone);
  // Gone already (the connection was cut while the script started): its 'close' has been and gone.
  if (response.destroyed) onClientGone();
  // The request's ties to the script: the client-gone watch and the request body's pipe.
  const detach = () => {
    response.off('close', onClientGone);
    if (input && script.stdin) input.unpipe(script.stdin);
  };
  const overall =
    options.scriptTimeout > 0
      ? setTimeout(
          () =>
            stop(
              createCgiError('SRV_ERR_CGI_TIMEOUT', `${name} ran longer than ${options.scriptTimeout} ms`),
            ),
          options.scriptTimeout,
        )
      : undefined;
  // Set once the script has answered in full (its stdout ended): from then on the request is done
  // and the rest (time limit, exit status) is the exit's business.
  let answered = false;
  let headersSent = false;
  try {
    let head: { headers: ScriptHeaders; body: Buffer };
    try {
      head = await readScriptHead(script.stdout, response, name, options);
    } catch (error) {
      if (!(error instanceof CgiError)) throw error;
      stop(error);
      await script.exited;
      throw failure ?? error;
    }
    const kind = classifyResponse(head.headers);
    if (kind === 'local-redirect') {
      script.stdout.resume();
      await script.exited;
      return head.headers;
    }
    const discard = responder.isHead;
    const start = await collectOutput(script.stdout, head.body, () => failure !== undefined);
    if (start.ended && failure === undefined) {
      // The whole output is here: one write, framed with its length instead of chunks.
      headersSent = true;
      responder.sendScriptHeaders(head.headers, kind, start.length);
      if (discard || start.chunks.length === 0) void wfile.end();
      else void wfile.end(start.chunks.length === 1 ? start.chunks[0] : Buffer.concat(start.chunks));
    } else {
      headersSent = true;
      responder.sendScriptHeaders(head.headers, kind);
      for (const chunk of discard ? [] : start.chunks) {
        const written = wfile.tryWrite(chunk);
        if (written) await written;
      }
      if (!start.ended) await copyOutput(script.stdout, wfile, discard, () => failure !== undefined);
    }
    if (failure) {
      // The client must not mistake a cut-off body for a complete one.
      wfile.destroy();
      const exit = await script.exited;
      responder.logError('%s; script ended by %s', failure.message, exit.signal ?? `status ${exit.code}`);
      return undefined;
    }
    // The script closed its output: the response is complete now, without waiting for the exit
    // (the script keeps its slot and its time limit until then; how it ended is logged).
    answered = true;
    detach();
    const ended = (exit: ScriptExit) => {
      if (overall) clearTimeout(overall);
      const ending = exit.signal ?? `status ${exit.code}`;
      if (failure) responder.logError('%s; script ended by %s', failure.message, ending);
      else if (exit.code !== 0 || exit.signal !== null)
        responder.logError('CGI script %s exited with %s', name, ending);
    };
    if (script.exit) ended(script.exit);
    else void script.exited.then(ended);
    return undefined;
  } catch (error) {
    if (!script.hasExited) await script.kill(failure?.message ?? 'request failed');
    if (error instanceof CgiError) throw error;
    if (failure && headersSent) {
      wfile.destroy();
      const exit = await script.exited;
      responder.logError('%s; script ended by %s', failure.message, exit.signal ?? `status ${exit.code}`);
      return undefined;
    }
    throw failure ?? error;
  } finally {
    if (!answered) {
      if (overall) clearTimeout(overall);
      detach();
      if (!script.hasExited) await script.kill('request finished');
    }
  }
}

/**
 * Reads on after the header block, holding the output instead of sending it, for as long as more
 * of it (or its end) follows within the next event-loop turns and it stays small: a script that
 * prints a short page and exits is then answered in one write with a Content-Length. A script
 * that keeps its output open, or writes more than `maxBytes`, is answered as it writes after at
 * most two turns' delay. Leaves stdout paused unless it ended.
 */
export function collectOutput(
  stdout: Readable,
  first: Buffer,
  isStopped: () => boolean,
  maxBytes = 64 * 1024,
): Promise<{ chunks: Buffer[]; length: number; ended: boolean }> {
  const chunks = first.length > 0 ? [first] : [];
  let length = first.length;
  if (length > maxBytes || stdout.readableEnded || stdout.destroyed) {
    return Promise.resolve({ chunks, length, ended: stdout.readableEnded });
  }
  return new Promise((resolve) => {
    let turns = 0;
    let immediate: NodeJS.Immediate | undefined;
    const finish = (ended: boolean) => {
      if (immediate) clearImmediate(immediate);
      stdout.off('data', onData);
      stdout.off('end', onEnd);
      stdout.off('close', onClose);
      if (!ended) stdout.pause();
      resolve({ chunks, length, ended });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      turns = 0;
      if (length > maxBytes || isStopped()) finish(false);
    };
    const onEnd = () => finish(true);
    // Destroyed without an end (an error): what was read is sent, and the copy sees the rest.
    const onClose = () => finish(false);
    const tick = () => {
      turns += 1;
      if (turns >= 2 || isStopped()) {
        immediate = undefined;
        finish(false);
      } else immediate = setImmediate(tick);
    };
    stdout.on('data', onData);
    stdout.once('end', onEnd);
    stdout.once('close', onClose);
    immediate = setImmediate(tick);
    stdout.resume();
  });
}

/**
 * Copies the rest of the script's output into the response (or reads and drops it for HEAD), with
 * backpressure: the script's stdout is paused while the response drains. Resolves when the output
 * ends or `isStopped()` turns true (the stream is then destroyed); rejects when a write fails.
 */
export function copyOutput(
  stdout: Readable,
  wfile: ScriptResponder['wfile'],
  discard: boolean,
  isStopped: () => boolean,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let done = false;
    const finish = (error?: unknown) => {
      if (done) return;
      done = true;
      stdout.off('data', onData);
      stdout.off('end', onEnd);
      stdout.off('close', onEnd);
      stdout.off('error', finish);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onEnd = () => finish();
    const onData = (chunk: Buffer) => {
      if (isStopped()) {
        stdout.destroy();
        finish();
        return;
      }
      if (discard) return;
      const written = wfile.tryWrite(chunk);
      if (written === undefined) return;
      stdout.pause();
      written.then(
        () => {
          if (!done) stdout.resume();
        },
        (error: unknown) => {
          stdout.destroy();
          finish(error);
        },
      );
    };
    if (stdout.readableEnded || stdout.destroyed) {
      finish(stdout.errored ?? undefined);
      return;
    }
    stdout.on('data', onData);
    stdout.once('end', onEnd);
    // A stream destroyed without an end (the script was stopped) ends the copy too.
    stdout.once('close', onEnd);
    stdout.once('error', finish);
    stdout.resume();
  });
}

/** Reads stdout until the header block ends; 502 on malformed output or early end, 504 on timeout. */
export function readScriptHead(
  stdout: Readable,
  response: Writable,
  name: string,
  limits: Pick<OutputLimits, 'maxScriptHeaderSize' | 'scriptHeaderTimeout'>,
): Promise<{ headers: ScriptHeaders; body: Buffer }> {
  const reader = new HeaderBlockReader(limits.maxScriptHeaderSize);
  const timeout = limits.scriptHeaderTimeout;
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      stdout.off('data', onData);
      stdout.off('end', onEnd);
      response.off('close', onClose);
    };
    let settled = false;
    const settle = (action: () => void) => {
      if (settled) return;
      settled = true;
      done();
      action();
    };
    const onData = (chunk: Buffer) => {
      try {
        const head = reader.push(chunk);
        if (head) {
          stdout.pause();
          settle(() => resolve(head));
        }
      } catch (error) {
        settle(() => reject(error));
      }
    };
    const onEnd = () =>
      settle(() =>
        reject(
          createCgiError(
            'SRV_ERR_CGI_BAD_RESPONSE',
            reader.length === 0
              ? `${name} produced no output`
              : `${name} ended its output before the end of its header block`,
          ),
        ),
      );
    const onClose = () =>
      settle(() => reject(createCgiError('SRV_ERR_CGI_BAD_RESPONSE', `client went away; stopped ${name}`)));
    const timer = setTimeout(
      () =>
        settle(() =>
          reject(
            createCgiError(
              'SRV_ERR_CGI_TIMEOUT',
              `${name} sent no complete header block within ${timeout} ms`,
            ),
          ),
        ),
      timeout,
    );
    stdout.on('data', onData);
    stdout.once('end', onEnd);
    response.once('close', onClose);
  });
}
