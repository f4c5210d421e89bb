// Optional APIs that parallel work adds to the library (ranking metrics, model files, the movie
// map, generic ratings files, more split kinds). Experiments use them when this build has them
// and say plainly when it does not, so one code path works before and after they land.
import * as api from '../index.js'
import type { Dataset } from '../dataset.js'
import { AlsrecError } from '../errors.js'
import type { Model } from '../model.js'

export interface RankingMetrics {
  k: number
  threshold: number
  users: number
  precision: number
  recall: number
  ndcg: number
  map: number
  hitRate: number
  coverage: number
}

export interface MovieMap {
  movieIds: Float64Array
  x: Float32Array
  y: Float32Array
}

interface ModelExtras {
  rankingMetrics?: (testSet: Dataset, options: { k?: number; threshold?: number }) => Promise<RankingMetrics>
  save?: (file: string) => Promise<void>
  movieMap?: () => MovieMap
}

interface DatasetExtras {
  folds?: (k: number, seed: number) => Array<{ train: Dataset; test: Dataset }>
}

export interface ColumnMapping {
  user: string | number
  movie: string | number
  rating: string | number
  timestamp?: string | number | undefined
  delimiter?: string | undefined
  header?: boolean | undefined
  movies?: string | undefined
}

type LoadRatings = (file: string, mapping: ColumnMapping) => Promise<Dataset>
type LoadModel = (file: string) => Promise<Model>

// Read at call time: the namespace is complete once index.ts has finished loading.
const exportsOf = (): Record<string, unknown> => api as unknown as Record<string, unknown>

export function notSupported(what: string): AlsrecError {
  return new AlsrecError('ALSREC_INVALID_ARGUMENT', `${what} is not supported in this build of alsrec`)
}

export async function rankingMetricsOf(model: Model, testSet: Dataset, options: { k: number; threshold: number }): Promise<RankingMetrics | null> {
  const fn = (model as Model & ModelExtras).rankingMetrics
  return typeof fn === 'function' ? fn.call(model, testSet, options) : null
}

export function canSave(model: Model): boolean {
  return typeof (model as Model & ModelExtras).save === 'function'
}

export async function saveModel(model: Model, file: string): Promise<boolean> {
  const fn = (model as Model & ModelExtras).save
  if (typeof fn !== 'function') return false
  await fn.call(model, file)
  return true
}

export function movieMapOf(model: Model): MovieMap | null {
  const fn = (model as Model & ModelExtras).movieMap
  return typeof fn === 'function' ? fn.call(model) : null
}

export function foldsOf(dataset: Dataset, k: number, seed: number): Array<{ train: Dataset; test: Dataset }> {
  const fn = (dataset as Dataset & DatasetExtras).folds
  if (typeof fn !== 'function') throw notSupported('k-fold cross-validation (split.folds)')
  return fn.call(dataset, k, seed)
}

export function loadRatingsFn(): LoadRatings | null {
  const fn = exportsOf().loadRatings
  return typeof fn === 'function' ? (fn as LoadRatings) : null
}

export function loadModelFn(): LoadModel | null {
  const fn = exportsOf().loadModel
  return typeof fn === 'function' ? (fn as LoadModel) : null
}
