import { Option, type Command } from 'commander'

import { evaluateTarget } from '../../experiment/evaluate.js'
import { parseInteger, parseNumber } from '../shared/options.js'
import { fmt, printJson, thousands } from '../shared/output.js'

interface EvaluateCliOptions {
  data?: string
  split?: 'random' | 'user' | 'temporal'
  testFraction?: number
  seed?: number
  k?: number
  threshold?: number
  json?: boolean
}

export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description("score a saved model or an experiment folder on a train/test split (RMSE, MAE, ranking metrics)")
    .argument('<target>', 'an experiment folder (from alsrec train) or a saved model file')
    .option('--data <dir>', "a MovieLens folder (default: the experiment's data)")
    .addOption(new Option('--split <kind>', "split kind (default: the experiment's)").choices(['random', 'user', 'temporal']))
    .option('--test-fraction <f>', "share of ratings in the test set (default: the experiment's)", parseNumber)
    .option('--seed <s>', "split seed (default: the experiment's; another seed tests on training ratings)", parseInteger)
    .option('--k <n>', 'cut-off of the ranking metrics', parseInteger)
    .option('--threshold <r>', 'a test rating ≥ this is relevant for ranking metrics', parseNumber)
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nExamples:\n  $ alsrec evaluate runs/k16\n  $ alsrec evaluate runs/k16/model.alsrec --data data/sample --seed 42')
    .action(async (target: string, o: EvaluateCliOptions) => {
      const split = { ...(o.split ? { kind: o.split } : {}), ...(o.testFraction !== undefined ? { testFraction: o.testFraction } : {}), ...(o.seed !== undefined ? { seed: o.seed } : {}) }
      const r = await evaluateTarget(target, {
        ...(o.data !== undefined ? { data: { movielens: o.data } } : {}),
        split,
        ...(o.k !== undefined ? { k: o.k } : {}),
        ...(o.threshold !== undefined ? { threshold: o.threshold } : {}),
      })
      if (o.json) return printJson(r)
      console.log(`${r.model}${r.factors !== null ? ` (k = ${r.factors})` : ''}, ${r.source}; ${r.data}, ${r.split}`)
      console.log(`Test RMSE ${fmt(r.rmse)}, MAE ${fmt(r.mae)} over ${thousands(r.ratings)} ratings.`)
      if (r.ranking) console.log(`Ranking @${r.ranking.k} (relevant ≥ ${r.ranking.threshold}): precision ${fmt(r.ranking.precision)}, recall ${fmt(r.ranking.recall)}, NDCG ${fmt(r.ranking.ndcg)}, MAP ${fmt(r.ranking.map)}, hit rate ${fmt(r.ranking.hitRate)}, coverage ${fmt(r.ranking.coverage)}, novelty ${r.ranking.novelty.toFixed(1)}`)
      for (const n of r.notes) console.log(`Note: ${n}`)
    })
}
