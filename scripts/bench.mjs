// `npm run bench [name…]`: runs the benchmarks in scripts/bench/ (all, or those named) one after
// another and writes each one's JSON to bench-results/<name>.json, plus bench-results/all.json.
// Benchmarks report medians and ratios: these machines are noisy, so no figure is a test.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const benchDir = path.join(root, 'scripts', 'bench')
const outDir = path.join(root, 'bench-results')
mkdirSync(outDir, { recursive: true })
const wanted = process.argv.slice(2)
const names = readdirSync(benchDir)
  .filter((f) => f.endsWith('.mjs') && !f.startsWith('_'))
  .map((f) => f.replace(/\.mjs$/, ''))
  .filter((n) => wanted.length === 0 || wanted.includes(n))
  .sort()
if (names.length === 0) {
  console.error(`bench: nothing matches ${wanted.join(', ')}; have ${readdirSync(benchDir).join(', ')}`)
  process.exit(2)
}
const all = {}
for (const name of names) {
  const out = path.join(outDir, `${name}.json`)
  console.log(`\n=== bench ${name}`)
  // Each benchmark runs in its own process so that its peak RSS is its own.
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(benchDir, `${name}.mjs`), out], { stdio: 'inherit' })
  if (r.status !== 0) {
    console.error(`bench ${name} failed with exit code ${r.status}`)
    process.exitCode = 1
    continue
  }
  if (existsSync(out)) all[name] = JSON.parse(readFileSync(out, 'utf8'))
}
writeFileSync(path.join(outDir, 'all.json'), JSON.stringify({ date: new Date().toISOString(), results: all }, null, 2))
console.log(`\nwrote ${path.join(outDir, 'all.json')}`)
