// Bayesian (or ALS) configs on a generated set against its noise floor: each JSON argument is a
// config over { model: 'bayesian', factors: 32, ranker: null, seed: 1 }; the split is the bayesian
// bench's (random 90/10, seed 42). Prints test RMSE, × floor, a trace every 25 sweeps, the learned
// precisions' summary and seconds. The set is made once in /tmp (never committed):
//   GEN=/tmp/alsrec-bench/ml2m5 node scripts/bayes-generated.mjs '{"factors":16}' '{"hyperprior":"gamma"}'
// GEN defaults to the 2.5M set of the 25M set's shape (a tenth of the users, movies and ratings,
// so the same ratings per user and per movie).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

import { alsrec, ML25M } from './bench/_common.mjs'

const dir = process.env.GEN ?? '/tmp/alsrec-bench/ml2m5'
if (!existsSync(path.join(dir, 'truth.json'))) {
  const scale = 10
  await alsrec.generate(dir, { ...ML25M, users: Math.round(ML25M.users / scale), movies: Math.round(ML25M.movies / scale), ratings: Math.round(ML25M.ratings / scale) })
}
const truth = JSON.parse(readFileSync(path.join(dir, 'truth.json'), 'utf8'))
const data = await alsrec.loadMovieLens(dir)
const { train, test } = data.split({ kind: 'random', testFraction: 0.1, seed: 42 })
const floor = truth.noiseFloorRmse
// Signal per latent coordinate: mean(u_d²)·mean(v_d²) of the averaged vectors, largest first, as a
// share of the total. Under the per-coordinate Gamma hyperprior the axes are the prior's, so an
// automatic relevance determination that switches a coordinate off shows as a share near 0.
function ard(model) {
  const tmp = mkdtempSync(path.join(tmpdir(), 'alsrec-ard-'))
  try {
    model.exportFactors(tmp, { format: 'csv' })
    const meanSquares = (file) => {
      const rows = readFileSync(path.join(tmp, file), 'utf8').trim().split('\n').slice(1)
      const k = rows[0].split(',').length - 2
      const s = new Float64Array(k)
      for (const row of rows) row.split(',').slice(2).forEach((x, d) => (s[d] += Number(x) ** 2))
      return [...s].map((x) => x / rows.length)
    }
    const u = meanSquares('users.csv')
    const v = meanSquares('movies.csv')
    const e = u.map((x, d) => x * v[d])
    const total = e.reduce((a, b) => a + b, 0)
    return e.map((x) => x / total).sort((a, b) => b - a).map((x) => Number(x.toFixed(3)))
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}
for (const arg of process.argv.slice(2).length ? process.argv.slice(2) : ['{}']) {
  const config = { model: 'bayesian', factors: 32, ranker: null, seed: 1, ...JSON.parse(arg) }
  const t0 = performance.now()
  const model = await alsrec.train(train, config, { testSet: test })
  const h = model.history
  const trace = h.filter((_, i) => i % 25 === 24).map((x) => (x.testRmse / floor).toFixed(4)).join(' ')
  const rmse = h.at(-1).testRmse
  const post = model.posterior
  const precisions = post ?? undefined
  console.log(JSON.stringify({ ard: ard(model), config: arg, set: path.basename(dir), testRmse: Number(rmse.toFixed(4)), vsFloor: Number((rmse / floor).toFixed(4)), trace, sweeps: h.length, seconds: Number(((performance.now() - t0) / 1000).toFixed(1)), ...(precisions ? { precisions } : {}) }))
}
