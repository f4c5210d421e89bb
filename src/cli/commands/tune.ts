import { Option, type Command } from 'commander'
import path from 'node:path'

import { invalidArgument } from '../../errors.js'
import { resolveConfig, singleTrainConfig } from '../../experiment/config.js'
import { writeJsonAtomic } from '../../experiment/atomic.js'
import { loadData, splitData } from '../../experiment/data.js'
import { runExperiment } from '../../experiment/runner.js'
import { tune, type TuneTrial } from '../../experiment/tune.js'
import { addLoadFlags, addSplitFlags, loadFromFlags, splitFromFlags, type DataFlagValues } from '../shared/data-flags.js'
import { parseInteger, parseNumber } from '../shared/options.js'
import { fmt, printJson } from '../shared/output.js'
import { abortOnSigint, progressReporter } from '../shared/progress.js'
import { refuseOverwritingInput } from '../shared/run-folder.js'

interface TuneCliOptions extends DataFlagValues {
  data?: string
  model?: string
  epochs?: number
  trials?: number
  eta?: number
  seconds?: number
  seed?: number
  folds?: number
  refine?: number
  out?: string
  train?: string
  force?: boolean
  json?: boolean
}

export function registerTune(program: Command): void {
  const command = program
    .command('tune')
    .description("search a MAP model's τ, γ, k (β, α where they apply) by successive halving and a local search around its winner, on validation splits of the training part (never the test set); writes the best as an experiment config and can train it")
    .requiredOption('--data <dir>', 'a MovieLens folder')
    .addOption(new Option('--model <kind>', 'the model to tune').choices(['bias', 'biased', 'genre', 'implicit']).default('genre'))
    .option('--epochs <n>', "the full epochs a surviving configuration trains (default: the model's)", parseInteger)
    .option('--trials <n>', 'configurations sampled, the defaults among them (default 27)', parseInteger)
    .option('--eta <n>', 'keep the best 1/eta at each rung and train them eta times longer (default 3)', parseInteger)
    .option('--seconds <s>', 'budget: start no training past this many seconds', parseNumber)
    .option('--seed <s>', 'seed of the sampling and the validation split (default 42)', parseInteger)
    .option('--folds <n>', 'inner validation splits averaged per score (default 2)', parseInteger)
    .option('--refine <n>', 'configurations the local search around the halving winner evaluates (default 16; 0: none)', parseInteger)
  addSplitFlags(command, '')
  addLoadFlags(command)
  command
    .option('--out <file>', 'write the best as an experiment config (JSON) for alsrec train')
    .option('--train <dir>', 'then train the best on the whole training part and write that experiment folder')
    .option('--force', 'with --train: write into a folder that holds an earlier alsrec run')
    .option('--json', 'print the result as one JSON object')
    .addHelpText('after', '\nExamples:\n  $ alsrec tune --data data/sample --model biased --out best.json\n  $ alsrec train best.json --out runs/tuned\n  $ alsrec tune --data ml-latest-small --model genre --seconds 120 --train runs/tuned')
    .action(async (o: TuneCliOptions) => {
      const model: Record<string, unknown> = { kind: o.model ?? 'genre' }
      if (o.epochs !== undefined) model.epochs = o.epochs
      const outDir = o.train ?? path.join('runs', `tuned-${o.model ?? 'genre'}`)
      const config = resolveConfig({ data: { movielens: o.data, ...loadFromFlags(o) }, split: splitFromFlags(o, o.splitSeed), model, output: { dir: outDir } })
      if (o.out !== undefined && path.extname(o.out) !== '.json') throw invalidArgument(`--out ${o.out}: the best config is written as JSON; give a .json file`)
      if (o.out !== undefined) refuseOverwritingInput(o.out, path.dirname(path.resolve(o.out)))
      const progress = progressReporter(!o.json)
      const sigint = abortOnSigint()
      try {
        progress.onProgress({ type: 'status', message: 'loading data' })
        const data = await loadData(config.data, sigint.signal)
        const [part] = splitData(data.dataset, config.split)
        if (!part) throw invalidArgument('split: produced no parts')
        const trials: TuneTrial[] = []
        const result = await tune(part.train, singleTrainConfig(config.model), {
          ...(o.trials !== undefined ? { trials: o.trials } : {}),
          ...(o.eta !== undefined ? { eta: o.eta } : {}),
          ...(o.seconds !== undefined ? { seconds: o.seconds } : {}),
          ...(o.seed !== undefined ? { seed: o.seed } : {}),
          ...(o.folds !== undefined ? { folds: o.folds } : {}),
          ...(o.refine !== undefined ? { refine: o.refine } : {}),
          signal: sigint.signal,
          onTrial: (t) => {
            trials.push(t)
            progress.onProgress({ type: 'status', message: `tune (${t.stage}): configuration ${t.id} at ${t.epochs} epochs: validation ${metricName(o.model)} ${t.score.toFixed(4)}` })
          },
        })
        progress.stop()
        const best = resolveConfig({ ...config, model: { ...config.model, ...Object.fromEntries(Object.entries(result.best).filter(([k]) => k !== 'model')), kind: result.best.model }, output: { dir: outDir } })
        if (o.out !== undefined) writeJsonAtomic(path.resolve(o.out), { ...best, output: { ...best.output, dir: outDir } })
        let trained: Awaited<ReturnType<typeof runExperiment>> | null = null
        if (o.train !== undefined) trained = await runExperiment(best, { signal: sigint.signal, ...(o.force ? { force: true } : {}) })
        if (o.json) return printJson({ ...result, ...(o.out !== undefined ? { out: path.resolve(o.out) } : {}), ...(trained ? { trained: { dir: trained.dir, final: trained.metrics.final, ranking: trained.metrics.ranking } } : {}) })
        const keys = Object.keys(result.best).filter((k) => k !== 'model')
        console.log(`Tuned ${result.best.model} in ${result.trainings} trainings (${result.seconds.toFixed(1)} s) on ${result.validation.trainRatings} training ratings, scored on ${result.validation.validationRatings} held out${result.stoppedBy ? ` (stopped by the ${result.stoppedBy} budget)` : ''}.`)
        console.log(`Best: ${keys.map((k) => {
          const v = result.best[k as keyof typeof result.best] as number
          return `${k} ${Number.isInteger(v) ? v : v.toPrecision(3)}`
        }).join(', ')}: validation ${result.metric} ${fmt(result.bestScore)}${result.defaultScore !== null ? ` (the defaults: ${fmt(result.defaultScore)})` : ''}.`)
        if (o.out !== undefined) console.log(`Wrote ${path.resolve(o.out)}; train it with: alsrec train ${o.out} --out <dir>`)
        if (trained) console.log(`Trained the best into ${trained.dir}: test RMSE ${fmt(trained.metrics.final.testRmse)}${trained.metrics.ranking ? `, NDCG@${trained.metrics.ranking.k} ${fmt(trained.metrics.ranking.ndcg)}` : ''}.`)
      } finally {
        progress.stop()
        sigint.dispose()
      }
    })
}

function metricName(kind: string | undefined): string {
  return kind === 'implicit' ? 'NDCG@10' : 'RMSE'
}
