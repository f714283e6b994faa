import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import '../src/index.js';
import { parseProxyHeader } from '../src/proxy-protocol.js';

/** Whether `proxy-protocol-js` has been loaded in this process (CommonJS: it sits in require's cache). */
function proxyProtocolLoaded(): boolean {
  return Object.keys(createRequire(import.meta.url).cache).some((path) =>
    path.includes('/proxy-protocol-js/'),
  );
}

// Loading proxy-protocol-js costs every process about 20 ms of CPU at start (forking children, CLI
// runs), and only a listener with `proxyProtocol` needs it. This file runs in a process of its own.
describe('proxy-protocol-js', () => {
  it('is not loaded by importing @srv/core, only by the first header parsed', () => {
    expect(proxyProtocolLoaded()).toBe(false);
    expect(parseProxyHeader(Buffer.from('PROXY TCP4 192.0.2.1 198.51.100.2 5555 80\r\n', 'latin1'))).toEqual({
      version: 1,
      source: { family: 'IPv4', host: '192.0.2.1', port: 5555 },
      destination: { family: 'IPv4', host: '198.51.100.2', port: 80 },
    });
    expect(proxyProtocolLoaded()).toBe(true);
  });
});
