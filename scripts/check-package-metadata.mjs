#!/usr/bin/env node
// Checks that every package under packages/* carries the metadata a published package needs, and
// that apps/demo and bench stay private. Offline and fast: run it before a release.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoUrl = 'git+https://github.com/srv-js/srv.git';
const problems = [];

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

const rootEngines = readJson(join(root, 'package.json')).engines?.node;
const dirs = readdirSync(join(root, 'packages'))
  .filter((d) => existsSync(join(root, 'packages', d, 'package.json')))
  .sort();

for (const d of dirs) {
  const dir = `packages/${d}`;
  const p = readJson(join(root, dir, 'package.json'));
  const say = (msg) => problems.push(`${dir}/package.json: ${msg}`);

  if (p.private) say('is private, but every package under packages/ is published');
  if (p.name !== `@srv/${d}`) say(`name ${p.name}, want @srv/${d}`);
  if (!/^\d+\.\d+\.\d+(?:-[\w.]+)?$/.test(p.version ?? '')) say(`version ${p.version} is not semver`);
  if (typeof p.description !== 'string' || p.description.length < 10) say('no description');
  if (!Array.isArray(p.keywords) || p.keywords.length === 0) say('no keywords');
  if (p.license !== 'MIT') say(`license ${p.license}, want MIT`);
  if (!existsSync(join(root, dir, 'LICENSE'))) problems.push(`${dir}: no LICENSE file`);
  if (p.type !== 'module') say('type is not "module"');
  if (p.sideEffects !== false) say('sideEffects is not false');
  if (p.repository?.url !== repoUrl) say(`repository.url ${p.repository?.url}, want ${repoUrl}`);
  if (p.repository?.directory !== dir) say(`repository.directory ${p.repository?.directory}, want ${dir}`);
  if (p.homepage !== `https://github.com/srv-js/srv/tree/main/${dir}#readme`) say(`homepage ${p.homepage}`);
  if (p.bugs?.url !== 'https://github.com/srv-js/srv/issues') say(`bugs.url ${p.bugs?.url}`);
  if (p.engines?.node !== rootEngines)
    say(`engines.node ${p.engines?.node}, want ${rootEngines} like the root`);
  if (p.publishConfig?.access !== 'public') say('publishConfig.access is not "public"');
  if (!Array.isArray(p.files) || !p.files.includes('dist')) say('files does not list dist');
  // npm packs README and LICENSE on its own, but not the changelog changesets keeps.
  if (!p.files?.includes('CHANGELOG.md')) say('files does not list CHANGELOG.md');

  const main = p.exports?.['.'];
  if (typeof main !== 'object' || main === null) {
    say('exports["."] missing');
  } else {
    if (!main.types?.endsWith('.d.ts')) say('exports["."].types missing');
    if (Object.keys(main)[0] !== 'types') say('exports["."]: types must come first');
  }
  // ESM only, and require()-able on Node >= 20.19 (require(esm)): every entry ends in a `default`
  // condition naming the one ESM build, never a separate CommonJS file (two copies of every class).
  for (const [subpath, target] of Object.entries(p.exports ?? {})) {
    if (typeof target !== 'object' || target === null) continue;
    const conditions = Object.keys(target);
    if (conditions.at(-1) !== 'default')
      say(`exports["${subpath}"]: no default condition last, so require() fails`);
    if ('require' in target || 'import' in target)
      say(`exports["${subpath}"]: import/require conditions; the one ESM build is the default`);
  }
  if (p.exports && !('./package.json' in p.exports)) say('exports does not expose ./package.json');
  if (!p.types) say('types missing');

  for (const [bin, target] of Object.entries(p.bin ?? {})) {
    const top = target.replace(/^\.\//, '').split('/')[0];
    if (!p.files?.includes(top)) say(`bin ${bin} -> ${target}, but files does not list ${top}`);
    if (!existsSync(join(root, dir, target))) say(`bin ${bin} -> ${target} does not exist`);
  }

  // Workspace packages are linked while developing and published as real ranges; @srv/core is a
  // peer of every other package so an application holds one copy.
  for (const field of ['dependencies', 'peerDependencies', 'devDependencies', 'optionalDependencies']) {
    for (const [dep, range] of Object.entries(p[field] ?? {})) {
      if (dep.startsWith('@srv/') && !range.startsWith('workspace:'))
        say(`${field}.${dep} = ${range}, want workspace:`);
    }
  }
  if (p.name !== '@srv/core') {
    if (!p.peerDependencies?.['@srv/core']) say('@srv/core is not a peer dependency');
    if (p.dependencies?.['@srv/core']) say('@srv/core is a dependency; it must be a peer');
    if (!p.devDependencies?.['@srv/core']) say('@srv/core missing from devDependencies (needed to build)');
  }
}

for (const dir of ['apps/demo', 'bench']) {
  const path = join(root, dir, 'package.json');
  if (existsSync(path) && readJson(path).private !== true)
    problems.push(`${dir}/package.json: must be private`);
}

const config = readJson(join(root, '.changeset/config.json'));
for (const name of ['@srv/demo', '@srv/bench']) {
  if (!config.ignore?.includes(name)) problems.push(`.changeset/config.json: ignore does not list ${name}`);
}

if (problems.length > 0) {
  for (const p of problems) console.error(`  ${p}`);
  console.error(`package metadata: ${problems.length} problems`);
  process.exit(1);
}
console.log(`package metadata: ${dirs.length} packages complete`);
