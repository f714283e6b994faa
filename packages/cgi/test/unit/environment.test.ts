import { describe, expect, it } from 'vitest';
import { buildEnvironment, type CgiRequest, headerVariables, serverNameOf } from '../../src/environment.js';

const request: CgiRequest = {
  method: 'GET',
  target: '/cgi-bin/env.sh/extra?a=1&b=%20',
  query: 'a=1&b=%20',
  protocol: 'HTTP/1.1',
  scriptName: '/cgi-bin/env.sh',
  scriptFilename: '/srv/www/cgi-bin/env.sh',
  pathInfo: '/extra',
  pathTranslated: '/srv/www/extra',
  rawHeaders: ['Host', 'example.com:8080', 'Cookie', 'a=1', 'cookie', 'b=2', 'Accept', 'x', 'ACCEPT', 'y'],
  local: { host: '127.0.0.1', port: 8080 },
  remote: { host: '127.0.0.1', port: 50000 },
  tls: false,
  serverSoftware: 'SimpleHTTP/0.6 Node/20',
};

describe('buildEnvironment', () => {
  it('sets exactly the RFC 3875 variables and the allow-listed ones', () => {
    const environment = buildEnvironment(request, {
      baseEnv: { PATH: '/bin', SECRET: 'x', HOME: '/root', LANG: 'C' },
      inheritEnv: ['LANG'],
    });
    expect(environment).toEqual({
      PATH: '/bin',
      LANG: 'C',
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_SOFTWARE: 'SimpleHTTP/0.6 Node/20',
      SERVER_NAME: 'example.com',
      SERVER_PORT: '8080',
      SERVER_PROTOCOL: 'HTTP/1.1',
      REQUEST_METHOD: 'GET',
      REQUEST_URI: '/cgi-bin/env.sh/extra?a=1&b=%20',
      SCRIPT_NAME: '/cgi-bin/env.sh',
      SCRIPT_FILENAME: '/srv/www/cgi-bin/env.sh',
      PATH_INFO: '/extra',
      PATH_TRANSLATED: '/srv/www/extra',
      QUERY_STRING: 'a=1&b=%20',
      REMOTE_ADDR: '127.0.0.1',
      REMOTE_PORT: '50000',
      HTTP_HOST: 'example.com:8080',
      HTTP_COOKIE: 'a=1; b=2',
      HTTP_ACCEPT: 'x, y',
    });
  });

  it('adds the body, TLS and authentication variables only when they apply', () => {
    const environment = buildEnvironment(
      {
        ...request,
        method: 'POST',
        pathInfo: '',
        rawHeaders: ['Content-Type', 'text/plain', 'Content-Length', '5'],
        body: { length: 5 },
        tls: true,
        auth: { type: 'Basic', user: 'ann' },
      },
      { baseEnv: {} },
    );
    expect(environment).toMatchObject({
      CONTENT_LENGTH: '5',
      CONTENT_TYPE: 'text/plain',
      HTTPS: 'on',
      AUTH_TYPE: 'Basic',
      REMOTE_USER: 'ann',
      PATH: '/usr/local/bin:/usr/bin:/bin',
      PATH_INFO: '',
    });
    expect(environment).not.toHaveProperty('PATH_TRANSLATED');
    expect(environment).not.toHaveProperty('HTTP_CONTENT_TYPE');
    expect(environment).not.toHaveProperty('HTTP_CONTENT_LENGTH');
    const bare = buildEnvironment(
      { ...request, rawHeaders: ['Content-Type', 'text/plain'] },
      { baseEnv: {} },
    );
    expect(bare).not.toHaveProperty('CONTENT_TYPE');
    expect(bare).not.toHaveProperty('CONTENT_LENGTH');
    expect(bare).not.toHaveProperty('HTTPS');
    expect(bare).not.toHaveProperty('AUTH_TYPE');
    expect(bare).not.toHaveProperty('REMOTE_USER');
  });

  it('lets explicit env entries win', () => {
    const environment = buildEnvironment(request, {
      baseEnv: { PATH: '/bin' },
      env: { PATH: '/opt', X: '1' },
    });
    expect(environment.PATH).toBe('/opt');
    expect(environment.X).toBe('1');
  });
});

describe('headerVariables', () => {
  it('drops Proxy (httpoxy), names outside [A-Za-z0-9-], and credentials unless asked', () => {
    const raw = [
      'Proxy',
      'http://evil:1',
      'X_Foo',
      'spoof',
      'X-Foo',
      'real',
      'X.Bar',
      'dot',
      'Authorization',
      'Basic eA==',
      'Proxy-Authorization',
      'Basic eQ==',
      'Transfer-Encoding',
      'chunked',
    ];
    expect(headerVariables(raw)).toEqual({ HTTP_X_FOO: 'real' });
    expect(headerVariables(raw, true)).toEqual({
      HTTP_X_FOO: 'real',
      HTTP_AUTHORIZATION: 'Basic eA==',
      HTTP_PROXY_AUTHORIZATION: 'Basic eQ==',
    });
  });
});

describe('serverNameOf', () => {
  const local = { host: '::1', port: 80 };
  it.each([
    ['example.com', 'example.com'],
    ['example.com:8080', 'example.com'],
    ['[::1]:8080', '[::1]'],
    ['[::1]', '[::1]'],
    ['127.0.0.1:80', '127.0.0.1'],
    [undefined, '[::1]'],
    ['bad host', '[::1]'],
    ['[nope]:1', '[::1]'],
    ['a/b', '[::1]'],
  ])('%s → %s', (host, expected) => {
    expect(serverNameOf(host, local)).toBe(expected);
  });
  it('uses a bare IPv4 local address', () => {
    expect(serverNameOf(undefined, { host: '10.0.0.1', port: 1 })).toBe('10.0.0.1');
  });
});
