import { type Command } from 'commander'
import { existsSync } from 'node:fs'

import { invalidArgument } from '../../errors.js'
import { importSpark } from '../../interop.js'
import { parseNumber } from '../shared/options.js'
import { printJson, thousands } from '../shared/output.js'
import { ratingsFrom } from '../shared/ratings-source.js'

interface ImportSparkCliOptions {
  out: string
  ratings?: string
  movies?: string
  implicit?: boolean
  regParam?: number
  alpha?: number
  force?: boolean
  json?: boolean
}

export function registerImport(program: Command): void {
  const cmd = program
    .command('import')
    .description('turn a model trained elsewhere into an alsrec model file')
    .addHelpText('after', '\nSources: spark (a Spark MLlib ALSModel folder). Each prints JSON with --json.\n\nExamples:\n  $ alsrec import spark spark-model --out movies.alsrec --ratings ml-latest-small\n  $ alsrec import spark spark-model --out movies.alsrec --json')
  cmd
    .command('spark <dir>')
    .description('a Spark MLlib ALSModel folder (model.save(dir) in Spark) into an alsrec model on which every query works')
    .requiredOption('--out <file>', 'the model file to write; never replaced without --force')
    .option('--ratings <file|dir>', 'the training ratings (a ratings file or MovieLens folder): they mark seen movies and feed explain and update')
    .option('--movies <file>', 'a catalog (movies.csv, movies.dat, u.item) for titles and genres (default: the catalog of a --ratings folder)')
    .option('--implicit', 'the Spark model was trained with implicitPrefs=true (its metadata does not say)')
    .option('--reg-param <x>', "Spark's regParam of the training: fold-in regularizes a row by regParam · its ratings (default 0.1)", parseNumber)
    .option('--alpha <x>', "Spark's alpha of an implicit model (default 1)", parseNumber)
    .option('--force', 'replace an existing --out file')
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', '\nExamples:\n  $ alsrec import spark spark-model --out movies.alsrec --ratings ml-latest-small\n  $ alsrec import spark spark-model --out movies.alsrec --ratings ratings.csv --movies movies.csv --reg-param 0.05 --json')
    .action(async (dir: string, o: ImportSparkCliOptions) => {
      if (existsSync(o.out) && o.force !== true) throw invalidArgument(`${o.out} exists; add --force to replace it`)
      const t0 = performance.now()
      const ratings = o.ratings === undefined ? undefined : await ratingsFrom(o.ratings)
      const { model, report } = await importSpark(dir, {
        ...(ratings === undefined ? {} : { ratings }),
        ...(o.movies === undefined ? {} : { movies: o.movies }),
        ...(o.implicit === true ? { implicit: true } : {}),
        ...(o.regParam === undefined ? {} : { regParam: o.regParam }),
        ...(o.alpha === undefined ? {} : { alpha: o.alpha }),
      })
      if (existsSync(o.out) && o.force !== true) throw invalidArgument(`${o.out} exists; add --force to replace it`)
      await model.save(o.out)
      const seconds = (performance.now() - t0) / 1000
      const summary = { dir, out: o.out, kind: model.kind, factors: model.factors, ...report, seconds }
      if (o.json) return printJson(summary)
      console.log(`wrote ${o.out}: a '${model.kind}' model, k = ${model.factors}, from a rank-${report.rank} ${report.layout} Spark model (${report.partFiles} part files)`)
      console.log(`${thousands(report.users)} users, ${thousands(report.movies)} movies, ${thousands(report.ratings)} seen ratings${report.ratingsDropped > 0 ? ` (${thousands(report.ratingsDropped)} dropped: no vector for their user or movie)` : ''}; ${seconds.toFixed(2)} s`)
    })
}
