// The experiment's data layer: a generic ratings file through its column mapping, the flat rating
// arrays, and ratingErrors, which scores a whole test set with Model.predictMany (no native call
// per rating) and must agree with scoring rating by rating with Model.predict, unknown users and
// movies included.
import test from 'ava'
import { mkdtempSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { ratingErrors } from '../dist/experiment/evaluate.js'
import { moviePopularity, ratingArrays } from '../dist/experiment/data.js'
import { AlsrecError, generate, loadMovieLens, runExperiment, train, type Dataset, type Model } from '../dist/index.js'
import { sampleDir } from './helpers.js'

function oneByOne(model: Model, testSet: Dataset): { rmse: number; mae: number; ratings: number; unscored: number } {
  let se = 0
  let ae = 0
  let n = 0
  let unscored = 0
  // In the set's row order, as ratingErrors sums, so the sums agree to the last bit.
  const { userIds, movieIds, ratings } = testSet.ratingTriplets()
  movieIds.forEach((movieId, i) => {
    let predicted: number
    try {
      predicted = model.predict(userIds[i] ?? NaN, movieId)
    } catch (err) {
      if (err instanceof AlsrecError && err.code === 'ALSREC_NOT_FOUND') return void unscored++
      throw err
    }
    const e = predicted - (ratings[i] ?? 0)
    se += e * e
    ae += Math.abs(e)
    n++
  })
  return { rmse: Math.sqrt(se / n), mae: ae / n, ratings: n, unscored }
}

test('ratingErrors on a split agrees with predicting rating by rating', async (t) => {
  const data = await loadMovieLens(sampleDir)
  const { train: trainSet, test: testSet } = data.split({ testFraction: 0.2, seed: 7 })
  const model = await train(trainSet, { model: 'biased', factors: 4, epochs: 3, seed: 1 })
  const batch = ratingErrors(model, testSet)
  t.deepEqual(batch, oneByOne(model, testSet))
  t.is(batch.ratings, testSet.numRatings)
  t.is(batch.unscored, 0)
})

test('ratingErrors leaves out the ratings of users and movies the model does not know', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alsrec-eval-'))
  await generate(path.join(dir, 'small'), { users: 40, movies: 80, ratings: 1500, seed: 3 })
  await generate(path.join(dir, 'large'), { users: 70, movies: 160, ratings: 4000, seed: 4 })
  const model = await train(await loadMovieLens(path.join(dir, 'small')), { model: 'biased', factors: 2, epochs: 2, seed: 1 })
  const other = await loadMovieLens(path.join(dir, 'large'))
  const batch = ratingErrors(model, other)
  const reference = oneByOne(model, other)
  t.true(reference.unscored > 0, 'the larger set has users and movies the model does not know')
  const knownUsers = new Set(model.userIds())
  const all = ratingArrays(other)
  const knownUserUnknownMovie = all.userIds.some((u, j) => knownUsers.has(u) && model.catalog.get(all.movieIds[j] ?? 0) === undefined)
  t.true(knownUserUnknownMovie, 'some known user rated a movie the model does not know')
  t.deepEqual(batch, reference)
})

test('ratingArrays and moviePopularity hold every rating once', async (t) => {
  const data = await loadMovieLens(sampleDir)
  const arrays = ratingArrays(data)
  t.is(arrays.ratings.length, data.numRatings)
  const counts = moviePopularity(data)
  t.is([...counts.values()].reduce((a, b) => a + b, 0), data.numRatings)
  const [userId] = data.userIds()
  const first = data.userRatings(userId ?? 0)
  t.deepEqual(Array.from(arrays.movieIds.subarray(0, first.movieIds.length)), Array.from(first.movieIds))
})

test('a generic ratings file loads through the config\'s column mapping (movie column by name)', async (t) => {
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'alsrec-eval-')), 'mapped')
  const file = path.join(sampleDir, 'ratings.csv')
  const r = await runExperiment({ data: { ratings: { file, columns: { user: 'userId', movie: 'movieId', rating: 'rating', timestamp: 'timestamp' } } }, model: { kind: 'bias', epochs: 2 }, metrics: { ranking: false }, output: { dir: out, plots: false, saveModel: false } })
  t.is(r.metrics.model, 'bias')
  t.true((r.metrics.final.testRmse ?? 0) > 0)
  t.regex(readFileSync(path.join(out, 'log.txt'), 'utf8'), /80000 ratings/)
})
