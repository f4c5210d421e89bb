import { type Command } from 'commander'

import { loadMovieLens, samplePath, train } from '../index.js'
import { fmt, formatTable, thousands } from './output.js'

interface DemoOptions {
  data: string
  factors: string
  epochs: string
  users: string
  json?: boolean
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('train biased ALS on the bundled sample (or a MovieLens folder) and show recommendations')
    .option('--data <dir>', 'a MovieLens folder with ratings.csv and movies.csv', samplePath)
    .option('--factors <k>', 'latent factors', '16')
    .option('--epochs <n>', 'training epochs', '15')
    .option('--users <n>', 'users to show recommendations for', '5')
    .option('--json', 'print one JSON object instead of text')
    .addHelpText('after', '\nExamples:\n  $ alsrec demo\n  $ alsrec demo --data ../shared/data/ml-latest-small --factors 32')
    .action(async (o: DemoOptions) => runDemo(o))
}

async function runDemo(o: DemoOptions): Promise<void> {
  const log = o.json ? () => {} : (line: string) => console.log(line)
  const t0 = performance.now()
  const data = await loadMovieLens(o.data)
  const loadSeconds = (performance.now() - t0) / 1000
  log(`Loaded ${thousands(data.numRatings)} ratings of ${thousands(data.numUsers)} users on ${thousands(data.numMovies)} movies from ${o.data} (${loadSeconds.toFixed(2)} s)`)
  const { train: trainSet, test } = data.split({ testFraction: 0.2, seed: 42 })
  log(`Random 80/20 split (seed 42): ${thousands(trainSet.numRatings)} train, ${thousands(test.numRatings)} test ratings`)
  log(`Training biased ALS (μ + b_u + c_i + u·v), k = ${o.factors}:`)
  log(formatTable(['epoch', 'train RMSE', 'test RMSE', 'loss', 'seconds'], []))
  const model = await train(
    trainSet,
    { model: 'biased', factors: Number(o.factors), epochs: Number(o.epochs), seed: 42 },
    {
      testSet: test,
      onEpoch: (r) => log(`${String(r.epoch).padStart(5)}  ${fmt(r.trainRmse).padStart(10)}  ${fmt(r.testRmse).padStart(9)}  ${r.loss.toExponential(4).padStart(10)}  ${r.seconds.toFixed(3).padStart(7)}`),
    },
  )
  const last = model.history.at(-1)
  log(`Test RMSE ${fmt(last?.testRmse)} after ${model.history.length} epochs (train RMSE ${fmt(last?.trainRmse)}).`)
  const userIds = Array.from(data.userIds()).slice(0, Number(o.users))
  const shown = userIds.map((userId) => {
    const rated = trainSet.userRatings(userId)
    const favourites = Array.from(rated.movieIds, (id, i) => ({ id, r: rated.ratings[i] ?? 0 }))
      .sort((a, b) => b.r - a.r || a.id - b.id)
      .slice(0, 3)
      .map((f) => data.catalog.describe(f.id).title)
    return { userId, favourites, recommendations: model.recommend(userId, { n: 5 }) }
  })
  if (o.json) {
    console.log(JSON.stringify({ data: o.data, numRatings: data.numRatings, history: model.history, users: shown }, null, 2))
    return
  }
  for (const u of shown) {
    log(`\nUser ${u.userId} rated highly: ${u.favourites.join('; ')}`)
    log(formatTable(['  #', 'recommended movie', 'genres', 'predicted'], u.recommendations.map((r, i) => [`  ${i + 1}`, r.title, r.genres.join('|'), r.score.toFixed(2)])))
  }
}
