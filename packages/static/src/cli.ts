/**
 * The `srv-static` bin. It imports the library through `./index.js`, which the build keeps as a
 * separate module, so the handler class's `moduleUrl` is the entry workers load. Errors, exit codes
 * and signals are `runStaticCli`'s (built on `@srv/core/cli`).
 */
import { runStaticCli } from './index.js';

process.exitCode = await runStaticCli(process.argv.slice(2));
