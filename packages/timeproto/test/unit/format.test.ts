import { describe, expect, it } from 'vitest';
import {
  answerWord,
  decodeRfc868,
  encodeRfc868,
  formatAsctime,
  formatDaytime,
  formatLogTime,
  formatRfc822,
  formatSeconds,
  HELP_TEXT,
  toClock,
} from '../../src/index.js';

// Tests run with TZ=UTC (vitest.shared.ts), so local time equals UTC here.
const moment = new Date('2026-11-24T19:02:46.789Z');
const early = new Date('2026-11-04T07:08:09Z');

describe('time formats', () => {
  it('asctime is ctime-style with the day padded by a space', () => {
    expect(process.env.TZ).toBe('UTC');
    expect(formatAsctime(moment)).toBe('Tue Nov 24 19:02:46 2026');
    expect(formatAsctime(early)).toBe('Wed Nov  4 07:08:09 2026');
    expect(formatAsctime(early, { utc: true })).toBe('Wed Nov  4 07:08:09 2026');
  });

  it('seconds are whole seconds since the Unix epoch', () => {
    expect(formatSeconds(moment)).toBe('1795546966');
    expect(formatSeconds(new Date(-1500))).toBe('-2');
  });

  it('rfc822 is UTC with the day zero-padded', () => {
    expect(formatRfc822(moment)).toBe('Tue, 24 Nov 2026 19:02:46 +0000');
    expect(formatRfc822(early)).toBe('Wed, 04 Nov 2026 07:08:09 +0000');
  });

  it('the log stamp is the tutorial strftime', () => {
    expect(formatLogTime(early)).toBe('2026-11-04 07:08:09');
  });

  it('answers words trimmed and case-insensitively, anything else with the four help lines', () => {
    expect(answerWord(' ASCTIME \r', moment)).toBe('Tue Nov 24 19:02:46 2026\n');
    expect(answerWord('Seconds', moment)).toBe('1795546966\n');
    expect(answerWord('rfc822', moment)).toBe('Tue, 24 Nov 2026 19:02:46 +0000\n');
    expect(answerWord('time', moment)).toBe(HELP_TEXT);
    expect(answerWord('', moment)).toBe(HELP_TEXT);
    expect(HELP_TEXT.split('\n')).toEqual([
      'Unhandled request. Send a line with one of the following words:',
      'asctime -- for human-readable time',
      'seconds -- seconds since the Unix Epoch',
      'rfc822 -- date/time in format used for mail and posts',
      '',
    ]);
  });

  it('daytime is the asctime line with CRLF', () => {
    expect(formatDaytime(moment)).toBe('Tue Nov 24 19:02:46 2026\r\n');
  });

  it('RFC 868 counts seconds from 1900 in 32 big-endian bits and wraps in 2036', () => {
    expect(encodeRfc868(new Date(0))).toEqual(Buffer.from([0x83, 0xaa, 0x7e, 0x80]));
    expect(encodeRfc868(new Date('1900-01-01T00:00:00Z'))).toEqual(Buffer.alloc(4));
    expect(decodeRfc868(encodeRfc868(moment))).toEqual(new Date('2026-11-24T19:02:46Z'));
    const afterWrap = new Date('2040-01-01T00:00:00Z');
    expect(encodeRfc868(afterWrap).readUInt32BE(0)).toBe(
      afterWrap.getTime() / 1000 + 2_208_988_800 - 2 ** 32,
    );
    expect(decodeRfc868(encodeRfc868(afterWrap))).toEqual(afterWrap);
  });

  it('a fixed clock is a Date or epoch milliseconds; a function is used as is', () => {
    expect(toClock(moment)().getTime()).toBe(moment.getTime());
    expect(toClock(0)().getTime()).toBe(0);
    const clock = () => early;
    expect(toClock(clock)).toBe(clock);
    expect(Math.abs(toClock(undefined)().getTime() - Date.now())).toBeLessThan(5000);
  });
});
