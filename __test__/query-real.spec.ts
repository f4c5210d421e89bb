import test from 'ava'
import { spawnSync } from 'node:child_process'
import path from 'node:path'

import { loadMovieLens, train, type Dataset, type Model, type ModelKind, type Recommendation } from '../dist/index.js'
import { hasMlSmall, MISSING_ML_SMALL, mlSmallDir, root } from './helpers.js'

// Real-data checks on ml-latest-small (skipped when the data is absent). Every model here is
// trained at the defaults: these are the lists a user gets who chooses nothing.
const run = hasMlSmall ? test.serial : test.skip
let cached: { model: Model; data: Dataset; trainSet: Dataset; testSet: Dataset } | undefined

async function trained(): Promise<NonNullable<typeof cached>> {
  if (!cached) {
    const data = await loadMovieLens(mlSmallDir)
    const { train: trainSet, test: testSet } = data.split({ testFraction: 0.2, seed: 42 })
    const model = await train(trainSet, {}, { testSet })
    cached = { model, data, trainSet, testSet }
  }
  return cached
}

const show = (recs: Recommendation[]): string => recs.map((r) => `${r.title} [${r.genres.join('|')}] ${r.rating?.toFixed(2) ?? '-'}★`).join('\n')
const tagged = (recs: Recommendation[], ...genres: string[]): number => recs.filter((r) => r.genres.some((g) => genres.includes(g))).length
const fiveStars = (...movies: string[]) => ({ ratings: movies.map((movie) => ({ movie, rating: 5 })) })

function ratingCounts(d: Dataset): Map<number, number> {
  const counts = new Map<number, number>()
  for (const u of d.userIds()) for (const m of d.userRatings(u).movieIds) counts.set(m, (counts.get(m) ?? 0) + 1)
  return counts
}

if (!hasMlSmall) {
  test('real-data queries', (t) => {
    t.log(MISSING_ML_SMALL)
    t.pass()
  })
}

run('the default model ranks ahead of the reference implicit-ALS library and keeps its RMSE', async (t) => {
  const { model, testSet } = await trained()
  const m = await model.rankingMetrics(testSet, { k: 10 })
  const rmse = model.history.at(-1)?.testRmse ?? 99
  t.log({ kind: model.kind, rmse, ...m })
  t.is(model.kind, 'genre')
  t.true(model.hasRanker)
  // The `implicit` library at its defaults (k = 64) on this split: NDCG@10 0.250, P@10 0.181,
  // coverage 0.073 (docs/ranking.md).
  t.true(m.ndcg >= 0.27, `NDCG@10 ${m.ndcg}`)
  t.true(m.precision >= 0.19, `P@10 ${m.precision}`)
  t.true(m.coverage >= 0.073, `coverage ${m.coverage}`)
  t.true(rmse <= 0.833, `test RMSE ${rmse}`)
})

run('a Lord of the Rings fan gets fantasy and adventure, with another franchise', async (t) => {
  const { model, trainSet } = await trained()
  const recs = model.recommendForNewUser(
    fiveStars('The Lord of the Rings: The Fellowship of the Ring', 'Lord of the Rings: The Two Towers, The (2002)', 'the lord of the rings: the return of the king'),
  )
  t.log(show(recs))
  t.is(recs.length, 10)
  t.true(tagged(recs, 'Fantasy', 'Adventure') >= 6, `${tagged(recs, 'Fantasy', 'Adventure')} of 10 fantasy/adventure`)
  t.true(recs.some((r) => /Hobbit|Harry Potter|Star Wars|Narnia|Pirates of the Caribbean|Indiana Jones|Raiders of the Lost Ark/.test(r.title)), 'another fantasy/adventure franchise')
  t.false(recs.some((r) => [4993, 5952, 7153].includes(r.movieId)))
  const counts = ratingCounts(trainSet)
  t.true(recs.every((r) => (counts.get(r.movieId) ?? 0) >= model.popularityFloor))
  t.true(recs.every((r) => r.rating !== undefined && r.rating >= 0.5 && r.rating <= 5))
})

run('Toy Story and Finding Nemo give mostly animation', async (t) => {
  const { model } = await trained()
  const recs = model.recommendForNewUser(fiveStars('Toy Story (1995)', 'Finding Nemo (2003)'))
  t.log(show(recs))
  t.true(tagged(recs, 'Animation') >= 6, `${tagged(recs, 'Animation')} of 10 animation`)
})

run('one rating is enough for an on-topic list', async (t) => {
  const { model } = await trained()
  const recs = model.recommendForNewUser(fiveStars('Matrix, The (1999)'))
  t.log(show(recs))
  t.true(tagged(recs, 'Action', 'Sci-Fi', 'Thriller') >= 6, `${tagged(recs, 'Action', 'Sci-Fi', 'Thriller')} of 10 share a genre`)
})

// Without the series bonus the collaborative ranker follows the trilogy's fans to Raiders and
// The Matrix first, and Episode I ranks 12th (docs/ranking.md).
run('the original Star Wars trilogy leads to other Star Wars films', async (t) => {
  const { model } = await trained()
  const recs = model.recommendForNewUser(
    fiveStars('Star Wars: Episode IV - A New Hope (1977)', 'Star Wars: Episode V - The Empire Strikes Back (1980)', 'Star Wars: Episode VI - Return of the Jedi (1983)'),
  )
  t.log(show(recs))
  t.true(recs.some((r) => r.title.startsWith('Star Wars')))
  t.false(recs.some((r) => / Episode (IV|V|VI) /.test(r.title)))
})

run('liked genres alone give on-topic lists for every model kind', async (t) => {
  const { trainSet } = await trained()
  const counts = ratingCounts(trainSet)
  for (const kind of ['bias', 'biased', 'genre', 'implicit'] as ModelKind[]) {
    const model = await train(trainSet, { model: kind })
    for (const genres of [['Horror'], ['Animation', 'Children']]) {
      const recs = model.recommendForNewUser({ genres })
      t.log(`${kind} ${genres.join('+')}: ${recs.map((r) => r.title).join('; ')}`)
      t.is(recs.length, 10, kind)
      t.true(recs.every((r) => r.genres.some((g) => genres.includes(g))), `${kind}: every film is ${genres.join(' or ')}`)
      t.true(recs.every((r) => (counts.get(r.movieId) ?? 0) >= model.popularityFloor), `${kind}: every film has the floor's ratings`)
    }
  }
})

run('similar movies find their series at the defaults', async (t) => {
  const { model } = await trained()
  const series: Array<[string, RegExp]> = [
    ['Toy Story (1995)', /^Toy Story [23]/],
    ['Godfather, The (1972)', /^Godfather: Part II/],
  ]
  for (const [movie, sequel] of series) {
    const near = model.similarMovies(movie)
    t.log(`${movie}: ${near.map((r) => r.title).join('; ')}`)
    t.true(near.some((r) => sequel.test(r.title)), movie)
  }
  const matrix = model.similarMovies('Matrix, The (1999)')
  t.log(`Matrix: ${matrix.map((r) => r.title).join('; ')}`)
  t.true(matrix.some((r) => /^Matrix (Reloaded|Revolutions)/.test(r.title)) || tagged(matrix, 'Sci-Fi') >= 4, 'its sequels or close sci-fi')
})

run('demo on ml-latest-small lists only films above the popularity floor', async (t) => {
  const { trainSet } = await trained()
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'alsrec.js'), 'demo', '--data', mlSmallDir, '--json', '--users', '8'], { encoding: 'utf8' })
  t.is(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout) as { popularityFloor: number; ranking: { ndcg: number }; recommendations: Array<{ recommendations: Recommendation[] }> }
  const counts = ratingCounts(trainSet)
  t.true(out.popularityFloor >= 2)
  for (const u of out.recommendations) {
    t.log(u.recommendations.map((x) => `${x.title} (${counts.get(x.movieId) ?? 0})`).join('; '))
    for (const x of u.recommendations) t.true((counts.get(x.movieId) ?? 0) >= out.popularityFloor, x.title)
  }
})

run('explain names rated movies', async (t) => {
  const { model } = await trained()
  const e = model.explain(1, 260)
  t.is(e.contributions.length, 5)
})
