#!/usr/bin/env node
// Generates the API reference (TypeDoc, one section per package under packages/*, see typedoc.json)
// into docs/api, then checks every internal link of the generated HTML offline: each relative
// href/src must name a file that exists, and each #fragment an id or name in that file.
// External links (http:, https:, mailto:) are not followed: CI has no internet.
//
//   node scripts/api-docs.mjs           generate, then check
//   node scripts/api-docs.mjs --check   check an existing docs/api only
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'docs/api');

if (!process.argv.includes('--check')) {
  const typedoc = join(root, 'node_modules/typedoc/bin/typedoc');
  const run = spawnSync(process.execPath, [typedoc, '--logLevel', 'Warn'], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) {
    console.error(`api-docs: typedoc failed (exit ${run.status ?? run.signal})`);
    process.exit(1);
  }
}

if (!existsSync(join(out, 'index.html'))) {
  console.error('api-docs: docs/api/index.html missing; run without --check first');
  process.exit(1);
}

/** @param {string} dir @returns {string[]} */
function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? walk(path) : [path];
  });
}

const files = walk(out);
const htmlFiles = files.filter((f) => extname(f) === '.html');

/** @type {Map<string, Set<string>>} */
const anchorsCache = new Map();
function anchorsOf(file) {
  let anchors = anchorsCache.get(file);
  if (!anchors) {
    anchors = new Set();
    for (const m of readFileSync(file, 'utf8').matchAll(/\s(?:id|name)="([^"]*)"/g)) {
      anchors.add(decodeEntities(m[1]));
    }
    anchorsCache.set(file, anchors);
  }
  return anchors;
}

function decodeEntities(text) {
  return text
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

const problems = [];
let checked = 0;
const external = /^(?:[a-z][a-z0-9+.-]*:|\/\/)/i;

for (const file of htmlFiles) {
  const html = readFileSync(file, 'utf8');
  for (const m of html.matchAll(/\s(href|src)="([^"]*)"/g)) {
    const raw = decodeEntities(m[2]);
    if (raw === '' || external.test(raw)) continue;
    checked++;
    const hashAt = raw.indexOf('#');
    const pathPart = (hashAt === -1 ? raw : raw.slice(0, hashAt)).split('?')[0] ?? '';
    const fragment = hashAt === -1 ? '' : decodeURIComponent(raw.slice(hashAt + 1));
    const where = relative(root, file);
    if (pathPart.startsWith('/')) {
      problems.push(`${where}: root-relative link ${raw} breaks when the docs are not served at /`);
      continue;
    }
    let target = pathPart === '' ? file : resolve(dirname(file), decodeURIComponent(pathPart));
    if (existsSync(target) && !target.endsWith('.html') && existsSync(join(target, 'index.html'))) {
      target = join(target, 'index.html');
    }
    if (!target.startsWith(out) || !existsSync(target)) {
      problems.push(`${where}: ${raw} -> no such file`);
      continue;
    }
    if (fragment !== '' && extname(target) === '.html' && !anchorsOf(target).has(fragment)) {
      problems.push(`${where}: ${raw} -> no id "${fragment}" in ${relative(root, target)}`);
    }
  }
}

const packages = readdirSync(join(root, 'packages')).filter((d) =>
  existsSync(join(root, 'packages', d, 'package.json')),
);
const missingSections = packages
  .map((d) => JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8')).name)
  .filter((name) => !readFileSync(join(out, 'index.html'), 'utf8').includes(name));
for (const name of missingSections) problems.push(`docs/api/index.html: no section for ${name}`);

if (problems.length > 0) {
  for (const p of problems.slice(0, 50)) console.error(`  ${p}`);
  if (problems.length > 50) console.error(`  ... and ${problems.length - 50} more`);
  console.error(`api-docs: ${problems.length} problems in docs/api`);
  process.exit(1);
}
console.log(
  `api-docs: ${packages.length} package sections, ${htmlFiles.length} pages, ${checked} internal links, all resolve`,
);
