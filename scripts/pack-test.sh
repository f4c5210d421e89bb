#!/usr/bin/env bash
# Packaging test: builds the npm packages the way a release does (napi create-npm-dirs +
# artifacts + prepublish wiring), installs the root package and the linux-x64-gnu package
# from their tarballs into an empty project with no Rust toolchain on PATH, and runs the CLI.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
node_file="$repo/alsrec.linux-x64-gnu.node"
[ -f "$node_file" ] || { echo "pack-test: $node_file is missing; run npm run build first" >&2; exit 1; }
work=$(mktemp -d -t alsrec-pack-XXXXXX)
trap 'rm -rf "$work"' EXIT
napi="$repo/node_modules/.bin/napi"

# 1. Stage the root package as it would be published.
mkdir -p "$work/stage"
(cd "$repo" && npm pack --ignore-scripts --silent --pack-destination "$work" >/dev/null)
tar -xzf "$work"/alsrec-*.tgz -C "$work/stage" && rm "$work"/alsrec-*.tgz
root="$work/stage/package"
[ ! -e "$root/alsrec.linux-x64-gnu.node" ] || { echo "pack-test: the root package must not ship a .node file" >&2; exit 1; }

# 2. Per-platform packages and the built artifact, the napi-rs way. Only this machine's target
#    is built here, so the staged copy lists only it (the release workflow builds them all).
node -e '
  const fs = require("fs"); const p = process.argv[1] + "/package.json";
  const pkg = JSON.parse(fs.readFileSync(p, "utf8"));
  pkg.napi.targets = ["x86_64-unknown-linux-gnu"];
  fs.writeFileSync(p, JSON.stringify(pkg, null, 2));
' "$root"
"$napi" create-npm-dirs --cwd "$root" --npm-dir npm >/dev/null
mkdir -p "$work/artifacts/bindings-x86_64-unknown-linux-gnu"
cp "$node_file" "$work/artifacts/bindings-x86_64-unknown-linux-gnu/"
"$napi" artifacts --cwd "$root" --output-dir "$work/artifacts" --npm-dir npm >/dev/null
[ -f "$root/npm/linux-x64-gnu/alsrec.linux-x64-gnu.node" ] || { echo "pack-test: napi artifacts did not place the binary" >&2; exit 1; }

# 3. Wire optionalDependencies as `napi prepublish` does (it would also publish; we only pack).
node -e '
  const fs = require("fs"); const path = require("path");
  const root = process.argv[1]; const pkgPath = path.join(root, "package.json");
  const pkg = JSON.parse(fs.readFileSync(pkgPath, "utf8"));
  pkg.optionalDependencies = {};
  for (const dir of fs.readdirSync(path.join(root, "npm"))) {
    const sub = JSON.parse(fs.readFileSync(path.join(root, "npm", dir, "package.json"), "utf8"));
    if (sub.version !== pkg.version) throw new Error(`${sub.name} has version ${sub.version}, root has ${pkg.version}`);
    pkg.optionalDependencies[sub.name] = pkg.version;
  }
  fs.writeFileSync(pkgPath, JSON.stringify(pkg, null, 2));
' "$root"
(cd "$root" && npm pack --ignore-scripts --silent --pack-destination "$work" >/dev/null)
(cd "$root/npm/linux-x64-gnu" && npm pack --ignore-scripts --silent --pack-destination "$work" >/dev/null)
root_tgz=$(ls "$work"/alsrec-0*.tgz)
platform_tgz=$(ls "$work"/alsrec-linux-x64-gnu-*.tgz)
echo "pack-test: root package $(du -k "$root_tgz" | cut -f1) KiB, linux-x64-gnu package $(du -k "$platform_tgz" | cut -f1) KiB"

# 4. Install into an empty project with no cargo or rustc reachable.
mkdir -p "$work/app" "$work/bin"
for tool in node npm npx; do ln -s "$(command -v $tool)" "$work/bin/$tool"; done
clean_path="$work/bin:/usr/bin:/bin"
if PATH="$clean_path" command -v cargo >/dev/null || PATH="$clean_path" command -v rustc >/dev/null; then
  echo "pack-test: could not hide cargo/rustc from PATH" >&2; exit 1
fi
cd "$work/app"
echo '{ "name": "pack-test-app", "version": "1.0.0", "private": true }' > package.json
PATH="$clean_path" npm install --no-audit --no-fund --loglevel=error "$root_tgz" "$platform_tgz" >/dev/null
version=$(PATH="$clean_path" npx --no-install alsrec --version)
[ "$version" = "$(node -p "require('$repo/package.json').version")" ] || { echo "pack-test: alsrec --version printed '$version'" >&2; exit 1; }
PATH="$clean_path" npx --no-install alsrec demo --users 1 > demo.log
grep -q "Test RMSE" demo.log || { cat demo.log; echo "pack-test: the demo did not report a test RMSE" >&2; exit 1; }
grep -q "recommended movie" demo.log || { cat demo.log; echo "pack-test: the demo printed no recommendations" >&2; exit 1; }
echo "pack-test: installed from tarballs without cargo/rustc; alsrec $version ran the demo: $(grep 'Test RMSE' demo.log)"

# 5. The public entry points resolve through the package's exports map, from CommonJS and ESM:
#    `alsrec`, `alsrec/reader` (pure JavaScript, no addon), `alsrec/experiment`, and
#    `alsrec/package.json`; a dist path the map does not list is refused.
PATH="$clean_path" node -e '
  const assert = require("assert");
  const root = require("alsrec");
  const reader = require("alsrec/reader");
  const experiment = require("alsrec/experiment");
  assert.strictEqual(typeof root.train, "function", "alsrec: train");
  assert.strictEqual(typeof reader.readModel, "function", "alsrec/reader: readModel");
  assert.strictEqual(typeof experiment.runExperiment, "function", "alsrec/experiment: runExperiment");
  assert.strictEqual(require("alsrec/package.json").version, process.argv[1], "alsrec/package.json");
  assert.throws(() => require("alsrec/dist/index.js"), { code: "ERR_PACKAGE_PATH_NOT_EXPORTED" });
' "$version" || { echo "pack-test: the CommonJS entry points of the packed package do not resolve" >&2; exit 1; }
PATH="$clean_path" node --input-type=module -e '
  import { train } from "alsrec";
  import { readModel } from "alsrec/reader";
  import { runExperiment, evaluateTarget } from "alsrec/experiment";
  for (const [name, f] of Object.entries({ train, readModel, runExperiment, evaluateTarget })) if (typeof f !== "function") throw new Error(`${name} is not exported`);
' || { echo "pack-test: the ESM entry points of the packed package do not resolve" >&2; exit 1; }
echo "pack-test: alsrec, alsrec/reader and alsrec/experiment import from the installed package (CommonJS and ESM)"
