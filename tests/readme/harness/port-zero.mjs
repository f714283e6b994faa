// Preloaded (node --import) into every README block the test runs. Every TCP server and UDP socket of
// the block binds port 0, whatever port the README names, so blocks never collide with each other or
// with a server already running on this machine; and the test learns where each one listens, from one
// stderr line per bind call and one per bound socket.
//
// Only the block's own main thread reports: the variable that switches this on is removed at once, so
// the worker threads and child processes a threading or forking server starts stay quiet.
import dgram from 'node:dgram';
import net from 'node:net';
import { isMainThread } from 'node:worker_threads';

if (isMainThread && process.env.SRV_README_TEST === '1') {
  delete process.env.SRV_README_TEST;
  let calls = 0;
  const report = (line) => process.stderr.write(`@@readme-test ${line}\n`);
  const isPort = (value) => typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value));

  /** Port 0 in the arguments of listen()/bind(); false when they name no port (a path, a handle, an fd). */
  const portZero = (args) => {
    if (isPort(args[0])) {
      args[0] = 0;
      return true;
    }
    if (typeof args[0] === 'object' && args[0] !== null && 'port' in args[0]) {
      args[0] = { ...args[0], port: 0 };
      return true;
    }
    return false;
  };

  const listen = net.Server.prototype.listen;
  net.Server.prototype.listen = function (...args) {
    if (portZero(args)) {
      const id = ++calls;
      report(`bind ${id}`);
      this.once('listening', () => {
        const address = this.address();
        report(`bound ${id} tcp ${address.address} ${address.port}`);
      });
    }
    return listen.apply(this, args);
  };

  const bind = dgram.Socket.prototype.bind;
  dgram.Socket.prototype.bind = function (...args) {
    if (portZero(args)) {
      const id = ++calls;
      report(`bind ${id}`);
      this.once('listening', () => {
        const address = this.address();
        report(`bound ${id} udp ${address.address} ${address.port}`);
      });
    }
    return bind.apply(this, args);
  };
}
