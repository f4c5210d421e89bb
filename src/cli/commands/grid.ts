import { type Command } from 'commander'

import { invalidArgument } from '../../errors.js'
import { expandGrid, loadConfigFile, RANK_BY, resolveConfig } from '../../experiment/config.js'
import { gridProgressText, rankByLabel, runGrid } from '../../experiment/grid.js'
import { EXIT_INTERRUPTED, EXIT_RUNTIME } from '../shared/exit-codes.js'
import { fmt, formatTable, printJson } from '../shared/output.js'
import { abortOnSigint, progressReporter } from '../shared/progress.js'
import { refuseOverwritingInput } from '../shared/run-folder.js'

interface GridCliOptions {
  out?: string
  rankBy?: string
  dryRun?: boolean
  force?: boolean
  resume?: boolean
  json?: boolean
}

export function registerGrid(program: Command): void {
  program
    .command('grid')
    .description('train every combination of the hyperparameters a config lists; write a table sorted by test RMSE (or --rank-by a ranking metric) and plots')
    .argument('<config>', 'an experiment config (JSON) whose model section gives lists, e.g. "factors": [8, 16, 32]')
    .option('--out <dir>', 'the grid folder (overrides output.dir)')
    .option('--rank-by <metric>', "order the table and pick the best run by 'rmse' (default), 'coverage' or <precision|recall|ndcg|map|hitrate>@k, e.g. ndcg@10 (overrides metrics.rankBy)")
    .option('--force', "write into a folder that holds an earlier alsrec run (its files and run folders are replaced) or other files (alsrec's file names are written, every other file stays)")
    .option('--resume', 'continue a grid in its folder (after Ctrl-C or a crash): keep every finished run whose config is unchanged (checked by its hash), train the rest, rebuild the tables and plots from all runs')
    .option('--dry-run', 'list the runs the grid would train, and train nothing')
    .option('--json', 'print the results as one JSON object')
    .addHelpText(
      'after',
      `
Example config (grid.json):
  { "data": { "movielens": "data/sample" },
    "model": { "kind": ["bias", "biased"], "factors": [4, 8, 16], "epochs": 10 },
    "output": { "dir": "runs/grid" } }

Examples:
  $ alsrec grid grid.json
  $ alsrec grid grid.json --rank-by ndcg@10
  $ alsrec grid grid.json --dry-run
  $ alsrec grid grid.json --resume
  $ alsrec grid grid.json --out runs/grid2 --json

Ctrl-C stops the current run; finished runs and their table stay (exit code 130), and
--resume trains only the runs that did not finish.`,
    )
    .action(async (file: string, o: GridCliOptions) => {
      if (o.resume && o.force) throw invalidArgument('give --resume (keep the finished runs) or --force (replace them), not both')
      let config = loadConfigFile(file)
      if (o.out !== undefined) config.output = { ...config.output, dir: o.out }
      if (o.rankBy !== undefined) {
        const rankBy = o.rankBy.toLowerCase()
        if (!RANK_BY.test(rankBy)) throw invalidArgument(`--rank-by takes 'rmse', 'coverage' or <precision|recall|ndcg|map|hitrate>@k (got '${o.rankBy}')`)
        const k = /@(\d+)$/.exec(rankBy)?.[1]
        // The metric's cut-off sets metrics.k; resolve again so the same checks apply.
        config = resolveConfig({ ...config, metrics: { ...config.metrics, rankBy, ...(k !== undefined ? { k: Number(k) } : {}) } }, { source: file })
      }
      if (o.dryRun) {
        const plan = expandGrid(config.model).map((p) => p.train)
        if (o.json) printJson({ dir: config.output.dir, folds: config.split.folds ?? null, runs: plan })
        else {
          console.log(`${plan.length} run(s)${config.split.folds ? ` × ${config.split.folds} folds` : ''} into ${config.output.dir}:`)
          for (const [i, p] of plan.entries()) console.log(`${String(i + 1).padStart(3)}  ${JSON.stringify(p)}`)
        }
        return
      }
      refuseOverwritingInput(file, config.output.dir)
      const progress = progressReporter(!o.json)
      const sigint = abortOnSigint()
      let result
      try {
        result = await runGrid(config, { signal: sigint.signal, onProgress: progress.onProgress, ...(o.force ? { force: true } : {}), ...(o.resume ? { resume: true } : {}) })
      } finally {
        progress.stop()
        sigint.dispose()
      }
      const rows = result.rows.map((r) => ({ ...(r.error !== undefined ? { error: r.error } : {}), rank: r.rank, best: r.best, run: r.run, model: r.model, factors: r.factors, varied: r.varied, epochs: r.epochs, trainRmse: r.trainRmse, testRmse: r.testRmse, testRmseSd: r.testRmseSd, testMae: r.testMae, ranking: r.ranking, seconds: r.seconds, dir: r.dir, keptEpoch: r.keptEpoch, resumed: r.resumed }))
      const k = result.config.metrics.k
      if (o.json) printJson({ dir: result.dir, planned: result.planned, finished: rows.length - result.failed, failed: result.failed, resumed: result.resumed, notRun: result.planned - rows.length, interrupted: result.interrupted, rankBy: result.config.metrics.rankBy, files: result.files, rows })
      else {
        const f3 = (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(3))
        console.log(
          formatTable(
            ['#', 'run', 'model', 'k', 'train RMSE', 'test RMSE', 'test MAE', `P@${k}`, `R@${k}`, `NDCG@${k}`, `MAP@${k}`, `HR@${k}`, 'coverage', 'seconds'],
            result.rows.map((r) => [`${r.rank}${r.best ? ' *' : ''}`, r.run, r.model, r.factors ?? '-', fmt(r.trainRmse), fmt(r.testRmse), fmt(r.testMae), f3(r.ranking?.precision), f3(r.ranking?.recall), f3(r.ranking?.ndcg), f3(r.ranking?.map), f3(r.ranking?.hitRate), f3(r.ranking?.coverage), r.error !== undefined ? `failed: ${r.error}` : `${r.seconds.toFixed(2)}${r.resumed ? ' (kept)' : ''}`]),
          ),
        )
        console.log(`\n* best by ${rankByLabel(result.config.metrics.rankBy)}. Wrote ${result.dir}: ${result.files.join(', ')}`)
      }
      if (result.failed > 0 && !result.interrupted) {
        const firstError = result.rows.find((r) => r.error !== undefined)?.error ?? ''
        console.error(`alsrec: ${result.failed} of ${result.planned} run(s) failed (grid.log has each reason), e.g. ${firstError.split('\n')[0]}`)
        process.exitCode = EXIT_RUNTIME
      }
      if (result.interrupted) {
        console.error(`alsrec: interrupted; ${gridProgressText(result)} (${result.dir}; results.csv lists the finished ones). Resume with: alsrec grid ${file} --resume`)
        process.exitCode = EXIT_INTERRUPTED
      }
    })
}
