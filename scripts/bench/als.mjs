// ALS training speed on the 25,000,095-rating generated set (ml-25m sized), per epoch (median over
// epochs): the block updates' seconds, the metrics' seconds after them, the whole epoch's (wall)
// seconds, GFLOP/s of the updates and of the whole epoch; peak RSS for load + train at k = 64,
// and the 1 → 2 thread speed-up. Explicit flops per epoch: 2·nnz·k² + (m+n)·k³/3 (docs/model.md,
// "Cost per epoch"); the metrics' own arithmetic is not counted, so the wall figure is the rate
// the whole epoch delivers on the updates' work.
import { alsrec, ensureMl25m, median, peakRssMb, writeResult } from './_common.mjs'

const out = process.argv[2] ?? 'bench-results/als.json'
const EPOCHS = Number(process.env.ALS_BENCH_EPOCHS ?? 3)

const { generatedSeconds } = await ensureMl25m()
const loadStart = process.hrtime.bigint()
const data = await alsrec.loadMovieLens(process.env.ALSREC_BENCH_DATA ?? '/tmp/alsrec-bench/ml25m')
const loadSeconds = Number(process.hrtime.bigint() - loadStart) / 1e9
const nnz = data.numRatings
const m = data.numUsers
const n = data.numMovies

function explicitFlops(k) {
  return 2 * nnz * k * k + ((m + n) * k ** 3) / 3
}

/** One CG step per row: a k×k matvec and two passes over the row's ratings; plus the rhs and YᵀY. */
function implicitFlops(k, steps) {
  const half = (rows, other) => (steps + 1) * (2 * rows * k * k + 4 * nnz * k) + 2 * nnz * k + 2 * other * k * k
  return half(m, n) + half(n, m)
}

async function run(name, config, flops) {
  global.gc?.()
  const model = await alsrec.train(data, { epochs: EPOCHS, tolerance: 0, seed: 1, ...config })
  const seconds = model.history.map((h) => h.seconds)
  const metrics = model.history.map((h) => h.metricsSeconds ?? NaN)
  const wall = model.history.map((h) => h.wallSeconds ?? NaN)
  const perEpoch = median(seconds)
  const wallPerEpoch = median(wall)
  const round = (x) => Number(x.toFixed(3))
  const result = {
    name,
    config,
    epochSeconds: round(perEpoch),
    metricsSeconds: round(median(metrics)),
    wallSeconds: round(wallPerEpoch),
    wallOverUpdates: Number((wallPerEpoch / perEpoch).toFixed(3)),
    samples: { updates: seconds.map(round), metrics: metrics.map(round), wall: wall.map(round) },
    gflops: Number((flops / perEpoch / 1e9).toFixed(1)),
    wallGflops: Number((flops / wallPerEpoch / 1e9).toFixed(1)),
    trainRmse: model.history.at(-1).trainRmse,
  }
  console.log(JSON.stringify(result))
  return result
}

const runs = []
runs.push(await run('explicit k=64', { model: 'biased', factors: 64, ranker: null }, explicitFlops(64)))
const peakRssLoadTrainK64 = peakRssMb()
runs.push(await run('explicit k=32', { model: 'biased', factors: 32, ranker: null }, explicitFlops(32)))
runs.push(await run('implicit CG 3 steps k=64', { model: 'implicit', factors: 64, cgSteps: 3 }, implicitFlops(64, 3)))
runs.push(await run('explicit k=32, 1 thread', { model: 'biased', factors: 32, threads: 1, ranker: null }, explicitFlops(32)))
const twoThreads = runs.find((r) => r.name === 'explicit k=32').epochSeconds
const oneThread = runs.find((r) => r.name === 'explicit k=32, 1 thread').epochSeconds

writeResult(out, {
  data: { ratings: nnz, users: m, movies: n, loadSeconds: Number(loadSeconds.toFixed(2)), generatedSeconds },
  epochsPerRun: EPOCHS,
  runs,
  peakRssLoadTrainK64Mb: peakRssLoadTrainK64,
  speedupOneToTwoThreads: Number((oneThread / twoThreads).toFixed(2)),
  note: 'shared 2-core machine with other builds running: figures are pessimistic',
})
