// Spark interop (docs/spark.md): Spark MLlib `ALSModel` folders in, datasets out as Parquet.
// The export of a model is `model.exportSpark(dir)`.
import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'

import { Dataset } from './dataset.js'
import { callAsync, invalidArgument } from './errors.js'
import { Model } from './model.js'
import { native, type Native } from './native.js'
import { boolean, checkOptions, checkPath, finite, instanceOf } from './validate.js'

export type SparkExport = Native.SparkExport
export type SparkImportReport = Native.SparkImportReport

export interface ImportSparkOptions {
  /** The training ratings: they mark seen movies (recommendations leave them out) and feed explanations and `partialFit`. */
  ratings?: Dataset
  /** A catalog file (movies.csv, movies.dat, u.item) for titles and genres; the ratings' catalog when absent. */
  movies?: string
  /** A folder Spark wrote (no alsrec.json) holds an implicit model: Spark's `implicitPrefs`, which its metadata does not record. */
  implicit?: boolean
  /** Spark's `regParam` of a folder Spark wrote: a folded-in row is regularized by regParam · its number of ratings, as Spark trains (default 0.1). */
  regParam?: number
  /** Spark's `alpha` of an implicit folder Spark wrote (default 1). */
  alpha?: number
}

/**
 * Reads a Spark `ALSModel` folder (metadata/, userFactors/ and itemFactors/ with any number of
 * part files) into a model on which every query works. A folder alsrec wrote (its alsrec.json)
 * comes back as the model it was, biases included.
 */
export async function importSpark(dir: string, options: ImportSparkOptions = {}): Promise<{ model: Model; report: SparkImportReport }> {
  checkPath('dir', dir)
  checkOptions('importSpark options', options, { ratings: instanceOf(Dataset), movies: (v, n) => checkPath(n, v), implicit: boolean, regParam: finite(0), alpha: finite(0) })
  const { ratings, ...rest } = options
  const imported = await callAsync(() => native.importSpark(dir, ratings?.handle, rest))
  return { model: new Model(imported.takeModel()), report: imported.report }
}

export interface ParquetExport {
  /** The files written, in `dir`. */
  files: string[]
  seconds: number
}

/**
 * Writes the ratings (`ratings.parquet`: userId, movieId, rating, timestamp when known) and,
 * when the dataset has one, the catalog (`movies.parquet`: movieId, title, genres) into `dir`
 * (created if needed), snappy-compressed, for Spark, DuckDB or Polars. An existing file is
 * replaced only with `force`.
 */
export async function writeParquet(data: Dataset, dir: string, options: { force?: boolean } = {}): Promise<ParquetExport> {
  instanceOf(Dataset)(data, 'data')
  checkPath('dir', dir)
  checkOptions('writeParquet options', options, { force: boolean })
  const files = ['ratings.parquet', ...(data.catalog.size > 0 ? ['movies.parquet'] : [])]
  for (const f of files) {
    if (existsSync(path.join(dir, f)) && options.force !== true) throw invalidArgument(`${path.join(dir, f)} exists; add --force (force: true) to replace it`)
  }
  const start = performance.now()
  mkdirSync(dir, { recursive: true })
  await callAsync(() => native.writeRatingsParquet(data.handle, path.join(dir, 'ratings.parquet')))
  if (files.length > 1) await callAsync(() => native.writeCatalogParquet(data.handle, path.join(dir, 'movies.parquet')))
  return { files, seconds: (performance.now() - start) / 1000 }
}
