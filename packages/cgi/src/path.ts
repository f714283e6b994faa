import { type BigIntStats, constants } from 'node:fs';
import { lstat, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { createCgiError } from './errors.js';

/** A request target split into its decoded, collapsed path and its raw query. */
export interface DecodedTarget {
  /** The path, percent-decoded once and with `.`/`..`/empty segments collapsed; always starts with `/`. */
  readonly path: string;
  /** The query exactly as received, without the `?`; `''` when absent. */
  readonly query: string;
}

/**
 * Collapses `.`, `..` and empty segments of an already decoded path, clamping `..` at the root
 * (Python's `_url_collapse_path`). A trailing slash survives, so `/cgi-bin/` stays a directory.
 */
export function collapsePath(decodedPath: string): string {
  const parts = decodedPath.split('/');
  const tail = parts.pop() ?? '';
  const head: string[] = [];
  for (const part of parts) {
    if (part === '..') head.pop();
    else if (part !== '' && part !== '.') head.push(part);
  }
  let last = tail;
  if (tail === '..') {
    head.pop();
    last = '';
  } else if (tail === '.') {
    last = '';
  }
  return `/${head.join('/')}${head.length > 0 ? '/' : ''}${last}`;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * Percent-decodes a raw path once into UTF-8 text. llhttp hands bytes ≥ 0x80 through as Latin-1
 * characters, so raw and encoded UTF-8 are both read as bytes first; invalid UTF-8 (an overlong
 * `%c0%ae` is how `..` was once smuggled past IIS) or malformed escapes are a 400.
 */
export function decodePercent(raw: string): string {
  const bytes = Buffer.allocUnsafe(raw.length);
  let length = 0;
  for (let index = 0; index < raw.length; index += 1) {
    const code = raw.charCodeAt(index);
    if (code === 0x25) {
      const high = hexValue(raw.charCodeAt(index + 1));
      const low = hexValue(raw.charCodeAt(index + 2));
      if (high < 0 || low < 0) {
        throw createCgiError('SRV_ERR_CGI_BAD_REQUEST', 'malformed percent-encoding in the request path');
      }
      bytes[length++] = high * 16 + low;
      index += 2;
    } else if (code > 0xff) {
      throw createCgiError('SRV_ERR_CGI_BAD_REQUEST', 'non-byte character in the request path');
    } else {
      bytes[length++] = code;
    }
  }
  try {
    return utf8.decode(bytes.subarray(0, length));
  } catch (cause) {
    throw createCgiError('SRV_ERR_CGI_BAD_REQUEST', 'request path is not valid UTF-8', { cause });
  }
}

/** True when `text` holds a C0 control character or DEL. */
function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * Decodes a request target once and collapses its path. Decoding happens before collapsing, so an
 * encoded `%2e%2e` or `%2f` cannot hide a `..` from the collapse (the traversal Python's CGI handler
 * once fell to). A NUL (raw or `%00`) anywhere, a control character in the decoded path (`%0a`, `%1b`),
 * or malformed percent-encoding, is a 400.
 */
export function decodeTarget(target: string): DecodedTarget {
  const queryAt = target.indexOf('?');
  const rawPath = queryAt === -1 ? target : target.slice(0, queryAt);
  const query = queryAt === -1 ? '' : target.slice(queryAt + 1);
  let withoutFragment = rawPath;
  const hashAt = withoutFragment.indexOf('#');
  if (hashAt !== -1) withoutFragment = withoutFragment.slice(0, hashAt);
  if (target.includes('\0') || /%00/i.test(target)) {
    throw createCgiError('SRV_ERR_CGI_BAD_REQUEST', 'NUL byte in the request target');
  }
  let decoded = decodePercent(withoutFragment);
  // PATH_INFO goes into a script's environment and, echoed, into its output and logs: a decoded LF or
  // ESC there is header or terminal injection waiting to happen. srv-static refuses them the same way.
  if (hasControlCharacter(decoded)) {
    throw createCgiError('SRV_ERR_CGI_BAD_REQUEST', 'control character in the request path');
  }
  if (!decoded.startsWith('/')) decoded = `/${decoded}`;
  return { path: collapsePath(decoded), query };
}

/**
 * The CGI directory a collapsed path lies in, and the rest of the path after it; `undefined` when the
 * path is not under any. The longest directory wins, so nested CGI directories can be configured.
 */
export function matchCgiDirectory(
  collapsedPath: string,
  cgiDirectories: readonly string[],
): { directory: string; rest: string } | undefined {
  let best: string | undefined;
  for (const raw of cgiDirectories) {
    const directory = normalizeCgiDirectory(raw);
    if (collapsedPath === directory || collapsedPath.startsWith(`${directory}/`)) {
      if (best === undefined || directory.length > best.length) best = directory;
    }
  }
  if (best === undefined) return undefined;
  return { directory: best, rest: collapsedPath.slice(best.length + 1) };
}

/** `cgi-bin/` → `/cgi-bin`: one leading slash, none trailing, segments collapsed. */
export function normalizeCgiDirectory(directory: string): string {
  const collapsed = collapsePath(`/${directory}`);
  return collapsed.length > 1 && collapsed.endsWith('/') ? collapsed.slice(0, -1) : collapsed;
}

/** A script found on disk for a request. */
export interface ResolvedScript {
  /** The URL path of the script (`/cgi-bin/sub/env.sh`): `SCRIPT_NAME`. */
  readonly scriptName: string;
  /** The script's absolute real path: `SCRIPT_FILENAME`. */
  readonly scriptFilename: string;
  /** The decoded path after the script (`/a/b`), `''` when none: `PATH_INFO`. */
  readonly pathInfo: string;
  /** The script's directory (its real path): the child's working directory. */
  readonly directory: string;
  /** True when a permission bit allows executing the file. */
  readonly isExecutable: boolean;
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG' || code === 'ELOOP';
}

function isInside(child: string, parent: string): boolean {
  return child.startsWith(parent.endsWith(path.sep) ? parent : `${parent}${path.sep}`);
}

const executeBits = BigInt(constants.S_IXUSR | constants.S_IXGRP | constants.S_IXOTH);

/**
 * The identity of the file a script was found at, from bigint `lstat` and `stat` of its (unresolved)
 * path: both taken before the path was resolved, so any later change shows as a difference.
 */
export interface ScriptVersion {
  /** The unresolved path below the document root (`<root>/cgi-bin/hello.sh`). */
  readonly filePath: string;
  /** `lstat` of `filePath`: the link itself when it is one. */
  readonly link: BigIntStats;
  /** `stat` of `filePath`: the file it names. */
  readonly file: BigIntStats;
}

/**
 * Finds the script a collapsed CGI path names: walks the segments after the CGI directory from the
 * document root while they are directories; the first regular file is the script and the rest is
 * PATH_INFO. Missing → 404; a directory or anything but a regular file → 403; a file whose real path
 * (symlinks resolved) is not inside a CGI directory's real path → 403. A hidden segment (`.name`) is
 * a 404 unless `dotfiles` is set.
 */
export async function resolveScript(
  root: string,
  collapsedPath: string,
  cgiDirectories: readonly string[],
  options: { dotfiles?: boolean } = {},
): Promise<ResolvedScript> {
  return (await locateScript(root, collapsedPath, cgiDirectories, options)).script;
}

/** {@link resolveScript}, with the version of the file it found (for the resolution cache). */
export async function locateScript(
  root: string,
  collapsedPath: string,
  cgiDirectories: readonly string[],
  options: { dotfiles?: boolean } = {},
): Promise<{ script: ResolvedScript; version: ScriptVersion }> {
  const match = matchCgiDirectory(collapsedPath, cgiDirectories);
  if (match === undefined) {
    throw createCgiError('SRV_ERR_CGI_NOT_FOUND', `${collapsedPath} is not in a CGI directory`);
  }
  const segments = match.rest === '' ? [] : match.rest.split('/');
  // Hidden entries are not scripts: a `.git/hooks/*.sample` under cgi-bin is executable.
  if (!options.dotfiles && segments.some((segment) => segment.startsWith('.'))) {
    throw createCgiError('SRV_ERR_CGI_NOT_FOUND', `${collapsedPath} names a hidden file`);
  }
  let urlPath = match.directory;
  let filePath = path.join(root, ...match.directory.split('/'));
  let matchedReal: string;
  try {
    matchedReal = await realpath(filePath);
  } catch (cause) {
    if (isMissing(cause)) throw createCgiError('SRV_ERR_CGI_NOT_FOUND', `no CGI directory ${filePath}`);
    throw createCgiError('SRV_ERR_CGI_FORBIDDEN', `cannot read ${filePath}`, { cause });
  }
  let link: BigIntStats | undefined;
  let info: BigIntStats | undefined;
  let index = 0;
  while (info === undefined || info.isDirectory()) {
    const segment = segments[index];
    if (segment === undefined || segment === '') {
      throw createCgiError('SRV_ERR_CGI_FORBIDDEN', `${urlPath} is a directory`);
    }
    urlPath = `${urlPath}/${segment}`;
    filePath = path.join(filePath, segment);
    index += 1;
    try {
      // lstat first: a link swapped after it shows as a new link inode on the next request.
      link = await lstat(filePath, { bigint: true });
      info = link.isSymbolicLink() ? await stat(filePath, { bigint: true }) : link;
    } catch (cause) {
      if (isMissing(cause)) throw createCgiError('SRV_ERR_CGI_NOT_FOUND', `no script at ${filePath}`);
      throw createCgiError('SRV_ERR_CGI_FORBIDDEN', `cannot read ${filePath}`, { cause });
    }
  }
  if (!info.isFile()) throw createCgiError('SRV_ERR_CGI_FORBIDDEN', `${filePath} is not a regular file`);
  const real = await realpath(filePath);
  // The matched directory is the usual home; the others only matter for a symlink between them.
  if (!isInside(real, matchedReal)) {
    const allowed = await Promise.all(
      cgiDirectories.map((directory) =>
        realpath(path.join(root, ...normalizeCgiDirectory(directory).split('/'))).catch(() => undefined),
      ),
    );
    if (!allowed.some((directory) => directory !== undefined && isInside(real, directory))) {
      throw createCgiError(
        'SRV_ERR_CGI_FORBIDDEN',
        `${filePath} resolves to ${real}, outside the CGI directories`,
      );
    }
  }
  const rest = segments.slice(index);
  return {
    script: {
      scriptName: urlPath,
      scriptFilename: real,
      pathInfo: rest.length === 0 ? '' : `/${rest.join('/')}`,
      directory: path.dirname(real),
      isExecutable: (info.mode & executeBits) !== 0n,
    },
    version: { filePath, link: link!, file: info },
  };
}
