import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { StaticError, staticErrorCodes } from '../src/index.js';

describe('public API', () => {
  it('exports exactly these names', () => {
    expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
      [
        "SimpleHTTPRequestHandler",
        "StaticError",
        "createStaticError",
        "isHiddenPath",
        "isInsideRoot",
        "parseRequestPath",
        "parseStaticArgs",
        "runStaticCli",
        "staticErrorCodes",
        "staticUsage",
      ]
    `);
  });

  it("pins the error codes against the README's table", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const documented = [...readme.matchAll(/^\| `(SRV_ERR_[A-Z_]+)` \|/gm)].map((match) => match[1]);
    expect(documented).toEqual([...staticErrorCodes]);
  });

  it('request errors carry the status they answer with', () => {
    try {
      api.parseRequestPath('/%00');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(StaticError);
      expect((error as StaticError).code).toBe('SRV_ERR_INVALID_PATH');
      expect((error as StaticError).status).toBe(400);
    }
  });
});
