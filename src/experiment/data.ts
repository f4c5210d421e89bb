// Turns the config's data and split sections into datasets.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { loadMovieLens, type Dataset, type SplitOptions } from '../dataset.js'
import { generate } from '../generate.js'
import { foldsOf, loadRatingsFn, notSupported } from './capabilities.js'
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

/** `$XDG_CACHE_HOME/alsrec` (or ~/.cache/alsrec). */
export function cacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'alsrec')
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
    // Same options → same set (the generator is seeded), so a cache entry can be reused.
    const key = createHash('sha256').update(JSON.stringify(options)).digest('hex').slice(0, 16)
    const target = dir ?? path.join(cacheDir(), 'generated', key)
    if (!existsSync(path.join(target, 'truth.json'))) await generate(target, options, signal)
    const dataset = await loadMovieLens(target, { onBadRow })
    const description = `synthetic ${options.users} users × ${options.movies} movies, ${options.ratings} ratings (seed ${options.seed})`
    return { dataset, description, source: target, noiseFloorRmse: readNoiseFloor(target) }
  }
  if (data.ratings !== undefined) {
    const loadRatings = loadRatingsFn()
    if (!loadRatings) throw notSupported('a generic ratings file (data.ratings)')
    const { file, columns, ...rest } = data.ratings
    const dataset = await loadRatings(file, { ...columns, ...rest })
    return { dataset, description: path.basename(file), source: file, noiseFloorRmse: null }
  }
  throw notSupported('this data section')
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
  if (split.folds !== undefined) return foldsOf(dataset, split.folds, split.seed).map((p, i) => ({ ...p, fold: i + 1 }))
  // Split kinds beyond 'random' are passed through; the dataset decides what it supports.
  const options = { kind: split.kind, testFraction: split.testFraction, seed: split.seed } as unknown as SplitOptions
  return [{ ...dataset.split(options), fold: null }]
}

/** Ratings per movie, for choosing which titles a movie map labels. */
export function moviePopularity(dataset: Dataset): Map<number, number> {
  const counts = new Map<number, number>()
  for (const userId of dataset.userIds()) for (const movieId of dataset.userRatings(userId).movieIds) counts.set(movieId, (counts.get(movieId) ?? 0) + 1)
  return counts
}
