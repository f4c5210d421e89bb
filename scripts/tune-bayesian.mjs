// How the 'bayesian' defaults were chosen: each config of argv (JSON, over the defaults) is
// trained on an inner 80/20 split of ml-latest-small's seeded 80/20 training set and scored on
// the inner validation part, never on the test set. Prints the validation RMSE of the averaged
// model and its trace every 20 sweeps.
//   node scripts/tune-bayesian.mjs '{"epochs":100,"burnIn":20}' '{"epochs":150,"burnIn":10}'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const alsrec = createRequire(import.meta.url)(path.join(root, 'dist', 'index.js'))
const dir = process.env.ML_SMALL ?? path.resolve(root, '..', 'shared', 'data', 'ml-latest-small')
const data = await alsrec.loadMovieLens(dir)
const { train } = data.split({ kind: 'random', testFraction: 0.2, seed: 42 })
const inner = train.split({ kind: 'random', testFraction: 0.2, seed: 7 })
for (const arg of process.argv.slice(2).length ? process.argv.slice(2) : ['{}']) {
  const config = JSON.parse(arg)
  const t0 = performance.now()
  const model = await alsrec.train(inner.train, { model: 'bayesian', ranker: null, ...config }, { testSet: inner.test })
  const h = model.history
  const trace = h.filter((_, i) => i % 20 === 19).map((x) => x.testRmse.toFixed(3)).join(' ')
  console.log(`${arg} validation RMSE ${h.at(-1).testRmse.toFixed(4)} (every 20 sweeps: ${trace}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
}
