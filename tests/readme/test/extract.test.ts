import { describe, expect, it } from 'vitest';
import { extractBlocks, isServerBlock, speaksHttp } from '../src/extract.js';

describe('extractBlocks', () => {
  it('finds ts and js blocks with their line, file name and skip reason, and ignores the others', () => {
    const text = [
      '# x',
      '```sh',
      'npm i x',
      '```',
      '```ts',
      "import { a } from 'a';",
      '```',
      '',
      '<!-- readme-test: skip (a fragment) -->',
      '```js',
      '// server.mjs',
      'await server.serveForever();',
      '```',
    ].join('\n');
    const blocks = extractBlocks(text, 'README.md');
    expect(blocks.map(({ line, language, fileName, skip }) => ({ line, language, fileName, skip }))).toEqual([
      { line: 5, language: 'ts', fileName: undefined, skip: undefined },
      { line: 10, language: 'js', fileName: 'server.mjs', skip: 'a fragment' },
    ]);
    expect(isServerBlock(blocks[1]!)).toBe(true);
    expect(isServerBlock(blocks[0]!)).toBe(false);
  });

  it('refuses a marker without a reason, or one that does not stand right before a code block', () => {
    expect(() => extractBlocks('<!-- readme-test: skip -->\n```ts\nx\n```\n', 'R.md')).toThrow(
      /R\.md:1: want/,
    );
    expect(() => extractBlocks('<!-- readme-test: skip (why) -->\ntext\n```ts\nx\n```\n', 'R.md')).toThrow(
      /right before a code block/,
    );
    expect(() => extractBlocks('<!-- readme-test: skip (why) -->\n', 'R.md')).toThrow(/no block after it/);
  });
});

describe('speaksHttp', () => {
  it('is true for blocks using the HTTP packages', () => {
    const block = { readme: 'R.md', line: 1, language: 'ts', fileName: undefined, skip: undefined } as const;
    expect(speaksHttp({ ...block, code: "import { HTTPServer } from '@srv/http';" })).toBe(true);
    expect(speaksHttp({ ...block, code: "import { TCPServer } from '@srv/core';" })).toBe(false);
  });
});
