import { Option, type Command } from 'commander'
import { existsSync } from 'node:fs'
import path from 'node:path'

import { invalidArgument } from '../../errors.js'
import { loadConfigFile, resolveConfig, type ExperimentConfig } from '../../experiment/config.js'
import { readMarker } from '../../experiment/folder.js'
import { runExperiment } from '../../experiment/runner.js'
import { EXIT_INTERRUPTED } from '../shared/exit-codes.js'
import { parseInteger, parseNumber } from '../shared/options.js'
import { fmt, printJson } from '../shared/output.js'
import { abortOnSigint, progressReporter } from '../shared/progress.js'
import { addLoadFlags, addSplitFlags, loadFromFlags, splitFromFlags, type DataFlagValues } from '../shared/data-flags.js'
import { refuseOverwritingInput } from '../shared/run-folder.js'

interface TrainCliOptions extends DataFlagValues {
  config?: string
  data?: string
  model?: string
  factors?: number
  lambda?: number
  tau?: number
  gamma?: number
  beta?: number
  alpha?: number
  epochs?: number
  seed?: number
  threads?: number
  patience?: number
  tolerance?: number
  recencyHalfLife?: number
  burnIn?: number
  hyperprior?: string
  out?: string
  plots: boolean
  save: boolean
  force?: boolean
  json?: boolean
  engine?: 'alsrec' | 'spark'
  master?: string
  sparkSubmit?: string
  python?: string
}

const HYPERPARAMETERS = ['factors', 'lambda', 'tau', 'gamma', 'beta', 'alpha', 'epochs', 'seed', 'threads', 'patience', 'tolerance', 'recencyHalfLife', 'burnIn', 'hyperprior'] as const

/** The config file (if any) with every given flag laid over it. */
function configFromFlags(o: TrainCliOptions): ExperimentConfig {
  const base: Record<string, unknown> = o.config ? structuredClone(loadConfigFile(o.config)) : {}
  const section = (key: string): Record<string, unknown> => (base[key] ??= {}) as Record<string, unknown>
  if (o.data !== undefined) base.data = { movielens: o.data }
  const load = loadFromFlags(o)
  if (Object.keys(load).length > 0) {
    if (base.data === undefined) throw invalidArgument('loader flags (--on-bad-row, --rating-scale, --min-user-ratings, --min-movie-ratings, --catalog-only, --load-threads) need --data <dir> or a config file')
    Object.assign(section('data'), load)
  }
  if (o.model !== undefined) section('model').kind = o.model
  for (const key of HYPERPARAMETERS) if (o[key] !== undefined) section('model')[key] = o[key]
  Object.assign(section('split'), splitFromFlags(o, o.splitSeed))
  if (o.out !== undefined) section('output').dir = o.out
  if (o.engine !== undefined) base.engine = o.engine
  if (o.master !== undefined) section('spark').master = o.master
  if (o.sparkSubmit !== undefined) section('spark').sparkSubmit = o.sparkSubmit
  if (o.python !== undefined) section('spark').python = o.python
  if (base.spark !== undefined && base.engine !== 'spark') throw invalidArgument('--master, --spark-submit and --python go with --engine spark')
  if (!o.plots) section('output').plots = false
  if (!o.save) section('output').saveModel = false
  if (!o.config && o.data === undefined) throw invalidArgument('give a config file or --data <dir>')
  if (section('output').dir === undefined) throw invalidArgument('give --out <dir> (or output.dir in the config)')
  return resolveConfig(base)
}

export function registerTrain(program: Command): void {
  const command = program
    .command('train')
    .description('train one model and write an experiment folder (config, metrics, model, plots, log, summary)')
    .argument('[config]', 'an experiment config (JSON); flags override its values')
    .option('--data <dir>', 'a MovieLens folder with ratings.csv and movies.csv')
    .addOption(new Option('--model <kind>', 'model').choices(['bias', 'biased', 'genre', 'implicit', 'popular', 'toprated', 'bayesian']))
    .option('--factors <k>', 'latent factors', parseInteger)
    .option('--lambda <x>', 'λ, weight of the data term', parseNumber)
    .option('--tau <x>', 'τ, regularization of the latent vectors', parseNumber)
    .option('--gamma <x>', 'γ, regularization of the biases', parseNumber)
    .option('--beta <x>', 'β, regularization of the genre vectors', parseNumber)
    .option('--alpha <x>', 'α, confidence slope (implicit model)', parseNumber)
    .option('--epochs <n>', 'training epochs', parseInteger)
    .option('--seed <s>', 'random seed of the initialization', parseInteger)
    .option('--threads <n>', 'worker threads (default: all cores)', parseInteger)
    .option('--patience <n>', 'stop after n epochs without a better test RMSE', parseInteger)
    .option('--tolerance <x>', 'stop when the loss improves by less than this fraction (0: never)', parseNumber)
    .option('--recency-half-life <days>', "'popular' model: weigh ratings 2^(−age/days) from the newest one (popular lately)", parseNumber)
    .option('--burn-in <n>', "'bayesian' model: sweeps discarded before averaging (less than --epochs, the number of sweeps)", parseInteger)
    .addOption(new Option('--hyperprior <kind>', "'bayesian' model: prior of the vector priors").choices(['wishart', 'gamma']))
  addSplitFlags(command, '')
  addLoadFlags(command)
  command
    .addOption(new Option('--engine <engine>', 'what trains: alsrec, or MLlib ALS on Spark (biases by Spark SQL, ALS on the residuals; docs/spark.md)').choices(['alsrec', 'spark']))
    .option('--master <url>', 'engine spark: the Spark master (local[2], spark://host:7077, yarn; default local[2])')
    .option('--spark-submit <path>', 'engine spark: run the job with this spark-submit (default: the pyspark package, in --python)')
    .option('--python <path>', 'engine spark without --spark-submit: a Python with pyspark (default: $ALSREC_PYTHON, build/spark-venv, python3)')
    .option('--out <dir>', 'the experiment folder to write')
    .option('--no-plots', 'skip the plots')
    .option('--no-save', 'skip the model file')
    .option('--force', "write into a folder that holds an earlier alsrec run (its files are replaced) or other files (alsrec's file names are written, every other file stays)")
    .option('--json', 'print the result as one JSON object')
    .addHelpText(
      'after',
      '\nExamples:\n  $ alsrec train --data data/sample --factors 16 --epochs 10 --out runs/k16\n  $ alsrec train --data data/sample --model bayesian --epochs 150 --burn-in 10 --out runs/bayes\n  $ alsrec train experiment.json --factors 32 --out runs/k32\n  $ alsrec train --data ml-latest-small --split temporal --cutoff 2015-01-01 --cold-start drop --catalog-only --out runs/t2015\n  $ alsrec train --data ml-latest-small --model biased --engine spark --master local[2] --out runs/spark',
    )
    .action(async (config: string | undefined, o: TrainCliOptions) => {
      const resolved = configFromFlags({ ...o, ...(config !== undefined ? { config } : {}) })
      refuseOverwritingInput(config ?? o.config, resolved.output.dir)
      const progress = progressReporter(!o.json)
      const sigint = abortOnSigint()
      try {
        const r = await runExperiment(resolved, { signal: sigint.signal, onProgress: progress.onProgress, ...(o.force ? { force: true } : {}) })
        progress.stop()
        if (o.json) return printJson({ dir: r.dir, files: r.files, config: r.config, final: r.metrics.final, ranking: r.metrics.ranking, history: r.metrics.history })
        const f = r.metrics.final
        console.log(`Trained ${r.metrics.model}${r.metrics.factors !== null ? ` (k = ${r.metrics.factors})` : ''} for ${f.epochs} epochs in ${f.seconds.toFixed(2)} s: test RMSE ${fmt(f.testRmse)}, test MAE ${fmt(f.testMae)}, train RMSE ${fmt(f.trainRmse)}.`)
        if (r.metrics.ranking) console.log(`Ranking @${r.metrics.ranking.k}: precision ${fmt(r.metrics.ranking.precision)}, recall ${fmt(r.metrics.ranking.recall)}, NDCG ${fmt(r.metrics.ranking.ndcg)}.`)
        console.log(`Wrote ${r.dir}: ${r.files.join(', ')}`)
      } catch (err) {
        progress.stop()
        if (sigint.interrupted()) {
          const dir = resolved.output.dir
          const kept = existsSync(path.join(dir, 'log.txt')) && readMarker(dir)?.status === 'aborted'
          console.error(kept ? `alsrec: interrupted; training stopped, ${dir} holds the config and log of the unfinished run` : 'alsrec: interrupted before training started; nothing was written')
          process.exitCode = EXIT_INTERRUPTED
          return
        }
        throw err
      } finally {
        sigint.dispose()
      }
    })
}
