export {
  type AddressFamily,
  type AddressInput,
  formatAddress,
  formatUrl,
  type ListenAddress,
  listenFds,
  parseAddress,
  type SocketAddress,
} from './address.js';
export { createAttachedServer } from './attach.js';
export {
  AsyncDispatcher,
  type Dispatcher,
  type DispatcherName,
  resolveDispatcher,
  SerialDispatcher,
} from './dispatcher.js';
export { type CoreErrorCode, coreErrorCodes, isSrvError, SrvError, type SrvErrorOptions } from './errors.js';
export {
  BaseRequestHandler,
  type DatagramRequest,
  DatagramRequestHandler,
  type HandlerClass,
  type HandlerContext,
  type HandlerFunction,
  type HandlerInstance,
  isHandlerClass,
  type RequestHandler,
  type RequestInfo,
  runHandler,
  type ServerRequest,
  StreamRequestHandler,
} from './handler.js';
export { BufferWriter, LineReader, type LineReaderOptions, StreamWriter } from './io.js';
export {
  type ConnectionInfo,
  connectionInfoOf,
  type DatagramInfo,
  DatagramListener,
  type DatagramListenerOptions,
  StreamListener,
  type StreamListenerOptions,
  supportsReusePort,
  type TlsOptions,
  wrapTls,
} from './listener.js';
export { type Logger, silentLogger, stderrLogger } from './logger.js';
export { BaseServer } from './server.js';
export type { BaseServerOptions } from './server-options.js';
export { TCPServer, UDPServer, UnixStreamServer } from './servers.js';
export { loadModuleRef, type ModuleRef, resolveModuleRef, type WorkerServerSpec } from './worker-spec.js';
