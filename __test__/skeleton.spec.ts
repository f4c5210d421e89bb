import test from 'ava'

import { AlsrecError, loadMovieLens, train, trainSync, loadMovieLensSync } from '../dist/index.js'
import { sampleDir } from './helpers.js'

test('loads the bundled sample, splits it and trains with falling train RMSE', async (t) => {
  const data = await loadMovieLens(sampleDir)
  t.is(data.numRatings, 80000)
  t.is(data.numUsers, 600)
  t.true(data.numMovies > 1500 && data.numMovies <= 2000)
  t.is(data.catalog.size, 2000)
  const { train: tr, test: te } = data.split({ testFraction: 0.2, seed: 7 })
  t.is(tr.numRatings + te.numRatings, 80000)
  t.is(te.numRatings, 16000)
  const epochs: number[] = []
  const model = await train(tr, { factors: 8, epochs: 6, tolerance: 0 }, { testSet: te, onEpoch: (r) => epochs.push(r.epoch) })
  t.is(model.history.length, 6)
  const rmse = model.history.map((h) => h.trainRmse)
  for (let i = 1; i < rmse.length; i++) t.true((rmse[i] ?? 0) <= (rmse[i - 1] ?? 0) + 1e-9, `epoch ${i + 1} train RMSE rose`)
  const testRmse = model.history.at(-1)?.testRmse ?? 99
  t.true(testRmse < 0.85, `test RMSE ${testRmse}`)
  // Progress arrives asynchronously; give the queue a turn.
  await new Promise((r) => setImmediate(r))
  t.deepEqual(epochs, [1, 2, 3, 4, 5, 6])
})

test('recommendations exclude seen movies and carry titles', async (t) => {
  const data = loadMovieLensSync(sampleDir)
  const model = trainSync(data, { factors: 8, epochs: 4 })
  const userId = data.userIds()[0] ?? 1
  const seen = new Set(data.userRatings(userId).movieIds)
  const recs = model.recommend(userId, { n: 20 })
  t.is(recs.length, 20)
  for (const r of recs) {
    t.false(seen.has(r.movieId))
    t.regex(r.title, /\(\d{4}\)$/)
  }
  for (let i = 1; i < recs.length; i++) t.true((recs[i]?.score ?? 0) <= (recs[i - 1]?.score ?? 0))
  const withSeen = model.recommend(userId, { n: 20, excludeSeen: false })
  t.true(withSeen.some((r) => seen.has(r.movieId)))
})

test('unknown users and bad options give coded errors', async (t) => {
  const data = loadMovieLensSync(sampleDir)
  const model = trainSync(data, { factors: 4, epochs: 1 })
  const e1 = t.throws(() => model.recommend(987654321), { instanceOf: AlsrecError })
  t.is(e1?.code, 'ALSREC_NOT_FOUND')
  t.regex(e1?.message ?? '', /987654321/)
  const e2 = await t.throwsAsync(train(data, { factors: 0 }), { instanceOf: AlsrecError })
  t.is(e2?.code, 'ALSREC_INVALID_ARGUMENT')
  t.regex(e2?.message ?? '', /factors.*1 to 1024/)
  const e3 = await t.throwsAsync(train(data, { factorz: 3 } as never), { instanceOf: AlsrecError })
  t.regex(e3?.message ?? '', /unknown field `factorz`.*factors/)
  const e4 = await t.throwsAsync(loadMovieLens('/definitely/not/here'), { instanceOf: AlsrecError })
  t.is(e4?.code, 'ALSREC_NOT_FOUND')
  t.regex(e4?.message ?? '', /definitely\/not\/here/)
})

test('training does not block the event loop and an AbortSignal stops it', async (t) => {
  const data = await loadMovieLens(sampleDir)
  // The timer itself aborts the training after 5 ticks: only if the event loop keeps running
  // while training can it fire at all, and however fast an epoch is, 5,000 of them outlast 5
  // ticks. A blocked loop would let training finish instead of rejecting.
  let ticks = 0
  let epochs = 0
  const controller = new AbortController()
  const timer = setInterval(() => {
    ticks++
    if (ticks === 5) controller.abort()
  }, 5)
  const started = train(data, { factors: 32, epochs: 5000, tolerance: 0 }, { signal: controller.signal, onEpoch: () => epochs++ })
  const err = await t.throwsAsync(started)
  clearInterval(timer)
  t.is(err?.name, 'AbortError')
  t.true(ticks >= 5, `the timer ticked ${ticks} times while training`)
  t.true(epochs < 5000, `${epochs} epochs ran before the abort`)
})
