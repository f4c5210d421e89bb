import type { Catalog, Movie } from './catalog.js'
import { call, invalidArgument } from './errors.js'
import type { Native } from './native.js'
import type { EpochRecord, TrainConfig } from './train.js'

export interface Recommendation extends Movie {
  /** The predicted rating. */
  score: number
}

export interface RecommendOptions {
  /** How many movies (default 10). */
  n?: number
  /** Leave out movies the user rated in training (default true). */
  excludeSeen?: boolean
}

/** A trained model and the catalog its movie ids refer to. */
export class Model {
  /** @internal */
  readonly handle: Native.Model
  readonly catalog: Catalog

  /** @internal */
  constructor(handle: Native.Model, catalog: Catalog) {
    this.handle = handle
    this.catalog = catalog
  }

  get kind(): string {
    return this.handle.kind
  }
  get factors(): number {
    return this.handle.factors
  }
  get globalMean(): number {
    return this.handle.globalMean
  }
  get config(): Required<Omit<TrainConfig, 'threads' | 'patience'>> & Pick<TrainConfig, 'threads' | 'patience'> {
    return JSON.parse(this.handle.configJson) as Required<Omit<TrainConfig, 'threads' | 'patience'>> & Pick<TrainConfig, 'threads' | 'patience'>
  }
  /** One record per epoch trained. */
  get history(): EpochRecord[] {
    return this.handle.history
  }

  /** The top-N movies for a known user, best first, with titles. */
  recommend(userId: number, options: RecommendOptions = {}): Recommendation[] {
    const n = options.n ?? 10
    if (!Number.isInteger(n) || n < 1) throw invalidArgument(`n must be a whole number ≥ 1 (got ${n})`)
    const r = call(() => this.handle.recommend(userId, { n, excludeSeen: options.excludeSeen ?? true }))
    return Array.from(r.movieIds, (id, i) => ({ ...this.catalog.describe(id), score: r.scores[i] ?? Number.NaN }))
  }

  /** The predicted rating of a user for a movie. */
  predict(userId: number, movieId: number): number {
    return call(() => this.handle.predict(userId, movieId))
  }
}
