import { type BigIntStats, constants } from 'node:fs';
import { lstat, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { isHiddenPath, isInsideRoot, parseRequestPath, type RequestPath, StaticError } from '@srv/static';
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

/**
 * Decodes a request target with srv-static's one decoder ({@link parseRequestPath}: decode once, then
 * resolve dot segments clamped at the root), so a path means the same to the CGI host and to the file
 * server behind it: NUL, control characters, `\`, encoded separators (`%2f`, `%5c`), malformed
 * percent-encoding and invalid UTF-8 (the overlong `%c0%ae` that once smuggled `..` past IIS) are a
 * 400. Decoding before collapsing means an encoded `%2e%2e` cannot hide a `..` from the collapse (the
 * traversal Python's CGI handler once fell to). The query is kept raw; a NUL in it (it becomes
 * `QUERY_STRING`) is a 400 too.
 */
export function decodeTarget(target: string): DecodedTarget {
  let parsed: RequestPath;
  try {
    parsed = parseRequestPath(target);
  } catch (cause) {
    if (!(cause instanceof StaticError)) throw cause;
    throw createCgiError('SRV_ERR_CGI_BAD_REQUEST', cause.message, { cause });
  }
  const query = parsed.query.slice(1);
  if (query.includes('\0') || /%00/i.test(query)) {
    throw createCgiError('SRV_ERR_CGI_BAD_REQUEST', 'NUL byte in the request target');
  }
  const { segments } = parsed;
  const path = segments.length === 0 ? '/' : `/${segments.join('/')}${parsed.hasTrailingSlash ? '/' : ''}`;
  return { path, query };
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
  // Hidden entries are not scripts: a `.git/hooks/*.sample` under cgi-bin is executable. The rule is
  // srv-static's (isHiddenPath: `/.well-known/` is not hidden), over the whole path.
  if (!options.dotfiles && isHiddenPath(collapsedPath.split('/').filter((segment) => segment !== ''))) {
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
  if (!isInsideRoot(matchedReal, real)) {
    const allowed = await Promise.all(
      cgiDirectories.map((directory) =>
        realpath(path.join(root, ...normalizeCgiDirectory(directory).split('/'))).catch(() => undefined),
      ),
    );
    if (!allowed.some((directory) => directory !== undefined && isInsideRoot(directory, real))) {
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
