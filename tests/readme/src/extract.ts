import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** The languages whose blocks are run: TypeScript (type-checked first) and JavaScript. */
const languages: Record<string, 'ts' | 'js'> = {
  ts: 'ts',
  typescript: 'ts',
  js: 'js',
  javascript: 'js',
  mjs: 'js',
};

/** A fenced `ts`/`js` code block of a README. */
export interface CodeBlock {
  /** The README, relative to the repository root (`packages/http/README.md`). */
  readonly readme: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly language: 'ts' | 'js';
  /** The code, without the fences. */
  readonly code: string;
  /** The file name its first line gives (`// handlers.mjs`), which other blocks may import. */
  readonly fileName: string | undefined;
  /** Why it is not run, from a `<!-- readme-test: skip (reason) -->` line just before it. */
  readonly skip: string | undefined;
}

const fence = /^(`{3,}|~{3,})\s*([\w-]*)/;
const marker = /^<!--\s*readme-test:\s*(.*?)\s*-->$/;
const skipMarker = /^skip \((.+)\)$/;
const fileComment = /^\/\/\s*([\w.-]+\.(?:[cm]?[jt]s))\b/;

/**
 * Every `ts`/`js` block of one README, in order. Throws on a `readme-test` marker that is malformed or
 * does not stand right before a code block, so a stale marker cannot hide anything.
 */
export function extractBlocks(text: string, readme: string): CodeBlock[] {
  const lines = text.split('\n');
  const blocks: CodeBlock[] = [];
  let pendingMarker: { line: number; reason: string } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trimEnd();
    const markerMatch = marker.exec(line.trim());
    if (markerMatch) {
      const skip = skipMarker.exec(markerMatch[1]!);
      if (!skip) throw new Error(`${readme}:${i + 1}: want <!-- readme-test: skip (reason) -->, got ${line}`);
      pendingMarker = { line: i + 1, reason: skip[1]! };
      continue;
    }
    const open = fence.exec(line);
    if (!open) {
      if (line.trim() !== '' && pendingMarker) {
        throw new Error(
          `${readme}:${pendingMarker.line}: a readme-test marker must stand right before a code block`,
        );
      }
      continue;
    }
    const closing = new RegExp(`^${open[1]![0]}{${open[1]!.length},}\\s*$`);
    let end = i + 1;
    while (end < lines.length && !closing.test(lines[end]!)) end++;
    const code = lines.slice(i + 1, end).join('\n');
    const language = languages[open[2]!.toLowerCase()];
    if (language) {
      blocks.push({
        readme,
        line: i + 1,
        language,
        code: `${code}\n`,
        fileName: fileComment.exec(code.trimStart())?.[1],
        skip: pendingMarker?.reason,
      });
    } else if (pendingMarker) {
      throw new Error(
        `${readme}:${pendingMarker.line}: a readme-test marker before a ${open[2] || 'plain'} block`,
      );
    }
    pendingMarker = undefined;
    i = end;
  }
  if (pendingMarker)
    throw new Error(`${readme}:${pendingMarker.line}: a readme-test marker with no block after it`);
  return blocks;
}

/** The READMEs a user reads: the root's, every package's and app's, and the bench's. */
export function findReadmes(root: string): string[] {
  const found = ['README.md'];
  for (const group of ['packages', 'apps']) {
    const dir = path.join(root, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      if (existsSync(path.join(dir, name, 'README.md'))) found.push(`${group}/${name}/README.md`);
    }
  }
  if (existsSync(path.join(root, 'bench', 'README.md'))) found.push('bench/README.md');
  return found;
}

/**
 * True for a block that serves until stopped (it awaits `serveForever()`), which the test stops after
 * one request to each of its servers; any other block must finish on its own.
 */
export function isServerBlock(block: CodeBlock): boolean {
  return /^\s*await\b.*\bserveForever\(/m.test(block.code);
}

/** True for a block whose servers speak HTTP (the test sends them a GET), else a text line. */
export function speaksHttp(block: CodeBlock): boolean {
  return /@srv\/(?:http|static|cgi)\b|HTTPServer/.test(block.code);
}
