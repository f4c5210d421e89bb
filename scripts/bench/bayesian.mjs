// Bayesian ALS on the 25,000,095-rating generated set (ml-25m sized), beside ALS in the same
// run: seconds per Gibbs sweep against seconds per ALS epoch at k = 32 (both the record's own
// time and the whole train() call's wall time per epoch), and each model's test RMSE against the
// generator's noise floor (the RMSE of the true ratings, docs/model.md).
import { alsrec, ensureMl25m, median, peakRssMb, writeResult } from './_common.mjs'

const out = process.argv[2] ?? 'bench-results/bayesian.json'
// The defaults (100 sweeps, 20 of burn-in) unless told otherwise, e.g. for a quick look.
const SWEEPS = process.env.BAYES_BENCH_SWEEPS ? Number(process.env.BAYES_BENCH_SWEEPS) : undefined
const BURN_IN = process.env.BAYES_BENCH_BURN_IN ? Number(process.env.BAYES_BENCH_BURN_IN) : undefined

const { report } = await ensureMl25m()
const data = await alsrec.loadMovieLens(process.env.ALSREC_BENCH_DATA ?? '/tmp/alsrec-bench/ml25m')
const { train, test } = data.split({ kind: 'random', testFraction: 0.1, seed: 42 })
const floor = report.noiseFloorRmse

async function run(name, config) {
  global.gc?.()
  const start = process.hrtime.bigint()
  const model = await alsrec.train(train, { factors: 32, ranker: null, seed: 1, ...config }, { testSet: test })
  const wall = Number(process.hrtime.bigint() - start) / 1e9
  const h = model.history
  const testRmse = h.at(-1).testRmse
  const result = {
    name,
    config: model.config,
    epochs: h.length,
    epochSeconds: Number(median(h.map((x) => x.seconds)).toFixed(3)),
    wallSecondsPerEpoch: Number((wall / h.length).toFixed(3)),
    wallSeconds: Number(wall.toFixed(1)),
    testRmse: Number(testRmse.toFixed(4)),
    vsNoiseFloor: Number((testRmse / floor).toFixed(4)),
    ...(model.posterior ? { posterior: model.posterior } : {}),
  }
  console.log(JSON.stringify(result))
  return result
}

const als = await run('biased ALS k=32 (its defaults)', { model: 'biased' })
const bayes = await run('bayesian k=32', { model: 'bayesian', ...(SWEEPS ? { epochs: SWEEPS } : {}), ...(BURN_IN !== undefined ? { burnIn: BURN_IN } : {}) })
writeResult(out, {
  data: { ratings: data.numRatings, users: data.numUsers, movies: data.numMovies, split: 'random 90/10, seed 42', noiseFloorRmse: floor },
  runs: [als, bayes],
  sweepOverEpoch: Number((bayes.epochSeconds / als.epochSeconds).toFixed(2)),
  sweepOverEpochWall: Number((bayes.wallSecondsPerEpoch / als.wallSecondsPerEpoch).toFixed(2)),
  peakRssMb: peakRssMb(),
  note: 'one process, the two models one after the other; a shared 2-core machine is noisy, so compare the ratio, not the seconds',
})
