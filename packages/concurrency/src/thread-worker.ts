/** Entry of a threading dispatcher's worker thread. */
import { parentPort, workerData } from 'node:worker_threads';
import { MessageBatch, unbatch } from './batch.js';
import { MuxRouter } from './mux-port.js';
import type { FromWorker, ThreadWorkerData, ToWorker } from './protocol.js';
import { serializeError, type WorkerIdentity, workerMarker } from './protocol.js';
import type { RelayPort } from './relay.js';
import { RelayedSocket } from './relayed-socket.js';
import { WorkerRuntime } from './worker-runtime.js';
import { writeDirectly } from './worker-stdio.js';

const data = workerData as ThreadWorkerData;
const port = parentPort!;
(globalThis as Record<symbol, WorkerIdentity>)[workerMarker] = { kind: 'thread', name: data.name };
// Lines printed here (handlers' console.log, the access log) go to the descriptors, not through the
// main thread (see worker-stdio.ts).
writeDirectly(process.stdout, 1);
writeDirectly(process.stderr, 2);

// Everything this thread says in one turn goes as one message (see batch.ts).
const batch = new MessageBatch<FromWorker>((message, transfer) => port.postMessage(message, transfer));
// A request's `done` is the last word of its turn: it goes at once, with what was queued before it.
const send = (message: FromWorker) => (message.t === 'done' ? batch.sendLast(message) : batch.send(message));
const router = new MuxRouter((envelope, transfer) => batch.send(envelope, transfer));
const close = () => {
  batch.flush();
  port.close();
};

try {
  const runtime = await WorkerRuntime.create(data.spec, send);
  port.on('message', (arrived: ToWorker | ToWorker[]) => unbatch(arrived, receive));
  function receive(message: ToWorker): void {
    switch (message.t) {
      case 'x':
        router.route(message);
        break;
      case 'conn':
        if (message.exchange) {
          runtime.serveExchange(
            message.id,
            new RelayedSocket(router.open(message.id), message.info, data.relayWindow, message.b),
            message.info,
          );
        } else if (message.port) {
          runtime.serveConnection(
            message.id,
            new RelayedSocket(message.port as unknown as RelayPort, message.info, data.relayWindow),
            message.info,
          );
        }
        break;
      case 'datagram':
        runtime.serveDatagram(message.id, message.data, message.local, message.remote);
        break;
      case 'ping':
        // A stalled pool asks whether this thread's event loop turns (see `stallGrowth`).
        batch.sendLast({ t: 'pong', busy: 0 });
        break;
      case 'shutdown':
        runtime.shutdown();
        break;
      case 'stop':
        void runtime.stop().finally(close);
        break;
      default:
        break;
    }
  }
  send({ t: 'ready' });
} catch (error) {
  send({ t: 'failed', error: serializeError(error) });
  close();
}
