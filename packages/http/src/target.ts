/**
 * What srv reads of a connection and a request target before a handler sees them: the first chunk
 * (for the 414/431 distinction) and an absolute-form target turned into origin form.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Problem } from './diagnose.js';

/**
 * Waits for a connection's first bytes (undefined when it closes first) and leaves the stream paused.
 * Knowing whether they hold a line break tells a request line that overflows the parser (414) from a
 * header that does (431); llhttp's error only shows the chunk it failed in.
 */
export function peekFirstChunk(socket: Duplex): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const onData = (chunk: Buffer | string) => {
      cleanup();
      socket.pause();
      resolve(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(undefined);
    };
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onEnd);
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onEnd);
  });
}

/**
 * RFC 9112 §6.3: a request with neither `Content-Length` nor `Transfer-Encoding` has no body, so no
 * byte after its head belongs to it (for HTTP/1.1, Node has built `headers` already, for its `Expect` check).
 */
export function hasNoBody(req: IncomingMessage): boolean {
  const headers = req.headers;
  return headers['content-length'] === undefined && headers['transfer-encoding'] === undefined;
}

/**
 * `HTTP/x.y` from the parsed numbers: Node builds `req.httpVersion` anew per request, and a string
 * made at run time costs a string-table look-up each time it is used as a property key.
 */
export function versionName(req: IncomingMessage): string {
  if (req.httpVersionMajor === 1) {
    if (req.httpVersionMinor === 1) return 'HTTP/1.1';
    if (req.httpVersionMinor === 0) return 'HTTP/1.0';
  }
  return `HTTP/${req.httpVersion}`;
}

const absoluteTarget = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/s;
const authorityForm = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(?::\d{0,5})?$/;

/**
 * RFC 9112 §3.2.2: an absolute-form target (`GET http://host/a.txt?q HTTP/1.1`, what proxies send) is
 * served as its path and query, and its authority replaces any `Host` (§7.2: the target wins). The
 * path is kept byte for byte (no URL normalisation), so every later check sees what was sent.
 * Returns the 400 for a target that is not an http(s) URL with a plain authority.
 */
export function rewriteAbsoluteTarget(req: IncomingMessage): Problem | undefined {
  const target = req.url ?? '';
  if (target.charCodeAt(0) === 0x2f || target === '*' || req.method === 'CONNECT') return undefined;
  const match = absoluteTarget.exec(target);
  if (!match) return undefined;
  const scheme = match[1]!.toLowerCase();
  const authority = match[2]!;
  if ((scheme !== 'http' && scheme !== 'https') || !authorityForm.test(authority)) {
    return { code: 400, message: 'Bad Request', explain: 'The absolute-form target is not an http(s) URL' };
  }
  const rest = match[3]!;
  req.url = rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest;
  const raw: string[] = [];
  const source = req.rawHeaders;
  for (let index = 0; index + 1 < source.length; index += 2) {
    if (source[index]!.toLowerCase() !== 'host') raw.push(source[index]!, source[index + 1]!);
  }
  raw.push('Host', authority);
  req.rawHeaders = raw;
  req.headers.host = authority;
  return undefined;
}
