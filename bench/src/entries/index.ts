import type { GroupDef } from '../registry.js';
import { cgiHello } from './cgi.js';
import { blocking, handoff, poolMemoryGroup, relayLatency } from './concurrency.js';
import { httpHello } from './http.js';
import { staticLarge, staticSmall } from './static.js';
import { timeOneshot } from './time.js';
import { pages, silent } from './tutorial.js';

/** Every group, in the order a run measures them. */
export const groups: GroupDef[] = [
  httpHello,
  staticSmall,
  staticLarge,
  timeOneshot,
  cgiHello,
  handoff,
  relayLatency,
  blocking,
  pages,
  silent,
  poolMemoryGroup,
];
