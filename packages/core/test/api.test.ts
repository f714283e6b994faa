import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as cli from '../src/cli.js';
import * as core from '../src/index.js';
import { coreErrorCodes, isSrvError, SrvError } from '../src/index.js';
import * as internal from '../src/internal.js';

describe('public API', () => {
  it('exports exactly these names', () => {
    expect(Object.keys(core).sort()).toMatchInlineSnapshot(`
      [
        "AsyncDispatcher",
        "BaseRequestHandler",
        "BaseServer",
        "BufferWriter",
        "DatagramListener",
        "DatagramRequestHandler",
        "LineReader",
        "SerialDispatcher",
        "SrvError",
        "StreamListener",
        "StreamRequestHandler",
        "StreamWriter",
        "TCPServer",
        "UDPServer",
        "UnixStreamServer",
        "coreErrorCodes",
        "formatAddress",
        "formatUrl",
        "isSrvError",
        "listenFds",
        "parseAddress",
        "silentLogger",
        "stderrLogger",
        "supportsReusePort",
      ]
    `);
  });

  it('keeps the plumbing only sibling packages use in @srv/core/internal', () => {
    expect(Object.keys(internal).sort()).toMatchInlineSnapshot(`
      [
        "connectionInfoOf",
        "createAttachedServer",
        "displayHost",
        "isHandlerClass",
        "loadModuleRef",
        "printStartFailureOnce",
        "relayStartFailure",
        "resolveDispatcher",
        "resolveModuleRef",
        "resolveWorkerCount",
        "runHandler",
        "runWorkers",
        "serveCommand",
        "serveUntilStopped",
        "wrapTls",
      ]
    `);
    for (const name of Object.keys(internal)) expect(core).not.toHaveProperty(name);
  });

  it('exports the command kit from @srv/core/cli', () => {
    expect(Object.keys(cli).sort()).toMatchInlineSnapshot(`
      [
        "UsageError",
        "commonOptions",
        "deployOptions",
        "describeError",
        "describeStartError",
        "exitCodes",
        "formatBanner",
        "formatEndpoint",
        "formatHelp",
        "formatReachLine",
        "isUsageError",
        "lanAddress",
        "loadTlsFiles",
        "parseBindHost",
        "parseCommandLine",
        "parsePort",
        "parsePositiveInteger",
        "readDeployOptions",
        "readPackageVersion",
        "runCommand",
        "usage",
        "usageErrorCode",
        "watchStopSignals",
      ]
    `);
  });

  it("pins the error codes against the README's table", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const documented = [...readme.matchAll(/^\| `(SRV_ERR_[A-Z_]+)` \|/gm)].map((match) => match[1]);
    expect(documented).toEqual([...coreErrorCodes]);
  });

  it('recognises srv errors across duplicate copies of the package', () => {
    const foreign = Object.defineProperty(new Error('from another copy'), Symbol.for('srv.error'), {
      value: true,
    });
    expect(foreign instanceof SrvError).toBe(true);
    expect(new Error('plain') instanceof SrvError).toBe(false);
    const error = new SrvError('SRV_ERR_TIMEOUT', 'slow', { cause: new Error('root') });
    expect(isSrvError(error, 'SRV_ERR_TIMEOUT')).toBe(true);
    expect((error.cause as Error).message).toBe('root');
  });
});
