import { describe, expect, test } from 'vitest';
import { type DemoRun, descendantsOf, expectGone, type StartedDemo, startDemo } from './helpers.js';

function requestPages(demo: StartedDemo, count: number): Promise<Array<{ status: number; body: string }>> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const response = await fetch(`${demo.origin}/`);
      return { status: response.status, body: await response.text() };
    }),
  );
}

async function expectAllAnswered(
  demo: DemoRun,
  answers: Promise<Array<{ status: number; body: string }>>,
  how: 'SIGTERM' | 'Ctrl-C' = 'SIGTERM',
): Promise<void> {
  const exit = how === 'Ctrl-C' ? await demo.interrupt() : await demo.stop('SIGTERM');
  for (const { status, body } of await answers) {
    expect(status).toBe(200);
    expect(body).toContain('<p>Home Page Like This and Nobody Care</p>\n  </body>\n</html>\n');
  }
  expect(exit).toEqual({ code: 0, signal: null });
}

describe('SIGTERM while slow requests are in flight: all answered in full, exit 0', () => {
  test.each([
    ['threading', /^Handling with thread /],
    ['forking', /^Handling with forking /],
  ])('%s', async (name, handling) => {
    const demo = await startDemo(name, ['--slow', '1']);
    const answers = requestPages(demo, 3);
    // The handlers log before they block: all three requests are in flight.
    await demo.lines(handling, 3);
    await expectAllAnswered(demo, answers);
  });

  test('pages (serial): the running request and the one waiting behind it', async () => {
    const demo = await startDemo('pages', ['--slow', '1']);
    const answers = requestPages(demo, 2);
    // The access line is written before the handler blocks: the first request is running.
    await demo.stderrMatch(/"GET \/ HTTP\/1\.1" 200/);
    await expectAllAnswered(demo, answers);
  });
});

describe('Ctrl-C (SIGINT to the process group, children included) while slow requests are in flight', () => {
  test.each([
    ['threading', /^Handling with thread /],
    ['forking', /^Handling with forking /],
  ])('%s: all answered in full, exit 0', async (name, handling) => {
    const demo = await startDemo(name, ['--slow', '1'], { group: true });
    const answers = requestPages(demo, 2);
    await demo.lines(handling, 2);
    const children = descendantsOf(demo.pid);
    await expectAllAnswered(demo, answers, 'Ctrl-C');
    await expectGone(children);
  });
});
