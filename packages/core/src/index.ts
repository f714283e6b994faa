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
export { type DatagramInfo, DatagramListener, type DatagramListenerOptions } from './datagram-listener.js';
export {
  AsyncDispatcher,
  type Dispatcher,
  type DispatcherName,
  SerialDispatcher,
} from './dispatcher.js';
export { supportsReusePort } from './endpoint.js';
export { type CoreErrorCode, coreErrorCodes, isSrvError, SrvError, type SrvErrorOptions } from './errors.js';
export {
  BaseRequestHandler,
  type DatagramRequest,
  DatagramRequestHandler,
  type HandlerClass,
  type HandlerContext,
  type HandlerFunction,
  type HandlerInstance,
  type RequestHandler,
  type RequestInfo,
  type ServerRequest,
  StreamRequestHandler,
} from './handler.js';
export { BufferWriter, LineReader, type LineReaderOptions, StreamWriter } from './io.js';
export {
  type ConnectionInfo,
  StreamListener,
  type StreamListenerOptions,
  type TlsOptions,
} from './listener.js';
export { type Logger, silentLogger, stderrLogger } from './logger.js';
export { BaseServer } from './server.js';
export type { BaseServerOptions } from './server-options.js';
export { TCPServer, UDPServer, UnixStreamServer } from './servers.js';
export type { ModuleRef, WorkerServerSpec } from './worker-spec.js';
