/**
 * `@srv/core/internal`: plumbing the sibling srv packages (@srv/concurrency, @srv/http, @srv/timeproto)
 * and the commands share. Not public API: it changes with them, without a major version. Applications use `@srv/core`.
 */
export { displayHost } from './address.js';
export { createAttachedServer } from './attach.js';
export { resolveDispatcher } from './dispatcher.js';
export { isHandlerClass, runHandler } from './handler.js';
export { connectionInfoOf, wrapTls } from './listener.js';
export {
  printStartFailureOnce,
  relayStartFailure,
  type ServeCommandOptions,
  type ServedServer,
  type ServeUntilStoppedOptions,
  serveCommand,
  serveUntilStopped,
} from './serving.js';
export { loadModuleRef, type ModuleRef, resolveModuleRef, type WorkerServerSpec } from './worker-spec.js';
export {
  type RunWorkersOptions,
  resolveWorkerCount,
  runWorkers,
  type WorkerContext,
  type WorkerServer,
} from './workers.js';
