import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

import test, { type ExecutionContext } from 'ava'

import { AlsrecError, loadMovieLens, loadMovieLensSync, loadRatings, loadRatingsSync, loadSplit, train, trainSync, type TrainConfig } from '../dist/index.js'
import { sampleDir } from './helpers.js'

// Deliberately ill-typed arguments, as JavaScript callers (or JSON from elsewhere) pass them.
type Loose = never

const tmp = mkdtempSync(path.join(tmpdir(), 'alsrec-hostile-'))
test.after.always(() => rmSync(tmp, { recursive: true, force: true }))

const data = loadMovieLensSync(sampleDir)
const { train: trainSet, test: testSet } = data.split({ testFraction: 0.2, seed: 3 })
const SMALL: TrainConfig = { factors: 4, epochs: 2, ranker: null }
const model = trainSync(trainSet, SMALL)
const user = trainSet.userIds()[0] ?? 1
const movie = trainSet.userRatings(user).movieIds[0] ?? 1
const ratingsFile = path.join(sampleDir, 'ratings.csv')

function invalid(t: ExecutionContext, fn: () => unknown, message: RegExp, label = message.source): void {
  const e = t.throws(fn, { instanceOf: AlsrecError }, label)
  t.is(e?.code, 'ALSREC_INVALID_ARGUMENT', label)
  t.regex(e?.message ?? '', message, label)
}

async function invalidAsync(t: ExecutionContext, fn: () => Promise<unknown>, message: RegExp, label = message.source): Promise<void> {
  const e = await t.throwsAsync(fn, { instanceOf: AlsrecError }, label)
  t.is(e?.code, 'ALSREC_INVALID_ARGUMENT', label)
  t.regex(e?.message ?? '', message, label)
}

const NOT_IDS = [user + 0.7, Number.NaN, Infinity, -Infinity, 2 ** 53, String(user), null]

// --- 10. ids are safe integers ----------------------------------------------------------------

test('user ids must be safe integers: recommend, similarUsers, explain, predict', (t) => {
  for (const bad of NOT_IDS) {
    const id = bad as Loose
    invalid(t, () => model.recommend(id), /userId must be a whole number id \(a safe integer; got /, `recommend(${String(bad)})`)
    invalid(t, () => model.similarUsers(id), /userId must be a whole number id/, `similarUsers(${String(bad)})`)
    invalid(t, () => model.explain(id, movie), /userId must be a whole number id/, `explain(${String(bad)})`)
    invalid(t, () => model.predict(id, movie), /userId must be a whole number id/, `predict(${String(bad)})`)
  }
  // 1.7 used to answer for user 1, NaN for id 0: the message shows the value as given.
  invalid(t, () => model.recommend(1.7), /got 1\.7\)/)
  invalid(t, () => model.recommend(Number.NaN), /got NaN\)/)
  // A safe integer that is not a user is still "not found", not an argument error.
  t.throws(() => model.recommend(-5), { instanceOf: AlsrecError, message: /unknown user id -5/ })
})

test('movie ids must be safe integers: similarMovies, explain, predict, recommendForNewUser', (t) => {
  for (const bad of [movie + 0.5, Number.NaN, 2 ** 60]) {
    invalid(t, () => model.similarMovies(bad), /movie must be a whole number id/, `similarMovies(${bad})`)
    invalid(t, () => model.explain(user, bad), /movie must be a whole number id/, `explain(user, ${bad})`)
    invalid(t, () => model.predict(user, bad), /movieId must be a whole number id/, `predict(user, ${bad})`)
    invalid(t, () => model.recommendForNewUser({ ratings: [{ movie: bad, rating: 4 }] }), /profile\.ratings\[0\]\.movie must be a whole number id/, `new user rates ${bad}`)
  }
  invalid(t, () => model.similarMovies({} as Loose), /movie must be a movie id or a title \(got an object\)/)
  invalid(t, () => model.recommendForNewUser({ ratings: [{ movie, rating: 4 }, { movie, rating: Number.NaN }] }), /profile\.ratings\[1\]\.rating must be a finite number \(got NaN\)/)
  invalid(t, () => model.recommendForNewUser({ ratings: [{ movie, rating: '4' as Loose }] }), /profile\.ratings\[0\]\.rating must be a finite number \(got the string "4"\)/)
  invalid(t, () => model.recommendForNewUser({ ratings: [{ movie, rating: 4, score: 5 } as Loose] }), /profile\.ratings\[0\]: unknown key `score`; allowed keys: movie, rating/)
  invalid(t, () => model.recommendForNewUser({ ratings: [{ rating: 4 } as Loose] }), /profile\.ratings\[0\] must be \{ movie, rating \}/)
  invalid(t, () => model.recommendForNewUser({ ratings: { movie, rating: 4 } as Loose }), /profile\.ratings must be an array/)
  invalid(t, () => model.recommendForNewUser(undefined as Loose), /profile must be an object/)
})

test('id arrays are checked element by element: predictMany, candidates, recommendAll, partialFit', async (t) => {
  invalid(t, () => model.predictMany([user, user], [movie, movie + 0.5]), /movieIds\[1\] must be a whole number id \(a safe integer; got /)
  invalid(t, () => model.predictMany(Float64Array.of(user, Number.NaN), [movie, movie]), /userIds\[1\] must be a whole number id .*got NaN/)
  invalid(t, () => model.predictMany(Float32Array.of(user, 1.5), [movie, movie]), /userIds\[1\].*got 1\.5/)
  invalid(t, () => model.predictMany(String(user) as Loose, [movie]), /userIds must be an array or typed array of ids \(got the string/)
  // Integer typed arrays hold only integers; they pass as they are.
  t.is(model.predictMany(Int32Array.of(user), Uint32Array.of(movie)).length, 1)
  invalid(t, () => model.recommend(user, { candidates: Float64Array.of(movie, 2.5) }), /candidates\[1\] must be a whole number id/)
  invalid(t, () => model.recommendAllSync({ candidates: [Number.NaN] }), /candidates\[0\]/)
  await invalidAsync(t, () => model.recommendAll({ candidates: [movie, Infinity] }), /candidates\[1\]/)
  invalid(t, () => model.similarMovies(movie, { candidates: [0.5] }), /candidates\[0\]/)
  const ok = { userIds: [user], movieIds: [movie], ratings: [4] }
  await invalidAsync(t, () => model.partialFit({ ...ok, userIds: [user + 0.5] }), /userIds\[0\] must be a whole number id/)
  invalid(t, () => model.partialFitSync({ ...ok, movieIds: Float64Array.of(Number.NaN) }), /movieIds\[0\] must be a whole number id/)
  invalid(t, () => model.partialFitSync({ ...ok, ratings: [Number.NaN] }), /ratings\[0\] must be a finite number \(got NaN\)/)
  invalid(t, () => model.partialFitSync({ userIds: '1', movieIds: '2', ratings: '4' } as Loose), /userIds must be an array or typed array of ids/)
  invalid(t, () => model.partialFitSync({ userIds: [user], movieIds: [movie] } as Loose), /ratings is missing/)
})

test('a bad id deep in a large typed array is found in one quick pass', (t) => {
  const n = 2_000_000
  const users = new Float64Array(n).fill(user)
  const movies = new Float64Array(n).fill(movie)
  movies[n - 1] = movie + 0.25
  const start = performance.now()
  invalid(t, () => model.predictMany(users, movies), new RegExp(`movieIds\\[${n - 1}\\] must be a whole number id`))
  const ms = performance.now() - start
  t.true(ms < 1500, `checking ${n} ids took ${ms.toFixed(0)} ms`)
})

test('dataset lookups take safe-integer ids: userRatings, userIndex, movieIndex, movieTags', (t) => {
  for (const bad of [1.5, Number.NaN, 2 ** 53, '1' as Loose]) {
    invalid(t, () => data.userRatings(bad), /userId must be a whole number id/, `userRatings(${String(bad)})`)
    invalid(t, () => data.userIndex(bad), /userId must be a whole number id/, `userIndex(${String(bad)})`)
    invalid(t, () => data.movieIndex(bad), /movieId must be a whole number id/, `movieIndex(${String(bad)})`)
    invalid(t, () => data.movieTags(bad), /movieId must be a whole number id/, `movieTags(${String(bad)})`)
  }
  t.is(data.userIndex(-1), undefined)
  t.is(typeof data.userIndex(user), 'number')
})

// --- 12. unknown keys and wrong values ----------------------------------------------------------

test('unknown option keys are rejected, naming the key and the allowed ones', async (t) => {
  await invalidAsync(t, () => loadMovieLens(sampleDir, { treads: 2 } as Loose), /load options: unknown key `treads`; allowed keys: onBadRow, ratingScale, minUserRatings, minMovieRatings, catalogOnly, threads/)
  invalid(t, () => loadMovieLensSync(sampleDir, { skip: true } as Loose), /unknown key `skip`/)
  await invalidAsync(t, () => loadRatings(ratingsFile, undefined, { minRating: 2 } as Loose), /unknown key `minRating`/)
  invalid(t, () => loadRatingsSync(ratingsFile, undefined, { catalog: true } as Loose), /unknown key `catalog`/)
  invalid(t, () => loadRatingsSync(ratingsFile, { user: 'userId', movie: 'movieId', rating: 'rating', delimeter: ',' } as Loose), /column mapping: unknown key `delimeter`; allowed keys: delimiter, header, user, movie, rating, timestamp/)
  invalid(t, () => data.split({ sed: 3 } as Loose), /split options: unknown key `sed`; allowed keys: kind, testFraction, seed, minRatings, cutoff, coldStart/)
  invalid(t, () => data.folds(3, 1, { coldstart: 'drop' } as Loose), /folds options: unknown key `coldstart`; allowed keys: coldStart/)
  invalid(t, () => model.recommend(user, { nn: 3 } as Loose), /recommend options: unknown key `nn`; allowed keys: n, .*excludeSeen.*diversity/)
  invalid(t, () => model.recommendAllSync({ signal: AbortSignal.timeout(1000) } as Loose), /recommendAllSync options: unknown key `signal`/)
  await invalidAsync(t, () => model.recommendAll({ top: 3 } as Loose), /recommendAll options: unknown key `top`; allowed keys: .*signal/)
  invalid(t, () => model.recommendForNewUser({ genres: ['Drama'] }, { count: 3 } as Loose), /recommendForNewUser options: unknown key `count`/)
  invalid(t, () => model.recommendForNewUser({ genres: ['Drama'], genre: 'Drama' } as Loose), /profile: unknown key `genre`; allowed keys: ratings, genres/)
  // similarMovies has no user: excludeSeen and diversity would do nothing.
  invalid(t, () => model.similarMovies(movie, { excludeSeen: false } as Loose), /similarMovies options: unknown key `excludeSeen`; allowed keys: n, genres, minRatings, years, candidates/)
  invalid(t, () => model.similarUsers(user, { top: 3 } as Loose), /similarUsers options: unknown key `top`; allowed keys: n/)
  invalid(t, () => model.explain(user, movie, { n: 3 } as Loose), /explain options: unknown key `n`; allowed keys: top/)
  invalid(t, () => model.vectorNorms({ k: 3 } as Loose), /vectorNorms options: unknown key `k`; allowed keys: n, minRatings/)
  invalid(t, () => model.movieMap({ n: 3 } as Loose), /movieMap options: unknown key `n`; allowed keys: minRatings/)
  await invalidAsync(t, () => model.rankingMetrics(testSet, { kk: 5 } as Loose), /rankingMetrics options: unknown key `kk`; allowed keys: k, threshold, signal/)
  invalid(t, () => model.rankingMetricsSync(testSet, { signal: AbortSignal.timeout(1000) } as Loose), /rankingMetricsSync options: unknown key `signal`; allowed keys: k, threshold/)
  invalid(t, () => model.exportFactors(path.join(tmp, 'factors'), { fmt: 'csv' } as Loose), /exportFactors options: unknown key `fmt`; allowed keys: format/)
  await invalidAsync(t, () => model.partialFit({ userIds: [user], movieIds: [movie], ratings: [4], timestamps: [1] } as Loose), /partialFit ratings: unknown key `timestamps`/)
  await invalidAsync(t, () => train(trainSet, SMALL, { testset: testSet } as Loose), /train options: unknown key `testset`; allowed keys: testSet, onEpoch, initialModel, signal/)
  invalid(t, () => trainSync(trainSet, SMALL, { signal: AbortSignal.timeout(1000) } as Loose), /trainSync options: unknown key `signal`; allowed keys: testSet, onEpoch, initialModel/)
  // Keys set to undefined count as not given.
  t.is(model.recommend(user, { n: 3, genres: undefined, minRatings: undefined }).length, 3)
})

test('loadSplit rejects the filters it cannot apply to a predefined split, and unknown keys', async (t) => {
  const dir = path.join(tmp, 'split')
  mkdirSync(dir)
  const base = path.join(dir, 'u1.base')
  const probe = path.join(dir, 'u1.test')
  writeFileSync(base, '196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t242\t1\t878887116\n')
  writeFileSync(probe, '196\t302\t4\t881250950\n99\t242\t2\t881250951\n')
  for (const [options, key] of [
    [{ minUserRatings: 2 }, 'minUserRatings'],
    [{ minMovieRatings: 2 }, 'minMovieRatings'],
    [{ catalogOnly: true }, 'catalogOnly'],
  ] as const) {
    await invalidAsync(t, () => loadSplit(base, probe, undefined, options as Loose), new RegExp(`loadSplit options: ${key} is not supported: a predefined split is kept as given.*loadRatings`), key)
  }
  await invalidAsync(t, () => loadSplit(base, probe, undefined, { minUserRatings: 2, catalogOnly: false } as Loose), /minUserRatings, catalogOnly are not supported/)
  await invalidAsync(t, () => loadSplit(base, probe, undefined, { coldstart: 'drop' } as Loose), /loadSplit options: unknown key `coldstart`; allowed keys: onBadRow, ratingScale, threads, coldStart/)
  await invalidAsync(t, () => loadSplit(base, probe, undefined, { coldStart: 'remove' } as Loose), /coldStart must be 'keep' or 'drop'/)
  const s = await loadSplit(base, probe, undefined, { coldStart: 'drop', threads: 1, onBadRow: 'error' })
  t.is(s.test.numRatings, 1)
})

test('train with patience but no test set is an argument error', async (t) => {
  await invalidAsync(t, () => train(trainSet, { ...SMALL, patience: 2 }), /patience needs a test set/)
  invalid(t, () => trainSync(trainSet, { ...SMALL, patience: 2 }, { onEpoch: () => {} }), /patience needs a test set.*options\.testSet/)
  const withTest = await train(trainSet, { ...SMALL, patience: 1 }, { testSet })
  t.true(withTest.history.length >= 1 && withTest.history.length <= 2)
})

test('option values of the wrong type or range give coded errors, never a coercion', async (t) => {
  for (const n of ['3', 2.5, -1, 0, Infinity, Number.NaN, 2 ** 32, null] as Loose[]) {
    invalid(t, () => model.recommend(user, { n }), /n must be a whole number/, `recommend n = ${String(n)}`)
    invalid(t, () => model.similarMovies(movie, { n }), /n must be a whole number/, `similarMovies n = ${String(n)}`)
    invalid(t, () => model.vectorNorms({ n }), /n must be a whole number/, `vectorNorms n = ${String(n)}`)
  }
  invalid(t, () => model.recommend(user, { n: '3' as Loose }), /n must be a whole number ≥ 1 \(got the string "3"\)/)
  invalid(t, () => model.recommend(user, { genres: 'Drama' as Loose }), /genres must be an array of strings \(got the string "Drama"\)/)
  invalid(t, () => model.recommend(user, { genres: ['Drama', 7] as Loose }), /genres\[1\] must be a string/)
  invalid(t, () => model.recommend(user, { years: [1990.5, 1999] }), /years\[0\] must be a whole number/)
  invalid(t, () => model.recommend(user, { years: 1995 as Loose }), /years must be \[from, to\]/)
  invalid(t, () => model.recommend(user, { excludeSeen: 'no' as Loose }), /excludeSeen must be true or false/)
  invalid(t, () => model.recommend(user, { diversity: '0.3' as Loose }), /diversity must be a number from 0 to 1/)
  invalid(t, () => model.recommend(user, { minRatings: -1 }), /minRatings must be a whole number ≥ 0 \(got -1\)/)
  invalid(t, () => model.recommend(user, null as Loose), /recommend options must be an object \(got null\)/)
  invalid(t, () => model.recommendForNewUser({ genres: 'Drama' as Loose }), /profile\.genres must be an array of strings/)
  invalid(t, () => model.vectorNorms({ minRatings: -1 }), /minRatings must be a whole number ≥ 0/)
  invalid(t, () => model.movieMap({ minRatings: 1.5 }), /minRatings must be a whole number ≥ 0/)
  invalid(t, () => model.similarUsers(user, { n: '5' as Loose }), /n must be a whole number ≥ 1/)
  invalid(t, () => model.explain(user, movie, { top: 2.5 }), /top must be a whole number ≥ 1/)
  invalid(t, () => model.rankingMetricsSync(testSet, { threshold: '4' as Loose }), /threshold must be a finite number \(got the string "4"\)/)
  invalid(t, () => model.rankingMetricsSync({} as Loose), /testSet must be a Dataset \(got an object\)/)
  await invalidAsync(t, () => model.rankingMetrics(testSet, { signal: 'stop' as Loose }), /signal must be an AbortSignal/)
  await invalidAsync(t, () => model.recommendAll({ signal: { aborted: false } as Loose }), /signal must be an AbortSignal \(got an object\)/)
  invalid(t, () => model.exportFactors(path.join(tmp, 'factors'), { format: 'json' as Loose }), /format must be 'csv' or 'npy'/)
  invalid(t, () => model.saveSync(42 as Loose), /path must be a path string/)

  for (const threads of [-1, 0, 2.5, '2', 2 ** 32 + 1] as Loose[]) {
    invalid(t, () => loadMovieLensSync(sampleDir, { threads }), /threads must be a whole number/, `threads = ${String(threads)}`)
  }
  await invalidAsync(t, () => loadMovieLens(sampleDir, { minUserRatings: -1 }), /minUserRatings must be a whole number ≥ 0 \(got -1\)/)
  invalid(t, () => loadMovieLensSync(sampleDir, { minMovieRatings: 2.5 }), /minMovieRatings must be a whole number ≥ 0/)
  invalid(t, () => loadMovieLensSync(sampleDir, { catalogOnly: 'yes' as Loose }), /catalogOnly must be true or false/)
  invalid(t, () => loadMovieLensSync(sampleDir, { onBadRow: 'ignore' as Loose }), /onBadRow must be 'error' or 'skip'/)
  invalid(t, () => loadMovieLensSync(sampleDir, { ratingScale: '0.5-5' as Loose }), /ratingScale must be \[min, max\]/)
  invalid(t, () => loadMovieLensSync(42 as Loose), /dir must be a path string/)
  invalid(t, () => loadRatingsSync(ratingsFile, { user: 0.5, movie: 1, rating: 2 }), /mapping\.user must be a 0-based column number or a header name/)
  invalid(t, () => loadRatingsSync(ratingsFile, { movie: 1, rating: 2 } as Loose), /mapping\.user is required/)
  invalid(t, () => data.split({ testFraction: '0.2' as Loose }), /testFraction must be a number between 0 and 1, exclusive/)
  invalid(t, () => data.split({ coldStart: true as Loose }), /coldStart must be 'keep' or 'drop'/)
  invalid(t, () => data.folds(2 ** 32 + 2), /k must be a whole number from 2 to 4294967295/)

  await invalidAsync(t, () => train(trainSet, SMALL, { signal: {} as Loose }), /signal must be an AbortSignal \(got an object\)/)
  await invalidAsync(t, () => train(trainSet, SMALL, { onEpoch: 'log' as Loose }), /onEpoch must be a function/)
  await invalidAsync(t, () => train(trainSet, SMALL, { testSet: {} as Loose }), /testSet must be a Dataset/)
  invalid(t, () => trainSync(trainSet, SMALL, { initialModel: {} as Loose }), /initialModel must be a Model/)
  invalid(t, () => trainSync({} as Loose, SMALL), /trainSet must be a Dataset/)
  invalid(t, () => trainSync(trainSet, [] as Loose), /config must be an object \(got an array\)/)
  // Training config values: a wrong type names its key; the core keeps the ranges (threads ≤ 256).
  for (const threads of [-1, 2.5, '4'] as Loose[]) invalid(t, () => trainSync(trainSet, { ...SMALL, threads }), /threads must be a whole number ≥ 1/, `train threads = ${String(threads)}`)
  invalid(t, () => trainSync(trainSet, { ...SMALL, factors: 2.5 }), /factors must be a whole number ≥ 1 \(got 2\.5\)/)
  invalid(t, () => trainSync(trainSet, { ...SMALL, epochs: -3 }), /epochs must be a whole number ≥ 1 \(got -3\)/)
  invalid(t, () => trainSync(trainSet, { ...SMALL, seed: 1.5 }), /seed must be a whole number from 0 to/)
  invalid(t, () => trainSync(trainSet, { ...SMALL, lambda: '0.1' as Loose }), /lambda must be a number \(got the string "0\.1"\)/)
  invalid(t, () => trainSync(trainSet, { ...SMALL, weightedRegularization: 'yes' as Loose }), /weightedRegularization must be true or false/)
  invalid(t, () => trainSync(trainSet, { factors: 4, epochs: 2, ranker: { factors: '8' as Loose } }), /ranker\.factors must be a whole number ≥ 1/)
  invalid(t, () => trainSync(trainSet, { factors: 4, epochs: 2, ranker: 'default' as Loose }), /ranker must be an object, or null/)
})
