import type { Dataset } from './dataset.js'
import { call, callAsync, invalidArgument } from './errors.js'
import { Model } from './model.js'
import { native, type Native } from './native.js'
import { linkSignal } from './signal.js'

export type ModelKind = 'bias' | 'biased' | 'genre' | 'implicit' | 'popular' | 'toprated'

/**
 * Training options. Defaults depend on `model` (the best settings of `scripts/tune-als.mjs` on
 * ml-latest-small); given keys override them. Unknown keys are rejected.
 */
export interface TrainConfig {
  /**
   * 'genre' (default: biases + vectors drawn toward their genres), 'biased' (μ + b + c + u·v),
   * 'bias' (μ + b + c), 'implicit' (Hu–Koren–Volinsky), and two non-personalized baselines:
   * 'popular' (most rated; predicts no ratings) and 'toprated' (damped mean rating, with γ/λ the
   * number of prior ratings at μ; default 10).
   */
  model?: ModelKind
  /** k, the length of the latent vectors (1–1024). */
  factors?: number
  /** λ, weight of the data term. */
  lambda?: number
  /** τ, regularization of the latent vectors. */
  tau?: number
  /** γ, regularization of the biases. */
  gamma?: number
  /** β, regularization of the genre vectors (genre model). */
  beta?: number
  /** α, confidence slope (implicit model). */
  alpha?: number
  epochs?: number
  seed?: number
  /** Worker threads; all cores by default. */
  threads?: number
  initScale?: number
  /** Stop when the loss improves by less than this fraction in an epoch (0 disables). */
  tolerance?: number
  /** With a test set: stop after this many epochs without a better test RMSE and keep the best. */
  patience?: number
  /** ALS-WR (as in Spark): scale each user's and movie's τ and γ by its number of ratings. */
  weightedRegularization?: boolean
  /** Implicit model: 'cg' (a few conjugate-gradient steps from the previous vector) or 'cholesky' (exact). */
  solver?: 'cg' | 'cholesky'
  /** Implicit model with the CG solver: steps per row and half-step (1–256, default 3). */
  cgSteps?: number
  /** 'popular' only: weigh each rating 2^(−age/h), h in days counted back from the newest training rating, so the list is what is popular lately (needs timestamps; absent: every rating counts 1). */
  recencyHalfLife?: number
  /**
   * 'biased' and 'genre' models: the implicit model trained beside them that ranks their lists
   * (on by default; `null` ranks by the predicted rating). Given keys override the defaults.
   * See docs/ranking.md.
   */
  ranker?: RankerConfig | null
}

/** The ranker of an explicit model: s(u, i) = s_u·x_u·y_i + w_u·(r̂ − μ − b_u) − d·ln(1 + n_i) (docs/ranking.md). */
export interface RankerConfig {
  /** k of the ranker's vectors (default 128). */
  factors?: number
  /** τ of the ranker (default 30). */
  tau?: number
  /** α of the ranker's confidence 1 + α·r (default 1). */
  alpha?: number
  /** Epochs of the ranker (default 15). */
  epochs?: number
  /** CG steps per row and half-step (default 3). */
  cgSteps?: number
  /** w: weight of the predicted rating in the ranking (default 0.1). */
  ratingWeight?: number
  /** n₀: a user with n ratings weighs the predicted rating w·n/(n + n₀) (default 10). */
  ratingSupport?: number
  /** d: penalty per unit of ln(1 + ratings of the movie); the starting value when it is learned. */
  popularityPenalty?: number
  /** Choose d on a 10 % validation split of the training ratings (default true); the trained model's config holds the chosen d. */
  learnPopularityPenalty?: boolean
  /** b: added to the score of films sharing a title series with a film the user rated at or above their mean (docs/ranking.md); the starting value when it is learned (default 0.1). */
  seriesBonus?: number
  /** Choose b on the same validation split as d (default true); the trained model's config holds the chosen b. */
  learnSeriesBonus?: boolean
}

/**
 * One record per epoch. Explicit models: RMSE and MAE of the predicted ratings, and the loss L
 * of the guide. Implicit model: RMSE and MAE of the predicted preference x·y against 1 on the
 * rated pairs (of the training or test set), and the confidence-weighted loss over all pairs.
 * `seconds` is the time of the block updates (metrics excluded).
 */
export type EpochRecord = Native.EpochRecord

export interface TrainOptions {
  /** Evaluated after every epoch (RMSE/MAE in the history). */
  testSet?: Dataset
  /** Called after every epoch, without blocking the training threads. */
  onEpoch?: (record: EpochRecord) => void
  signal?: AbortSignal
  /**
   * Warm start: begin from this model's parameters (same model kind and factors), matched by
   * user and movie ids, e.g. to train more epochs or to refit after new ratings arrive.
   */
  initialModel?: Model
}

function configJson(config: TrainConfig): string {
  if (config === null || typeof config !== 'object') throw invalidArgument('config must be an object')
  // JSON turns NaN and ±Infinity into null: name the key here instead.
  const check = (object: object, prefix: string): void => {
    for (const [key, value] of Object.entries(object)) {
      if (typeof value === 'number' && !Number.isFinite(value)) throw invalidArgument(`${prefix}${key} must be a finite number (got ${value})`)
      if (key === 'ranker' && value !== null && typeof value === 'object') check(value as object, 'ranker.')
    }
  }
  check(config, '')
  return JSON.stringify(config)
}

/** Trains a model off the JavaScript thread; the event loop keeps running. */
export async function train(trainSet: Dataset, config: TrainConfig = {}, options: TrainOptions = {}): Promise<Model> {
  const json = configJson(config)
  const { token, done } = linkSignal(options.signal)
  // Progress arrives through a non-blocking queue, so the last records can land after the
  // promise settles (or be dropped when the event loop is busy). Deliver epochs in order, never
  // twice, and always through the last one before `train` resolves.
  const listener = options.onEpoch
  let delivered = 0
  const onEpoch = listener
    ? (record: EpochRecord): void => {
        if (record.epoch <= delivered) return
        delivered = record.epoch
        listener(record)
      }
    : null
  try {
    const handle = await callAsync(() =>
      native.train(trainSet.handle, options.testSet?.handle, json, onEpoch, token, options.initialModel?.handle),
    )
    const model = new Model(handle, trainSet.catalog)
    if (onEpoch) for (const record of model.history) onEpoch(record)
    return model
  } finally {
    done()
  }
}

/** Trains on the calling thread (blocks it); `onEpoch` is called once training ends. */
export function trainSync(trainSet: Dataset, config: TrainConfig = {}, options: Omit<TrainOptions, 'signal'> = {}): Model {
  const json = configJson(config)
  const handle = call(() =>
    native.trainSync(trainSet.handle, options.testSet?.handle, json, options.onEpoch ?? null, options.initialModel?.handle),
  )
  return new Model(handle, trainSet.catalog)
}
