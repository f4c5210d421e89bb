// Spark interop without Spark (docs/spark.md): the CLI's export / import / export-data at their
// defaults, what they refuse, and the round trip alsrec → ALSModel folder → alsrec. The checks
// against real pyspark are in spark.spec.ts.
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

import { importSpark, loadModel, loadMovieLensSync, trainSync, writeParquet } from '../dist/index.js'
import { root, sampleDir } from './helpers.js'

const dir = mkdtempSync(path.join(tmpdir(), 'alsrec-interop-'))
test.after.always(() => rmSync(dir, { recursive: true, force: true }))
const data = loadMovieLensSync(sampleDir)
const modelFile = path.join(dir, 'm.alsrec')
// The default model (genre with its ranker), as a user who chooses none gets.
const model = trainSync(data, { factors: 8, epochs: 4 })
model.saveSync(modelFile)

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [path.join(root, 'bin', 'alsrec.js'), ...args], { encoding: 'utf8', timeout: 120_000 })
}

function jsonError(stderr: string): { code: string; message: string } {
  return (JSON.parse(stderr.trim()) as { error: { code: string; message: string } }).error
}

test.serial('export --format spark writes an ALSModel folder that imports back to the same predictions', async (t) => {
  const out = path.join(dir, 'spark')
  const r = cli('export', '--model', modelFile, '--out', out, '--json')
  t.is(r.status, 0, r.stderr)
  const summary = JSON.parse(r.stdout) as { rank: number; layout: string; users: number; movies: number }
  t.is(summary.layout, 'augmented')
  t.is(summary.rank, model.factors + 2)
  t.is(summary.users, model.numUsers)
  const meta = readdirSync(path.join(out, 'metadata')).find((f) => f.startsWith('part-'))
  t.truthy(meta)
  const json = JSON.parse(readFileSync(path.join(out, 'metadata', meta!), 'utf8')) as Record<string, unknown>
  t.is(json.class, 'org.apache.spark.ml.recommendation.ALSModel')
  t.is(json.rank, summary.rank)
  for (const side of ['userFactors', 'itemFactors']) {
    const part = readdirSync(path.join(out, side)).find((f) => f.startsWith('part-') && f.endsWith('.snappy.parquet'))
    const bytes = readFileSync(path.join(out, side, part!))
    t.is(bytes.subarray(0, 4).toString(), 'PAR1')
    t.is(bytes.subarray(bytes.length - 4).toString(), 'PAR1')
  }
  // No temp folder is left beside it.
  t.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.')), [])

  const back = path.join(dir, 'back.alsrec')
  const imp = cli('import', 'spark', out, '--out', back, '--ratings', sampleDir, '--json')
  t.is(imp.status, 0, imp.stderr)
  const report = JSON.parse(imp.stdout) as { kind: string; ratings: number; ratingsDropped: number; engine: string }
  t.is(report.kind, 'biased')
  t.is(report.engine, 'alsrec')
  t.is(report.ratings, data.numRatings)
  t.is(report.ratingsDropped, 0)
  const imported = await loadModel(back)
  const users = Array.from(model.userIds()).slice(0, 20)
  const movies = Array.from(model.movieIds()).slice(0, 20)
  for (const u of users) for (const m of movies) t.true(Math.abs(imported.predict(u, m) - model.predict(u, m)) < 1e-5)
  // Every query works on it: seen movies are left out, filters, similar, explain, fold-in.
  const user = users[0]!
  const recs = imported.recommend(user, { n: 10, genres: ['Drama'] })
  t.is(recs.length, 10)
  const seen = new Set(Array.from(data.userRatings(user).movieIds))
  t.true(recs.every((r) => !seen.has(r.movieId) && r.genres.includes('Drama')))
  t.is(imported.similarMovies(recs[0]!.movieId, { n: 3 }).length, 3)
  t.true(imported.explain(user, recs[0]!.movieId).contributions.length > 0)
  t.is(imported.recommendForNewUser({ ratings: [{ movie: movies[0]!, rating: 5 }] }, { n: 5 }).length, 5)
  const r2 = cli('recommend', '--model', back, '--user', String(user), '--json')
  t.is(r2.status, 0, r2.stderr)
})

test.serial('an existing output is never replaced without --force', (t) => {
  const out = path.join(dir, 'spark')
  const before = readdirSync(path.join(out, 'userFactors'))
  const r = cli('export', '--model', modelFile, '--out', out, '--json')
  t.is(r.status, 2)
  const e = jsonError(r.stderr)
  t.is(e.code, 'ALSREC_INVALID_ARGUMENT')
  t.regex(e.message, /exists; add --force/)
  t.deepEqual(readdirSync(path.join(out, 'userFactors')), before)
  t.is(cli('export', '--model', modelFile, '--out', out, '--force', '--json').status, 0)
  const imp = cli('import', 'spark', out, '--out', modelFile, '--json')
  t.is(imp.status, 2)
  t.is(jsonError(imp.stderr).code, 'ALSREC_INVALID_ARGUMENT')
})

test('import refuses what is not a Spark ALSModel with ALSREC_INVALID_DATA', async (t) => {
  const notSpark = path.join(dir, 'not-spark')
  mkdirSync(path.join(notSpark, 'metadata'), { recursive: true })
  writeFileSync(path.join(notSpark, 'metadata', 'part-00000'), '{"class":"org.apache.spark.ml.classification.LogisticRegressionModel","rank":3}\n')
  const r = cli('import', 'spark', notSpark, '--out', path.join(dir, 'x.alsrec'), '--json')
  t.is(r.status, 1)
  const e = jsonError(r.stderr)
  t.is(e.code, 'ALSREC_INVALID_DATA')
  t.regex(e.message, /not a saved ALSModel/)
  t.false(existsSync(path.join(dir, 'x.alsrec')))
  const err = await t.throwsAsync(importSpark(sampleDir))
  t.is((err as Error & { code?: string }).code, 'ALSREC_INVALID_DATA')
})

test('export-data writes ratings and catalog as Parquet, and refuses to replace them without --force', async (t) => {
  const out = path.join(dir, 'parquet')
  const r = cli('export-data', '--data', sampleDir, '--out', out, '--json')
  t.is(r.status, 0, r.stderr)
  const summary = JSON.parse(r.stdout) as { files: string[]; ratings: number }
  t.deepEqual(summary.files, ['ratings.parquet', 'movies.parquet'])
  t.is(summary.ratings, data.numRatings)
  for (const f of summary.files) {
    const b = readFileSync(path.join(out, f))
    t.is(b.subarray(0, 4).toString(), 'PAR1')
  }
  const again = cli('export-data', '--data', sampleDir, '--out', out, '--json')
  t.is(again.status, 2)
  t.regex(jsonError(again.stderr).message, /ratings\.parquet exists/)
  const e = await t.throwsAsync(writeParquet(data, out))
  t.is((e as Error & { code?: string }).code, 'ALSREC_INVALID_ARGUMENT')
  await writeParquet(data, out, { force: true })
})
