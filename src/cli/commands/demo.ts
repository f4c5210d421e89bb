import { type Command } from 'commander'
import { stat } from 'node:fs/promises'

import { AlsrecError, loadMovieLens, samplePath, train, type EpochRecord, type TrainConfig } from '../../index.js'
import { positiveNumber, wholeNumber } from '../shared/options.js'
import { fmt, formatTable, printJson, thousands } from '../shared/output.js'

interface DemoOptions {
  data: string
  factors?: string
  tau?: string
  epochs: string
  users: string
  seed: string
  json?: boolean
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('train the default model (genre ALS with its implicit ranker) on the bundled sample (or a MovieLens folder) and show recommendations')
    .option('--data <dir>', 'a MovieLens folder with ratings.csv and movies.csv', samplePath)
    .option('--factors <k>', 'latent factors (default: the tuned default, 32)')
    .option('--tau <t>', 'regularization of the latent vectors (default: the tuned default, 20)')
    .option('--epochs <n>', 'training epochs (stops earlier once the loss settles)', '30')
    .option('--users <n>', 'users to show recommendations for', '5')
    .option('--seed <s>', 'seed of the split and the initialization', '42')
    .option('--json', 'print one JSON object instead of text')
    .addHelpText(
      'after',
      '\nExamples:\n  $ alsrec demo\n  $ alsrec demo --data "$(alsrec download ml-latest-small --quiet)"\n  $ alsrec demo --factors 8 --tau 5\n  $ alsrec demo --json | jq .testRmse',
    )
    .action(async (o: DemoOptions) => runDemo(o))
}

const EPOCH_COLUMNS = ['epoch', 'train RMSE', 'test RMSE', 'change', 'seconds']
const EPOCH_WIDTHS = [5, 10, 9, 8, 7]

function epochLine(cells: string[]): string {
  return cells.map((c, i) => c.padStart(EPOCH_WIDTHS[i] ?? 0)).join('  ')
}

async function runDemo(o: DemoOptions): Promise<void> {
  const config: TrainConfig = {
    ...(o.factors !== undefined ? { factors: wholeNumber('--factors', o.factors, 1, 1024) } : {}),
    ...(o.tau !== undefined ? { tau: positiveNumber('--tau', o.tau) } : {}),
    epochs: wholeNumber('--epochs', o.epochs, 1, 1000),
    seed: wholeNumber('--seed', o.seed, 0, 0xffffffff),
  }
  const users = wholeNumber('--users', o.users, 0, 1000)
  const isDir = await stat(o.data).then(
    (s) => s.isDirectory(),
    () => false,
  )
  if (!isDir) throw new AlsrecError('ALSREC_NOT_FOUND', `data folder ${o.data} does not exist (give a MovieLens folder with ratings.csv and movies.csv)`)

  const log = o.json ? () => {} : (line: string) => console.log(line)
  const t0 = performance.now()
  const data = await loadMovieLens(o.data)
  log(`Loaded ${thousands(data.numRatings)} ratings of ${thousands(data.numUsers)} users on ${thousands(data.numMovies)} movies from ${o.data} (${((performance.now() - t0) / 1000).toFixed(2)} s)`)
  const { train: trainSet, test } = data.split({ testFraction: 0.2, seed: config.seed ?? 42 })
  log(`Random 80/20 split: ${thousands(trainSet.numRatings)} train, ${thousands(test.numRatings)} test ratings`)
  const settings = config.factors !== undefined || config.tau !== undefined ? 'your settings' : 'the defaults tuned on ml-latest-small'
  log(`\nTraining genre ALS, r̂ = μ + b_user + c_movie + u·v with movie vectors drawn toward their genres, with ${settings}:`)
  log(epochLine(EPOCH_COLUMNS))
  let previous: number | undefined
  let printed = 0
  let finished = false
  const printEpoch = (r: EpochRecord): void => {
    // In order and once each: the last callback can arrive after training resolved.
    if (finished || r.epoch <= printed) return
    printed = r.epoch
    const change = previous === undefined || r.testRmse === undefined ? '' : (r.testRmse - previous).toFixed(4)
    previous = r.testRmse
    log(epochLine([String(r.epoch), fmt(r.trainRmse), fmt(r.testRmse), change, r.seconds.toFixed(3)]))
  }
  const trainStart = performance.now()
  const model = await train(trainSet, config, { testSet: test, onEpoch: printEpoch })
  const trainSeconds = (performance.now() - trainStart) / 1000
  for (const r of model.history) printEpoch(r)
  finished = true
  const last = model.history.at(-1)
  const first = model.history[0]
  const early = model.history.length < (config.epochs ?? 0) ? '; stopped early, the loss had settled' : ''
  const used = model.config
  log(`Test RMSE ${fmt(first?.testRmse)} → ${fmt(last?.testRmse)} in ${model.history.length} epochs (${trainSeconds.toFixed(1)} s${early}); k = ${used.factors}, τ = ${used.tau}, γ = ${used.gamma}.`)
  const ranking = await model.rankingMetrics(test, { k: 10 })
  log(
    `Lists are ranked by an implicit-ALS ranker (k = ${used.ranker?.factors ?? '-'}) trained beside it; movies need ${model.popularityFloor} ratings to be listed. On the test split: NDCG@10 ${ranking.ndcg.toFixed(3)}, P@10 ${ranking.precision.toFixed(3)}.`,
  )

  const shown = Array.from(data.userIds()).slice(0, users).map((userId) => {
    const rated = trainSet.userRatings(userId)
    const favourites = Array.from(rated.movieIds, (id, i) => ({ id, rating: rated.ratings[i] ?? 0 }))
      .sort((a, b) => b.rating - a.rating || a.id - b.id)
      .slice(0, 3)
      .map((f) => ({ ...data.catalog.describe(f.id), rating: f.rating }))
    return { userId, rated: rated.movieIds.length, favourites, recommendations: model.recommend(userId, { n: 5 }) }
  })
  if (o.json) {
    return printJson({
      data: o.data,
      ratings: data.numRatings,
      users: data.numUsers,
      movies: data.numMovies,
      config: model.config,
      testRmse: last?.testRmse ?? null,
      ranking,
      popularityFloor: model.popularityFloor,
      trainSeconds,
      history: model.history,
      recommendations: shown,
    })
  }
  for (const u of shown) {
    log(`\nUser ${u.userId} (${u.rated} ratings) liked: ${u.favourites.map((f) => `${f.title} ★${f.rating}`).join('; ')}`)
    log(
      formatTable(
        ['  #', 'recommended movie', 'genres', 'predicted'],
        u.recommendations.map((r, i) => [`  ${i + 1}`, r.title, r.genres.join('|'), `${(r.rating ?? r.score).toFixed(2)}★`]),
        ['l', 'l', 'l', 'r'],
      ),
    )
  }
}
