/**
 * Python's `time.sleep`: blocks the calling thread, event loop included. The lesson of the tutorial
 * needs a handler that really blocks; `await setTimeout()` would let a single Node thread serve others
 * meanwhile and hide the difference between the serial, threading and forking servers.
 */
export function sleepBlocking(seconds: number): void {
  if (!(seconds > 0)) return;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, seconds * 1000);
}
