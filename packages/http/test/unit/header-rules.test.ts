import { describe, expect, it } from 'vitest';
import { isValidLine } from '../../src/header-rules.js';

describe('isValidLine', () => {
  it('remembers only lines that passed: a bad value after a good one of that name still fails', () => {
    expect(isValidLine('X-Remembered', 'fine')).toBe(true);
    expect(isValidLine('X-Remembered', 'fine')).toBe(true);
    expect(isValidLine('X-Remembered', 'split\r\nSet-Cookie: a=b')).toBe(false);
    expect(isValidLine('X-Remembered', 'nul\0')).toBe(false);
    expect(isValidLine('X-Remembered', 'fine')).toBe(true);
    expect(isValidLine('Bad Name', 'fine')).toBe(false);
    expect(isValidLine('Bad Name', 'fine')).toBe(false);
  });

  it('checks names beyond the ones it remembers', () => {
    for (let index = 0; index < 100; index++) expect(isValidLine(`X-${index}`, `v${index}`)).toBe(true);
    expect(isValidLine('X-99', 'v\n')).toBe(false);
    expect(isValidLine('X-1', 'tab\tok')).toBe(true);
  });
});
