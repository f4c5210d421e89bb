import test from 'ava'

import { loadMovieLens, train, type Model } from '../dist/index.js'
import { hasMlSmall, MISSING_ML_SMALL, mlSmallDir } from './helpers.js'

// Real-data checks on ml-latest-small (skipped when the data is absent).
const run = hasMlSmall ? test.serial : test.skip
let model: Model | undefined

async function trained(): Promise<Model> {
  if (!model) {
    const data = await loadMovieLens(mlSmallDir)
    // τ = 10, γ = 5: with the RMSE-tuned defaults (τ = 15, γ = 2) a 3-rating visitor's taste goes
    // mostly into the user bias, and lists lean on all-time favourites.
    model = await train(data, { model: 'biased', factors: 32, tau: 10, gamma: 5, epochs: 12, seed: 42 })
  }
  return model
}

if (!hasMlSmall) {
  test('real-data queries', (t) => {
    t.log(MISSING_ML_SMALL)
    t.pass()
  })
}

run('a new user who rates the three Lord of the Rings films 5 gets fantasy/adventure films', async (t) => {
  const m = await trained()
  const ratings = [
    'The Lord of the Rings: The Fellowship of the Ring',
    'Lord of the Rings: The Two Towers, The (2002)',
    'the lord of the rings: the return of the king',
  ].map((movie) => ({ movie, rating: 5 }))
  const recs = m.recommendForNewUser({ ratings }, { n: 10, minRatings: 20 })
  t.log(recs.map((r) => `${r.title} [${r.genres.join('|')}] ${r.score.toFixed(2)}`).join('\n'))
  const fantasyOrAdventure = recs.filter((r) => r.genres.includes('Fantasy') || r.genres.includes('Adventure')).length
  // About a quarter of the movies with 20+ ratings are fantasy or adventure; the default
  // regularization (τ = 10 against 3 ratings) keeps some all-time favourites in the list.
  t.true(fantasyOrAdventure >= 4, `${fantasyOrAdventure} of 10`)
  t.true(recs.some((r) => r.genres.includes('Fantasy') || r.genres.includes('Adventure')))
  t.false(recs.some((r) => [4993, 5952, 7153].includes(r.movieId)))
})

run('nearest neighbours of a movie include films of its series', async (t) => {
  const m = await trained()
  const series: Array<[number, number[]]> = [
    [1, [3114, 78499]], // Toy Story → Toy Story 2, 3
    [260, [1196, 1210]], // Star Wars IV → V, VI
  ]
  for (const [movie, sequels] of series) {
    const near = m.similarMovies(movie, { n: 10, minRatings: 20 })
    t.log(`${m.catalog.describe(movie).title}: ${near.map((r) => r.title).join('; ')}`)
    t.true(near.some((r) => sequels.includes(r.movieId)), m.catalog.describe(movie).title)
  }
})

run('explain names rated movies and ranking metrics beat a random ranking', async (t) => {
  const data = await loadMovieLens(mlSmallDir)
  const { train: trainSet, test: testSet } = data.split({ testFraction: 0.2, seed: 1 })
  const m = await train(trainSet, { model: 'biased', factors: 32, epochs: 10, seed: 1 })
  const metrics = await m.rankingMetrics(testSet, { k: 10 })
  t.log(metrics)
  t.true(metrics.users > 500)
  // A random top 10 among ~9,000 movies hits a relevant one about 0.1% of the time.
  t.true(metrics.hitRate > 0.02, `hit rate ${metrics.hitRate}`)
  const e = m.explain(1, 260)
  t.is(e.contributions.length, 5)
})
