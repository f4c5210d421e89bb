import test from 'ava'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { AlsrecError, evaluateTarget, loadExperimentConfig, resolveExperimentConfig, runExperiment, runGrid } from '../dist/index.js'
import { sampleDir } from './helpers.js'

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'alsrec-exp-'))
const base = (out: string) => ({ data: { movielens: sampleDir }, output: { dir: out } })

function configError(t: import('ava').ExecutionContext, input: unknown): string {
  const err = t.throws(() => resolveExperimentConfig(input), { instanceOf: AlsrecError })
  t.is(err?.code, 'ALSREC_INVALID_ARGUMENT')
  return err?.message ?? ''
}

test('config errors name the bad key and what was expected', (t) => {
  t.regex(configError(t, { ...base('/tmp/x'), model: { factors: 0 } }), /^model\.factors: expected a number ≥ 1, got 0$/)
  t.regex(configError(t, { ...base('/tmp/x'), model: { lambda: 'big' } }), /^model\.lambda: expected a number, got "big"$/)
  t.regex(configError(t, { ...base('/tmp/x'), model: { factorz: 8 } }), /^model\.factorz: unknown key \(did you mean "factors"\?\)$/)
  t.regex(configError(t, { ...base('/tmp/x'), model: { kind: 'svd' } }), /^model\.kind: expected one of .*"biased".*got "svd"$/)
  t.regex(configError(t, { ...base('/tmp/x'), model: { factors: [8, -1] } }), /^model\.factors\.1: expected a number ≥ 1, got -1$/)
  t.regex(configError(t, { ...base('/tmp/x'), split: { testFraction: 1.5 } }), /^split\.testFraction: expected a number ≤ 0\.99/)
  t.regex(configError(t, { data: {}, output: { dir: 'x' } }), /^data: give one of "movielens", "generate" or "ratings"$/)
  t.regex(configError(t, { data: { movielens: 'a' } }), /^output: required/)
  t.regex(configError(t, { ...base('/tmp/x'), outptu: {} }), /^outptu: unknown key \(did you mean "output"\?\)/)
})

test('config files: invalid JSON and errors name the file; relative paths resolve against it', (t) => {
  const dir = tmp()
  const file = path.join(dir, 'exp.json')
  writeFileSync(file, '{ "data": ')
  t.regex(t.throws(() => loadExperimentConfig(file))?.message ?? '', /exp\.json: not valid JSON/)
  writeFileSync(file, JSON.stringify({ data: { movielens: 'ml' }, model: { epochs: 2.5 }, output: { dir: 'out' } }))
  t.regex(t.throws(() => loadExperimentConfig(file))?.message ?? '', /exp\.json: model\.epochs: expected a whole number/)
  writeFileSync(file, JSON.stringify({ data: { movielens: 'ml' }, output: { dir: 'out' } }))
  const c = loadExperimentConfig(file)
  t.is(c.data.movielens, path.join(dir, 'ml'))
  t.is(c.output.dir, path.join(dir, 'out'))
  t.deepEqual(c.split, { kind: 'random', testFraction: 0.2, seed: 42 })
})

test('runExperiment on the sample writes the whole experiment folder', async (t) => {
  const out = path.join(tmp(), 'run')
  const events: string[] = []
  const r = await runExperiment({ ...base(out), model: { kind: 'biased', factors: 4, epochs: 3 } }, { onProgress: (e) => events.push(e.type) })
  for (const f of ['config.json', 'metrics.csv', 'metrics.json', 'log.txt', 'summary.md', 'learning-curve.svg', 'learning-curve.png']) t.true(existsSync(path.join(out, f)), f)
  t.deepEqual(r.files.filter((f) => !existsSync(path.join(out, f))), [])
  const csv = readFileSync(path.join(out, 'metrics.csv'), 'utf8').trim().split('\n')
  t.is(csv[0], 'epoch,train_rmse,train_mae,test_rmse,test_mae,loss,seconds,kept')
  t.is(csv.length, 4)
  const metrics = JSON.parse(readFileSync(path.join(out, 'metrics.json'), 'utf8'))
  t.is(metrics.history.length, 3)
  t.is(metrics.final.testRmse, metrics.history[2].testRmse)
  t.true(metrics.final.testRmse < 0.9)
  t.is(metrics.ranking.k, 10)
  t.true(metrics.ranking.ndcg >= 0 && metrics.ranking.ndcg <= 1)
  // config.json is the resolved config, and it loads back.
  const resolved = loadExperimentConfig(path.join(out, 'config.json'))
  t.is(resolved.model.factors, 4)
  // Defaults are filled in from the trained model's config (the biased model's τ is 15).
  t.is(resolved.model.tau, 15)
  t.is(resolved.split.seed, 42)
  t.regex(readFileSync(path.join(out, 'summary.md'), 'utf8'), /Test RMSE \*\*0\.\d{4}\*\*/)
  t.regex(readFileSync(path.join(out, 'log.txt'), 'utf8'), /epoch 3: train RMSE/)
  t.deepEqual([...new Set(events)], ['status', 'run-start', 'epoch', 'run-end'])
  // A second run into the same folder is refused unless forced.
  const again = await t.throwsAsync(runExperiment({ ...base(out), model: { factors: 4, epochs: 1 } }), { instanceOf: AlsrecError })
  t.regex(again?.message ?? '', /already holds an experiment/)
  await t.notThrowsAsync(runExperiment({ ...base(out), model: { factors: 4, epochs: 1 } }, { force: true }))
})

test('runExperiment rejects lists (a grid) and unsupported data sources clearly', async (t) => {
  const out = path.join(tmp(), 'run')
  const e1 = await t.throwsAsync(runExperiment({ ...base(out), model: { factors: [4, 8] } }))
  t.regex(e1?.message ?? '', /^model\.factors: gives a list/)
  const e2 = await t.throwsAsync(runExperiment({ data: { ratings: { file: 'r.tsv', columns: { user: 0, movie: 1, rating: 2 } } }, output: { dir: out } }, { force: true }))
  t.regex(e2?.message ?? '', /data\.ratings|not supported|r\.tsv/)
})

test('grid over k for two models writes the sorted table, the best mark and the plots', async (t) => {
  const out = path.join(tmp(), 'grid')
  const g = await runGrid({ ...base(out), model: { kind: ['bias', 'biased'], factors: [2, 6], epochs: 3 } })
  t.false(g.interrupted)
  // The bias-only model ignores k: its two points collapse into one run.
  t.is(g.rows.length, 3)
  t.deepEqual(g.rows.map((r) => r.factors).sort(), [2, 6, null].sort())
  const tests = g.rows.map((r) => r.testRmse ?? 99)
  t.deepEqual(tests, [...tests].sort((a, b) => a - b))
  t.true(g.rows[0]?.best)
  t.is(g.rows.filter((r) => r.best).length, 1)
  for (const f of ['results.csv', 'results.md', 'results.json', 'rmse-vs-k.svg', 'rmse-vs-k.png', 'learning-curves.svg', 'learning-curves.png', 'grid.log']) t.true(existsSync(path.join(out, f)), f)
  const csv = readFileSync(path.join(out, 'results.csv'), 'utf8').trim().split('\n')
  t.is(csv.length, 4)
  t.regex(csv[1] ?? '', /^1,best,/)
  t.regex(readFileSync(path.join(out, 'results.md'), 'utf8'), /\| 1 ★ \|/)
  for (const r of g.rows) t.true(existsSync(path.join(out, r.dir, 'metrics.json')))
})

test('aborting a grid keeps the finished runs and reports them', async (t) => {
  const out = path.join(tmp(), 'grid')
  const controller = new AbortController()
  const g = await runGrid(
    { ...base(out), model: { kind: 'biased', factors: [2, 4, 6], epochs: 30, tolerance: 0 } },
    { signal: controller.signal, onProgress: (e) => e.type === 'run-start' && e.index === 1 && controller.abort() },
  )
  t.true(g.interrupted)
  t.is(g.planned, 3)
  t.is(g.rows.length, 1)
  t.true(existsSync(path.join(out, 'results.csv')))
  t.regex(readFileSync(path.join(out, 'grid.log'), 'utf8'), /interrupted during runs\/02-biased-k4\n.*stopped: 1 of 3 runs finished and kept; 2 not run/)
})

test('generated data is made once into the cache and reports its noise floor', async (t) => {
  const cache = tmp()
  process.env.XDG_CACHE_HOME = cache
  const config = (out: string) => ({ data: { generate: { users: 60, movies: 120, ratings: 3000, seed: 3 } }, model: { factors: 2, epochs: 2 }, output: { dir: out, plots: false } })
  const r1 = await runExperiment(config(path.join(tmp(), 'a')))
  const generated = path.join(cache, 'alsrec', 'generated')
  const [entry] = (await import('node:fs')).readdirSync(generated)
  const truth = path.join(generated, entry ?? '', 'truth.json')
  const stamp = (await import('node:fs')).statSync(truth).mtimeMs
  const r2 = await runExperiment(config(path.join(tmp(), 'b')))
  t.is((await import('node:fs')).statSync(truth).mtimeMs, stamp, 'the cached set is reused')
  t.is(r1.metrics.final.testRmse, r2.metrics.final.testRmse)
  t.regex(readFileSync(path.join(r1.dir, 'summary.md'), 'utf8'), /Noise floor of this synthetic set \(best reachable test RMSE\): 0\.\d{4}/)
  t.false(r1.files.includes('learning-curve.png'))
})

test('k-fold grids run every fold and report the spread', async (t) => {
  const out = path.join(tmp(), 'folds')
  const config = { ...base(out), split: { folds: 2 }, model: { factors: [2, 4], epochs: 2 }, metrics: { ranking: false } }
  const g = await runGrid(config)
  t.is(g.rows.length, 2)
  for (const r of g.rows) {
    t.true((r.testRmseSd ?? -1) >= 0)
    t.true(existsSync(path.join(out, r.dir, 'fold-1', 'metrics.json')) && existsSync(path.join(out, r.dir, 'fold-2', 'metrics.json')))
  }
  t.regex(readFileSync(path.join(out, 'results.md'), 'utf8'), /test RMSE \(± sd\)/)
})

test('a grid over the genre and biased models runs both and ranks them', async (t) => {
  const out = path.join(tmp(), 'grid')
  const g = await runGrid({ ...base(out), model: { kind: ['genre', 'biased'], factors: 2, epochs: 2 }, metrics: { ranking: false } })
  t.is(g.rows.length, 2)
  t.is(g.failed, 0)
  t.deepEqual(g.rows.map((r) => r.model).sort(), ['biased', 'genre'])
  t.true(g.rows[0]?.best)
  t.true((g.rows[0]?.testRmse ?? 9) <= (g.rows[1]?.testRmse ?? 0))
  t.true(existsSync(path.join(out, 'rmse-vs-k.png')))
})

test('evaluating a --no-save run retrains it with its test set, so patience works and the epoch matches', async (t) => {
  const out = path.join(tmp(), 'run')
  const config = { ...base(out), model: { kind: 'biased' as const, factors: 4, epochs: 12, patience: 2, ranker: null }, output: { dir: out, saveModel: false, plots: false } }
  const r = await runExperiment(config)
  const e = await evaluateTarget(out)
  t.is(e.source, 'retrained from config.json')
  t.true(Math.abs(e.rmse - (r.metrics.final.testRmse ?? Number.NaN)) < 1e-9, `${e.rmse} vs ${String(r.metrics.final.testRmse)}`)
})
