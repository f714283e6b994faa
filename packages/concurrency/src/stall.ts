/**
 * How a stalled pool (requests waiting, none finished for `stallMs`) decides how many workers to add,
 * the same rule for threads and children. It pings each busy worker, which answers when its event loop
 * turns:
 * - one that does not answer within `pingTimeout` is blocked (a handler in `Atomics.wait`, a long
 *   computation, synchronous I/O: Python's `time.sleep`);
 * - one that answers with an event loop busy less than half the time since it got its request is
 *   waiting (I/O, timers);
 * - one that answers while busy is working, however slowly on a saturated core: another worker would
 *   only take the CPU it needs and spread the load over more cold code.
 * When every busy worker is stuck (blocked or waiting), each waiting request gets a worker; otherwise one
 * per stuck worker, and working ones get company only up to one busy worker per core.
 */
import { availableParallelism } from 'node:os';
import { stallMs } from './pool.js';

/** What a pool keeps of a busy worker for {@link judgeStall}; reset both when it gets a request. */
export interface PingedWorker {
  /** When the pool pinged it (0: not pinged since it got its request or last answered). */
  pingedAt: number;
  /** It answered the ping since. */
  answered: boolean;
}

/** How {@link judgeStall} reads and asks one worker. */
export interface StallProbe<W> {
  /** The share (0 to 1) of time its event loop was busy since it got its request. */
  loopBusy(worker: W): number;
  /** Sends it a ping (it answers when its event loop turns). */
  ping(worker: W): void;
}

const cores = availableParallelism();
/** A busy worker that has not answered a ping for this long is blocked (milliseconds). */
const pingTimeout = 2 * stallMs;
/** Below this share of busy event loop, a worker waits on its request (I/O, timers) rather than works. */
const waitingBelow = 0.5;

/**
 * The pool's `stallGrowth` answer: how many workers to start (0: none, the busy ones serve the load),
 * or `undefined` while pings are still out.
 */
export function judgeStall<W extends PingedWorker>(
  busy: readonly W[],
  progressed: boolean,
  waiting: number,
  probe: StallProbe<W>,
): number | undefined {
  const now = performance.now();
  let stuck = 0;
  let working = 0;
  let asked = 0;
  for (const worker of busy) {
    if (worker.answered) {
      if (probe.loopBusy(worker) < waitingBelow) stuck += 1;
      else working += 1;
      worker.pingedAt = 0;
      worker.answered = false;
    }
    if (worker.pingedAt === 0) {
      if (progressed) continue;
      worker.pingedAt = now;
      probe.ping(worker);
      asked += 1;
    } else if (now - worker.pingedAt >= pingTimeout) stuck += 1;
    else asked += 1;
  }
  const wanted = stuck + Math.min(working, Math.max(0, cores - busy.length));
  // Nobody stuck: the workers there serve the load, however slowly (a steady load stays warm).
  if (wanted === 0) return progressed || asked === 0 ? 0 : undefined;
  // Some finish while others are stuck: the workers asked for so far are still wanted.
  if (progressed) return undefined;
  return stuck === busy.length ? waiting : Math.min(wanted, waiting);
}
