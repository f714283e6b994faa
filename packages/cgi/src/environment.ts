import { isIP } from 'node:net';

/** A socket end as the environment needs it. */
export interface EndpointInfo {
  readonly host: string;
  readonly port: number;
}

/** What {@link buildEnvironment} needs to know about one request. */
export interface CgiRequest {
  /** `REQUEST_METHOD`. */
  readonly method: string;
  /** The request target exactly as received: `REQUEST_URI`. */
  readonly target: string;
  /** The raw query (no `?`): `QUERY_STRING`. */
  readonly query: string;
  /** `SERVER_PROTOCOL`, e.g. `HTTP/1.1`. */
  readonly protocol: string;
  /** `SCRIPT_NAME`. */
  readonly scriptName: string;
  /** `SCRIPT_FILENAME`. */
  readonly scriptFilename: string;
  /** `PATH_INFO` (decoded); `''` when none. */
  readonly pathInfo: string;
  /** `PATH_TRANSLATED`; only used when `pathInfo` is not empty. */
  readonly pathTranslated?: string;
  /** Request headers as `[name, value, name, value, …]` (Node's `rawHeaders`). */
  readonly rawHeaders: readonly string[];
  /** The server's end of the connection: `SERVER_PORT`, and `SERVER_NAME` without a usable Host. */
  readonly local: EndpointInfo;
  /** The client's end: `REMOTE_ADDR`, `REMOTE_PORT`. */
  readonly remote: EndpointInfo;
  /** True over TLS: `HTTPS=on`. */
  readonly tls: boolean;
  /** The Server header's value: `SERVER_SOFTWARE`. */
  readonly serverSoftware: string;
  /** The body handed to the script, when there is one: `CONTENT_LENGTH` (and `CONTENT_TYPE`). */
  readonly body?: { readonly length: number };
  /** Set only when the server itself authenticated the client: `AUTH_TYPE`, `REMOTE_USER`. */
  readonly auth?: { readonly type: string; readonly user: string };
}

/** Which parts of the server's own environment reach scripts. */
export interface CgiEnvironmentOptions {
  /** Names copied from `baseEnv` besides `PATH` and `LD_LIBRARY_PATH`. Default none. */
  readonly inheritEnv?: readonly string[];
  /** Variables set explicitly; they override everything else. */
  readonly env?: Readonly<Record<string, string>>;
  /** Pass `Authorization` / `Proxy-Authorization` as `HTTP_*`. Default false: credentials stay with the server. */
  readonly passAuthorization?: boolean;
  /** The environment to inherit from. Default `process.env`. */
  readonly baseEnv?: Readonly<Record<string, string | undefined>>;
}

/** Used when the server has no `PATH` of its own. */
export const defaultPath = '/usr/local/bin:/usr/bin:/bin';

// RFC 9110 token characters minus `_`: a header spelled `X_Forwarded_For` would map to the same
// HTTP_X_FORWARDED_FOR as `X-Forwarded-For` and spoof it, so such names are dropped (as nginx and Apache do).
const safeHeaderName = /^[A-Za-z0-9-]+$/;

// Headers that become meta-variables of their own, or describe framing the script never sees.
const notPassed = new Set(['content-type', 'content-length', 'transfer-encoding']);
const credentialHeaders = new Set(['authorization', 'proxy-authorization']);

const hostName = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\.?$/;

/**
 * `SERVER_NAME`: the Host header without its port (an IPv6 literal keeps its brackets); the local
 * address when Host is absent or not a plausible host name.
 */
export function serverNameOf(host: string | undefined, local: EndpointInfo): string {
  if (host !== undefined) {
    const bracketed = /^(\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.exec(host);
    if (bracketed && isIP(bracketed[1]!.slice(1, -1)) === 6) return bracketed[1]!;
    const plain = /^([^:]+)(?::\d{1,5})?$/.exec(host);
    if (plain && hostName.test(plain[1]!)) return plain[1]!;
  }
  return isIP(local.host) === 6 ? `[${local.host}]` : local.host;
}

/**
 * `HTTP_*` variables from the request headers: names upper-cased with `-` → `_`, repeated fields merged
 * (`, `, or `; ` for Cookie). `Proxy` never becomes `HTTP_PROXY` (httpoxy, CVE-2016-5385), names with
 * characters outside `[A-Za-z0-9-]` are dropped, and credentials are passed only when asked.
 */
export function headerVariables(
  rawHeaders: readonly string[],
  passAuthorization = false,
): Record<string, string> {
  const merged = new Map<string, string[]>();
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    const name = rawHeaders[index]!;
    const lower = name.toLowerCase();
    if (!safeHeaderName.test(name) || lower === 'proxy' || notPassed.has(lower)) continue;
    if (credentialHeaders.has(lower) && !passAuthorization) continue;
    const values = merged.get(lower);
    if (values) values.push(rawHeaders[index + 1]!);
    else merged.set(lower, [rawHeaders[index + 1]!]);
  }
  const variables: Record<string, string> = {};
  for (const [lower, values] of merged) {
    variables[`HTTP_${lower.toUpperCase().replace(/-/g, '_')}`] = values.join(
      lower === 'cookie' ? '; ' : ', ',
    );
  }
  return variables;
}

function headerValue(rawHeaders: readonly string[], wanted: string): string | undefined {
  const values: string[] = [];
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    if (rawHeaders[index]!.toLowerCase() === wanted) values.push(rawHeaders[index + 1]!);
  }
  return values.length === 0 ? undefined : values.join(', ');
}

/**
 * The complete environment of a CGI script (RFC 3875 §4.1). From the server's own environment only
 * `PATH`, `LD_LIBRARY_PATH` and the names in `inheritEnv` are copied — never the whole of it, which
 * would hand every script the server's secrets; `env` entries are applied last and win.
 */
export function buildEnvironment(
  request: CgiRequest,
  options: CgiEnvironmentOptions = {},
): Record<string, string> {
  const base = options.baseEnv ?? process.env;
  const environment: Record<string, string> = {};
  for (const name of ['PATH', 'LD_LIBRARY_PATH', ...(options.inheritEnv ?? [])]) {
    const value = base[name];
    if (value !== undefined) environment[name] = value;
  }
  environment.PATH ??= defaultPath;
  Object.assign(environment, headerVariables(request.rawHeaders, options.passAuthorization));
  environment.GATEWAY_INTERFACE = 'CGI/1.1';
  environment.SERVER_SOFTWARE = request.serverSoftware;
  environment.SERVER_NAME = serverNameOf(headerValue(request.rawHeaders, 'host'), request.local);
  environment.SERVER_PORT = String(request.local.port);
  environment.SERVER_PROTOCOL = request.protocol;
  environment.REQUEST_METHOD = request.method;
  environment.REQUEST_URI = request.target;
  environment.SCRIPT_NAME = request.scriptName;
  environment.SCRIPT_FILENAME = request.scriptFilename;
  environment.PATH_INFO = request.pathInfo;
  if (request.pathInfo !== '' && request.pathTranslated !== undefined) {
    environment.PATH_TRANSLATED = request.pathTranslated;
  }
  environment.QUERY_STRING = request.query;
  environment.REMOTE_ADDR = request.remote.host;
  environment.REMOTE_PORT = String(request.remote.port);
  if (request.body !== undefined) {
    environment.CONTENT_LENGTH = String(request.body.length);
    const contentType = headerValue(request.rawHeaders, 'content-type');
    if (contentType !== undefined) environment.CONTENT_TYPE = contentType;
  }
  if (request.tls) environment.HTTPS = 'on';
  if (request.auth !== undefined) {
    environment.AUTH_TYPE = request.auth.type;
    environment.REMOTE_USER = request.auth.user;
  }
  if (options.env) Object.assign(environment, options.env);
  return environment;
}
