import test from 'ava'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

import { generate, loadMovieLens, train } from '../dist/index.js'

// The defaults were chosen on ml-latest-small; they must hold up on other data in another
// MovieLens layout. A generated set (another seed and size than the bundled sample) is written
// in ml-1m's layout (ratings.dat, movies.dat with '::') and trained at the defaults.
test('the defaults hold up on generated data in the ml-1m layout', async (t) => {
  const source = mkdtempSync(path.join(tmpdir(), 'alsrec-gen-'))
  await generate(source, { users: 700, movies: 1500, ratings: 70_000, seed: 23 })
  const dir = mkdtempSync(path.join(tmpdir(), 'alsrec-ml1m-'))
  const rows = (file: string) => readFileSync(path.join(source, file), 'utf8').trim().split('\n').slice(1)
  writeFileSync(path.join(dir, 'ratings.dat'), rows('ratings.csv').map((l) => l.split(',').join('::')).join('\n') + '\n')
  const movies = rows('movies.csv').map((l) => {
    const m = /^(\d+),(?:"((?:[^"]|"")*)"|([^,]*)),(.*)$/.exec(l)
    if (!m) throw new Error(`unparsed movies.csv line: ${l}`)
    return `${m[1]}::${(m[2] ?? m[3] ?? '').replace(/""/g, '"')}::${m[4]}`
  })
  writeFileSync(path.join(dir, 'movies.dat'), movies.join('\n') + '\n', 'latin1')
  const data = await loadMovieLens(dir)
  t.is(data.numRatings, 70_000)
  const { train: trainSet, test: testSet } = data.split({ testFraction: 0.2, seed: 42 })
  const ndcg = async (options: Parameters<typeof train>[1]) => {
    const model = await train(trainSet, options)
    return { model, metrics: await model.rankingMetrics(testSet) }
  }
  const byDefault = await ndcg({})
  const popular = await ndcg({ model: 'popular' })
  const byRating = await ndcg({ ranker: null })
  t.log(`NDCG@10: default ${byDefault.metrics.ndcg.toFixed(3)}, popular ${popular.metrics.ndcg.toFixed(3)}, ranker: null ${byRating.metrics.ndcg.toFixed(3)}; coverage ${byDefault.metrics.coverage.toFixed(3)} vs ${popular.metrics.coverage.toFixed(3)}; floor ${byDefault.model.popularityFloor}; ranker ${JSON.stringify(byDefault.model.config.ranker)}`)
  // The generator draws what people rate mostly by popularity, so most-rated is close to the
  // best possible there: the default must come close to it while covering far more of the
  // catalog, and far ahead of ranking by predicted stars.
  t.true(byDefault.metrics.ndcg >= 0.9 * popular.metrics.ndcg)
  t.true(byDefault.metrics.coverage >= 2 * popular.metrics.coverage)
  t.true(byDefault.metrics.ndcg >= 3 * byRating.metrics.ndcg)
})
