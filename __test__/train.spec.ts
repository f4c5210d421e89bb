import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

import test from 'ava'

import { AlsrecError, generate, loadModel, loadMovieLens, loadMovieLensSync, train, trainSync, type Dataset, type TrainConfig } from '../dist/index.js'
import { hasMlSmall, MISSING_ML_SMALL, mlSmallDir, sampleDir } from './helpers.js'

const sample = loadMovieLensSync(sampleDir)
const parts = sample.split({ testFraction: 0.2, seed: 11 })

function nonIncreasing(xs: number[]): boolean {
  return xs.every((x, i) => i === 0 || x <= (xs[i - 1] ?? Infinity) * (1 + 1e-6))
}

test('every model kind trains through the API with a falling loss and full history', async (t) => {
  const configs: TrainConfig[] = [
    { model: 'bias' },
    { model: 'biased', factors: 8 },
    { model: 'biased', factors: 8, weightedRegularization: true, tau: 0.05, gamma: 0.05 },
    { model: 'genre', factors: 8 },
    { model: 'implicit', factors: 8 },
    { model: 'implicit', factors: 8, solver: 'cholesky' },
  ]
  for (const config of configs) {
    const model = await train(parts.train, { ...config, epochs: 4, tolerance: 0 }, { testSet: parts.test })
    const label = JSON.stringify(config)
    t.is(model.kind, config.model ?? 'biased', label)
    t.is(model.history.length, 4, label)
    for (const h of model.history) {
      for (const v of [h.trainRmse, h.trainMae, h.testRmse ?? NaN, h.testMae ?? NaN, h.loss, h.seconds]) t.true(Number.isFinite(v), label)
    }
    t.true(nonIncreasing(model.history.map((h) => h.loss)), `${label}: loss rose`)
  }
})

test('bias-only beats the global mean and vectors beat bias-only on the sample', async (t) => {
  const bias = await train(parts.train, { model: 'bias' }, { testSet: parts.test })
  const biased = await train(parts.train, { model: 'biased', factors: 8 }, { testSet: parts.test })
  const biasRmse = bias.history.at(-1)?.testRmse ?? 99
  const biasedRmse = biased.history.at(-1)?.testRmse ?? 99
  // An infinite bias penalty leaves μ alone: the global mean's RMSE.
  const meanModel = await train(parts.train, { model: 'bias', gamma: 1e9, epochs: 1 }, { testSet: parts.test })
  const meanRmse = meanModel.history.at(-1)?.testRmse ?? 0
  t.true(biasRmse < meanRmse - 0.05, `bias ${biasRmse} vs global mean ${meanRmse}`)
  t.true(biasedRmse < biasRmse, `biased ${biasedRmse} vs bias ${biasRmse}`)
})

test('generated data: test RMSE near the noise floor', async (t) => {
  // The bundled sample (80k ratings, most movies rated a few times) leaves estimation error:
  // about 13 % above the floor at best. A larger generated set gets within 3 %.
  const truth = JSON.parse(readFileSync(path.join(sampleDir, 'truth.json'), 'utf8')) as { noiseFloorRmse: number }
  const onSample = await train(parts.train, { model: 'genre', factors: 8, tau: 4, gamma: 2 }, { testSet: parts.test })
  const sampleRmse = onSample.history.at(-1)?.testRmse ?? 99
  t.true(sampleRmse <= truth.noiseFloorRmse * 1.15, `sample: test RMSE ${sampleRmse} vs noise floor ${truth.noiseFloorRmse}`)

  const dir = mkdtempSync(path.join(tmpdir(), 'alsrec-train-'))
  try {
    const report = await generate(dir, { users: 3000, movies: 1000, ratings: 600000, seed: 9, factors: 8, noise: 0.6 })
    const data = await loadMovieLens(dir)
    const { train: tr, test: te } = data.split({ testFraction: 0.2, seed: 42 })
    const model = await train(tr, { model: 'biased', factors: 8, tau: 2, gamma: 2, epochs: 40 }, { testSet: te })
    const rmse = model.history.at(-1)?.testRmse ?? 99
    t.true(rmse <= report.noiseFloorRmse * 1.03, `600k generated: test RMSE ${rmse} vs noise floor ${report.noiseFloorRmse}`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('train accepts a whole dataset or a split part, and two trainings at once both finish', async (t) => {
  const config: TrainConfig = { factors: 8, epochs: 3, tolerance: 0, seed: 5 }
  const [whole, part] = await Promise.all([train(sample, config), train(parts.train, config, { testSet: parts.test })])
  t.is(whole.history.length, 3)
  t.is(part.history.length, 3)
  // Concurrent runs do not disturb each other: the same as a run on its own.
  const alone = trainSync(parts.train, config, { testSet: parts.test })
  t.deepEqual(
    part.history.map((h) => h.loss),
    alone.history.map((h) => h.loss),
  )
})

test('results do not depend on the thread count', async (t) => {
  const run = (threads: number): Promise<number[]> =>
    train(parts.train, { model: 'genre', factors: 8, epochs: 3, tolerance: 0, threads }, { testSet: parts.test }).then((m) =>
      m.history.flatMap((h) => [h.loss, h.trainRmse, h.testRmse ?? NaN]),
    )
  const [one, two, three] = await Promise.all([run(1), run(2), run(3)])
  t.deepEqual(one, two)
  t.deepEqual(one, three)
})

test('warm start from a model continues training exactly', async (t) => {
  const config: TrainConfig = { model: 'genre', factors: 8, tolerance: 0 }
  const straight = await train(parts.train, { ...config, epochs: 4 })
  const first = await train(parts.train, { ...config, epochs: 3 })
  const resumed = await train(parts.train, { ...config, epochs: 1 }, { initialModel: first })
  t.is(resumed.history.at(-1)?.loss, straight.history.at(-1)?.loss)
  const userId = sample.userIds()[3] ?? 1
  const movieId = sample.userRatings(userId).movieIds[0] ?? 1
  t.is(resumed.predict(userId, movieId), straight.predict(userId, movieId))
  const e = await t.throwsAsync(train(parts.train, { ...config, factors: 4 }, { initialModel: first }), { instanceOf: AlsrecError })
  t.regex(e?.message ?? '', /initialModel has factors = 8/)
  const sync = trainSync(parts.train, { ...config, epochs: 1 }, { initialModel: first })
  t.is(sync.history.at(-1)?.loss, straight.history.at(-1)?.loss)
})

// Serial: other tests' trainSync calls would hold the event loop and delay the rejection.
test.serial('an abort mid-training rejects with AbortError promptly while the event loop runs', async (t) => {
  let ticks = 0
  const timer = setInterval(() => ticks++, 2)
  const controller = new AbortController()
  let epochs = 0
  const started = train(parts.train, { factors: 64, epochs: 500, tolerance: 0 }, { signal: controller.signal, onEpoch: () => epochs++ })
  await new Promise((r) => setTimeout(r, 150))
  const abortedAt = Date.now()
  controller.abort()
  const err = await t.throwsAsync(started)
  const stopMs = Date.now() - abortedAt
  clearInterval(timer)
  t.is(err?.name, 'AbortError')
  t.true(ticks > 10, `the timer ticked ${ticks} times while training`)
  t.true(epochs < 500)
  t.true(stopMs < 2000, `took ${stopMs} ms to stop`)
  // An already-aborted signal rejects without training.
  await t.throwsAsync(train(parts.train, {}, { signal: AbortSignal.abort() }), { name: 'AbortError' })
})

test('config validation names the key and its allowed range', async (t) => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ factors: 1025 }, /factors must be an integer from 1 to 1024/],
    [{ lambda: -1 }, /lambda must be a finite number ≥ 0/],
    [{ tau: Infinity }, /tau must be a finite number/],
    [{ beta: -0.5 }, /beta must be a finite number ≥ 0/],
    [{ epochs: 0 }, /epochs must be at least 1/],
    [{ threads: 0 }, /threads must be a whole number from 1 to 256/],
    [{ threads: 1000 }, /threads must be a whole number from 1 to 256 \(got 1000\)/],
    [{ cgSteps: 0 }, /cgSteps must be an integer from 1 to 256/],
    [{ solver: 'lu' }, /cg.*cholesky/],
    [{ model: 'svd' }, /bias.*biased.*genre.*implicit/],
    [{ lamda: 1 }, /unknown field `lamda`; allowed keys: .*lambda.*weightedRegularization.*cgSteps.*ranker/],
    [{ ranker: { factors: 0 } }, /ranker\.factors must be an integer from 1 to 1024/],
    [{ ranker: { tau: 0 } }, /ranker\.tau must be > 0/],
    [{ ranker: { ratingWeight: Number.NaN } }, /ranker\.ratingWeight must be a finite number/],
    [{ ranker: { popularityPenalty: -1 } }, /ranker\.popularityPenalty must be a finite number ≥ 0/],
    [{ ranker: { factor: 8 } }, /unknown field `factor`/],
    [{ model: 'implicit', ranker: {} }, /ranker applies to the 'biased', 'genre' and 'bayesian' models/],
    [{ model: 'bias', ranker: { factors: 8 } }, /ranker applies to the 'biased', 'genre' and 'bayesian' models/],
  ]
  for (const [config, message] of cases) {
    const e = t.throws(() => trainSync(parts.train, config as TrainConfig), { instanceOf: AlsrecError })
    t.is(e?.code, 'ALSREC_INVALID_ARGUMENT', JSON.stringify(config))
    t.regex(e?.message ?? '', message, JSON.stringify(config))
  }
})

test('implicit model history reports the preference error on observed pairs', async (t) => {
  const model = await train(parts.train, { model: 'implicit', factors: 8, epochs: 5, tolerance: 0 }, { testSet: parts.test })
  const first = model.history[0]
  const last = model.history.at(-1)
  t.truthy(first && last)
  // x·y moves toward the preference 1 on the rated pairs as training goes on.
  t.true((last?.trainRmse ?? 9) < (first?.trainRmse ?? 0), `${first?.trainRmse} -> ${last?.trainRmse}`)
  t.true((last?.trainRmse ?? 9) < 1)
  t.is(model.globalMean, 0)
})

test('ml-latest-small: each model reaches its accuracy target', async (t) => {
  if (!hasMlSmall) {
    t.log(MISSING_ML_SMALL)
    t.pass()
    return
  }
  const data: Dataset = await loadMovieLens(mlSmallDir)
  const { train: tr, test: te } = data.split({ testFraction: 0.2, seed: 42 })
  const rmse = async (config: TrainConfig): Promise<number> => (await train(tr, config, { testSet: te })).history.at(-1)?.testRmse ?? 99
  const biased = await rmse({ model: 'biased' })
  const genre = await rmse({ model: 'genre' })
  const bias = await rmse({ model: 'bias' })
  t.log({ bias, biased, genre })
  t.true(biased <= 0.86, `biased ${biased}`)
  t.true(genre <= 0.86, `genre ${genre}`)
  t.true(bias < 0.95, `bias ${bias}`)
})

test('the popular and toprated baselines train in one pass, save, and say what they cannot do', async (t) => {
  const popular = await train(parts.train, { model: 'popular' }, { testSet: parts.test })
  t.is(popular.kind, 'popular')
  t.is(popular.history.length, 1)
  t.true(Number.isNaN(popular.history[0]?.trainRmse ?? 0), 'a popularity score has no rating error')
  const user = parts.train.userIds()[0] ?? 0
  const list = popular.recommend(user, { n: 5 })
  t.is(list.length, 5)
  t.true(list.every((r) => r.rating === undefined))
  for (let i = 1; i < list.length; i++) t.true((list[i]?.score ?? 0) <= (list[i - 1]?.score ?? 0))
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'alsrec-baseline-')), 'popular.alsrec')
  await popular.save(file)
  t.deepEqual((await loadModel(file)).recommend(user, { n: 5 }), list)
  const e = await t.throwsAsync(popular.partialFit({ userIds: [user], movieIds: [list[0]?.movieId ?? 0], ratings: [4] }), { instanceOf: AlsrecError })
  t.regex(e?.message ?? '', /baseline/)
  const toprated = await train(parts.train, { model: 'toprated' }, { testSet: parts.test })
  const rmse = toprated.history[0]?.testRmse ?? 0
  t.true(rmse > 0.5 && rmse < 1.5, `toprated test RMSE ${rmse}`)
  t.true(toprated.recommend(user, { n: 3 }).every((r) => r.rating !== undefined))
})

test('popular lately: recencyHalfLife weighs ratings by age and is refused where it means nothing', async (t) => {
  const allTime = await train(parts.train, { model: 'popular' })
  const lately = await train(parts.train, { model: 'popular', recencyHalfLife: 30 })
  t.is(lately.config.recencyHalfLife, 30)
  const user = parts.train.userIds()[0] ?? 0
  const a = allTime.recommend(user, { n: 10 }).map((r) => r.movieId)
  const b = lately.recommend(user, { n: 10 }).map((r) => r.movieId)
  t.notDeepEqual(a, b, 'a 30-day half-life changes the list')
  for (const [options, pattern] of [
    [{ model: 'genre', recencyHalfLife: 30 }, /recencyHalfLife applies to the 'popular' model/],
    [{ model: 'popular', recencyHalfLife: 0 }, /recencyHalfLife must be a number of days/],
  ] as const) {
    const e = await t.throwsAsync(train(parts.train, options as TrainConfig), { instanceOf: AlsrecError })
    t.is(e?.code, 'ALSREC_INVALID_ARGUMENT')
    t.regex(e?.message ?? '', pattern)
  }
})

test('an onEpoch listener that throws stops training and rejects train with its error; the process lives', async (t) => {
  let calls = 0
  const boom = new Error('listener boom')
  const err = await t.throwsAsync(
    train(parts.train, { factors: 4, epochs: 30, tolerance: 0, ranker: null }, {
      onEpoch: () => {
        calls++
        throw boom
      },
    }),
  )
  t.is(err, boom)
  t.is(calls, 1, 'no record after the throw')
  t.throws(() => trainSync(parts.train, { factors: 4, epochs: 2, ranker: null }, { onEpoch: () => { throw new Error('sync boom') } }), { message: 'sync boom' })
  // Still alive and able to train.
  t.is((await train(parts.train, { factors: 4, epochs: 2, ranker: null })).history.length, 2)
})
