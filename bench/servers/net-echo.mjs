// Raw node:net line echo: the floor for relay latency.
import net from 'node:net';

net
  .createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.pipe(socket);
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
