#!/usr/bin/env bash
# End-to-end release test: the changesets flow publishes every package under packages/* to a real
# Verdaccio on loopback, then each package is installed alone with npm in a directory outside the
# workspace and used the way a user would (ESM import, tsc, its commands).
#
# The release runs on a throwaway copy of the working tree with its own git repository, so version
# bumps, deleted changesets and release tags never reach this checkout.
#
# Strict (the default when CI=true, or SRV_E2E_STRICT=1): every package must build, pass its package
# checks and publish, and srv-static / srv-time must exist. Otherwise packages that do not build yet
# are left out (with their dependents) and said so, so the test is useful while packages land.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${SRV_E2E_STRICT:-}" ]; then strict=$SRV_E2E_STRICT
elif [ "${CI:-}" = true ]; then strict=1
else strict=0; fi

# Pinned so a fresh machine gets what was tested. Verdaccio 6 needs Node >= 22.
verdaccio_version=6.10.4
typescript_version=$(node -p "require('$root/node_modules/typescript/package.json').version")
types_node_version=$(node -p "require('$root/node_modules/@types/node/package.json').version")

started=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/srv-release-e2e.XXXXXX")
bg_pids=()
extra_cleanup=()

log() { printf '\n=== [%3ss] %s\n' "$(($(date +%s) - started))" "$*"; }
fail() { printf '\nrelease-e2e: FAIL: %s\n' "$*" >&2; exit 1; }

cleanup() {
  local rc=$? pid
  # Background processes were started with setsid, so each pid is its own process group: signal
  # the group to take npx's child (the real server) down with it.
  for pid in "${bg_pids[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${bg_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$rc" -ne 0 ] && [ -f "$work/registry/verdaccio.log" ]; then
    echo "--- verdaccio log (tail)" >&2
    tail -n 30 "$work/registry/verdaccio.log" >&2 || true
  fi
  rm -rf "$work" "${extra_cleanup[@]}"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

npm_quiet=(--no-audit --no-fund --loglevel=error --no-update-notifier)

log "tools: verdaccio@$verdaccio_version, typescript@$typescript_version, @types/node@$types_node_version (strict=$strict)"
mkdir -p "$work/tools/registry" "$work/tools/ts"
# verdaccio-audit asks for node-fetch by the dist-tag `cjs`, which not every registry mirror carries;
# pinning the version it names keeps the install working everywhere.
cat >"$work/tools/registry/package.json" <<EOF
{
  "private": true,
  "dependencies": { "verdaccio": "$verdaccio_version" },
  "overrides": { "verdaccio-audit": { "node-fetch": "2.7.0" } }
}
EOF
(cd "$work/tools/registry" && npm install "${npm_quiet[@]}" >/dev/null)
cat >"$work/tools/ts/package.json" <<EOF
{
  "private": true,
  "dependencies": { "typescript": "$typescript_version", "@types/node": "$types_node_version" }
}
EOF
(cd "$work/tools/ts" && npm install "${npm_quiet[@]}" >/dev/null)

registry_node=node
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 22 ]; then
  npm install --prefix "$work/tools/node24" --no-save "${npm_quiet[@]}" node@24 >/dev/null
  registry_node="$work/tools/node24/node_modules/.bin/node"
fi

log "copy of the working tree in $work/repo"
mkdir -p "$work/repo"
(
  cd "$root"
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done |
    tar --null -T - -cf -
) | tar -xf - -C "$work/repo"
cd "$work/repo"
git_c=(git -c user.name=release-e2e -c user.email=release-e2e@localhost -c commit.gpgsign=false -c tag.gpgsign=false)
git init -q -b main
git add -A
"${git_c[@]}" commit -q -m "working tree under test"

pnpm_install() {
  pnpm install --prefer-offline --reporter=append-only "$@" >"$work/pnpm-install.log" 2>&1 ||
    { tail -n 40 "$work/pnpm-install.log" >&2; fail "pnpm install $* failed"; }
}
pnpm_install --frozen-lockfile

# name<TAB>dir for every publishable package under packages/*
list_packages() {
  node -e '
    const fs = require("node:fs");
    for (const d of fs.readdirSync("packages").sort()) {
      const f = `packages/${d}/package.json`;
      if (!fs.existsSync(f)) continue;
      const p = JSON.parse(fs.readFileSync(f, "utf8"));
      if (!p.private) console.log(`${p.name}\tpackages/${d}`);
    }'
}

if [ "$strict" != 1 ]; then
  log "partial mode: which packages build and pass their checks"
  pnpm exec turbo run build check --filter='./packages/*' --continue --summarize --output-logs=errors-only >"$work/turbo-probe.log" 2>&1 || true
  summary=$(ls -t .turbo/runs/*.json | head -n 1)
  excluded=$(node -e '
    (async () => {
    const fs = require("node:fs");
    const path = require("node:path");
    const summary = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    const failed = new Set();
    for (const t of summary.tasks) {
      if (t.execution && t.execution.exitCode !== 0) failed.add(t.package);
    }
    const pkgs = new Map();
    for (const d of fs.readdirSync("packages")) {
      const f = `packages/${d}/package.json`;
      if (fs.existsSync(f)) pkgs.set(JSON.parse(fs.readFileSync(f, "utf8")).name, { dir: `packages/${d}`, json: JSON.parse(fs.readFileSync(f, "utf8")) });
    }
    // A skeleton that builds but exports nothing has not landed yet.
    for (const [name, { dir }] of pkgs) {
      const entry = path.resolve(dir, "dist/index.js");
      if (!fs.existsSync(entry)) { failed.add(name); continue; }
      try {
        if (Object.keys(await import(entry)).length === 0) failed.add(name);
      } catch { failed.add(name); }
    }
    // A package whose workspace dependency is left out cannot be installed from the registry either.
    let grew = true;
    while (grew) {
      grew = false;
      for (const [name, { json }] of pkgs) {
        if (failed.has(name)) continue;
        const optional = json.peerDependenciesMeta ?? {};
        const peers = Object.keys(json.peerDependencies ?? {}).filter((d) => !optional[d]?.optional);
        const deps = [...Object.keys(json.dependencies ?? {}), ...peers];
        if (deps.some((d) => failed.has(d))) { failed.add(name); grew = true; }
      }
    }
    for (const name of failed) if (pkgs.has(name)) console.log(`${name}\t${pkgs.get(name).dir}`);
    })();
  ' "$summary")
  if [ -n "$excluded" ]; then
    echo "left out (not building or not passing checks yet, or depending on one that is not):"
    sed 's/^/  /' <<<"$excluded"
    while IFS=$'\t' read -r name dir; do
      rm -rf "$dir"
      # What is left may still name it as an optional peer or a dev dependency.
      node -e '
        const fs = require("node:fs");
        const name = process.argv[1];
        for (const d of fs.readdirSync("packages")) {
          const f = `packages/${d}/package.json`;
          if (!fs.existsSync(f)) continue;
          const p = JSON.parse(fs.readFileSync(f, "utf8"));
          for (const field of ["peerDependencies", "peerDependenciesMeta", "devDependencies"]) {
            if (p[field]) delete p[field][name];
          }
          fs.writeFileSync(f, JSON.stringify(p, null, 2));
        }' "$name"
      { grep -l -F "\"$name\"" .changeset/*.md 2>/dev/null || true; } | xargs -r rm -f
    done <<<"$excluded"
    # apps/demo and bench depend on every package; they are private and never published.
    rm -rf apps bench
    node -e '
      const fs = require("node:fs");
      const config = JSON.parse(fs.readFileSync(".changeset/config.json", "utf8"));
      config.ignore = (config.ignore ?? []).filter((name) => name !== "@srv/demo" && name !== "@srv/bench");
      fs.writeFileSync(".changeset/config.json", JSON.stringify(config, null, 2));'
    git add -A
    "${git_c[@]}" commit -q -m "partial: leave out packages that do not build yet"
    pnpm_install --no-frozen-lockfile
  fi
fi

mapfile -t packages < <(list_packages)
[ "${#packages[@]}" -gt 0 ] || fail "no publishable package under packages/*"

log "pnpm version-packages"
pnpm run --silent version-packages
git add -A
# Nothing to commit when the tree under test is a version commit already (no changeset pending).
git diff --cached --quiet || "${git_c[@]}" commit -q -m "version packages"
[ -z "$(ls .changeset/*.md 2>/dev/null)" ] || fail "changesets left after version-packages: $(ls .changeset/*.md)"
# 1.0.0 is the maintainers' decision, never a changeset's (CONTRIBUTING.md): a major out of the version
# step is changesets bumping the peer dependents of @srv/core, which must not be published unnoticed.
for entry in "${packages[@]}"; do
  IFS=$'\t' read -r name dir <<<"$entry"
  version=$(node -p "require('./$dir/package.json').version")
  echo "  $name@$version"
  [ "${version%%.*}" = 0 ] || fail "the version step made $name@$version: see CONTRIBUTING.md on the @srv/core peer range"
done

log "registry: verdaccio on loopback, temporary storage, no uplinks"
port=$(node -e 'const s=require("node:net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
reg="http://127.0.0.1:$port/"
mkdir -p "$work/registry/storage"
# No uplinks at all: @srv/* can only ever come from what this run publishes. Consumers reach the
# public registry for third-party dependencies directly, through a scoped registry setting.
cat >"$work/registry/config.yaml" <<EOF
storage: $work/registry/storage
auth:
  htpasswd:
    file: $work/registry/htpasswd
    max_users: 10
uplinks: {}
packages:
  '@srv/*':
    access: \$all
    publish: \$authenticated
    unpublish: \$authenticated
  '**':
    access: \$all
    publish: \$authenticated
web:
  enable: false
log: { type: stdout, format: pretty, level: warn }
EOF
setsid "$registry_node" "$work/tools/registry/node_modules/verdaccio/bin/verdaccio" \
  --config "$work/registry/config.yaml" --listen "127.0.0.1:$port" \
  </dev/null >"$work/registry/verdaccio.log" 2>&1 &
bg_pids+=($!)
curl -fs --retry 60 --retry-connrefused --retry-delay 1 --max-time 5 "${reg}-/ping" >/dev/null ||
  fail "verdaccio did not answer on $reg"
token=$(curl -fsS -X PUT -H 'content-type: application/json' \
  -d '{"name":"release-e2e","password":"release-e2e-password"}' \
  "${reg}-/user/org.couchdb.user:release-e2e" | node -p 'JSON.parse(require("node:fs").readFileSync(0, "utf8")).token')
[ -n "$token" ] && [ "$token" != undefined ] || fail "could not create a registry user"
printf '\n//127.0.0.1:%s/:_authToken=%s\n' "$port" "$token" >>.npmrc

log "pnpm release (build, package checks, publish, tags) against $reg"
if ! npm_config_registry=$reg pnpm run --silent release >"$work/release.log" 2>&1; then
  tail -n 120 "$work/release.log" >&2
  fail "pnpm release failed"
fi
grep -E '🦋|^package metadata' "$work/release.log" | grep -v -F 'npm info' || true

log "published manifests"
declare -A version_of dir_of
for entry in "${packages[@]}"; do
  IFS=$'\t' read -r name dir <<<"$entry"
  version=$(node -p "require('./$dir/package.json').version")
  version_of[$name]=$version
  dir_of[$name]=$dir
  npm view "$name@$version" --json --registry "$reg" >"$work/manifest.json" 2>/dev/null ||
    fail "$name@$version is not on the registry"
  node -e '
    const [file, name, version] = process.argv.slice(1);
    const m = JSON.parse(require("node:fs").readFileSync(file, "utf8"));
    const problems = [];
    if (m.version !== version) problems.push(`version ${m.version}`);
    for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
      for (const [dep, range] of Object.entries(m[field] ?? {})) {
        if (range.startsWith("workspace:")) problems.push(`${field}.${dep} = ${range}`);
      }
    }
    for (const field of ["description", "license", "repository", "homepage", "bugs", "engines", "exports", "types"]) {
      if (m[field] === undefined) problems.push(`no ${field}`);
    }
    if (problems.length) { console.error(`${name}: ${problems.join("; ")}`); process.exit(1); }
    const peers = Object.entries(m.peerDependencies ?? {}).map(([d, r]) => `${d}@${r}`).join(" ");
    console.log(`${name}@${m.version}${peers ? `  peers: ${peers}` : ""}`);
  ' "$work/manifest.json" "$name" "$version"
  git rev-parse -q --verify "refs/tags/$name@$version" >/dev/null || fail "no git tag $name@$version"
done

# Consumer side: one fresh directory per package, outside the workspace, nothing but npm. Each is a
# CommonJS project (npm init's default: no "type"), which imports the package from an .mjs file and
# require()s it from a .cjs file (Node >= 20.19 loads ES modules synchronously), and type-checks both
# an .mts and a .cts consumer with module nodenext.
consumers="$work/consumers"
mkdir -p "$consumers"
cat >"$consumers/tsconfig.base.json" <<EOF
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "noEmit": true,
    "skipLibCheck": false,
    "types": ["node"],
    "typeRoots": ["$work/tools/ts/node_modules/@types"]
  }
}
EOF
tsc=("$work/tools/ts/node_modules/typescript/bin/tsc")

# Starts "$@" in its own process group with stdout on a pipe; reads the first line (the banner).
# Sets server_pid and banner.
start_server() {
  local fifo="$work/fifo.$RANDOM"
  mkfifo "$fifo"
  setsid "$@" </dev/null >"$fifo" 2>"$work/server.stderr" &
  server_pid=$!
  bg_pids+=("$server_pid")
  exec {server_fd}<"$fifo"
  rm -f "$fifo"
  banner=
  IFS= read -r -t 60 banner <&"$server_fd" || true
  # Keep draining so a chatty server never blocks on a full pipe.
  cat <&"$server_fd" >/dev/null &
  bg_pids+=($!)
  exec {server_fd}<&-
  if [ -z "$banner" ]; then
    cat "$work/server.stderr" >&2 || true
    fail "no banner from: $*"
  fi
  echo "  $banner"
}

# SIGINT to the whole group, like Ctrl-C in a terminal; the command must drain, exit with one of
# the allowed codes ($3, default 0) and stop listening on port $2.
stop_server() {
  local rc=0
  kill -INT -- "-$server_pid"
  wait "$server_pid" || rc=$?
  if [[ " ${3:-0} " != *" $rc "* ]]; then
    cat "$work/server.stderr" >&2 || true
    fail "$1 exited $rc on SIGINT (want ${3:-0})"
  fi
  if node -e 'const s=require("node:net").connect(+process.argv[1],"127.0.0.1",()=>process.exit(0));s.on("error",()=>process.exit(1))' "$2"; then
    fail "$1 still accepts connections on port $2 after SIGINT"
  fi
  echo "  SIGINT: exit $rc, port $2 closed"
}

banner_port() { sed -n 's/.* port \([0-9][0-9]*\) .*/\1/p' <<<"$1"; }

seen_bins=()
for entry in "${packages[@]}"; do
  IFS=$'\t' read -r name dir <<<"$entry"
  version=${version_of[$name]}
  short=${name#@srv/}
  app="$consumers/$short"
  log "consumer: npm install $name@$version alone"
  mkdir -p "$app"
  cd "$app"
  printf '{ "name": "consumer-%s", "version": "1.0.0", "private": true }\n' "$short" >package.json
  printf '@srv:registry=%s\n' "$reg" >.npmrc
  npm install "${npm_quiet[@]}" --prefer-online "$name@$version"
  npm ls --all >/dev/null || fail "npm ls reports problems for $name"
  docs=(LICENSE README.md)
  [ -f "$work/repo/${dir_of[$name]}/CHANGELOG.md" ] && docs+=(CHANGELOG.md)
  for doc in "${docs[@]}"; do
    if [ ! -f "node_modules/$name/$doc" ]; then
      [ "$strict" = 1 ] && fail "$name@$version was published without $doc"
      echo "  note: $name@$version has no $doc yet (partial mode)" >&2
    fi
  done
  [ "$(find node_modules -path '*/@srv/core/package.json' | wc -l)" -le 1 ] || fail "more than one @srv/core under $name"

  # Every public subpath of the installed package, from its own exports map.
  mapfile -t specifiers < <(node -e '
    const [name] = process.argv.slice(1);
    const p = JSON.parse(require("node:fs").readFileSync(`node_modules/${name}/package.json`, "utf8"));
    for (const key of Object.keys(p.exports ?? { ".": null })) {
      if (key === "./package.json" || key.includes("*")) continue;
      console.log(key === "." ? name : `${name}/${key.slice(2)}`);
    }' "$name")

  : >check.mjs
  : >check.mts
  : >check.cjs
  : >check.cts
  i=0
  for spec in "${specifiers[@]}"; do
    i=$((i + 1))
    cat >>check.mjs <<EOF
import * as m$i from '$spec';
if (Object.keys(m$i).length === 0) throw new Error('$spec exports nothing');
console.log('  import $spec: ' + Object.keys(m$i).length + ' exports');
EOF
    cat >>check.mts <<EOF
import * as m$i from '$spec';
export const names$i: string[] = Object.keys(m$i);
EOF
    cat >>check.cjs <<EOF
const m$i = require('$spec');
if (Object.keys(m$i).length === 0) throw new Error('$spec exports nothing');
console.log('  require $spec: ' + Object.keys(m$i).length + ' exports');
EOF
    cat >>check.cts <<EOF
import m$i = require('$spec');
export const names$i: string[] = Object.keys(m$i);
EOF
  done
  node check.mjs
  node check.cjs 2>"$work/require.stderr" || { cat "$work/require.stderr" >&2; fail "require() of $name failed"; }
  # A warning here (ExperimentalWarning and the like) is something a CommonJS user would see too.
  if [ -s "$work/require.stderr" ]; then cat "$work/require.stderr" >&2; fi
  printf '{ "extends": "../tsconfig.base.json", "files": ["check.mts", "check.cts"] }\n' >tsconfig.json
  node "${tsc[@]}" -p tsconfig.json || fail "tsc --noEmit failed for $name"
  echo "  tsc --noEmit (ESM .mts and CommonJS .cts consumers): ok"

  for bin in $(node -p "Object.keys(require('./node_modules/$name/package.json').bin ?? {}).join(' ')"); do
    seen_bins+=("$bin")
    got=$("node_modules/.bin/$bin" --version) || fail "$bin --version failed"
    [ "$got" = "$bin $version" ] || fail "$bin --version printed '$got', want '$bin $version'"
    echo "  $bin --version: $got"
    case $bin in
      srv-static)
        log "consumer: npx --no-install srv-static"
        mkdir -p site
        printf 'hello from srv-static %s\n' "$version" >site/hello.txt
        start_server npx --no-install srv-static 0 -b 127.0.0.1 -d site
        p=$(banner_port "$banner")
        [ -n "$p" ] || fail "no port in srv-static banner: $banner"
        got=$(curl -fsS "http://127.0.0.1:$p/hello.txt")
        [ "$got" = "hello from srv-static $version" ] || fail "srv-static served: $got"
        echo "  GET /hello.txt: $got"
        # npm exits 130 when it receives the SIGINT itself, whatever the command it ran exits with.
        stop_server srv-static "$p" "0 130"
        ;;
      srv-time)
        log "consumer: srv-time serve / srv-time query"
        # Straight from node_modules/.bin, so the exit code on SIGINT is the command's own.
        start_server node_modules/.bin/srv-time serve 0 -b 127.0.0.1
        p=$(banner_port "$banner")
        [ -n "$p" ] || fail "no port in srv-time banner: $banner"
        secs=$(npx --no-install srv-time query "127.0.0.1:$p" seconds)
        now=$(date +%s)
        node -e '
          const [reply, now] = [Number.parseFloat(process.argv[1]), Number(process.argv[2])];
          if (!Number.isFinite(reply) || Math.abs(reply - now) > 300) {
            console.error(`srv-time query seconds answered ${process.argv[1]}, clock says ${now}`);
            process.exit(1);
          }' "$secs" "$now" || fail "srv-time query seconds"
        echo "  query seconds: $secs"
        asctime=$(npx --no-install srv-time query "127.0.0.1:$p" asctime)
        [ -n "$asctime" ] || fail "srv-time query asctime answered nothing"
        echo "  query asctime: $asctime"
        stop_server srv-time "$p"
        ;;
      *)
        [ -x "node_modules/.bin/$bin" ] || fail "$bin is not linked into node_modules/.bin"
        echo "  $bin: installed"
        ;;
    esac
  done
done

for want in srv-static srv-time; do
  if [[ " ${seen_bins[*]} " != *" $want "* ]]; then
    if [ "$strict" = 1 ]; then fail "no package published the $want command"; fi
    echo "release-e2e: note: $want not published yet (partial mode), its steps did not run" >&2
  fi
done

# The READMEs' commands as written (`npx -p @srv/static srv-static`, `npx -p @srv/cgi srv-cgi`), from a
# directory that is no project at all, with an npm cache of this run only: npx must fetch the package
# and its dependencies itself, and nothing an earlier run cached is reused. npm_config_yes answers npx's
# "Ok to proceed?" the way a user at a terminal does (without a terminal npx cancels otherwise).
readme_dir="$work/readme-npx"
mkdir -p "$readme_dir"
printf '@srv:registry=%s\n' "$reg" >"$readme_dir/.npmrc"
cd "$readme_dir"
if [ -n "${version_of[@srv/static]:-}" ]; then
  log "README: npx -p @srv/static srv-static (nothing installed)"
  mkdir -p site
  printf 'hello from npx\n' >site/hello.txt
  start_server env npm_config_cache="$work/npx-cache" npm_config_yes=true npx -p @srv/static srv-static 0 -b 127.0.0.1 -d site
  p=$(banner_port "$banner")
  [ -n "$p" ] || fail "no port in the banner of npx -p @srv/static srv-static: $banner"
  got=$(curl -fsS "http://127.0.0.1:$p/hello.txt")
  [ "$got" = "hello from npx" ] || fail "npx -p @srv/static srv-static served: $got"
  echo "  GET /hello.txt: $got"
  stop_server "npx -p @srv/static srv-static" "$p" "0 130"
fi
if [ -n "${version_of[@srv/cgi]:-}" ]; then
  log "README: npx -p @srv/cgi srv-cgi (nothing installed)"
  # Scripts run as nobody when this runs as root, and $work is private to its owner: the site goes in a
  # directory of its own that everyone may enter.
  cgi_site=$(mktemp -d "${TMPDIR:-/tmp}/srv-release-e2e-cgi.XXXXXX")
  chmod 755 "$cgi_site"
  extra_cleanup+=("$cgi_site")
  (
    cd "$cgi_site"
    # The README's own line.
    mkdir -p cgi-bin && printf '#!/bin/sh\nprintf "Content-Type: text/plain\\n\\nHello from $QUERY_STRING\\n"\n' > cgi-bin/hello.sh && chmod +x cgi-bin/hello.sh
  )
  start_server env npm_config_cache="$work/npx-cache" npm_config_yes=true npx -p @srv/cgi srv-cgi 0 -b 127.0.0.1 -d "$cgi_site"
  p=$(banner_port "$banner")
  [ -n "$p" ] || fail "no port in the banner of npx -p @srv/cgi srv-cgi: $banner"
  got=$(curl -sS "http://127.0.0.1:$p/cgi-bin/hello.sh?world")
  [ "$got" = "Hello from world" ] || { cat "$work/server.stderr" >&2; fail "npx -p @srv/cgi srv-cgi answered: $got"; }
  echo "  GET /cgi-bin/hello.sh?world: $got"
  stop_server "npx -p @srv/cgi srv-cgi" "$p" "0 130"

  log "README: npx -p @srv/static -p @srv/cgi srv-static --cgi (nothing installed)"
  start_server env npm_config_cache="$work/npx-cache" npm_config_yes=true \
    npx -p @srv/static -p @srv/cgi srv-static --cgi 0 -b 127.0.0.1 -d "$cgi_site"
  p=$(banner_port "$banner")
  [ -n "$p" ] || fail "no port in the banner of srv-static --cgi: $banner"
  got=$(curl -sS "http://127.0.0.1:$p/cgi-bin/hello.sh?static")
  [ "$got" = "Hello from static" ] || { cat "$work/server.stderr" >&2; fail "srv-static --cgi answered: $got"; }
  echo "  GET /cgi-bin/hello.sh?static: $got"
  stop_server "npx -p @srv/static -p @srv/cgi srv-static --cgi" "$p" "0 130"
fi
cd "$work"

log "release e2e: ${#packages[@]} packages published, installed alone and used: $(printf '%s ' "${packages[@]%%$'\t'*}")"
