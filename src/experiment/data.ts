// Turns the config's data and split sections into datasets.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'

import { loadMovieLens, loadRatings, type Dataset, type SplitOptions } from '../dataset.js'
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

export async function loadData(data: DataSection, signal?: AbortSignal): Promise<LoadedData> {
  const onBadRow = data.onBadRow ?? 'error'
  if (data.movielens !== undefined) {
    const dataset = await loadMovieLens(data.movielens, { onBadRow })
    return { dataset, description: path.basename(data.movielens), source: data.movielens, noiseFloorRmse: readNoiseFloor(data.movielens) }
  }
  if (data.generate !== undefined) {
    const { dir, ...options } = data.generate
    // Same options → same set (the generator is seeded), so a cache entry can be reused. The
    // cache is the one downloads use (defaultCacheDir: one rule for both).
    const key = createHash('sha256').update(JSON.stringify(options)).digest('hex').slice(0, 16)
    const target = dir ?? path.join(defaultCacheDir(), 'generated', key)
    if (!existsSync(path.join(target, 'truth.json'))) await generate(target, options, signal)
    const dataset = await loadMovieLens(target, { onBadRow })
    const description = `synthetic ${options.users} users × ${options.movies} movies, ${options.ratings} ratings (seed ${options.seed})`
    return { dataset, description, source: target, noiseFloorRmse: readNoiseFloor(target) }
  }
  if (data.ratings !== undefined) {
    const { file, columns, delimiter, header } = data.ratings
    // The config names the movie column `movie`; the loader's ColumnMapping still calls it `item`.
    const mapping = {
      user: columns.user,
      item: columns.movie,
      rating: columns.rating,
      ...(columns.timestamp !== undefined ? { timestamp: columns.timestamp } : {}),
      ...(delimiter !== undefined ? { delimiter } : {}),
      ...(header !== undefined ? { header } : {}),
    }
    const dataset = await loadRatings(file, mapping, { onBadRow })
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
  if (split.folds !== undefined) return `${split.folds}-fold cross-validation (seed ${split.seed})`
  const pct = Math.round(split.testFraction * 100)
  return `${split.kind} ${100 - pct}/${pct} split (seed ${split.seed})`
}

/** The train/test parts: one for a plain split, k under k-fold. */
export function splitData(dataset: Dataset, split: SplitSection): SplitPart[] {
  if (split.folds !== undefined) return dataset.folds(split.folds, split.seed).map((p, i) => ({ ...p, fold: i + 1 }))
  const options: SplitOptions = { kind: split.kind, testFraction: split.testFraction, seed: split.seed }
  return [{ ...dataset.split(options), fold: null }]
}

// The ratings of a dataset as flat arrays. The binding has no accessor for them yet, so they are
// read one user at a time (one native call per user, never one per rating); a native
// `Dataset.ratingTriplets()` would replace `userRows` with a single call.
function* userRows(dataset: Dataset): Generator<{ userId: number; movieIds: Float64Array; ratings: Float32Array }> {
  for (const userId of dataset.userIds()) {
    const { movieIds, ratings } = dataset.userRatings(userId)
    if (movieIds.length > 0) yield { userId, movieIds, ratings }
  }
}

/** Every rating of a dataset as parallel arrays (userIds[j], movieIds[j], ratings[j]), user by user. */
export interface RatingArrays {
  userIds: Float64Array
  movieIds: Float64Array
  ratings: Float32Array
}

export function ratingArrays(dataset: Dataset): RatingArrays {
  const rows = [...userRows(dataset)]
  const total = rows.reduce((n, r) => n + r.movieIds.length, 0)
  const out: RatingArrays = { userIds: new Float64Array(total), movieIds: new Float64Array(total), ratings: new Float32Array(total) }
  let at = 0
  for (const r of rows) {
    out.userIds.fill(r.userId, at, at + r.movieIds.length)
    out.movieIds.set(r.movieIds, at)
    out.ratings.set(r.ratings, at)
    at += r.movieIds.length
  }
  return out
}

/** Ratings per movie: for choosing which titles a movie map labels, and genre counts (alsrec info). */
export function moviePopularity(dataset: Dataset): Map<number, number> {
  const counts = new Map<number, number>()
  for (const { movieIds } of userRows(dataset)) for (const movieId of movieIds) counts.set(movieId, (counts.get(movieId) ?? 0) + 1)
  return counts
}
