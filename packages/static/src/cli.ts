/**
 * The `srv-static` bin. It imports the library through `./index.js`, which the build keeps as a
 * separate module, so the handler class's `moduleUrl` is the entry workers load.
 */
import { runStaticCli } from './index.js';

runStaticCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`srv-static: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
