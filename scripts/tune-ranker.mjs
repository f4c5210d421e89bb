// How the ranker's defaults were chosen (docs/ranking.md): NDCG@10 on an inner validation split
// of ml-latest-small's seeded 80/20 training set, so the outer test set stays unseen.
//   node scripts/tune-ranker.mjs [dataDir] [out.json]
// Stage 1 tunes the implicit ranker alone (no rating blend, no popularity penalty); stage 2 the
// blend on the best stage-1 ranker. Needs the release build (npm run build:native).
import { writeFileSync } from 'node:fs'
import path from 'node:path'

import { alsrec, root } from './bench/_common.mjs'

const dataDir = process.argv[2] || path.resolve(root, '..', 'shared', 'data', 'ml-latest-small')
const out = process.argv[3]
const data = await alsrec.loadMovieLens(dataDir)
const { train: outer } = data.split({ testFraction: 0.2, seed: 42 })
const { train, test: validation } = outer.split({ testFraction: 0.2, seed: 7 })

async function evaluate(ranker) {
  const model = await alsrec.train(train, { threads: 2, ranker: { learnPopularityPenalty: false, ...ranker } })
  const m = await model.rankingMetrics(validation, { k: 10 })
  return { ...ranker, ndcg: m.ndcg, precision: m.precision, coverage: m.coverage }
}

const stage1 = []
for (const factors of [32, 64, 128]) {
  for (const tau of [3, 10, 30, 100]) {
    for (const alpha of [0.5, 1, 2]) stage1.push(await evaluate({ factors, tau, alpha, ratingWeight: 0, popularityPenalty: 0 }))
  }
}
stage1.sort((a, b) => b.ndcg - a.ndcg)
const best = stage1[0]
console.log('stage 1 best', JSON.stringify(best))

const stage2 = []
for (const ratingWeight of [0, 0.05, 0.1, 0.2]) {
  for (const ratingSupport of [0, 10, 30]) {
    for (const popularityPenalty of [0, 0.04, 0.07]) {
      stage2.push(await evaluate({ factors: best.factors, tau: best.tau, alpha: best.alpha, ratingWeight, ratingSupport, popularityPenalty }))
    }
  }
}
stage2.sort((a, b) => b.ndcg - a.ndcg)
console.log('stage 2 best', JSON.stringify(stage2[0]))
for (const r of stage2.slice(0, 8)) console.log('  ', JSON.stringify(r))
const report = { dataDir, outer: { testFraction: 0.2, seed: 42 }, inner: { testFraction: 0.2, seed: 7 }, stage1, stage2 }
if (out) writeFileSync(out, JSON.stringify(report, null, 2))
