import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';

describe('public API', () => {
  it('exports exactly these names', () => {
    expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
      [
        "BaseHTTPRequestHandler",
        "ForkingHTTPServer",
        "HTTPHeaders",
        "HTTPSServer",
        "HTTPServer",
        "ThreadingHTTPServer",
        "defaultErrorMessageFormat",
        "escapeHtml",
        "httpErrorCodes",
        "responses",
      ]
    `);
  });

  it('documents every error code in the README table', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const documented = [...readme.matchAll(/^\| `(SRV_ERR_[A-Z_]+)` \|/gm)].map((match) => match[1]);
    expect(documented.sort()).toEqual([...api.httpErrorCodes].sort());
  });
});
