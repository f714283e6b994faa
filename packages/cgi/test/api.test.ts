import { readFileSync } from 'node:fs';
import { SimpleHTTPRequestHandler } from '@srv/static';
import { describe, expect, it } from 'vitest';
import * as cgi from '../src/index.js';
import { CGIHTTPRequestHandler, CgiError, cgiErrorCodes, cgiErrorStatus } from '../src/index.js';

describe('public API', () => {
  it('exports exactly these names', () => {
    expect(Object.keys(cgi).sort()).toMatchInlineSnapshot(`
      [
        "CGIHTTPRequestHandler",
        "CgiError",
        "buildEnvironment",
        "cgiErrorCodes",
        "cgiErrorStatus",
        "classifyResponse",
        "collapsePath",
        "decodeTarget",
        "headerVariables",
        "matchCgiDirectory",
        "parseHeaderBlock",
        "resolveScript",
        "serverNameOf",
      ]
    `);
  });

  it("pins the error codes and their statuses against the README's table", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const documented = [...readme.matchAll(/^\| `(SRV_ERR_[A-Z_]+)` \| (\d{3}) \|/gm)].map((match) => [
      match[1],
      Number(match[2]),
    ]);
    expect(documented).toEqual(cgiErrorCodes.map((code) => [code, cgiErrorStatus[code]]));
  });

  it('errors carry their code and HTTP status', () => {
    const error = new CgiError('SRV_ERR_CGI_TIMEOUT', 'slow', { cause: new Error('root') });
    expect(error).toMatchObject({ code: 'SRV_ERR_CGI_TIMEOUT', status: 504, name: 'CgiError' });
    expect((error.cause as Error).message).toBe('root');
  });

  it('is a SimpleHTTPRequestHandler with Python’s defaults and a loadable module', () => {
    expect(CGIHTTPRequestHandler.prototype).toBeInstanceOf(SimpleHTTPRequestHandler);
    expect(CGIHTTPRequestHandler.cgiDirectories).toEqual(['/cgi-bin', '/htbin']);
    expect(CGIHTTPRequestHandler.scriptUser).toBe('nobody');
    expect(CGIHTTPRequestHandler.exportName).toBe('CGIHTTPRequestHandler');
    const Configured = CGIHTTPRequestHandler.withOptions({ cgiDirectories: ['/scripts'], directory: '/srv' });
    expect(Configured.cgiDirectories).toEqual(['/scripts']);
    expect(Configured.directory).toBe('/srv');
    expect(CGIHTTPRequestHandler.cgiDirectories).toEqual(['/cgi-bin', '/htbin']);
  });
});
