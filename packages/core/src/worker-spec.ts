import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import type { SocketAddress } from './address.js';
import { createError } from './errors.js';
import { isHandlerClass } from './handler.js';

/** How long importing the running script may take before it counts as waiting for itself. */
const selfImportGraceMs = 100;

/** URL of the script Node was started with (what its `import.meta.url` says), if any. */
function entryUrl(): string | undefined {
  const script = process.argv[1];
  if (!isMainThread || script === undefined) return undefined;
  try {
    return pathToFileURL(realpathSync(script)).href;
  } catch {
    return undefined;
  }
}

/**
 * Imports `url`. When it is the running script, an import that has not settled at once means the
 * script is still evaluating — awaiting, at its top level, the very server that asks (the @srv/static
 * README's "Python's way" shape without `handlerExport`): that import would never settle, and the
 * server would accept connections and answer none without a word. Fail instead, saying what to do.
 */
async function importHandlerModule(url: string): Promise<Record<string, unknown>> {
  const imported = import(url) as Promise<Record<string, unknown>>;
  if (url !== entryUrl()) return imported;
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), selfImportGraceMs);
  });
  try {
    const namespace = await Promise.race([imported, stuck]);
    if (namespace !== undefined) return namespace;
  } finally {
    clearTimeout(timer);
  }
  imported.catch(() => {});
  throw createError(
    'SRV_ERR_HANDLER_IMPORTS_ITSELF',
    `handlerModule ${url} is the script that is starting this server: finding the handler in it would import the script, which is still waiting for this server at its top level. Set handlerExport to the name the handler is exported as (or give the class static moduleUrl and exportName)`,
  );
}

/** Where to import a class or function from in another thread or process. */
export interface ModuleRef {
  /** URL of the built JavaScript module (usually `import.meta.url` of the defining file). */
  readonly url: string;
  /** The export's name in that module. */
  readonly exportName: string;
}

/** Everything a worker needs to rebuild a server in attach mode: all of it structured-cloneable. */
export interface WorkerServerSpec {
  readonly server: ModuleRef;
  readonly handler: ModuleRef;
  readonly handlerIsClass: boolean;
  /** The primary's bound address, reported by the worker's server. */
  readonly address: SocketAddress;
  /** The server's cloneable options (`workerData` among them). */
  readonly options: Readonly<Record<string, unknown>>;
  /**
   * The primary logs with the default stderr logger: a worker may write its lines to the same stderr
   * itself (a child inherits the descriptor) instead of sending each one to the primary.
   */
  readonly logsToStderr?: boolean;
}

interface Referable {
  moduleUrl?: unknown;
  exportName?: unknown;
}

function toUrl(value: string | URL): string {
  return value instanceof URL ? value.href : value;
}

/**
 * Finds the module reference of a handler: the explicit `handlerModule`/`handlerExport`, or a class's
 * own static `moduleUrl`/`exportName` (library handlers define them). Without an export name, the
 * module is imported and searched for the very value.
 */
export async function resolveModuleRef(
  value: unknown,
  moduleUrl: string | URL | undefined,
  exportName: string | undefined,
  what: string,
): Promise<ModuleRef> {
  const own = value as Referable;
  if (moduleUrl === undefined) {
    if (
      typeof value === 'function' &&
      Object.hasOwn(value, 'moduleUrl') &&
      typeof own.moduleUrl === 'string' &&
      typeof own.exportName === 'string'
    ) {
      return { url: own.moduleUrl, exportName: own.exportName };
    }
    throw createError(
      'SRV_ERR_INVALID_HANDLER',
      `a ${what} that runs in a worker must be loadable there: pass handlerModule (import.meta.url of the built module that exports it)`,
    );
  }
  const url = toUrl(moduleUrl);
  if (exportName !== undefined) return { url, exportName };
  let namespace: Record<string, unknown>;
  try {
    namespace = await importHandlerModule(url);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'SRV_ERR_HANDLER_IMPORTS_ITSELF') throw error;
    throw createError('SRV_ERR_INVALID_HANDLER', `cannot import handlerModule ${url}`, { cause: error });
  }
  for (const [name, exported] of Object.entries(namespace)) {
    if (exported === value) return { url, exportName: name };
  }
  throw createError('SRV_ERR_INVALID_HANDLER', `${url} does not export this ${what}; set handlerExport`);
}

/** Imports the value a {@link ModuleRef} names. */
export async function loadModuleRef<T = unknown>(ref: ModuleRef): Promise<T> {
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(ref.url)) as Record<string, unknown>;
  } catch (error) {
    throw createError('SRV_ERR_INVALID_HANDLER', `cannot import ${ref.url}`, { cause: error });
  }
  if (!(ref.exportName in namespace)) {
    throw createError('SRV_ERR_INVALID_HANDLER', `${ref.url} has no export named ${ref.exportName}`);
  }
  return namespace[ref.exportName] as T;
}

// Options that cannot (or must not) cross to a worker.
const localOnlyOptions = new Set(['dispatcher', 'signal', 'logger', 'attach', 'bindAndActivate']);

/** What {@link describeServerForWorker} reads of a server. */
export interface DescribableServer {
  readonly RequestHandlerClass: unknown;
  readonly options: Readonly<{ handlerModule?: string | URL; handlerExport?: string }>;
  readonly address: SocketAddress;
}

/**
 * A server's {@link WorkerServerSpec}: module references for its class (the nearest class from
 * `server`'s own up to `base` with its own `moduleUrl` and `exportName`) and its handler, the bound
 * address, and the cloneable options.
 */
export async function describeServerForWorker(
  server: DescribableServer,
  base: unknown,
  logsToStderr: boolean,
): Promise<WorkerServerSpec> {
  const handler = await resolveModuleRef(
    server.RequestHandlerClass,
    server.options.handlerModule,
    server.options.handlerExport,
    'handler',
  );
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(server.options)) {
    if (localOnlyOptions.has(key) || typeof value === 'function' || value === undefined) continue;
    // Node >= 22 refuses to clone URL objects (DataCloneError); `handlerModule` is often one.
    options[key] = value instanceof URL ? value.href : value;
  }
  return {
    server: findServerModule(server.constructor, base),
    handler,
    handlerIsClass: isHandlerClass(server.RequestHandlerClass),
    address: server.address,
    options,
    logsToStderr,
  };
}

function findServerModule(ctor: unknown, base: unknown): ModuleRef {
  let current = ctor as Referable | null;
  while (current && current !== base) {
    if (
      Object.hasOwn(current, 'moduleUrl') &&
      Object.hasOwn(current, 'exportName') &&
      typeof current.moduleUrl === 'string' &&
      typeof current.exportName === 'string'
    ) {
      return { url: current.moduleUrl, exportName: current.exportName };
    }
    current = Object.getPrototypeOf(current) as Referable | null;
  }
  throw createError('SRV_ERR_INVALID_HANDLER', 'this server class has no module reference for workers');
}
