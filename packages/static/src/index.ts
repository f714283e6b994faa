export {
  createStaticError,
  StaticError,
  type StaticErrorCode,
  type StaticErrorOptions,
  staticErrorCodes,
} from './errors.js';
export { type SimpleHTTPOptions, SimpleHTTPRequestHandler } from './handler.js';
export type { ListingJsonEntry } from './listing.js';
export { isHiddenPath, isInsideRoot, parseRequestPath, type RequestPath } from './path.js';
export {
  parseStaticArgs,
  runStaticCli,
  type StaticCliArgs,
  type StaticCliOptions,
  staticUsage,
} from './run.js';
