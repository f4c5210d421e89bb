// Turns the config's data and split sections into datasets.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'

import { loadMovieLens, loadRatings, type Dataset, type LoadOptions, type SplitOptions } from '../dataset.js'
import { defaultCacheDir } from '../download.js'
import { invalidArgument } from '../errors.js'
import { generate } from '../generate.js'
import type { DataSection, SplitSection } from './config.js'

export interface LoadedData {
  dataset: Dataset
  /** Human description for logs and plot subtitles. */
  description: string
  /** Folder the ratings came from (generated sets: where they were written). */
  source: string
  /** Synthetic data only: the best test RMSE any model can reach. */
  noiseFloorRmse: number | null
}

function readNoiseFloor(dir: string): number | null {
  try {
    const truth = JSON.parse(readFileSync(path.join(dir, 'truth.json'), 'utf8')) as { noiseFloorRmse?: number }
    return typeof truth.noiseFloorRmse === 'number' ? truth.noiseFloorRmse : null
  } catch {
    return null
  }
}

/** The loader options of a data section (every key of the API's LoadOptions). */
export function loadOptions(data: DataSection): LoadOptions {
  const o: LoadOptions = { onBadRow: data.onBadRow ?? 'error' }
  if (data.ratingScale !== undefined) o.ratingScale = data.ratingScale
  if (data.minUserRatings !== undefined) o.minUserRatings = data.minUserRatings
  if (data.minMovieRatings !== undefined) o.minMovieRatings = data.minMovieRatings
  if (data.catalogOnly !== undefined) o.catalogOnly = data.catalogOnly
  if (data.threads !== undefined) o.threads = data.threads
  return o
}

export async function loadData(data: DataSection, signal?: AbortSignal): Promise<LoadedData> {
  const options = loadOptions(data)
  if (data.movielens !== undefined) {
    const dataset = await loadMovieLens(data.movielens, options)
    return { dataset, description: path.basename(data.movielens), source: data.movielens, noiseFloorRmse: readNoiseFloor(data.movielens) }
  }
  if (data.generate !== undefined) {
    const { dir, ...generateOptions } = data.generate
    // Same options → same set (the generator is seeded), so a cache entry can be reused. The
    // cache is the one downloads use (defaultCacheDir: one rule for both).
    const key = createHash('sha256').update(JSON.stringify(generateOptions)).digest('hex').slice(0, 16)
    const target = dir ?? path.join(defaultCacheDir(), 'generated', key)
    if (!existsSync(path.join(target, 'truth.json'))) await generate(target, generateOptions, signal)
    const dataset = await loadMovieLens(target, options)
    const description = `synthetic ${generateOptions.users} users × ${generateOptions.movies} movies, ${generateOptions.ratings} ratings (seed ${generateOptions.seed})`
    return { dataset, description, source: target, noiseFloorRmse: readNoiseFloor(target) }
  }
  if (data.ratings !== undefined) {
    const { file, columns, delimiter, header } = data.ratings
    const mapping = {
      user: columns.user,
      movie: columns.movie,
      rating: columns.rating,
      ...(columns.timestamp !== undefined ? { timestamp: columns.timestamp } : {}),
      ...(delimiter !== undefined ? { delimiter } : {}),
      ...(header !== undefined ? { header } : {}),
    }
    const dataset = await loadRatings(file, mapping, options)
    return { dataset, description: path.basename(file), source: file, noiseFloorRmse: null }
  }
  throw invalidArgument('data: give one of "movielens", "generate" or "ratings"')
}

export interface SplitPart {
  train: Dataset
  test: Dataset
  /** 1-based fold number under k-fold, else null. */
  fold: number | null
}

export function describeSplit(split: SplitSection): string {
  const cold = split.coldStart === 'drop' ? '; cold-start test ratings dropped' : ''
  if (split.folds !== undefined) return `${split.folds}-fold cross-validation (seed ${split.seed}${cold})`
  const minRatings = split.minRatings !== undefined && split.kind !== 'random' ? `; users with fewer than ${split.minRatings} ratings stay in train` : ''
  if (split.kind === 'temporal' && split.cutoff !== undefined) return `temporal split at ${new Date(split.cutoff * 1000).toISOString().replace('.000Z', 'Z')} (ratings from then on are test ratings${minRatings}${cold})`
  const pct = Math.round(split.testFraction * 100)
  const kind = split.kind === 'user' ? 'per-user' : split.kind
  return `${kind} ${100 - pct}/${pct} split (seed ${split.seed}${minRatings}${cold})`
}

/** The API's split options of a split section (every key of SplitOptions). */
export function splitOptions(split: SplitSection): SplitOptions {
  const o: SplitOptions = { kind: split.kind, testFraction: split.testFraction, seed: split.seed }
  if (split.minRatings !== undefined) o.minRatings = split.minRatings
  if (split.cutoff !== undefined) o.cutoff = split.cutoff
  if (split.coldStart !== undefined) o.coldStart = split.coldStart
  return o
}

/** The train/test parts: one for a plain split, k under k-fold. */
export function splitData(dataset: Dataset, split: SplitSection): SplitPart[] {
  if (split.folds !== undefined) return dataset.folds(split.folds, split.seed, split.coldStart !== undefined ? { coldStart: split.coldStart } : {}).map((p, i) => ({ ...p, fold: i + 1 }))
  return [{ ...dataset.split(splitOptions(split)), fold: null }]
}

/** Every rating of a dataset as parallel arrays (userIds[j], movieIds[j], ratings[j]), in the set's row order. */
export interface RatingArrays {
  userIds: Float64Array
  movieIds: Float64Array
  ratings: Float32Array
}

export function ratingArrays(dataset: Dataset): RatingArrays {
  return dataset.ratingTriplets()
}

/** Ratings per movie: for choosing which titles a movie map labels, and genre counts (alsrec info). */
export function moviePopularity(dataset: Dataset): Map<number, number> {
  const counts = new Map<number, number>()
  for (const movieId of dataset.ratingTriplets().movieIds) counts.set(movieId, (counts.get(movieId) ?? 0) + 1)
  return counts
}
