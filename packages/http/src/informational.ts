import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** A 1xx answer being put together: `sendResponseOnly(1xx)`, `sendHeader()`s, then `endHeaders()`. */
export interface Informational {
  code: number;
  message: string;
  headers: Array<[string, string]>;
}

/**
 * Sends a 1xx answer ahead of the final one: `100 Continue` and `103 Early Hints` through Node (which
 * keeps its own books on them), any other straight onto the connection.
 */
export function sendInformational(
  res: ServerResponse,
  connection: Duplex,
  { code, message, headers }: Informational,
): void {
  if (res.headersSent) return;
  if (code === 100 && headers.length === 0) {
    res.writeContinue();
    return;
  }
  if (code === 103) {
    const hints: Record<string, string | string[]> = {};
    for (const [name, value] of headers) {
      const existing = hints[name];
      hints[name] = existing === undefined ? value : [...[existing].flat(), value];
    }
    if (!('link' in hints) && !('Link' in hints)) hints.link = [];
    res.writeEarlyHints(hints);
    return;
  }
  let head = `HTTP/1.1 ${code} ${message}\r\n`;
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
  connection.write(`${head}\r\n`, 'latin1');
}
