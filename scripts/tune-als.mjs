// Small grid search of each model's settings on a seeded 80/20 random split.
//   node scripts/tune-als.mjs [dataDir] [out.json]
// dataDir defaults to ../shared/data/ml-latest-small beside the repository. Only the ratios
// τ/λ and γ/λ matter to the minimizer, so λ stays 1. Needs the release build (npm run build:native).
import { writeFileSync } from 'node:fs'
import path from 'node:path'

import { alsrec, root } from './bench/_common.mjs'

const dataDir = process.argv[2] ?? path.resolve(root, '..', 'shared', 'data', 'ml-latest-small')
const out = process.argv[3]
const data = await alsrec.loadMovieLens(dataDir)
const { train, test } = data.split({ testFraction: 0.2, seed: 42 })

const grids = {
  bias: { gamma: [1, 2, 5, 10, 20] },
  biased: { factors: [8, 16, 32], tau: [5, 10, 20], gamma: [2, 5, 10] },
  genre: { factors: [16, 32], tau: [5, 10, 20], gamma: [5], beta: [0.1, 1, 10] },
  implicit: { factors: [16, 32], tau: [0.1, 1, 10], alpha: [1, 10, 40] },
}
const only = process.env.TUNE_MODELS?.split(',')

function* combinations(grid) {
  const keys = Object.keys(grid)
  const walk = function* (i, acc) {
    if (i === keys.length) return yield { ...acc }
    for (const v of grid[keys[i]]) yield* walk(i + 1, { ...acc, [keys[i]]: v })
  }
  yield* walk(0, {})
}

const results = {}
for (const [model, grid] of Object.entries(grids)) {
  if (only && !only.includes(model)) continue
  const runs = []
  for (const settings of combinations(grid)) {
    const config = { model, epochs: 30, threads: 2, ...settings }
    const m = await alsrec.train(train, config, { testSet: test })
    const last = m.history.at(-1)
    runs.push({ ...settings, epochs: m.history.length, testRmse: last.testRmse, testMae: last.testMae, trainRmse: last.trainRmse })
  }
  runs.sort((a, b) => a.testRmse - b.testRmse)
  results[model] = { best: runs[0], runs }
  console.log(model, JSON.stringify(runs[0]))
}
const meanRmse = (await alsrec.train(train, { model: 'bias', gamma: 1e9, epochs: 1 }, { testSet: test })).history[0].testRmse
const report = { dataDir, split: { testFraction: 0.2, seed: 42 }, globalMeanRmse: meanRmse, results }
console.log('global mean', meanRmse)
if (out) writeFileSync(out, JSON.stringify(report, null, 2))
