import { formatAddress } from './address.js';
import type { Dispatcher } from './dispatcher.js';
import type { Logger } from './logger.js';
import type { BaseServer } from './server.js';
import type { BaseServerOptions } from './server-options.js';
import { loadModuleRef, type WorkerServerSpec } from './worker-spec.js';

type ServerConstructor = new (
  address: string,
  handler: unknown,
  options: BaseServerOptions,
) => BaseServer<unknown>;

/**
 * Rebuilds, inside a worker thread or child process, the server a primary described with
 * `describeForWorker()`: same class, handler and options, in attach mode (it binds nothing; the
 * worker hands it connections with `attach()` and datagrams with `attachDatagram()`).
 */
export async function createAttachedServer(
  spec: WorkerServerSpec,
  overrides: { dispatcher?: 'serial' | 'async' | Dispatcher; logger?: Logger } = {},
): Promise<BaseServer<unknown>> {
  const [ServerClass, handler] = await Promise.all([
    loadModuleRef<ServerConstructor>(spec.server),
    loadModuleRef<unknown>(spec.handler),
  ]);
  const address = spec.address.family === 'unix' ? `unix:${spec.address.host}` : formatAddress(spec.address);
  const server = new ServerClass(address, handler, {
    ...(spec.options as BaseServerOptions),
    ...overrides,
    attach: true,
  });
  await server.ready;
  return server;
}
