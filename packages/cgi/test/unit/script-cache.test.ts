import { describe, expect, it } from 'vitest';
import { ScriptCache } from '../../src/script-cache.js';
import { www } from '../helpers.js';

describe('ScriptCache', () => {
  it('resolves afresh once, then answers synchronously with the same resolution', async () => {
    const cache = new ScriptCache(2);
    const first = cache.resolve(www, '/cgi-bin/env.sh/a/b', ['/cgi-bin']);
    expect(first).toBeInstanceOf(Promise);
    const resolved = await first;
    expect(resolved).toMatchObject({ scriptName: '/cgi-bin/env.sh', pathInfo: '/a/b', isExecutable: true });
    expect(cache.resolve(www, '/cgi-bin/env.sh/a/b', ['/cgi-bin'])).toBe(resolved);
    // Other options are other keys.
    expect(cache.resolve(www, '/cgi-bin/env.sh/a/b', ['/cgi-bin'], { dotfiles: true })).toBeInstanceOf(
      Promise,
    );
  });

  it('keeps failures out and stays within its bound', async () => {
    const cache = new ScriptCache(2);
    await expect(cache.resolve(www, '/cgi-bin/nothere.sh', ['/cgi-bin'])).rejects.toMatchObject({
      code: 'SRV_ERR_CGI_NOT_FOUND',
    });
    expect(cache.size).toBe(0);
    await cache.resolve(www, '/cgi-bin/env.sh', ['/cgi-bin']);
    await cache.resolve(www, '/cgi-bin/env.py', ['/cgi-bin']);
    await cache.resolve(www, '/cgi-bin/env.pl', ['/cgi-bin']);
    expect(cache.size).toBe(2);
    expect(cache.resolve(www, '/cgi-bin/env.sh', ['/cgi-bin'])).toBeInstanceOf(Promise);
    cache.clear();
    expect(cache.size).toBe(0);
  });
});
