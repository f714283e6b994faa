/**
 * Answering for one file: which representation (a precompressed sibling or the file), the
 * preconditions (RFC 9110 §13), byte ranges (§14, multipart for several) and the body, from memory or
 * streamed with backpressure through the handler's `copyfile()`.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { BaseHTTPRequestHandler } from '@srv/http';
import { evaluatePreconditions, isIfRangeSatisfied, lastModifiedMs, makeETag } from './conditional.js';
import { acceptableCodings, type PrecompressedCoding } from './encoding.js';
import { type ByteRange, contentRange, resolveRanges } from './range.js';
import type { CachedFile, FileResolver, FoundFile, Resolved, Root, ServingRules } from './resolver.js';

/** What answering for a file needs of the handler: Python's response methods and its hooks. */
export interface FileResponder
  extends Pick<
    BaseHTTPRequestHandler,
    | 'headers'
    | 'wfile'
    | 'sendResponse'
    | 'sendHeader'
    | 'replaceHeader'
    | 'endHeaders'
    | 'sendError'
    | 'dateTimeString'
  > {
  guessType(path: string): string;
  copyfile(source: Readable, outputfile: BaseHTTPRequestHandler['wfile']): Promise<boolean>;
}

/** The options of the handler that shape a file's answer. */
export interface FileOptions extends ServingRules {
  readonly precompressed: boolean;
  readonly cacheControl?: string | ((urlPath: string) => string | undefined) | undefined;
  readonly maxRanges: number;
  readonly cacheMaxFileSize: number;
}

/** One file's answer, as asked for. */
export interface FileRequest {
  readonly resolver: FileResolver;
  readonly root: Root;
  readonly found: FoundFile;
  /** The URL path's segments (for the content type and `cacheControl`). */
  readonly segments: readonly string[];
  readonly head: boolean;
  /** The read stream of one range (both ends inclusive) over an open file. */
  readonly readRange: (handle: FileHandle, start: number, end: number) => Readable;
  /** True when the cached bytes may go out without `copyfile()` (it is not overridden). */
  readonly mayEndFromMemory: boolean;
}

interface Representation {
  readonly file: FoundFile;
  readonly coding: PrecompressedCoding | undefined;
}

/** Picks the representation: a precompressed sibling the client accepts, else the file itself. */
function selectRepresentation(
  handler: FileResponder,
  request: FileRequest,
  options: FileOptions,
): Representation | Promise<Representation> {
  const file = request.found;
  if (!options.precompressed) return { file, coding: undefined };
  const codings = acceptableCodings(handler.headers.get('accept-encoding'));
  // No coding acceptable (a client without Accept-Encoding): nothing to look up.
  if (codings.length === 0) return { file, coding: undefined };
  const next = (index: number): Representation | Promise<Representation> => {
    const coding = codings[index];
    if (coding === undefined) return { file, coding: undefined };
    const resolving = request.resolver.resolve(request.root, file.key + coding.suffix, options);
    const pick = (sibling: Resolved) =>
      sibling.kind === 'file' ? { file: sibling, coding } : next(index + 1);
    return resolving instanceof Promise ? resolving.then(pick) : pick(resolving);
  };
  return next(0);
}

/** The one range of a whole file. */
function wholeFile(size: number): readonly ByteRange[] {
  return [{ start: 0, end: size - 1 }];
}

function isConditional(handler: FileResponder): boolean {
  const headers = handler.headers;
  return (
    headers.has('if-match') ||
    headers.has('if-none-match') ||
    headers.has('if-modified-since') ||
    headers.has('if-unmodified-since')
  );
}

/**
 * Sends the answer for one file (Python's `send_head` and `copyfile` for a file). Returns a promise
 * only when it has to wait (a sibling to look up, a file to read or stream): a cached file is answered
 * before it returns.
 */
export function sendFile(
  handler: FileResponder,
  request: FileRequest,
  options: FileOptions,
): void | Promise<void> {
  const selecting = selectRepresentation(handler, request, options);
  if (selecting instanceof Promise)
    return selecting.then((chosen) => sendRepresentation(handler, request, options, chosen));
  return sendRepresentation(handler, request, options, selecting);
}

function sendRepresentation(
  handler: FileResponder,
  request: FileRequest,
  options: FileOptions,
  chosen: Representation,
): void | Promise<void> {
  const file = chosen.file;
  if (file.cached !== undefined || file.stat.size > BigInt(options.cacheMaxFileSize)) {
    return answer(handler, request, options, chosen, file.cached);
  }
  return request.resolver
    .load(file, (ms) => handler.dateTimeString(ms))
    .then((cached) => answer(handler, request, options, chosen, cached));
}

function answer(
  handler: FileResponder,
  request: FileRequest,
  options: FileOptions,
  { file, coding }: Representation,
  cached: CachedFile | undefined,
): void | Promise<void> {
  const { segments, head } = request;
  const contentType = handler.guessType(segments[segments.length - 1] ?? '');
  const stat = file.stat;
  const size = cached ? cached.body.length : Number(stat.size);
  const etag = cached ? cached.etag : makeETag(stat);
  const modified = cached ? cached.lastModified : lastModifiedMs(stat);
  const cacheControl =
    typeof options.cacheControl === 'function'
      ? options.cacheControl(`/${segments.join('/')}`)
      : options.cacheControl;

  const validators: Validators = { etag, modified, cached, cacheControl, vary: options.precompressed };

  const headers = handler.headers;
  const precondition = !isConditional(handler)
    ? 'proceed'
    : evaluatePreconditions(
        {
          'if-match': headers.get('if-match'),
          'if-none-match': headers.get('if-none-match'),
          'if-modified-since': headers.get('if-modified-since'),
          'if-unmodified-since': headers.get('if-unmodified-since'),
          'cache-control': headers.get('cache-control'),
        },
        etag,
        modified,
      );
  if (precondition === 'failed') {
    handler.sendError(412);
    return;
  }
  if (precondition === 'not-modified') {
    handler.sendResponse(304);
    sendValidators(handler, validators);
    handler.endHeaders();
    return;
  }

  let ranges: readonly ByteRange[] | undefined;
  const rangeHeader = headers.get('range');
  if (!head && rangeHeader !== undefined && isIfRangeSatisfied(headers.get('if-range'), etag, modified)) {
    const result = resolveRanges(rangeHeader, size, options.maxRanges);
    if (result.kind === 'unsatisfiable') {
      handler.sendResponse(416);
      handler.replaceHeader('Content-Range', `bytes */${size}`);
      handler.replaceHeader('Content-Length', '0');
      sendValidators(handler, validators);
      handler.endHeaders();
      return;
    }
    if (result.kind === 'partial') ranges = result.ranges;
  }

  if (ranges === undefined) {
    handler.sendResponse(200);
    sendRepresentationHeaders(handler, contentType, cached ? cached.contentLength : size, coding, validators);
    if (head) return;
    return sendBody(handler, request, file, cached, wholeFile(size), undefined);
  }

  if (ranges.length === 1) {
    const range = ranges[0]!;
    handler.sendResponse(206);
    handler.replaceHeader('Content-Range', contentRange(range, size));
    sendRepresentationHeaders(handler, contentType, range.end - range.start + 1, coding, validators);
    return sendBody(handler, request, file, cached, ranges, undefined);
  }

  const boundary = randomBytes(12).toString('hex');
  const partHeads = ranges.map(
    (range, index) =>
      `${index === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${contentType}\r\n` +
      `Content-Range: ${contentRange(range, size)}\r\n\r\n`,
  );
  const tail = `\r\n--${boundary}--\r\n`;
  let length = Buffer.byteLength(tail);
  for (let index = 0; index < ranges.length; index++) {
    length += Buffer.byteLength(partHeads[index]!) + ranges[index]!.end - ranges[index]!.start + 1;
  }
  handler.sendResponse(206);
  sendRepresentationHeaders(
    handler,
    `multipart/byteranges; boundary=${boundary}`,
    length,
    coding,
    validators,
  );
  return sendBody(handler, request, file, cached, ranges, { heads: partHeads, tail });
}

/** What the validator headers of an answer are made of. */
interface Validators {
  readonly etag: string;
  readonly modified: number;
  readonly cached: CachedFile | undefined;
  readonly cacheControl: string | undefined;
  /** Whether the answer depends on `Accept-Encoding` (precompressed siblings are on). */
  readonly vary: boolean;
}

// Headers computed from the file go out with replaceHeader(): they replace any configured extra
// header of the same name instead of repeating it.
function sendValidators(handler: FileResponder, validators: Validators): void {
  const { cached, cacheControl } = validators;
  handler.replaceHeader('ETag', validators.etag);
  handler.replaceHeader(
    'Last-Modified',
    cached ? cached.httpDate : handler.dateTimeString(validators.modified),
  );
  if (cacheControl !== undefined) handler.sendHeader('Cache-Control', cacheControl);
  if (validators.vary) handler.replaceHeader('Vary', 'Accept-Encoding');
}

function sendRepresentationHeaders(
  handler: FileResponder,
  type: string,
  length: number | string,
  coding: PrecompressedCoding | undefined,
  validators: Validators,
): void {
  handler.replaceHeader('Content-Type', type);
  handler.replaceHeader('Content-Length', typeof length === 'string' ? length : String(length));
  if (coding) handler.replaceHeader('Content-Encoding', coding.coding);
  handler.replaceHeader('Accept-Ranges', 'bytes');
  sendValidators(handler, validators);
  handler.endHeaders();
}

/** The body: from memory in one write (unless `copyfile()` is overridden), else streamed. */
function sendBody(
  handler: FileResponder,
  request: FileRequest,
  file: FoundFile,
  cached: CachedFile | undefined,
  ranges: readonly ByteRange[],
  multipart: { heads: readonly string[]; tail: string } | undefined,
): void | Promise<void> {
  if (cached && request.mayEndFromMemory) {
    const body = cached.body;
    if (!multipart) {
      const range = ranges[0]!;
      void handler.wfile.end(
        range.start === 0 && range.end === body.length - 1 ? body : body.subarray(range.start, range.end + 1),
      );
      return;
    }
    const parts: Buffer[] = [];
    ranges.forEach((range, index) => {
      parts.push(Buffer.from(multipart.heads[index]!), body.subarray(range.start, range.end + 1));
    });
    parts.push(Buffer.from(multipart.tail));
    void handler.wfile.end(Buffer.concat(parts));
    return;
  }
  return streamRanges(handler, request, file, ranges, multipart);
}

/**
 * Streams ranges of a file through `copyfile()`, with backpressure; a client that goes away stops the
 * read at once (the read stream is destroyed and the descriptor closed).
 */
async function streamRanges(
  handler: FileResponder,
  request: FileRequest,
  file: FoundFile,
  ranges: readonly ByteRange[],
  multipart: { heads: readonly string[]; tail: string } | undefined,
): Promise<void> {
  const wfile = handler.wfile;
  let handle: FileHandle;
  try {
    handle = await fsp.open(file.path, 'r');
  } catch (error) {
    wfile.destroy(error as Error);
    return;
  }
  try {
    const stat = await handle.stat({ bigint: true });
    if (stat.ino !== file.stat.ino || stat.dev !== file.stat.dev) {
      wfile.destroy();
      return;
    }
    for (let index = 0; index < ranges.length; index++) {
      if (wfile.closed) return;
      if (multipart) wfile.tryWrite(multipart.heads[index]!);
      const range = ranges[index]!;
      if (range.end >= range.start) {
        const stream = request.readRange(handle, range.start, range.end);
        if (!(await handler.copyfile(stream, wfile))) return;
      }
    }
    void wfile.end(multipart?.tail);
  } finally {
    await handle.close().catch(() => {});
  }
}
