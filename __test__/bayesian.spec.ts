// The Bayesian model through the API: every query that works on 'biased' works on it, its file
// round-trips through both loaders, and it knows how sure it is (predictionSpread).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

import test from 'ava'

import { AlsrecError, loadModel, loadMovieLensSync, train, trainSync } from '../dist/index.js'
import { readModel } from '../dist/reader/index.js'
import { hasMlSmall, MISSING_ML_SMALL, mlSmallDir, sampleDir } from './helpers.js'

const data = loadMovieLensSync(sampleDir)
const parts = data.split({ testFraction: 0.2, seed: 9 })

test('bayesian trains at its defaults, beats its own burn-in, and reports what it learned', async (t) => {
  const sweeps: number[] = []
  const model = await train(parts.train, { model: 'bayesian' }, { testSet: parts.test, onEpoch: (e) => sweeps.push(e.epoch) })
  const config = model.config
  t.is(model.kind, 'bayesian')
  t.is(model.history.length, config.epochs)
  // Progress may skip records when the event loop is busy, but comes in order through the last.
  t.true(sweeps.every((e, i) => i === 0 || e > (sweeps[i - 1] ?? 0)))
  t.is(sweeps.at(-1), config.epochs)
  const burnIn = config.burnIn
  t.true(burnIn > 0 && burnIn < config.epochs)
  const atBurnIn = model.history[burnIn - 1]?.testRmse ?? 0
  const final = model.history.at(-1)?.testRmse ?? 0
  t.true(final < atBurnIn, `test RMSE at burn-in ${atBurnIn}, after averaging ${final}`)
  // As good as the MAP biased model at its defaults on the same split.
  const biased = await train(parts.train, { model: 'biased', ranker: null }, { testSet: parts.test })
  const map = biased.history.at(-1)?.testRmse ?? 0
  t.true(final <= map + 0.005, `bayesian ${final}, biased ${map}`)
  const p = model.posterior
  t.truthy(p)
  t.is(p?.samples, config.epochs - burnIn)
  t.true((p?.noisePrecision ?? 0) > 0.5 && (p?.userVectorPrecision ?? 0) > 0)
  t.is(biased.posterior, null)
  t.throws(() => biased.predictionSpread([1], [1]), { instanceOf: AlsrecError, code: 'ALSREC_INVALID_ARGUMENT' })
})

test('queries, spread, save and load work on a bayesian model', async (t) => {
  const model = trainSync(parts.train, { model: 'bayesian', factors: 8, epochs: 12, burnIn: 4, seed: 3 })
  const users = Array.from(parts.train.userIds())
  const user = users[0] ?? 0
  const seen = new Set(parts.train.userRatings(user).movieIds)
  const recs = model.recommend(user, { n: 10 })
  t.is(recs.length, 10)
  t.true(recs.every((r) => !seen.has(r.movieId)))
  // Each recommendation carries the posterior spread of its predicted rating.
  t.true(recs.every((r) => r.spread !== undefined && r.spread > 0 && r.spread < 5))
  const movie = recs[0]?.movieId ?? 0
  t.is(model.similarMovies(movie, { n: 5 }).length, 5)
  const why = model.explain(user, movie)
  t.true(Number.isFinite(why.score))
  const visitor = model.recommendForNewUser({ ratings: [{ movie, rating: 5 }] }, { n: 5 })
  t.is(visitor.length, 5)
  // A user with many ratings is known better than one with few: spreads shrink with data.
  const counts = users.map((u) => parts.train.userRatings(u).movieIds.length)
  const most = users[counts.indexOf(Math.max(...counts))] ?? 0
  const fewest = users[counts.indexOf(Math.min(...counts))] ?? 0
  const movies = Array.from(parts.train.movieIds()).slice(0, 50)
  const mean = (xs: Float32Array): number => xs.reduce((a, b) => a + b, 0) / xs.length
  const spreadMost = mean(model.predictionSpread(movies.map(() => most), movies))
  const spreadFewest = mean(model.predictionSpread(movies.map(() => fewest), movies))
  t.true(spreadMost > 0 && spreadMost < spreadFewest, `spread ${spreadMost} (most ratings) vs ${spreadFewest} (fewest)`)
  const dir = mkdtempSync(path.join(tmpdir(), 'alsrec-bayes-'))
  try {
    const file = path.join(dir, 'model.alsrec')
    await model.save(file)
    const back = await loadModel(file)
    t.is(back.kind, 'bayesian')
    t.deepEqual(back.posterior, model.posterior)
    t.deepEqual(back.recommend(user, { n: 10 }), recs)
    t.deepEqual(Array.from(back.predictionSpread([user], [movie])), Array.from(model.predictionSpread([user], [movie])))
    const reader = readModel(readFileSync(file))
    t.is(reader.kind, 'bayesian')
    t.deepEqual(
      reader.recommend(user, { n: 10 }).map((r) => r.movieId),
      recs.map((r) => r.movieId),
    )
    // partialFit folds a new user in with the learned precisions and gives it a spread.
    const updated = await back.partialFit({ userIds: [99999], movieIds: [movie], ratings: [5] })
    const s = updated.predictionSpread([99999], [movie])[0] ?? 0
    t.true(s > 0 && Number.isFinite(s))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('options a Gibbs chain cannot honour are refused with the key named', (t) => {
  for (const [config, word] of [
    [{ model: 'bayesian', epochs: 10, burnIn: 10 }, 'burnIn'],
    [{ model: 'bayesian', tolerance: 0.001 }, 'tolerance'],
    [{ model: 'bayesian', weightedRegularization: true }, 'weightedRegularization'],
    [{ model: 'biased', burnIn: 5 }, 'burnIn'],
    [{ model: 'bayesian', hyperprior: 'laplace' }, 'hyperprior'],
  ] as const) {
    const e = t.throws(() => trainSync(parts.train, config as never), { instanceOf: AlsrecError })
    t.true(e?.message.includes(word), e?.message)
  }
})

test('ml-latest-small: bayesian at its defaults beats the MAP biased model', async (t) => {
  if (!hasMlSmall) return t.pass(MISSING_ML_SMALL)
  const ml = loadMovieLensSync(mlSmallDir)
  const split = ml.split({ kind: 'random', testFraction: 0.2, seed: 42 })
  const model = await train(split.train, { model: 'bayesian', ranker: null }, { testSet: split.test })
  const rmse = model.history.at(-1)?.testRmse ?? 1
  t.log(`bayesian test RMSE ${rmse.toFixed(4)}`)
  t.true(rmse < 0.842, `test RMSE ${rmse}`)
})
