export {
  type QueryAddress,
  type QueryOptions,
  queryDaytime,
  queryRfc868,
  queryTime,
  type Transport,
} from './client.js';
export { type TimeErrorCode, timeErrorCodes } from './errors.js';
export {
  answerWord,
  type Clock,
  type ClockInput,
  decodeRfc868,
  encodeRfc868,
  formatAsctime,
  formatDaytime,
  formatLogTime,
  formatRfc822,
  formatSeconds,
  HELP_TEXT,
  isTimeWord,
  RFC868_EPOCH_OFFSET,
  type TimeWord,
  toClock,
} from './format.js';
export { type DropReason, UdpGuard, type UdpGuardOptions } from './guard.js';
export {
  DaytimeDatagramHandler,
  DaytimeRequestHandler,
  lineTooLongMessage,
  Rfc868DatagramHandler,
  Rfc868RequestHandler,
  TimeDatagramHandler,
  type TimeHandlerOptions,
  type TimeHandlerSettings,
  TimeRequestHandler,
} from './handler.js';
export { TimeServer, TimeServer6, type TimeServerOptions, TimeUDPServer } from './server.js';
