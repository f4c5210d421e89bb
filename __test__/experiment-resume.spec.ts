// Grids that never mislead (issue 18): `--resume` after Ctrl-C or a crash keeps every finished
// run and trains the rest (item 5); every link of every generated markdown file resolves, k-fold
// included (item 6); ranking metrics appear in results.md and each summary.md (item 7); the
// SIGINT message counts what finished and what did not run (item 9).
import test from 'ava'

// Serial: a spawnSync in a concurrent test would block the event loop that times the signals.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { root, sampleDir } from './helpers.js'

const bin = path.join(root, 'bin', 'alsrec.js')
const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'alsrec-resume-'))
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' })

interface GridJson {
  planned: number
  finished: number
  failed: number
  resumed: number
  notRun: number
  interrupted: boolean
  rows: Array<{ run: string; resumed: boolean; testRmse: number; keptEpoch: number; epochs: number; ranking: Record<string, number> | null; dir: string }>
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Starts a grid, waits until `ready()` holds, sends `signal`, and resolves with its exit code and stderr. */
async function stopGrid(config: string, ready: () => boolean, signal: NodeJS.Signals): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [bin, 'grid', config], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  const started = Date.now()
  while (!ready() && Date.now() - started < 60_000) await sleep(20)
  child.kill(signal)
  return { code: await exited, stderr }
}

/** A run's log shows its first epoch: it is training. */
const training = (dir: string) => () => {
  const log = path.join(dir, 'log.txt')
  return existsSync(log) && readFileSync(log, 'utf8').includes('epoch 1:')
}

const mtime = (file: string): number => statSync(file).mtimeMs

function gridConfig(dir: string, model: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  const file = path.join(dir, 'grid.json')
  writeFileSync(file, JSON.stringify({ data: { movielens: sampleDir }, model: { tolerance: 0, ...model }, output: { dir: 'out' }, ...extra }))
  return file
}

test.serial('Ctrl-C: "1 of 3 runs finished and kept; 2 not run"; --resume keeps the finished run and trains the rest', async (t) => {
  const dir = tmp()
  const config = gridConfig(dir, { kind: 'biased', factors: [2, 4, 8], epochs: 150 })
  const out = path.join(dir, 'out')
  const stopped = await stopGrid(config, training(path.join(out, 'runs', '02-biased-k4')), 'SIGINT')
  t.is(stopped.code, 130, stopped.stderr)
  t.regex(stopped.stderr, /alsrec: interrupted; 1 of 3 runs finished and kept; 2 not run \(.*results\.csv lists the finished ones\)\. Resume with: alsrec grid .*grid\.json --resume/)
  const firstMetrics = path.join(out, 'runs', '01-biased-k2', 'metrics.json')
  const before = mtime(firstMetrics)

  t.is(run('grid', config).status, 2, 'without --resume or --force the folder is refused')
  t.is(run('grid', config, '--resume', '--force').status, 2)
  const resumed = run('grid', config, '--resume', '--json')
  t.is(resumed.status, 0, resumed.stderr)
  const g = JSON.parse(resumed.stdout) as GridJson
  t.like(g, { planned: 3, finished: 3, failed: 0, resumed: 1, notRun: 0, interrupted: false })
  t.deepEqual(g.rows.filter((r) => r.resumed).map((r) => r.run), ['01-biased-k2'])
  t.is(mtime(firstMetrics), before, 'the finished run was not trained again')
  // The tables and plots are rebuilt from all three runs.
  const csv = readFileSync(path.join(out, 'results.csv'), 'utf8').trim().split('\n')
  t.is(csv.length, 4)
  t.regex(readFileSync(path.join(out, 'results.md'), 'utf8'), /1 run\(s\) kept from an earlier, interrupted run of this grid/)
  for (const plot of ['rmse-vs-k.svg', 'learning-curves.svg', 'movie-map.svg']) t.true(mtime(path.join(out, plot)) > before, `${plot} was redrawn`)
  t.regex(readFileSync(path.join(out, 'grid.log'), 'utf8'), /interrupted during runs\/02-biased-k4[\s\S]*resumed: grid of 3/)
  // Resumed again: nothing left to train.
  const again = JSON.parse(run('grid', config, '--resume', '--json').stdout) as GridJson
  t.is(again.resumed, 3)
})

test.serial('after a crash (SIGKILL) --resume retrains the half-written run; a run whose config changed is retrained', async (t) => {
  const dir = tmp()
  const config = gridConfig(dir, { kind: 'biased', factors: [2, 4], epochs: 150 })
  const out = path.join(dir, 'out')
  const half = path.join(out, 'runs', '02-biased-k4')
  const killed = await stopGrid(config, training(half), 'SIGKILL')
  t.is(killed.code, null)
  t.is(JSON.parse(readFileSync(path.join(half, 'alsrec-run.json'), 'utf8')).status, 'running', 'a crashed run is marked unfinished')
  t.false(existsSync(path.join(half, 'metrics.json')))
  const resumed = JSON.parse(run('grid', config, '--resume', '--json').stdout) as GridJson
  t.like(resumed, { planned: 2, finished: 2, resumed: 1 })
  t.true(existsSync(path.join(half, 'metrics.json')))
  t.is(JSON.parse(readFileSync(path.join(half, 'alsrec-run.json'), 'utf8')).status, 'done')

  // A changed training config (fewer epochs) changes every run's hash: all are retrained.
  writeFileSync(config, JSON.stringify({ data: { movielens: sampleDir }, model: { kind: 'biased', factors: [2, 4], epochs: 3, tolerance: 0 }, output: { dir: 'out' } }))
  const changed = JSON.parse(run('grid', config, '--resume', '--json').stdout) as GridJson
  t.like(changed, { finished: 2, resumed: 0 })
  t.true(changed.rows.every((r) => r.epochs === 3))
  // A new value: the unchanged runs are kept, the new one trained.
  writeFileSync(config, JSON.stringify({ data: { movielens: sampleDir }, model: { kind: 'biased', factors: [2, 4, 8], epochs: 3, tolerance: 0 }, output: { dir: 'out' } }))
  const grown = JSON.parse(run('grid', config, '--resume', '--json').stdout) as GridJson
  t.like(grown, { planned: 3, finished: 3, resumed: 2 })
  t.deepEqual(grown.rows.filter((r) => !r.resumed).map((r) => r.run), ['03-biased-k8'])
  // A damaged (hand-edited) metrics.json is not a finished run: retrained, never a crash.
  const edited = path.join(out, 'runs', '01-biased-k2', 'metrics.json')
  writeFileSync(edited, JSON.stringify({ ...JSON.parse(readFileSync(edited, 'utf8')), final: { testRmse: 'low' } }))
  const repaired = run('grid', config, '--resume', '--json')
  t.is(repaired.status, 0, repaired.stderr)
  t.like(JSON.parse(repaired.stdout), { finished: 3, resumed: 2 })
  t.is(typeof JSON.parse(readFileSync(edited, 'utf8')).final.testRmse, 'number')
})

/** Every file under `dir`, relative to it. */
function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
}

/** Every relative link and image of every markdown file under `dir`, and whether its target exists. */
function markdownLinks(dir: string): Array<{ file: string; target: string; exists: boolean }> {
  const out: Array<{ file: string; target: string; exists: boolean }> = []
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (entry.name.endsWith('.md')) {
        for (const m of readFileSync(full, 'utf8').matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)) {
          const target = m[1] ?? ''
          if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue
          out.push({ file: path.relative(dir, full), target, exists: existsSync(path.resolve(path.dirname(full), target.split('#')[0] ?? '')) })
        }
      }
    }
  }
  walk(dir)
  return out
}

test.serial('k-fold and plain grids: every link in every generated markdown file resolves; ranking metrics are in the tables', (t) => {
  for (const folds of [3, undefined]) {
    const dir = tmp()
    const config = gridConfig(dir, { kind: ['bias', 'biased'], factors: 4, epochs: 2 }, { split: { seed: 42, ...(folds ? { folds } : {}) } })
    const r = run('grid', config, '--json')
    t.is(r.status, 0, r.stderr)
    const g = JSON.parse(r.stdout) as GridJson
    const out = path.join(dir, 'out')
    const links = markdownLinks(out)
    const mdFiles = new Set(links.map((l) => l.file))
    t.true(mdFiles.has('results.md'))
    t.true(links.length >= (folds ? 2 + 2 * folds * 2 : 4), `${links.length} links`)
    t.deepEqual(links.filter((l) => !l.exists), [], `${folds ?? 'no'} folds: dead links`)
    const summaries = links.filter((l) => l.file === 'results.md').map((l) => l.target)
    t.deepEqual(summaries.sort(), g.rows.map((row) => `${row.dir}/summary.md`).sort())

    // results.md shows every ranking metric of every run (3 decimals), equal to results.json's.
    const md = readFileSync(path.join(out, 'results.md'), 'utf8')
    t.regex(md, /\| P@10 \| R@10 \| NDCG@10 \| MAP@10 \| HR@10 \| coverage \|/)
    for (const row of g.rows) {
      const line = md.split('\n').find((l) => l.includes(`[${row.run}]`)) ?? ''
      const rk = row.ranking
      t.truthy(rk, row.run)
      for (const key of ['precision', 'recall', 'ndcg', 'map', 'hitRate', 'coverage']) t.true(line.includes(` ${(rk?.[key] ?? Number.NaN).toFixed(3)} `), `${row.run} ${key} in ${line}`)
    }
    // Each run's summary.md shows its ranking metrics, equal to its metrics.json.
    const perRun = files(out).filter((f) => path.basename(f) === 'summary.md' && existsSync(path.join(out, path.dirname(f), 'metrics.json')))
    t.is(perRun.length, g.rows.length * (folds ?? 1))
    for (const f of perRun) {
      const metrics = JSON.parse(readFileSync(path.join(out, path.dirname(f), 'metrics.json'), 'utf8')) as { ranking: Record<string, number> }
      const text = readFileSync(path.join(out, f), 'utf8')
      t.regex(text, /## Ranking metrics @10/)
      t.true(text.includes(`| ${['precision', 'recall', 'ndcg', 'map', 'hitRate', 'coverage'].map((k) => (metrics.ranking[k] ?? Number.NaN).toFixed(4)).join(' | ')} |`), f)
    }
    if (folds) {
      const page = readFileSync(path.join(out, 'runs', '02-biased', 'summary.md'), 'utf8')
      t.regex(page, /# Run 02-biased: 3-fold cross-validation/)
      t.is(page.match(/\]\(fold-\d\/summary\.md\)/g)?.length, 3)
      // A fold's run folder evaluates on its own fold (no overlap with its training ratings).
      const e = run('evaluate', path.join(out, 'runs', '02-biased', 'fold-2'), '--json')
      t.is(e.status, 0, e.stderr)
      const ev = JSON.parse(e.stdout) as { rmse: number; split: string; trainingOverlap: { seen: number } }
      t.is(ev.trainingOverlap.seen, 0)
      t.regex(ev.split, /3-fold cross-validation \(seed 42\), fold 2/)
      const fold2 = JSON.parse(readFileSync(path.join(out, 'runs', '02-biased', 'fold-2', 'metrics.json'), 'utf8')) as { final: { testRmse: number } }
      t.true(Math.abs(ev.rmse - fold2.final.testRmse) < 1e-6)
    }
  }
})
