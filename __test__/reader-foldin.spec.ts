// The pure-TypeScript reader's new-user fold-in against the native one: for every model kind
// with vectors, with and without a ranker, the same visitors get the same lists (movies and
// order) with scores within 1e-4, and the same explanation. The reader solves in f64 where the
// core solves in f32, so only a near-tie (two scores closer than the f32 rounding) could swap;
// none does on these models, so the lists are compared whole.
import test from 'ava'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

import { loadMovieLensSync, readModel, trainSync, type Model } from '../dist/index.js'
import { sampleDir } from './helpers.js'

const dir = mkdtempSync(path.join(tmpdir(), 'alsrec-reader-foldin-'))
test.after.always(() => rmSync(dir, { recursive: true, force: true }))
const bytesOf = (model: Model, name: string): Uint8Array => {
  const file = path.join(dir, `${name.replace(/[^a-z]+/g, '-')}.alsrec`)
  model.saveSync(file)
  return readFileSync(file)
}

const data = loadMovieLensSync(sampleDir)
// Visitors rate films across the popularity range: the most rated, and some further down.
const popular = [...data.catalog.movies]
const countOf = new Map<number, number>()
for (const line of readFileSync(path.join(sampleDir, 'ratings.csv'), 'utf8').split('\n').slice(1)) {
  const id = Number(line.split(',')[1])
  if (line !== '') countOf.set(id, (countOf.get(id) ?? 0) + 1)
}
popular.sort((a, b) => (countOf.get(b.movieId) ?? 0) - (countOf.get(a.movieId) ?? 0) || a.movieId - b.movieId)
const film = (i: number): number => (popular[i] as { movieId: number }).movieId

const visitors: Array<[string, { ratings?: Array<{ movie: number; rating: number }>; genres?: string[] }]> = [
  ['three ratings', { ratings: [{ movie: film(0), rating: 5 }, { movie: film(3), rating: 4.5 }, { movie: film(7), rating: 1 }] }],
  ['eight ratings out of order', { ratings: [9, 2, 14, 5, 30, 1, 21, 40].map((i, j) => ({ movie: film(i), rating: [4, 3.5, 5, 2, 4.5, 3, 1.5, 5][j] ?? 3 })) }],
  ['one rating and a liked genre', { ratings: [{ movie: film(11), rating: 4 }], genres: ['Comedy'] }],
  ['liked genres only', { genres: ['Horror', 'Sci-Fi'] }],
]
const optionSets = [{ n: 10 }, { n: 8, diversity: 0.4 }, { n: 6, genres: ['Drama'], minRatings: 5 }]

const kinds: Array<[string, () => Model]> = [
  ['biased', () => trainSync(data, { model: 'biased', factors: 8, epochs: 4, threads: 1, ranker: null })],
  ['biased + ranker (series bonus)', () => trainSync(data, { model: 'biased', factors: 8, epochs: 4, threads: 1, ranker: { factors: 6, epochs: 2, seriesBonus: 0.3, learnSeriesBonus: false } })],
  ['genre', () => trainSync(data, { model: 'genre', factors: 8, epochs: 4, threads: 1, ranker: null })],
  ['genre + ranker', () => trainSync(data, { model: 'genre', factors: 8, epochs: 4, threads: 1, ranker: { factors: 6, epochs: 2 } })],
  ['weighted regularization', () => trainSync(data, { model: 'biased', factors: 6, epochs: 3, threads: 1, weightedRegularization: true, ranker: null })],
  ['implicit', () => trainSync(data, { model: 'implicit', factors: 8, epochs: 4, threads: 1 })],
  ['bayesian', () => trainSync(data, { model: 'bayesian', factors: 5, epochs: 4, burnIn: 1, threads: 1, ranker: null })],
  ['bayesian + ranker', () => trainSync(data, { model: 'bayesian', factors: 5, epochs: 4, burnIn: 1, threads: 1, ranker: { factors: 6, epochs: 2 } })],
]

for (const [kind, make] of kinds) {
  test(`the reader's recommendForNewUser and explainForNewUser are the native ones: ${kind}`, (t) => {
    const model = make()
    const reader = readModel(bytesOf(model, kind))
    for (const [who, profile] of visitors) {
      for (const options of optionSets) {
        const native = model.recommendForNewUser(profile, options)
        const ours = reader.recommendForNewUser(profile, options)
        const where = `${who}, ${JSON.stringify(options)}`
        t.true(native.length > 0, where)
        t.deepEqual(ours.map((r) => r.movieId), native.map((r) => r.movieId), where)
        native.forEach((r, i) => {
          const o = ours[i]
          t.true(Math.abs((o?.score ?? NaN) - r.score) < 1e-4, `${where}: score ${o?.score} vs ${r.score}`)
          if (r.rating === undefined) t.is(o?.rating, undefined, where)
          else t.true(Math.abs((o?.rating ?? NaN) - r.rating) < 1e-4, `${where}: rating ${o?.rating} vs ${r.rating}`)
        })
      }
      for (const movie of [film(2), film(60), model.recommendForNewUser(profile, { n: 1 })[0]?.movieId ?? film(1)]) {
        const native = model.explainForNewUser(profile, movie, { top: 10 })
        const ours = reader.explainForNewUser(profile, movie, { top: 10 })
        const where = `${who}, movie ${movie}`
        t.deepEqual(ours.contributions.map((c) => [c.movieId, c.rating]), native.contributions.map((c) => [c.movieId, c.rating]), where)
        ours.contributions.forEach((c, i) => t.true(Math.abs(c.points - (native.contributions[i]?.points ?? NaN)) < 1e-4, `${where}: points ${c.points} vs ${native.contributions[i]?.points}`))
        for (const key of ['score', 'userBias', 'genrePart', 'latentPart', 'refitPersonal'] as const) {
          t.true(Math.abs(ours[key] - native[key]) < 1e-4, `${where}: ${key} ${ours[key]} vs ${native[key]}`)
        }
      }
    }
  })
}

for (const [kind, make] of kinds) {
  test(`explainManyForNewUser folds the visitor in once and equals explainForNewUser movie by movie: ${kind}`, (t) => {
    const model = make()
    for (const [who, profile] of visitors) {
      const list = model.recommendForNewUser(profile, { n: 12 }).map((r) => r.movieId)
      const wanted = [...list, film(2), film(60)]
      const many = model.explainManyForNewUser(profile, wanted, { top: 4 })
      t.is(many.length, wanted.length, who)
      wanted.forEach((movie, i) => t.deepEqual(many[i], model.explainForNewUser(profile, movie, { top: 4 }), `${who}, movie ${movie}`))
    }
    t.deepEqual(model.explainManyForNewUser(visitors[0]?.[1] ?? {}, []), [])
    t.throws(() => model.explainManyForNewUser({ ratings: [{ movie: film(0), rating: 4 }] }, [film(1), -5]), { code: 'ALSREC_NOT_FOUND' })
    t.throws(() => model.explainManyForNewUser({ ratings: [{ movie: film(0), rating: 4 }] }, film(1) as unknown as number[]), { code: 'ALSREC_INVALID_ARGUMENT' })
  })
}

test('the reader refuses visitors as the native model does', (t) => {
  const reader = readModel(bytesOf(trainSync(data, { model: 'biased', factors: 4, epochs: 2, threads: 1, ranker: null }), 'refusals'))
  t.throws(() => reader.recommendForNewUser({}), { code: 'ALSREC_INVALID_ARGUMENT' })
  t.throws(() => reader.recommendForNewUser({ ratings: [{ movie: film(0), rating: 9 }] }), { code: 'ALSREC_INVALID_ARGUMENT', message: /outside the scale/ })
  t.throws(() => reader.recommendForNewUser({ ratings: [{ movie: -5, rating: 4 }] }), { code: 'ALSREC_NOT_FOUND' })
  t.throws(() => reader.recommendForNewUser({ genres: ['Nope'] }), { code: 'ALSREC_INVALID_ARGUMENT', message: /unknown genre/ })
})
