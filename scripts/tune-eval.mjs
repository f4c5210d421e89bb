// tune + a MAP model against the same model at its defaults, on the quality bench's protocol:
// seeded random 80/20 split (seed 42); tune sees only the training part (its own inner
// validation splits), the test part scores the two final models: RMSE, and P@10 / NDCG@10 of
// each model's lists (threshold 4, as `npm run bench quality`), without and with the ranker.
//   node scripts/tune-eval.mjs [dataDir] [model] ['{"folds":2,"refine":12}'] [out.json]
// dataDir defaults to ../shared/data/ml-latest-small beside the repository (never commit it or
// anything derived). TUNE_EVAL_RANKER=0 skips the rows with the ranker (slow on big sets).
import { writeFileSync } from 'node:fs'
import path from 'node:path'

import { alsrec, machine, root } from './bench/_common.mjs'

const dir = process.argv[2] || path.resolve(root, '..', 'shared', 'data', 'ml-latest-small')
const kind = process.argv[3] || 'biased'
const tuneOptions = JSON.parse(process.argv[4] || '{}')
const out = process.argv[5]
const withRanker = process.env.TUNE_EVAL_RANKER !== '0'
const data = await alsrec.loadMovieLens(dir)
const { train, test } = data.split({ kind: 'random', testFraction: 0.2, seed: 42 })

async function evaluate(label, config) {
  const rows = []
  for (const ranker of withRanker ? [null, undefined] : [null]) {
    const c = { ...config, ...(ranker === null ? { ranker: null } : {}) }
    const t0 = performance.now()
    const model = await alsrec.train(train, c, { testSet: test })
    const seconds = (performance.now() - t0) / 1000
    const m = await model.rankingMetrics(test, { k: 10, threshold: 4 })
    const row = { label, ranker: ranker === null ? 'none' : 'default', testRmse: Number(model.history.at(-1).testRmse.toFixed(4)), precisionAt10: Number(m.precision.toFixed(4)), ndcgAt10: Number(m.ndcg.toFixed(4)), epochs: model.history.length, seconds: Number(seconds.toFixed(1)) }
    console.log(JSON.stringify(row))
    rows.push(row)
  }
  return rows
}

const base = { model: kind }
const defaults = await evaluate(`${kind} at its defaults`, base)
const t0 = performance.now()
const result = await alsrec.tune(train, { ...base, ranker: null }, tuneOptions)
const tuneSeconds = (performance.now() - t0) / 1000
// The final models train with and without the ranker; the tuned keys are what carries over.
const best = Object.fromEntries(Object.entries(result.best).filter(([key]) => key !== 'ranker'))
console.log(JSON.stringify({ best, bestScore: result.bestScore, defaultScore: result.defaultScore, halvingBest: result.halvingBest, trainings: result.trainings, seconds: Number(tuneSeconds.toFixed(1)), stoppedBy: result.stoppedBy }))
const tuned = await evaluate(`tune + ${kind}`, best)
const report = { date: new Date().toISOString(), machine: machine(), data: path.basename(dir), split: { kind: 'random', testFraction: 0.2, seed: 42 }, tuneOptions, tune: { best, validation: result.validation, bestScore: result.bestScore, defaultScore: result.defaultScore, halvingBest: result.halvingBest, trainings: result.trainings, seconds: tuneSeconds }, rows: [...defaults, ...tuned] }
if (out) writeFileSync(out, JSON.stringify(report, null, 2))
