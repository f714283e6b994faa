import { describe, expect, it } from 'vitest';
import { rawRequest, startCgi } from './helpers.js';

// The CGI host and the file server behind it read a path with one decoder and one hidden-file rule
// (@srv/static's parseRequestPath and isHiddenPath): the same target means the same to both.
describe('one path reading for scripts and files', () => {
  it('serves /.well-known/ and hides other dotfiles, as srv-static does', async () => {
    const t = await startCgi();
    const known = await rawRequest(t, 'GET /.well-known/security.txt HTTP/1.1');
    expect(known.status).toBe(200);
    expect(known.body).toBe('Contact: mailto:a@b.c\n');
    const hidden = await rawRequest(t, 'GET /.env HTTP/1.1');
    expect(hidden.status).toBe(404);
    expect(hidden.body).not.toContain('SECRET');
  });

  it.each([
    '/cgi-bin%2fenv.sh',
    '/cgi-bin%2Fenv.sh',
    '/cgi-bin/sub%2f..%2fenv.sh',
    '/cgi-bin%5cenv.sh',
    '/hello.txt%2f',
  ])('refuses the encoded separator in %s with 400 and runs nothing', async (target) => {
    const t = await startCgi();
    const response = await rawRequest(t, `GET ${target} HTTP/1.1`);
    expect(response.status).toBe(400);
    expect(response.body).not.toContain('GATEWAY_INTERFACE');
  });

  it('the same script by its plain path still runs', async () => {
    const t = await startCgi();
    const response = await rawRequest(t, 'GET /cgi-bin/env.sh HTTP/1.1');
    expect(response.status).toBe(200);
    expect(response.body).toContain('GATEWAY_INTERFACE=CGI/1.1');
  });
});
