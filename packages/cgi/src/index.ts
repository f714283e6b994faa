export {
  buildEnvironment,
  type CgiEnvironmentOptions,
  type CgiRequest,
  type EndpointInfo,
  headerVariables,
  serverNameOf,
} from './environment.js';
export {
  CgiError,
  type CgiErrorCode,
  type CgiErrorOptions,
  cgiErrorCodes,
  cgiErrorStatus,
} from './errors.js';
export { CGIHTTPRequestHandler, type CGIOptions } from './handler.js';
export {
  collapsePath,
  type DecodedTarget,
  decodeTarget,
  matchCgiDirectory,
  type ResolvedScript,
  resolveScript,
} from './path.js';
export type { ScriptLauncherKind } from './process.js';
export { classifyResponse, parseHeaderBlock, type ResponseKind, type ScriptHeaders } from './response.js';
