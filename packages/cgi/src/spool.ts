import { createReadStream, type ReadStream } from 'node:fs';
import { type FileHandle, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { createCgiError } from './errors.js';

/** A request body held in an unlinked temporary file. */
export interface SpooledBody {
  /** Bytes spooled: the script's `CONTENT_LENGTH`. */
  readonly length: number;
  /** A stream of the body from its start; can be taken once. */
  open(): ReadStream;
  /** Closes the file (it is already unlinked). Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Copies `source` into the file, at most `maxBytes`. Listeners are removed rather than the source
 * destroyed on failure: destroying a request destroys its socket, and the 413 must still be sent.
 */
function copyLimited(source: Readable, handle: FileHandle, maxBytes: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let length = 0;
    let writing = Promise.resolve();
    let failed = false;
    const cleanup = () => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      source.off('close', onClose);
    };
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      cleanup();
      reject(error);
    };
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      length += bytes.length;
      if (length > maxBytes) {
        fail(createCgiError('SRV_ERR_CGI_BODY_TOO_LARGE', `request body larger than ${maxBytes} bytes`));
        return;
      }
      source.pause();
      writing = writing
        .then(async () => {
          await handle.write(bytes);
          if (!failed) source.resume();
        })
        .catch(fail);
    };
    const onEnd = () => {
      cleanup();
      writing.then(() => {
        if (!failed) resolve(length);
      }, fail);
    };
    const onError = (error: Error) => fail(error);
    const onClose = () => {
      if (!source.readableEnded) fail(createCgiError('SRV_ERR_CGI_BAD_REQUEST', 'request body cut off'));
    };
    if (source.destroyed) {
      // Destroyed before the copy began (a body that broke while the script was being resolved):
      // none of the events below will come.
      const errored = (source as Readable & { errored?: Error | null }).errored;
      reject(errored ?? createCgiError('SRV_ERR_CGI_BAD_REQUEST', 'request body cut off'));
      return;
    }
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('error', onError);
    source.once('close', onClose);
    source.resume();
  });
}

/**
 * Spools a body of unknown length (chunked) to a temporary file, so the script gets the
 * `CONTENT_LENGTH` CGI requires. Past `maxBytes` it stops reading and throws `SRV_ERR_CGI_BODY_TOO_LARGE`
 * (413). The file lives in a private directory and is unlinked before it is read, so nothing is left
 * behind even when the server dies.
 */
export async function spoolBody(
  source: Readable,
  maxBytes: number,
  directory = tmpdir(),
): Promise<SpooledBody> {
  const privateDirectory = await mkdtemp(path.join(directory, 'srv-cgi-'));
  const file = path.join(privateDirectory, 'body');
  const handle = await open(file, 'wx+', 0o600);
  await rm(privateDirectory, { recursive: true, force: true });
  let length: number;
  try {
    length = await copyLimited(source, handle, maxBytes);
  } catch (error) {
    await handle.close().catch(() => {});
    throw error;
  }
  let closed = false;
  return {
    length,
    open() {
      return createReadStream('', { fd: handle.fd, start: 0, autoClose: false });
    },
    async close() {
      if (closed) return;
      closed = true;
      await handle.close().catch(() => {});
    },
  };
}
