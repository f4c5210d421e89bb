import { Option, type Command } from 'commander'
import { existsSync } from 'node:fs'

import { invalidArgument } from '../../errors.js'
import { addModelSource, modelFrom, type ModelSourceOptions } from '../shared/model-source.js'
import { printJson } from '../shared/output.js'

interface ExportCliOptions extends ModelSourceOptions {
  format: 'spark' | 'csv' | 'npy'
  out: string
  force?: boolean
}

export function registerExport(program: Command): void {
  addModelSource(
    program
      .command('export')
      .description("write a model's vectors for another engine: a Spark MLlib ALSModel folder (spark), or CSV / NumPy files")
      .addOption(new Option('--format <format>', 'spark: an ALSModel folder pyspark.ml.recommendation.ALSModel.load reads; csv or npy: factor and bias files').choices(['spark', 'csv', 'npy']).default('spark'))
      .requiredOption('--out <dir>', 'the folder to write; never replaced without --force')
      .option('--force', 'replace an existing --out folder'),
  )
    .addHelpText('after', '\nExamples:\n  $ alsrec export --model movies.alsrec --format spark --out movies-spark\n  $ alsrec export --model movies.alsrec --format npy --out factors --json')
    .action(async (o: ExportCliOptions) => {
      if (o.format !== 'spark' && existsSync(o.out) && o.force !== true) throw invalidArgument(`${o.out} exists; add --force to replace it`)
      const model = await modelFrom(o)
      const t0 = performance.now()
      const summary =
        o.format === 'spark'
          ? { format: o.format, out: o.out, ...(await model.exportSpark(o.out, { force: o.force === true })) }
          : { format: o.format, out: o.out, files: model.exportFactors(o.out, { format: o.format }) }
      const seconds = (performance.now() - t0) / 1000
      if (o.json) return printJson({ ...summary, seconds })
      if ('rank' in summary) {
        console.log(`wrote ${o.out}: a Spark ALSModel of rank ${summary.rank} (${summary.layout}${summary.layout === 'augmented' ? ': k + 2 columns carry the biases, so Spark predicts what alsrec does' : ''}), ${summary.users} users, ${summary.movies} movies in ${seconds.toFixed(2)} s`)
        console.log(`load it with: pyspark.ml.recommendation.ALSModel.load(${JSON.stringify(o.out)})`)
      } else console.log(`wrote ${summary.files.join(', ')} in ${o.out}`)
    })
}
