import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { timeErrorCodes } from '../src/index.js';

describe('public API', () => {
  it('exports exactly these names', () => {
    expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
      [
        "DaytimeDatagramHandler",
        "DaytimeRequestHandler",
        "HELP_TEXT",
        "RFC868_EPOCH_OFFSET",
        "Rfc868DatagramHandler",
        "Rfc868RequestHandler",
        "TimeDatagramHandler",
        "TimeRequestHandler",
        "TimeServer",
        "TimeServer6",
        "TimeUDPServer",
        "UdpGuard",
        "answerWord",
        "decodeRfc868",
        "encodeRfc868",
        "formatAsctime",
        "formatDaytime",
        "formatLogTime",
        "formatRfc822",
        "formatSeconds",
        "isTimeWord",
        "lineTooLongMessage",
        "queryDaytime",
        "queryRfc868",
        "queryTime",
        "timeErrorCodes",
        "toClock",
      ]
    `);
  });

  it("pins the error codes against the README's table", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const documented = [...readme.matchAll(/^\| `(SRV_ERR_TIME_[A-Z_]+)` \|/gm)].map((match) => match[1]);
    expect(documented).toEqual([...timeErrorCodes]);
  });

  it('lets workers load every handler and server class from the built entry by name', () => {
    const classes: Record<string, { moduleUrl: string; exportName: string }> = {
      TimeRequestHandler: api.TimeRequestHandler,
      TimeDatagramHandler: api.TimeDatagramHandler,
      DaytimeRequestHandler: api.DaytimeRequestHandler,
      DaytimeDatagramHandler: api.DaytimeDatagramHandler,
      Rfc868RequestHandler: api.Rfc868RequestHandler,
      Rfc868DatagramHandler: api.Rfc868DatagramHandler,
      TimeServer: api.TimeServer,
      TimeServer6: api.TimeServer6,
      TimeUDPServer: api.TimeUDPServer,
    };
    for (const [name, value] of Object.entries(classes)) {
      expect(Object.hasOwn(value, 'moduleUrl'), name).toBe(true);
      expect(value.exportName).toBe(name);
    }
  });
});
