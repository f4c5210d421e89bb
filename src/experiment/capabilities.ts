// The model and data operations an experiment uses, in the shapes the runner wants.
import type { Dataset } from '../dataset.js'
import { loadRatings } from '../dataset.js'
import { AlsrecError } from '../errors.js'
import type { Model, MovieMap, RankingMetrics } from '../model.js'

export type { MovieMap, RankingMetrics }

/** The column mapping of a generic ratings file, as the experiment config names it. */
export interface ColumnMapping {
  user: string | number
  movie: string | number
  rating: string | number
  timestamp?: string | number | undefined
  delimiter?: string | undefined
  header?: boolean | undefined
}

export function notSupported(what: string): AlsrecError {
  return new AlsrecError('ALSREC_INVALID_ARGUMENT', `${what} is not supported by alsrec`)
}

export async function rankingMetricsOf(model: Model, testSet: Dataset, options: { k: number; threshold: number }): Promise<RankingMetrics | null> {
  // Implicit models rank by preference; ranking metrics apply to every model kind.
  return model.rankingMetrics(testSet, options)
}

export async function saveModel(model: Model, file: string): Promise<boolean> {
  await model.save(file)
  return true
}

export function movieMapOf(model: Model): MovieMap | null {
  return model.factors > 0 ? model.movieMap() : null
}

export function foldsOf(dataset: Dataset, k: number, seed: number): Array<{ train: Dataset; test: Dataset }> {
  return dataset.folds(k, seed)
}

export function loadRatingsFn(): (file: string, mapping: ColumnMapping) => Promise<Dataset> {
  return (file, m) =>
    loadRatings(file, {
      user: m.user,
      item: m.movie,
      rating: m.rating,
      ...(m.timestamp !== undefined ? { timestamp: m.timestamp } : {}),
      ...(m.delimiter !== undefined ? { delimiter: m.delimiter } : {}),
      ...(m.header !== undefined ? { header: m.header } : {}),
    })
}
