import { Dataset } from './dataset.js'
import { call, callAsync, invalidArgument } from './errors.js'
import { Model } from './model.js'
import { native, type Native } from './native.js'
import { linkSignal } from './signal.js'
import { abortSignal, boolean, checkOptions, describe, func, instanceOf, int, string, type Check } from './validate.js'

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
  /** Stop after this many epochs without a better test RMSE and keep the best; needs `testSet` (an error without one). */
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

/** Unknown keys and values of the wrong type are rejected. */
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

const datasetCheck = instanceOf(Dataset)
const TRAIN_SYNC_CHECKS = { testSet: datasetCheck, onEpoch: func, initialModel: instanceOf(Model) } satisfies Record<string, Check>
const TRAIN_CHECKS: Record<string, Check> = { ...TRAIN_SYNC_CHECKS, signal: abortSignal }

/** The checks both twins make before any work; the config's own keys and ranges are checked by the core. */
function checkTrainArguments(what: string, trainSet: Dataset, config: TrainConfig, options: Omit<TrainOptions, 'signal'>, checks: Record<string, Check>): void {
  datasetCheck(trainSet, 'trainSet')
  checkOptions(`${what} options`, options, checks)
  const patience = (config as { patience?: unknown } | null)?.patience
  if (patience !== undefined && patience !== null && options.testSet === undefined)
    throw invalidArgument('patience needs a test set: it stops training once the test RMSE has not improved for that many epochs; pass options.testSet, or drop patience (tolerance stops on the training loss instead)')
}

/** A count the core bounds itself: 0 goes through so its message gives the allowed range. */
const count: Check = (value, name) => {
  if (value !== 0) int(1)(value, name)
}
const number: Check = (value, name) => {
  if (typeof value !== 'number') throw invalidArgument(`${name} must be a number (got ${describe(value)})`)
}
const seed = int(0, Number.MAX_SAFE_INTEGER)

// Types of the known keys, so a wrong type names its key (serde's message would not). Unknown
// keys and ranges are the core's: it lists the allowed keys and knows each model's bounds.
const CONFIG_TYPES: Record<string, Check> = {
  model: string,
  factors: count,
  lambda: number,
  tau: number,
  gamma: number,
  beta: number,
  alpha: number,
  epochs: count,
  seed,
  threads: count,
  initScale: number,
  tolerance: number,
  patience: count,
  weightedRegularization: boolean,
  solver: string,
  cgSteps: count,
  recencyHalfLife: number,
}
const RANKER_TYPES: Record<string, Check> = {
  factors: count,
  tau: number,
  alpha: number,
  epochs: count,
  cgSteps: count,
  ratingWeight: number,
  ratingSupport: number,
  popularityPenalty: number,
  learnPopularityPenalty: boolean,
  seriesBonus: number,
  learnSeriesBonus: boolean,
}

function checkTypes(object: object, types: Record<string, Check>, prefix: string): void {
  for (const [key, value] of Object.entries(object)) {
    // JSON turns NaN and ±Infinity into null: name the key here instead.
    if (typeof value === 'number' && !Number.isFinite(value)) throw invalidArgument(`${prefix}${key} must be a finite number (got ${value})`)
    if (value === undefined || value === null) continue
    types[key]?.(value, `${prefix}${key}`)
  }
}

function configJson(config: TrainConfig): string {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw invalidArgument(`config must be an object (got ${describe(config)})`)
  checkTypes(config, CONFIG_TYPES, '')
  const ranker: unknown = config.ranker
  if (ranker !== undefined && ranker !== null) {
    if (typeof ranker !== 'object' || Array.isArray(ranker)) throw invalidArgument(`ranker must be an object, or null for no ranker (got ${describe(ranker)})`)
    checkTypes(ranker, RANKER_TYPES, 'ranker.')
  }
  return JSON.stringify(config)
}

/** Trains a model off the JavaScript thread; the event loop keeps running. */
export async function train(trainSet: Dataset, config: TrainConfig = {}, options: TrainOptions = {}): Promise<Model> {
  const json = configJson(config)
  checkTrainArguments('train', trainSet, config, options, TRAIN_CHECKS)
  const { token, done } = linkSignal(options.signal)
  // Progress arrives through a non-blocking queue, so the last records can land after the
  // promise settles (or be dropped when the event loop is busy). Deliver epochs in order, never
  // twice, and always through the last one before `train` resolves.
  // A listener that throws stops training, and `train` rejects with its error: an exception
  // thrown on the event loop from a native callback would otherwise end the process.
  const listener = options.onEpoch
  let delivered = 0
  let failure: { error: unknown } | null = null
  const onEpoch = listener
    ? (record: EpochRecord): void => {
        if (failure || record.epoch <= delivered) return
        delivered = record.epoch
        try {
          listener(record)
        } catch (error) {
          failure = { error }
          token.cancel()
        }
      }
    : null
  try {
    let handle: Native.Model
    try {
      handle = await callAsync(() =>
        native.train(trainSet.handle, options.testSet?.handle, json, onEpoch, token, options.initialModel?.handle),
      )
    } catch (err) {
      throw failure ? (failure as { error: unknown }).error : err
    }
    const model = new Model(handle, trainSet.catalog)
    if (onEpoch) for (const record of model.history) onEpoch(record)
    if (failure) throw (failure as { error: unknown }).error
    return model
  } finally {
    done()
  }
}

/** Trains on the calling thread (blocks it); `onEpoch` is called once training ends. */
export function trainSync(trainSet: Dataset, config: TrainConfig = {}, options: Omit<TrainOptions, 'signal'> = {}): Model {
  const json = configJson(config)
  checkTrainArguments('trainSync', trainSet, config, options, TRAIN_SYNC_CHECKS)
  const handle = call(() =>
    native.trainSync(trainSet.handle, options.testSet?.handle, json, options.onEpoch ?? null, options.initialModel?.handle),
  )
  return new Model(handle, trainSet.catalog)
}
