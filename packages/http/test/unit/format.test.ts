import { describe, expect, it } from 'vitest';
import {
  escapeControlCharacters,
  escapeHtml,
  formatHttpDate,
  formatLogDate,
  formatMapping,
  formatPercent,
  pythonRepr,
} from '../../src/format.js';
import { HTTPHeaders } from '../../src/headers.js';

describe('formatting helpers', () => {
  it('escapes HTML like html.escape', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;');
    expect(escapeHtml(`<'">`, false)).toBe(`&lt;'"&gt;`);
  });

  it('escapes C0, DEL, C1 and backslash as Python log_message does', () => {
    expect(escapeControlCharacters('a\r\nb\x1b\x7f\x85\\é')).toBe('a\\x0d\\x0ab\\x1b\\x7f\\x85\\\\é');
  });

  it('formats %s %d %r %% like Python', () => {
    expect(formatPercent('%s %d %r %%', ['a', '42.9', "it's"])).toBe(`a 42 "it's" %`);
    expect(formatPercent('"%s" %s %s', ['GET / HTTP/1.1', '200', '-'])).toBe('"GET / HTTP/1.1" 200 -');
    expect(pythonRepr('a\nb\\')).toBe("'a\\nb\\\\'");
  });

  it('fills %(name)s mappings', () => {
    expect(formatMapping('%(code)d %(message)s %(code)s %%', { code: 404, message: 'x' })).toBe(
      '404 x 404 %',
    );
  });

  it('formats dates as Python does', () => {
    expect(formatHttpDate(Date.UTC(2026, 10, 24, 19, 2, 57))).toBe('Tue, 24 Nov 2026 19:02:57 GMT');
    expect(formatHttpDate()).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    // The test environment runs with TZ=UTC.
    expect(formatLogDate(Date.UTC(2026, 10, 4, 9, 2, 7))).toBe('04/Nov/2026 09:02:07');
  });
});

describe('HTTPHeaders', () => {
  const headers = new HTTPHeaders([
    'Host',
    'a',
    'Accept',
    'text/html',
    'accept',
    '*/*',
    'Cookie',
    'a=1',
    'cookie',
    'b=2',
  ]);

  it('looks up case-insensitively and joins repeats', () => {
    expect(headers.get('HOST')).toBe('a');
    expect(headers.get('accept')).toBe('text/html, */*');
    expect(headers.get('Cookie')).toBe('a=1; b=2');
    expect(headers.get('missing')).toBeUndefined();
    expect(headers.getAll('Accept')).toEqual(['text/html', '*/*']);
    expect(headers.has('COOKIE')).toBe(true);
    expect(headers.keys()).toEqual(['host', 'accept', 'cookie']);
    expect(headers.size).toBe(5);
  });

  it('answers the same before and after its map is built (short heads are scanned)', () => {
    const raw = [
      'Host',
      'a',
      'X-At@',
      '1',
      'x-at`',
      '2',
      'Cookie',
      'a=1',
      'COOKIE',
      'b=2',
      'Keep-Alive',
      'k',
      'E',
      '',
    ];
    const questions = [
      'host',
      'HoSt',
      'x-at@',
      'X-AT`',
      'x-at',
      'cookie',
      'e',
      'E',
      'f',
      '\u212aeep-alive',
      '',
    ];
    const scanned = new HTTPHeaders(raw);
    const answers = questions.map((name) => [scanned.get(name), scanned.has(name)]);
    // `@` and a backquote differ in the case bit only: they are not the same letter in two cases.
    expect(answers.slice(0, 4)).toEqual([
      ['a', true],
      ['a', true],
      ['1', true],
      ['2', true],
    ]);
    expect(answers[5]).toEqual(['a=1; b=2', true]);
    // An empty value is present; the Kelvin sign lower-cases to `k`, as the map's toLowerCase has it.
    expect(answers[6]).toEqual(['', true]);
    expect(answers[9]).toEqual(['k', true]);
    const mapped = new HTTPHeaders(raw);
    mapped.keys();
    expect(questions.map((name) => [mapped.get(name), mapped.has(name)])).toEqual(answers);
  });

  it('looks up a long head (more lines than it scans) the same way', () => {
    const raw = Array.from({ length: 40 }, (_, index) => [`X-${index}`, `v${index}`]).flat();
    const headers = new HTTPHeaders([...raw, 'x-3', 'again']);
    expect(headers.get('x-3')).toBe('v3, again');
    expect(headers.get('X-39')).toBe('v39');
    expect(headers.has('x-40')).toBe(false);
  });

  it('iterates lines as received', () => {
    expect([...headers][1]).toEqual(['Accept', 'text/html']);
    expect(headers.toString()).toBe('Host: a\nAccept: text/html\naccept: */*\nCookie: a=1\ncookie: b=2\n\n');
  });
});
