import * as cgi from '@srv/cgi';
import * as concurrency from '@srv/concurrency';
import * as core from '@srv/core';
import * as http from '@srv/http';
import * as staticFiles from '@srv/static';
import * as timeproto from '@srv/timeproto';
import { describe, expect, it } from 'vitest';

// The built packages, as users import them: a class or function keeps the name it is exported under.
const packages = { cgi, concurrency, core, http, static: staticFiles, timeproto };

describe('names of the built exports', () => {
  for (const [name, api] of Object.entries(packages)) {
    it(`@srv/${name}: every exported class and function is named as exported`, () => {
      const functions = Object.entries(api).filter(([, value]) => typeof value === 'function');
      expect(functions.length).toBeGreaterThan(0);
      const misnamed = functions
        .filter(([exported, value]) => (value as { name: string }).name !== exported)
        .map(([exported, value]) => `${exported} is named ${(value as { name: string }).name}`);
      expect(misnamed).toEqual([]);
    });
  }

  it('a handler class made by withOptions() keeps its base class name', () => {
    expect(staticFiles.SimpleHTTPRequestHandler.withOptions({}).name).toBe('SimpleHTTPRequestHandler');
  });
});
