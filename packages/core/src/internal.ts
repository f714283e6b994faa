/**
 * `@srv/core/internal`: plumbing the srv commands share. Not public API: it may change in any
 * release without notice; applications use the documented recipes (docs/deploy.md) instead.
 */
export {
  type RunWorkersOptions,
  resolveWorkerCount,
  runWorkers,
  type WorkerContext,
  type WorkerServer,
} from './workers.js';
