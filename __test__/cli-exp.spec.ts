import test from 'ava'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { root, sampleDir } from './helpers.js'

const bin = path.join(root, 'bin', 'alsrec.js')
const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'alsrec-cli-'))
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' })

test('train --json writes an experiment folder; evaluate reproduces its test RMSE; plot redraws', (t) => {
  const out = path.join(tmp(), 'k4')
  const r = run('train', '--data', sampleDir, '--factors', '4', '--epochs', '3', '--out', out, '--json')
  t.is(r.status, 0, r.stderr)
  const result = JSON.parse(r.stdout)
  t.is(result.dir, out)
  t.is(result.history.length, 3)
  t.is(r.stderr, '', 'no progress output when stderr is not a terminal')
  for (const f of ['config.json', 'metrics.csv', 'metrics.json', 'summary.md', 'learning-curve.png']) t.true(existsSync(path.join(out, f)), f)

  const e = run('evaluate', out, '--json')
  t.is(e.status, 0, e.stderr)
  const ev = JSON.parse(e.stdout)
  t.is(ev.ratings, 16000)
  t.true(Math.abs(ev.rmse - result.final.testRmse) < 1e-4, `${ev.rmse} vs ${result.final.testRmse}`)

  const p = run('plot', out, '--json')
  t.is(p.status, 0, p.stderr)
  t.deepEqual(JSON.parse(p.stdout).files, [path.join(out, 'learning-curve.svg'), path.join(out, 'learning-curve.png')])
})

test('usage errors exit 2 with one line; runtime errors exit 1', (t) => {
  const out = path.join(tmp(), 'x')
  const bad = run('train', '--data', sampleDir, '--factors', '0', '--out', out)
  t.is(bad.status, 2)
  t.is(bad.stderr.trim(), 'alsrec: model.factors: expected a number ≥ 1, got 0 [ALSREC_INVALID_ARGUMENT]')
  t.is(run('train', '--data', sampleDir, '--factors', 'many', '--out', out).status, 2)
  t.is(run('train', '--data', sampleDir).status, 2)
  const missing = run('train', '--data', '/no/such/dir', '--out', out)
  t.is(missing.status, 1)
  t.is(missing.stderr.trim().split('\n').length, 1)
  t.is(run('plot', '/no/such/dir').status, 1)
  const dir = tmp()
  writeFileSync(path.join(dir, 'g.json'), JSON.stringify({ data: { movielens: sampleDir }, model: { factorz: [2] }, output: { dir: 'g' } }))
  const g = run('grid', path.join(dir, 'g.json'))
  t.is(g.status, 2)
  t.regex(g.stderr, /g\.json: model\.factorz: unknown key \(did you mean "factors"\?\)/)
})

test('every experiment command has --help with an example', (t) => {
  for (const cmd of ['train', 'evaluate', 'grid', 'plot']) {
    const h = run(cmd, '--help')
    t.is(h.status, 0)
    t.regex(h.stdout, new RegExp(`Examples?:[\\s\\S]*\\$ alsrec ${cmd}`), cmd)
  }
})

test('grid --json writes the sorted table and plots', (t) => {
  const dir = tmp()
  writeFileSync(path.join(dir, 'grid.json'), JSON.stringify({ data: { movielens: sampleDir }, model: { kind: ['bias', 'biased'], factors: [2, 4], epochs: 2 }, output: { dir: 'out' } }))
  const r = run('grid', path.join(dir, 'grid.json'), '--json')
  t.is(r.status, 0, r.stderr)
  const g = JSON.parse(r.stdout)
  t.is(g.finished, 3)
  t.false(g.interrupted)
  t.true(g.rows[0].best)
  for (const f of ['results.csv', 'results.md', 'rmse-vs-k.png', 'learning-curves.png']) t.true(existsSync(path.join(dir, 'out', f)), f)
  t.regex(readFileSync(path.join(dir, 'out', 'results.csv'), 'utf8'), /^rank,best,run,model,factors,epochs,kept_epoch,train_rmse,test_rmse,test_mae,precision@10,recall@10,ndcg@10,map@10,hitrate@10,coverage,seconds,folder\n1,best,/)
})

test('Ctrl-C during a grid keeps the finished runs, says so and exits 130', async (t) => {
  const dir = tmp()
  writeFileSync(path.join(dir, 'grid.json'), JSON.stringify({ data: { movielens: sampleDir }, model: { factors: [2, 48], epochs: [1, 5000], tolerance: 0 }, output: { dir: 'out' } }))
  const child = spawn(process.execPath, [bin, 'grid', path.join(dir, 'grid.json')], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const resultsFile = path.join(dir, 'out', 'results.csv')
  // Interrupt once the first run (k = 2, 1 epoch) is in the table and a long one is training.
  const started = Date.now()
  while (!existsSync(resultsFile) && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 50))
  await new Promise((r) => setTimeout(r, 300))
  child.kill('SIGINT')
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  t.is(code, 130, stderr)
  t.regex(stderr, /interrupted; 1 of 4 runs finished and kept; 3 not run/)
  t.is(readFileSync(resultsFile, 'utf8').trim().split('\n').length, 2)
})

test('grid --dry-run lists the runs and trains nothing', (t) => {
  const dir = tmp()
  writeFileSync(path.join(dir, 'grid.json'), JSON.stringify({ data: { movielens: sampleDir }, model: { kind: ['bias', 'biased'], factors: [2, 4], lambda: [0.5, 1] }, output: { dir: 'out' } }))
  const r = run('grid', path.join(dir, 'grid.json'), '--dry-run', '--json')
  t.is(r.status, 0, r.stderr)
  const plan = JSON.parse(r.stdout)
  // bias: one run per λ (k unused); biased: 2 k × 2 λ.
  t.is(plan.runs.length, 6)
  t.deepEqual(plan.runs[0], { model: 'bias', lambda: 0.5 })
  t.false(existsSync(path.join(dir, 'out')))
})

test('Ctrl-C during train stops it and exits 130', async (t) => {
  const out = path.join(tmp(), 'long')
  const child = spawn(process.execPath, [bin, 'train', '--data', sampleDir, '--factors', '2', '--epochs', '100000', '--tolerance', '0', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const logFile = path.join(out, 'log.txt')
  const started = Date.now()
  while (!(existsSync(logFile) && readFileSync(logFile, 'utf8').includes('epoch 1:')) && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 50))
  child.kill('SIGINT')
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  t.is(code, 130, stderr)
  t.regex(stderr, /interrupted; training stopped/)
  t.regex(readFileSync(logFile, 'utf8'), /aborted before training finished/)
})

test('grid --rank-by ndcg@10 orders by NDCG and shows ranking metrics; by RMSE, implicit models come last', (t) => {
  const dir = tmp()
  const config = { data: { movielens: sampleDir }, model: { kind: ['bias', 'biased', 'implicit'], factors: 8, epochs: 5 }, output: { dir: 'out' } }
  writeFileSync(path.join(dir, 'grid.json'), JSON.stringify(config))
  const r = run('grid', path.join(dir, 'grid.json'), '--rank-by', 'ndcg@10', '--json')
  t.is(r.status, 0, r.stderr)
  const result = JSON.parse(r.stdout) as { rankBy: string; rows: Array<{ model: string; best: boolean; testRmse: number | null; ranking: { ndcg: number; precision: number } | null }> }
  t.is(result.rankBy, 'ndcg@10')
  const ndcg = result.rows.map((row) => row.ranking?.ndcg ?? Number.NaN)
  t.true(ndcg.every((x) => x >= 0 && x <= 1))
  for (let i = 1; i < ndcg.length; i++) t.true((ndcg[i] ?? 0) <= (ndcg[i - 1] ?? 0), `sorted by NDCG: ${ndcg.join(', ')}`)
  t.true(result.rows[0]?.best)
  t.not(result.rows[0]?.model, 'bias', 'a personalized model ranks ahead of the bias-only one')
  const md = readFileSync(path.join(dir, 'out', 'results.md'), 'utf8')
  t.regex(md, /NDCG@10/)
  t.regex(md, /best by NDCG@10, higher is better/)
  t.regex(readFileSync(path.join(dir, 'out', 'results.csv'), 'utf8').split('\n')[0] ?? '', /ndcg@10/)

  writeFileSync(path.join(dir, 'grid2.json'), JSON.stringify({ ...config, output: { dir: 'out2' } }))
  const byRmse = run('grid', path.join(dir, 'grid2.json'), '--json')
  t.is(byRmse.status, 0, byRmse.stderr)
  const rows = (JSON.parse(byRmse.stdout) as typeof result).rows
  t.is(rows.at(-1)?.model, 'implicit', 'an implicit model predicts no stars and never ranks by RMSE')
  t.false(rows.at(-1)?.best)
  const rmse = rows.slice(0, -1).map((row) => row.testRmse ?? Number.NaN)
  for (let i = 1; i < rmse.length; i++) t.true((rmse[i] ?? 0) >= (rmse[i - 1] ?? 0))

  const bad = run('grid', path.join(dir, 'grid.json'), '--rank-by', 'auc')
  t.is(bad.status, 2)
  t.regex(bad.stderr, /--rank-by takes/)
  writeFileSync(path.join(dir, 'grid3.json'), JSON.stringify({ ...config, metrics: { rankBy: 'ndcg@5' } }))
  const mismatch = run('grid', path.join(dir, 'grid3.json'), '--dry-run')
  t.not(mismatch.status, 0)
  t.regex(mismatch.stderr, /metrics\.rankBy: 'ndcg@5' needs metrics\.k = 5/)
})
