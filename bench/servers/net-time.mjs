// The time protocol on raw node:net, the floor srv-time is judged against: read one line, answer the
// word, close. Same replies as @srv/timeproto's TimeRequestHandler; no logging.
import net from 'node:net';

const help =
  'Unhandled request. Send a line with one of the following words:\n' +
  'asctime -- for human-readable time\n' +
  'seconds -- seconds since the Unix Epoch\n' +
  'rfc822 -- date/time in format used for mail and posts\n';

function answer(word) {
  const now = new Date();
  switch (word.trim().toLowerCase()) {
    case 'seconds':
      return `${Math.floor(now.getTime() / 1000)}\n`;
    case 'asctime':
      return `${now.toString()}\n`;
    case 'rfc822':
      return `${now.toUTCString()}\n`;
    default:
      return help;
  }
}

const server = net.createServer({ allowHalfOpen: true }, (socket) => {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('error', () => {});
  socket.on('data', (chunk) => {
    buffered += chunk;
    const newline = buffered.indexOf('\n');
    if (newline === -1 && buffered.length < 1024) return;
    socket.removeAllListeners('data');
    socket.end(answer(newline === -1 ? '' : buffered.slice(0, newline)));
  });
  socket.on('end', () => {
    if (!socket.writableEnded) socket.end(answer(buffered));
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1');
