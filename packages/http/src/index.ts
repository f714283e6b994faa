export { type HttpErrorCode, httpErrorCodes } from './errors.js';
export {
  defaultErrorMessageFormat,
  type HTTPExchange,
  type HTTPHandlerClass,
  type HTTPHandlerStatics,
  type ProtocolVersion,
} from './exchange.js';
export { escapeHtml } from './format.js';
export { BaseHTTPRequestHandler } from './handler.js';
export { HTTPHeaders } from './headers.js';
export { ForkingHTTPServer, ThreadingHTTPServer } from './mixins.js';
export { HTTPServer, type HTTPServerOptions, HTTPSServer } from './server.js';
export { responses } from './status.js';
