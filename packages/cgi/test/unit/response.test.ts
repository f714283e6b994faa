import { describe, expect, it } from 'vitest';
import { classifyResponse, HeaderBlockReader, parseHeaderBlock } from '../../src/response.js';

describe('parseHeaderBlock', () => {
  it('reads Status, Location, Content-Type and keeps other fields in order', () => {
    expect(
      parseHeaderBlock(
        'Status: 201 Created\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\nSet-Cookie: b=2\n',
      ),
    ).toEqual({
      status: { code: 201, reason: 'Created' },
      contentType: 'text/plain',
      fields: [
        ['Set-Cookie', 'a=1'],
        ['Set-Cookie', 'b=2'],
      ],
    });
    expect(parseHeaderBlock('Status: 404')).toEqual({ status: { code: 404, reason: '' }, fields: [] });
  });

  it('drops framing and hop-by-hop fields the script must not control', () => {
    const headers = parseHeaderBlock(
      'Content-Type: text/plain\nContent-Length: 3\nTransfer-Encoding: chunked\nConnection: keep-alive\nServer: x\nDate: y\nX-Ok: 1',
    );
    expect(headers.fields).toEqual([['X-Ok', '1']]);
  });

  it.each([
    ['X-Only: 1', 'none of Content-Type, Location or Status'],
    ['garbage', 'not a header'],
    ['Content-Type: a\n folded', 'folded'],
    ['Status: abc', 'bad Status'],
    ['Status: 99 x', 'bad Status'],
    ['Status: 100 Continue', 'informational'],
    ['Bad Name: 1\nContent-Type: a', 'bad header name'],
    ['Content-Type: a\x00b', 'control character'],
    ['Status: 200\nStatus: 201', 'repeated Status'],
  ])('refuses %j', (block, reason) => {
    expect(() => parseHeaderBlock(block)).toThrow(
      expect.objectContaining({ code: 'SRV_ERR_CGI_BAD_RESPONSE', status: 502 }),
    );
    expect(() => parseHeaderBlock(block)).toThrow(reason);
  });
});

describe('classifyResponse', () => {
  it('follows RFC 3875 §6.2', () => {
    expect(classifyResponse(parseHeaderBlock('Content-Type: text/plain'))).toBe('document');
    expect(classifyResponse(parseHeaderBlock('Location: /a?b'))).toBe('local-redirect');
    expect(classifyResponse(parseHeaderBlock('Location: //evil/a'))).toBe('client-redirect');
    expect(classifyResponse(parseHeaderBlock('Location: http://x/'))).toBe('client-redirect');
    expect(classifyResponse(parseHeaderBlock('Location: /a\nStatus: 301'))).toBe('client-redirect');
    expect(classifyResponse(parseHeaderBlock('Location: http://x/\nContent-Type: text/html'))).toBe(
      'client-redirect',
    );
  });
});

describe('HeaderBlockReader', () => {
  it('finds the blank line across chunks, CRLF or LF, and returns the body that followed', () => {
    const reader = new HeaderBlockReader(1024);
    expect(reader.push(Buffer.from('Content-Type: text/plain\r'))).toBeUndefined();
    expect(reader.push(Buffer.from('\n\r'))).toBeUndefined();
    const result = reader.push(Buffer.from('\nhello\n\nworld'));
    expect(result?.headers.contentType).toBe('text/plain');
    expect(result?.body.toString()).toBe('hello\n\nworld');
    const lf = new HeaderBlockReader(1024).push(Buffer.from('Status: 204\n\n'));
    expect(lf?.headers.status?.code).toBe(204);
    expect(lf?.body.length).toBe(0);
  });

  it('refuses a header block over the limit and an empty one', () => {
    const reader = new HeaderBlockReader(16);
    expect(() => reader.push(Buffer.from('X-Long: 0123456789abcdef\n'))).toThrow('longer than 16');
    expect(() => new HeaderBlockReader(16).push(Buffer.from('\nbody'))).toThrow('none of');
  });
});
