import { type Command } from 'commander'

import { evaluateTarget, type SeenPolicy } from '../../experiment/evaluate.js'
import { invalidArgument } from '../../errors.js'
import { addLoadFlags, addSplitFlags, loadFromFlags, splitFromFlags, type DataFlagValues } from '../shared/data-flags.js'
import { parseInteger, parseNumber } from '../shared/options.js'
import { fmt, printJson, thousands } from '../shared/output.js'

interface EvaluateCliOptions extends DataFlagValues {
  data?: string
  seed?: number
  k?: number
  threshold?: number
  unseenOnly?: boolean
  includeSeen?: boolean
  retrain?: boolean
  json?: boolean
}

export function registerEvaluate(program: Command): void {
  const command = program
    .command('evaluate')
    .description('score a saved model or an experiment folder on a train/test split (RMSE, MAE, ranking metrics); refuses test ratings the model was trained on unless told what to do with them')
    .argument('<target>', 'an experiment folder (from alsrec train) or a saved model file')
    .option('--data <dir>', "a MovieLens folder (default: the experiment's data)")
  addSplitFlags(command, " (default: the experiment's)", '--seed')
  addLoadFlags(command)
  command
    .option('--unseen-only', "score only the test ratings the model was not trained on (another split or seed than the model's overlaps its training set); says how many were dropped")
    .option('--include-seen', 'score every test rating, training ratings too (they flatter the model; the output says how many there were)')
    .option('--retrain', 'an experiment folder whose run did not finish (so it has no model.alsrec): retrain it from config.json and evaluate that (a finished --no-save run is retrained without it, and says so)')
    .option('--k <n>', 'cut-off of the ranking metrics', parseInteger)
    .option('--threshold <r>', 'a test rating ≥ this is relevant for ranking metrics', parseNumber)
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      '\nExamples:\n  $ alsrec evaluate runs/k16\n  $ alsrec evaluate runs/k16/model.alsrec --data data/sample --seed 42\n  $ alsrec evaluate runs/k16/model.alsrec --data data/sample --seed 43 --unseen-only\n  $ alsrec evaluate runs/interrupted --retrain',
    )
    .action(async (target: string, o: EvaluateCliOptions) => {
      if (o.unseenOnly && o.includeSeen) throw invalidArgument('give --unseen-only or --include-seen, not both')
      const seen: SeenPolicy = o.unseenOnly ? 'drop' : o.includeSeen ? 'include' : 'refuse'
      const load = loadFromFlags(o)
      if (Object.keys(load).length > 0 && o.data === undefined) throw invalidArgument('loader flags (--on-bad-row, --rating-scale, --min-user-ratings, --min-movie-ratings, --catalog-only, --load-threads) need --data <dir>')
      const r = await evaluateTarget(target, {
        ...(o.data !== undefined ? { data: { movielens: o.data, ...load } } : {}),
        split: splitFromFlags(o, o.seed),
        ...(o.k !== undefined ? { k: o.k } : {}),
        ...(o.threshold !== undefined ? { threshold: o.threshold } : {}),
        seen,
        ...(o.retrain ? { retrain: true } : {}),
        // Retraining can take long: say so as it starts (stderr, so --json stays one object).
        onStatus: (message) => {
          if (message.startsWith('retraining')) console.error(`alsrec: ${message}`)
        },
      })
      if (o.json) return printJson(r)
      console.log(`${r.model}${r.factors !== null ? ` (k = ${r.factors})` : ''}, ${r.source}; ${r.data}, ${r.split}`)
      console.log(`Test RMSE ${fmt(r.rmse)}, MAE ${fmt(r.mae)} over ${thousands(r.ratings)} ratings.`)
      const t = r.trainingOverlap
      console.log(
        t.seen === 0
          ? 'Training ratings among the evaluated pairs: 0 (none of the test ratings was trained on).'
          : `Training ratings among the evaluated pairs: ${thousands(t.evaluated)} (of ${thousands(t.testRatings)} test ratings, ${thousands(t.seen)} were trained on${t.dropped > 0 ? `; ${thousands(t.dropped)} dropped` : '; all scored'}).`,
      )
      if (r.ranking) console.log(`Ranking @${r.ranking.k} (relevant ≥ ${r.ranking.threshold}): precision ${fmt(r.ranking.precision)}, recall ${fmt(r.ranking.recall)}, NDCG ${fmt(r.ranking.ndcg)}, MAP ${fmt(r.ranking.map)}, hit rate ${fmt(r.ranking.hitRate)}, coverage ${fmt(r.ranking.coverage)}, novelty ${r.ranking.novelty.toFixed(1)}`)
      for (const n of r.notes) console.log(`Note: ${n}`)
    })
}
