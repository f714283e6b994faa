// The server the scale proofs start: @srv/http's hello or a static 1 KiB file (srv-static's handler),
// with N workers through runWorkers (@srv/core/internal), the helper the commands' --workers runs.
// Settings from the environment: KIND=hello|static, WORKERS, REUSE_PORT=1, PROXY=1, TRUSTED (CIDR,
// comma-separated), DIR (static root), PORT, HEALTH_PATH, DRAIN_MS, GRACE_MS, LOG=1 (access log on).
// The first stdout line is `Serving HTTP on <host> port <N> ...`, printed once by the primary.
import { runWorkers } from '@srv/core/internal';
import { HTTPServer } from '@srv/http';
import { SimpleHTTPRequestHandler } from '@srv/static';
import { HelloHandler } from '../servers/http-handlers.mjs';

const env = process.env;
class StaticHandler extends SimpleHTTPRequestHandler {
  static directory = env.DIR ?? process.cwd();
}
const Handler = env.KIND === 'static' ? StaticHandler : HelloHandler;

process.exitCode = await runWorkers({
  workers: env.WORKERS ?? '1',
  reusePort: env.REUSE_PORT === '1',
  host: '127.0.0.1',
  port: Number(env.PORT ?? 0),
  drainDelayMs: Number(env.DRAIN_MS ?? 0),
  graceMs: Number(env.GRACE_MS ?? 30_000),
  start: ({ fds, port, reusePort }) =>
    new HTTPServer(fds.length > 0 ? { fd: fds[0] } : ['127.0.0.1', port ?? Number(env.PORT ?? 0)], Handler, {
      quiet: env.LOG !== '1',
      reusePort,
      graceMs: Number(env.GRACE_MS ?? 30_000),
      ...(env.PROXY === '1' ? { proxyProtocol: true } : {}),
      ...(env.TRUSTED ? { trustedProxies: env.TRUSTED.split(',') } : {}),
      ...(env.HEALTH_PATH ? { healthPath: env.HEALTH_PATH } : {}),
    }),
  onServing: (address) =>
    process.stdout.write(
      `Serving HTTP on ${address.host} port ${address.port} (http://${address.host}:${address.port}/) ...\n`,
    ),
});
