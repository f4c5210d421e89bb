import test from 'ava'

import { AlsrecError, loadMovieLensSync, trainSync } from '../dist/index.js'
import { sampleDir } from './helpers.js'

const data = loadMovieLensSync(sampleDir)
const { train: trainSet, test: testSet } = data.split({ testFraction: 0.2, seed: 5 })
const model = trainSync(trainSet, { factors: 10, epochs: 5, seed: 1 })
const users = Array.from(trainSet.userIds()).slice(0, 12)
const user = users[0] ?? 0
const movies = model.catalog.movies

test('recommend honours genres, years, minRatings, candidates and excludeSeen', (t) => {
  const seen = new Set(trainSet.userRatings(user).movieIds)
  const comedy = model.recommend(user, { n: 8, genres: ['Comedy'] })
  t.is(comedy.length, 8)
  t.true(comedy.every((r) => r.genres.includes('Comedy') && !seen.has(r.movieId)))
  const years = model.recommend(user, { n: 8, years: [1990, 1999] })
  t.true(years.every((r) => r.year !== null && r.year >= 1990 && r.year <= 1999))
  const candidates = movies.slice(0, 40).map((m) => m.movieId).filter((id) => !seen.has(id))
  const picked = model.recommend(user, { n: 5, candidates })
  t.true(picked.every((r) => candidates.includes(r.movieId)))
  const popular = model.recommend(user, { n: 5, minRatings: 60 })
  const counts = new Map<number, number>()
  for (const u of trainSet.userIds()) for (const m of trainSet.userRatings(u).movieIds) counts.set(m, (counts.get(m) ?? 0) + 1)
  t.true(popular.every((r) => (counts.get(r.movieId) ?? 0) >= 60))
  for (let i = 1; i < comedy.length; i++) t.true((comedy[i]?.score ?? 0) <= (comedy[i - 1]?.score ?? 0))
})

test('diversity re-ranking spreads genres, the same in recommend and recommendAll', async (t) => {
  const genresOf = (recs: Array<{ genres: string[] }>): number => new Set(recs.flatMap((r) => r.genres)).size
  let wider = 0
  for (const u of users) if (genresOf(model.recommend(u, { n: 10, diversity: 0.6 })) >= genresOf(model.recommend(u, { n: 10 }))) wider++
  t.true(wider >= users.length - 1, `${wider} of ${users.length}`)
  const all = await model.recommendAll({ n: 6, diversity: 0.6 })
  const ids = Array.from(all.userIds)
  for (const u of users.slice(0, 5)) {
    const row = ids.indexOf(u)
    const single = model.recommend(u, { n: 6, diversity: 0.6 }).map((r) => r.movieId)
    const batch = Array.from(all.movieIds.subarray(row * 6, row * 6 + 6))
    t.true(single.filter((id) => batch.includes(id)).length >= 5, `${single} vs ${batch}`)
  }
})

test('recommendAll returns every user as typed arrays, matching recommend', async (t) => {
  const all = await model.recommendAll({ n: 10 })
  t.is(all.n, 10)
  t.true(all.movieIds instanceof Float64Array && all.scores instanceof Float32Array)
  t.is(all.userIds.length, model.numUsers)
  t.is(all.movieIds.length, model.numUsers * 10)
  const sync = model.recommendAllSync({ n: 10 })
  t.deepEqual(sync.movieIds, all.movieIds)
  const ids = Array.from(all.userIds)
  for (const u of users) {
    const row = ids.indexOf(u)
    const single = model.recommend(u, { n: 10 })
    single.forEach((r, j) => t.true(Math.abs(r.score - (all.scores[row * 10 + j] ?? 0)) < 1e-4))
    single.forEach((r, j) => {
      if (all.movieIds[row * 10 + j] === r.movieId) t.is(all.ratings[row * 10 + j], Math.fround(r.rating ?? Number.NaN))
    })
    t.true(single.filter((r) => all.movieIds.subarray(row * 10, row * 10 + 10).includes(r.movieId)).length >= 9)
  }
  const controller = new AbortController()
  controller.abort()
  await t.throwsAsync(model.recommendAll({ signal: controller.signal }), { name: 'AbortError' })
})

test('model.movieIds mirrors model.userIds: raw ids in index order, as the dataset has them', (t) => {
  const ids = model.movieIds()
  t.true(ids instanceof Float64Array)
  t.is(ids.length, model.numMovies)
  t.deepEqual(ids, trainSet.movieIds())
  t.deepEqual(model.userIds(), trainSet.userIds())
  t.is(new Set(ids).size, ids.length)
  // Every movie of the catalog has an index, rated or not; every listed movie is one of them.
  const known = new Set(ids)
  t.true(movies.every((m) => known.has(m.movieId)))
  t.true(model.recommend(user, { n: 20 }).every((r) => known.has(r.movieId)))
})

test('predictMany agrees with predict', (t) => {
  const ids = movies.slice(0, 6).map((m) => m.movieId)
  const got = model.predictMany(ids.map(() => user), ids)
  ids.forEach((id, i) => t.true(Math.abs((got[i] ?? 0) - model.predict(user, id)) < 1e-6))
  const e = t.throws(() => model.predictMany([user], [987654]), { instanceOf: AlsrecError })
  t.is(e?.code, 'ALSREC_NOT_FOUND')
  t.regex(e?.message ?? '', /987654/)
})

test('a new user from ratings (by title or id) and from liked genres', (t) => {
  const [a, b, c] = movies.filter((m) => m.genres.includes('Animation')).slice(0, 3)
  if (!a || !b || !c) return t.fail('the sample has Animation movies')
  const recs = model.recommendForNewUser({ ratings: [{ movie: a.title, rating: 5 }, { movie: b.movieId, rating: 4.5 }, { movie: c.movieId, rating: 5 }] }, { n: 10 })
  t.is(recs.length, 10)
  t.false(recs.some((r) => [a.movieId, b.movieId, c.movieId].includes(r.movieId)))
  const byGenre = model.recommendForNewUser({ genres: ['Horror'] }, { n: 10 })
  const horror = byGenre.filter((r) => r.genres.includes('Horror')).length
  t.true(horror >= 5, `${horror} of 10 are horror`)
  const [lo, hi] = model.ratingRange()
  const off = t.throws(() => model.recommendForNewUser({ ratings: [{ movie: a.movieId, rating: hi + 1 }] }), { instanceOf: AlsrecError })
  t.is(off?.code, 'ALSREC_INVALID_ARGUMENT')
  t.regex(off?.message ?? '', new RegExp(`outside the scale ${lo}–${hi}`))
  const none = t.throws(() => model.recommendForNewUser({ ratings: [{ movie: 'Zzyzx Qwerty', rating: 4 }] }), { instanceOf: AlsrecError })
  t.is(none?.code, 'ALSREC_NOT_FOUND')
  t.regex(none?.message ?? '', /no movie matches the title "Zzyzx Qwerty"/)
  // A bare word shared by several titles lists the candidates.
  const word = a.title.split(' ')[0] ?? ''
  const several = model.catalog.search(word, 6)
  if (several.length > 1) {
    const e = t.throws(() => model.recommendForNewUser({ ratings: [{ movie: word, rating: 4 }] }), { instanceOf: AlsrecError })
    t.regex(e?.message ?? '', /matches several movies: ".*" \(id \d+\)/)
  }
  const empty = t.throws(() => model.recommendForNewUser({}), { instanceOf: AlsrecError })
  t.regex(empty?.message ?? '', /at least one rating or one liked genre/)
  const genre = t.throws(() => model.recommendForNewUser({ genres: ['Polka'] }), { instanceOf: AlsrecError })
  t.regex(genre?.message ?? '', /unknown genre 'Polka'.*Comedy/)
})

test('similar movies and users by cosine', (t) => {
  const m = movies[0]?.movieId ?? 0
  const similar = model.similarMovies(m, { n: 7 })
  t.is(similar.length, 7)
  t.false(similar.some((r) => r.movieId === m))
  t.true(similar.every((r) => r.score <= 1 + 1e-6 && r.score >= -1 - 1e-6))
  for (let i = 1; i < similar.length; i++) t.true((similar[i]?.score ?? 0) <= (similar[i - 1]?.score ?? 0))
  t.deepEqual(model.similarMovies(movies[0]?.title ?? '', { n: 7 }), similar)
  const near = model.similarUsers(user, { n: 5 })
  t.is(near.length, 5)
  t.false(near.some((r) => r.userId === user))
})

test('explain splits the score and names the rated movies behind it', (t) => {
  const rec = model.recommend(user, { n: 1 })[0]
  if (!rec) return t.fail('no recommendation')
  const e = model.explain(user, rec.movieId, { top: 4 })
  t.true(Math.abs(e.globalMean + e.userBias + e.movieBias + e.genrePart + e.latentPart - e.score) < 1e-4)
  const [lo, hi] = model.ratingRange()
  t.true(Math.abs(Math.min(hi, Math.max(lo, e.score)) - (rec.rating ?? Number.NaN)) < 1e-4, 'the displayed rating is the explained prediction, clamped')
  t.is(model.kind, 'genre')
  t.not(e.genrePart, 0, 'the default genre model explains part of the score by the movie genres')
  t.is(e.contributions.length, 4)
  const rated = new Set(trainSet.userRatings(user).movieIds)
  t.true(e.contributions.every((c) => rated.has(c.movieId) && c.share > 0 && c.share <= 1 && typeof c.title === 'string'))
  for (let i = 1; i < 4; i++) t.true(Math.abs(e.contributions[i]?.points ?? 0) <= Math.abs(e.contributions[i - 1]?.points ?? 0))
  // The personal part of a refitted user is close to the trained one.
  t.true(Math.abs(e.refitPersonal - (e.userBias + e.latentPart)) < 0.5)
})

test('partialFit folds in new users and movies without retraining', async (t) => {
  const liked = movies.filter((m) => m.genres.includes('Horror')).slice(0, 4)
  const fitted = await model.partialFit({ userIds: liked.map(() => 900001), movieIds: liked.map((m) => m.movieId), ratings: liked.map(() => 5) })
  t.is(fitted.numUsers, model.numUsers + 1)
  const viaFold = model.recommendForNewUser({ ratings: liked.map((m) => ({ movie: m.movieId, rating: 5 })) }, { n: 10 })
  t.deepEqual(fitted.recommend(900001, { n: 10 }).map((r) => r.movieId), viaFold.map((r) => r.movieId))
  // A brand-new movie rated by existing users gets a vector and can be recommended or compared.
  const grown = fitted.partialFitSync({ userIds: users, movieIds: users.map(() => 777777), ratings: users.map(() => 4.5) })
  t.is(grown.numMovies, model.numMovies + 1)
  t.is(grown.similarMovies(777777, { n: 3 }).length, 3)
  t.true(Number.isFinite(grown.predict(user, 777777)))
  const e = await t.throwsAsync(model.partialFit({ userIds: [1], movieIds: [1, 2], ratings: [3] }), { instanceOf: AlsrecError })
  t.regex(e?.message ?? '', /same length/)
})

test('ranking metrics on the test split', async (t) => {
  const m = await model.rankingMetrics(testSet, { k: 10 })
  t.is(m.k, 10)
  t.is(m.threshold, 4)
  t.true(m.users > 300)
  for (const key of ['precision', 'recall', 'ndcg', 'map', 'hitRate', 'coverage'] as const) t.true(m[key] >= 0 && m[key] <= 1, key)
  t.true(m.hitRate >= m.precision)
  t.true(m.novelty >= 1 && m.novelty <= model.numMovies, `novelty ${m.novelty}`)
  t.deepEqual(model.rankingMetricsSync(testSet, { k: 10 }), m)
  const strict = await model.rankingMetrics(testSet, { k: 10, threshold: 4.5 })
  t.true(strict.users < m.users)
  const e = await t.throwsAsync(model.rankingMetrics(testSet, { k: 0 }), { instanceOf: AlsrecError })
  t.is(e?.code, 'ALSREC_INVALID_ARGUMENT')
})

test('vector norms and the PCA movie map', (t) => {
  const { largest, smallest } = model.vectorNorms({ n: 5, minRatings: 5 })
  t.is(largest.length, 5)
  t.true((largest[0]?.score ?? 0) >= (largest[4]?.score ?? 0))
  t.true((smallest[0]?.score ?? 0) <= (largest[4]?.score ?? 0))
  const map = model.movieMap()
  t.true(map.movieIds instanceof Float64Array && map.x instanceof Float32Array && map.y instanceof Float32Array)
  t.is(map.x.length, map.movieIds.length)
  t.true(map.movieIds.length > 1500)
  t.true(map.explained[0] >= map.explained[1] && map.explained[0] > 0)
})

test('unknown ids and n ≤ 0 give coded errors', (t) => {
  const u = t.throws(() => model.recommend(424242), { instanceOf: AlsrecError })
  t.is(u?.code, 'ALSREC_NOT_FOUND')
  t.regex(u?.message ?? '', /unknown user id 424242/)
  const m = t.throws(() => model.similarMovies(31337), { instanceOf: AlsrecError })
  t.is(m?.code, 'ALSREC_NOT_FOUND')
  t.regex(m?.message ?? '', /unknown movie id 31337/)
  const x = t.throws(() => model.explain(user, 31337), { instanceOf: AlsrecError })
  t.regex(x?.message ?? '', /31337/)
  for (const n of [0, -3, 2.5]) {
    const e = t.throws(() => model.recommend(user, { n }), { instanceOf: AlsrecError })
    t.is(e?.code, 'ALSREC_INVALID_ARGUMENT')
    t.regex(e?.message ?? '', /n must be a whole number ≥ 1/)
  }
  t.throws(() => model.similarUsers(user, { n: 0 }), { instanceOf: AlsrecError })
  t.throws(() => model.recommend(user, { diversity: 2 }), { message: /diversity must be a number from 0 to 1/ })
})
