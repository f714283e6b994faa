import { describe, expect, it } from 'vitest';
import { parseStaticArgs } from '../../src/index.js';

describe('parseStaticArgs', () => {
  it('leaves sendTimeout and backlog to the server by default', () => {
    expect(parseStaticArgs([])).toMatchObject({ sendTimeout: undefined, backlog: undefined });
  });

  it('takes --send-timeout in seconds (fractions and 0 too) and --backlog N', () => {
    expect(parseStaticArgs(['--send-timeout', '30', '--backlog', '8192'])).toMatchObject({
      sendTimeout: 30_000,
      backlog: 8192,
    });
    expect(parseStaticArgs(['--send-timeout=0.5'])).toMatchObject({ sendTimeout: 500 });
    expect(parseStaticArgs(['--send-timeout', '0'])).toMatchObject({ sendTimeout: 0 });
  });
});
