// Spark interop against the real engine (pyspark on Spark local[2], docs/spark.md): alsrec
// models exported to Spark predict and recommend what alsrec does; a model trained on Spark
// by `engine: 'spark'` imports as a model on which every query works, with the test RMSE of
// alsrec's own biased run. Needs the venv of scripts/spark/spark-venv.sh (build/spark-venv):
// skipped without it locally, required under CI=true (.ci/run makes it).
import test from 'ava'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { importSpark, loadMovieLens, runExperiment, train, type Model } from '../dist/index.js'
import { hasMlSmall, mlSmallDir, root, sampleDir } from './helpers.js'

const python = path.join(root, 'build', 'spark-venv', 'bin', 'python')
const available = existsSync(python)
const MISSING = `skipped: ${python} is absent (make it with scripts/spark/spark-venv.sh; CI=true requires it)`
const sparkTest = available ? test.serial : test.skip

if (!available && process.env.CI === 'true') {
  test('the Spark venv exists under CI', (t) => t.fail(`CI=true but ${MISSING}`))
}
if (!available) test('Spark interop (real pyspark)', (t) => t.log(MISSING) ?? t.pass())

const tmp = mkdtempSync(path.join(os.tmpdir(), 'alsrec-spark-test-'))
test.after.always(() => rmSync(tmp, { recursive: true, force: true }))

interface Query {
  dir: string
  pairs: Array<[number, number]>
  users: number[]
  n: number
}
interface Answer {
  rank: number
  predictions: Array<number | null>
  recommendations: Record<string, number[]>
}

function askSpark(queries: Query[]): Answer[] {
  const file = path.join(tmp, `queries-${Date.now()}.json`)
  writeFileSync(file, JSON.stringify(queries))
  const out = execFileSync(python, [path.join(root, '__test__', 'spark', 'query_models.py'), file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 })
  const last = out.trim().split('\n').pop() ?? '[]'
  return JSON.parse(last) as Answer[]
}

sparkTest('alsrec models exported to Spark predict and recommend in Spark what they do in alsrec', async (t) => {
  const data = await loadMovieLens(sampleDir)
  const models: Array<[string, Model]> = []
  // Explicit models rank by their predicted rating without a ranker, as Spark does; the
  // ranker (an alsrec addition) is not part of an ALSModel.
  for (const model of ['biased', 'genre', 'implicit'] as const) {
    models.push([model, await train(data, { model, factors: 8, epochs: 5, seed: 7, ...(model === 'implicit' ? {} : { ranker: null }) })])
  }
  const users = Array.from(models[0]![1].userIds()).slice(0, 25)
  const movies = Array.from(models[0]![1].movieIds())
  const pairs: Array<[number, number]> = users.flatMap((u, j) => [0, 1, 2, 3].map((x): [number, number] => [u, movies[(j * 37 + x * 101) % movies.length]!]))
  const queries: Query[] = []
  for (const [kind, model] of models) {
    const dir = path.join(tmp, `export-${kind}`)
    const exported = await model.exportSpark(dir)
    t.is(exported.rank, model.factors + (kind === 'implicit' ? 0 : 2))
    queries.push({ dir, pairs, users, n: 10 })
  }
  const answers = askSpark(queries)
  for (const [j, [kind, model]] of models.entries()) {
    const a = answers[j]!
    t.is(a.rank, kind === 'implicit' ? model.factors : model.factors + 2)
    const ours = model.predictMany(Float64Array.from(pairs.map((p) => p[0])), Float64Array.from(pairs.map((p) => p[1])))
    let worst = 0
    for (const [i, p] of a.predictions.entries()) {
      t.not(p, null, `${kind}: Spark predicted nothing for ${pairs[i]!.join(',')}`)
      worst = Math.max(worst, Math.abs((p as number) - ours[i]!))
    }
    t.true(worst < 1e-4, `${kind}: largest |Spark − alsrec| prediction difference ${worst}`)
    for (const u of users) {
      const alsrec = model.recommend(u, { n: 10, excludeSeen: false, minRatings: 0 }).map((r) => r.movieId)
      t.deepEqual(a.recommendations[String(u)], alsrec, `${kind}: top-10 of user ${u}`)
    }
  }
})

sparkTest('a model trained on Spark imports with the test RMSE of alsrec’s biased run, and every query works on it', async (t) => {
  const dataDir = hasMlSmall ? mlSmallDir : sampleDir
  t.log(`data: ${dataDir}`)
  const base = { data: { movielens: dataDir }, model: { kind: 'biased' as const, ranker: null }, metrics: { ranking: false }, split: { kind: 'random' as const, testFraction: 0.2, seed: 42 } }
  const ours = await runExperiment({ ...base, output: { dir: path.join(tmp, 'alsrec-run'), plots: false } })
  const spark = await runExperiment({ ...base, engine: 'spark', spark: { master: 'local[2]', python }, output: { dir: path.join(tmp, 'spark-run'), plots: false } })
  const ourRmse = ours.metrics.final.testRmse!
  const sparkRmse = spark.metrics.final.testRmse!
  t.log(`test RMSE: alsrec ${ourRmse.toFixed(4)}, Spark ${sparkRmse.toFixed(4)}`)
  t.true(Number.isFinite(sparkRmse))
  t.true(Math.abs(sparkRmse - ourRmse) < 0.01, `Spark ${sparkRmse} vs alsrec ${ourRmse}`)
  t.true(spark.files.includes('spark-model') && existsSync(path.join(spark.dir, 'spark.log')))
  const log = readFileSync(path.join(spark.dir, 'log.txt'), 'utf8')
  t.regex(log, /spark: fit/)

  // The imported model, as the CLI would load it: every query works.
  const model = spark.model
  t.is(model.kind, 'biased')
  const data = await loadMovieLens(dataDir)
  const user = Array.from(model.userIds())[0]!
  const recs = model.recommend(user, { n: 10 })
  t.is(recs.length, 10)
  const split = data.split({ kind: 'random', testFraction: 0.2, seed: 42 })
  const seen = new Set(Array.from(split.train.userRatings(user).movieIds))
  t.true(recs.every((r) => !seen.has(r.movieId) && r.title !== undefined && r.title !== ''), 'recommendations leave seen movies out and carry titles')
  const drama = model.recommend(user, { n: 5, genres: ['Drama'] })
  t.true(drama.length > 0 && drama.every((r) => r.genres.includes('Drama')))
  const similar = model.similarMovies(recs[0]!.movieId, { n: 5 })
  t.is(similar.length, 5)
  const why = model.explain(user, recs[0]!.movieId)
  t.true(why.contributions.length > 0)
  const liked = Array.from(seen).slice(0, 5)
  const visitor = model.recommendForNewUser({ ratings: liked.map((movie) => ({ movie, rating: 5 })) }, { n: 10 })
  t.is(visitor.length, 10)
  const updated = await model.partialFit({ userIds: [9_999_999, 9_999_999], movieIds: [liked[0]!, liked[1]!], ratings: [5, 4] })
  t.is(updated.numUsers, model.numUsers + 1)
  t.is(updated.recommend(9_999_999, { n: 3 }).length, 3)

  // The Spark model folder round-trips through import on its own, biases included.
  const again = await importSpark(path.join(spark.dir, 'spark-model'), { ratings: split.train })
  t.is(again.report.engine, 'spark')
  t.is(again.report.layout, 'augmented')
  t.true(Math.abs(again.model.predict(user, recs[0]!.movieId) - model.predict(user, recs[0]!.movieId)) < 1e-6)
})
