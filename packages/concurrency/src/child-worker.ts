/** Entry of a forking dispatcher's child process. */
import type net from 'node:net';
import { type EventLoopUtilization, performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import { createSecureContext } from 'node:tls';
import type { TlsOptions } from '@srv/core';
import { wrapTls } from '@srv/core/internal';
import { decodeMessage, encodeMessage } from './child-channel.js';
import {
  childNameVariable,
  type FromWorker,
  serializeError,
  type ToWorker,
  type WorkerIdentity,
  workerMarker,
} from './protocol.js';
import { WorkerRuntime } from './worker-runtime.js';

const name = process.env[childNameVariable] ?? `Process-${process.pid}`;
// Programs the handler starts (CGI scripts, say) are not srv workers.
delete process.env[childNameVariable];
(globalThis as Record<symbol, WorkerIdentity>)[workerMarker] = { kind: 'process', name };

// The parent is gone (even SIGKILLed: the IPC pipe closes): nobody can hand us work or read our answers.
process.on('disconnect', () => process.exit(0));
// Ctrl-C reaches the whole process group: the parent decides (it drains, then lets us go), so a
// terminal's SIGINT must not cut our connection short or make the parent respawn us mid-shutdown.
process.on('SIGINT', () => {});

const send = (message: FromWorker) => {
  if (process.connected) process.send?.(encodeMessage(message), undefined, {}, () => {});
};

let runtime: WorkerRuntime | undefined;
/** The event loop's figures when the current connection came, for `pong`. */
let since: EventLoopUtilization = performance.eventLoopUtilization();
let secureContext: tls.SecureContext | undefined;

process.on('message', (received: ToWorker, handle: unknown) => {
  const message = decodeMessage(received);
  switch (message.t) {
    case 'init':
      WorkerRuntime.create(message.spec, send).then(
        (created) => {
          runtime = created;
          send({ t: 'ready' });
        },
        (error: unknown) => {
          send({ t: 'failed', error: serializeError(error) });
          process.disconnect();
        },
      );
      break;
    case 'conn': {
      since = performance.eventLoopUtilization();
      const socket = handle as net.Socket | undefined;
      if (!runtime || !socket) {
        socket?.destroy();
        send({ t: 'done', id: message.id });
        break;
      }
      // The parent read these to see the request's head arrive; they come before the socket's own.
      if (message.head !== undefined) socket.unshift(Buffer.from(message.head, 'base64'));
      let stream: Duplex = socket;
      const tlsOptions = runtime.server.options.tls as TlsOptions | undefined;
      if (message.info.tls && tlsOptions) {
        secureContext ??= createSecureContext(tlsOptions);
        const wrapped = wrapTls(socket, secureContext);
        wrapped.on('error', () => socket.destroy());
        stream = wrapped;
      }
      runtime.serveConnection(message.id, stream, message.info);
      break;
    }
    case 'datagram':
      runtime?.serveDatagram(message.id, message.data, message.local, message.remote);
      break;
    case 'ping':
      // Answered by the event loop itself: a handler that blocks it (Python's sleep) cannot answer.
      send({ t: 'pong', busy: performance.eventLoopUtilization(since).utilization });
      break;
    case 'shutdown':
      runtime?.shutdown();
      break;
    case 'stop':
      void (runtime?.stop() ?? Promise.resolve()).finally(() => process.exit(0));
      break;
    default:
      break;
  }
});
