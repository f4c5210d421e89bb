import { Option, type Command } from 'commander'

import { writeParquet } from '../../interop.js'
import { samplePath } from '../../paths.js'
import { printJson, thousands } from '../shared/output.js'
import { ratingsFrom } from '../shared/ratings-source.js'

interface ExportDataOptions {
  data: string
  format: 'parquet'
  out: string
  force?: boolean
  json?: boolean
}

export function registerExportData(program: Command): void {
  program
    .command('export-data')
    .description('write a dataset as Parquet (ratings.parquet and movies.parquet) for Spark, DuckDB or Polars')
    .option('--data <dir|file>', 'a MovieLens folder or a ratings file', samplePath)
    .addOption(new Option('--format <format>', 'the file format').choices(['parquet']).default('parquet'))
    .requiredOption('--out <dir>', 'the folder to write into (created if needed); its files are never replaced without --force')
    .option('--force', 'replace existing ratings.parquet / movies.parquet')
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', '\nExamples:\n  $ alsrec export-data --data ml-25m --out ml-25m-parquet\n  $ duckdb -c "select avg(rating) from \'ml-25m-parquet/ratings.parquet\'"')
    .action(async (o: ExportDataOptions) => {
      const data = await ratingsFrom(o.data)
      const result = await writeParquet(data, o.out, { force: o.force === true })
      const summary = { out: o.out, format: o.format, ratings: data.numRatings, movies: data.catalog.size, ...result }
      if (o.json) return printJson(summary)
      console.log(`wrote ${result.files.join(', ')} in ${o.out}: ${thousands(data.numRatings)} ratings in ${result.seconds.toFixed(2)} s`)
    })
}
