export { type ConcurrencyErrorCode, concurrencyErrorCodes } from './errors.js';
export { ForkingDispatcher, type ForkingOptions, forking } from './forking.js';
export {
  ForkingMixIn,
  ForkingTCPServer,
  ForkingUDPServer,
  ForkingUnixStreamServer,
  type ServerClass,
  ThreadingMixIn,
  ThreadingTCPServer,
  ThreadingUDPServer,
  ThreadingUnixStreamServer,
} from './mixins.js';
export { currentThreadName, isPrimary, isWorker } from './names.js';
export { ThreadingDispatcher, type ThreadingOptions, threading } from './threading.js';
