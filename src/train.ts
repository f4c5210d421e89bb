import { Dataset } from './dataset.js'
import { call, callAsync, invalidArgument } from './errors.js'
import { Model } from './model.js'
import { native, type Native } from './native.js'
import { linkSignal } from './signal.js'
import { abortSignal, boolean, checkOptions, describe, func, instanceOf, int, nullable, oneOf, valuesOf, type Check, type ChecksOf } from './validate.js'

/** The model kinds (see `TrainConfig.model`). */
export type ModelKind = Native.ModelKind

/**
 * Training options (generated from the binding's `TrainConfig`). Defaults depend on `model`;
 * given keys override them. Unknown keys are rejected.
 */
export type TrainConfig = Native.TrainConfig

/** The ranker of an explicit model (generated from the binding's `RankerConfig`). */
export type RankerConfig = Native.RankerConfig

/** One record per epoch (generated from the binding's `EpochRecord`). */
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

/** @internal */
export const MODEL_KINDS = valuesOf<Native.ModelKind>({ bias: true, biased: true, genre: true, implicit: true, popular: true, toprated: true, bayesian: true })
/** @internal */
export const SOLVERS = valuesOf<Native.ImplicitSolver>({ cg: true, cholesky: true })
/** @internal */
export const HYPERPRIORS = valuesOf<Native.Hyperprior>({ wishart: true, gamma: true })

const ranker: Check = (value, name) => {
  if (value !== null && (typeof value !== 'object' || Array.isArray(value))) throw invalidArgument(`${name} must be an object, or null for no ranker (got ${describe(value)})`)
}

/**
 * The type of each key, so a wrong type names its key (the native layer would coerce it or
 * fail without naming it). Ranges are the core's: it knows each model's bounds. The table has
 * exactly the keys of the generated `TrainConfig`, and a test holds them to the core's list.
 * @internal
 */
export const TRAIN_CONFIG_CHECKS = {
  model: oneOf(...MODEL_KINDS),
  factors: count,
  lambda: number,
  tau: number,
  gamma: number,
  beta: number,
  alpha: number,
  epochs: count,
  seed,
  threads: nullable(count),
  initScale: number,
  tolerance: number,
  patience: nullable(count),
  weightedRegularization: boolean,
  solver: oneOf(...SOLVERS),
  cgSteps: count,
  ranker,
  recencyHalfLife: nullable(number),
  burnIn: count,
  hyperprior: oneOf(...HYPERPRIORS),
  genrePriors: boolean,
} satisfies ChecksOf<Native.TrainConfig>

/** @internal */
export const RANKER_CONFIG_CHECKS = {
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
} satisfies ChecksOf<Native.RankerConfig>

/** The core's lists of keys (the keys a model file stores), for the messages. */
const SCHEMA = native.trainConfigSchema()

function checkKeys(object: object, checks: Record<string, Check>, allowed: string[], prefix: string): void {
  for (const [key, value] of Object.entries(object)) {
    const check = checks[key]
    if (!check || !allowed.includes(key)) throw invalidArgument(`invalid training config: ${prefix ? `${prefix}: ` : ''}unknown field \`${key}\`; allowed keys: ${allowed.join(', ')}`)
    if (value === undefined) continue
    // Name the key of a non-finite number here (the core would see it as a float, not the key).
    if (typeof value === 'number' && !Number.isFinite(value)) throw invalidArgument(`${prefix ? `${prefix}.` : ''}${key} must be a finite number (got ${value})`)
    check(value, `${prefix ? `${prefix}.` : ''}${key}`)
  }
}

/** The config as the native layer takes it: keys known, values of the right type. */
function checkConfig(config: TrainConfig): TrainConfig {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw invalidArgument(`config must be an object (got ${describe(config)})`)
  checkKeys(config, TRAIN_CONFIG_CHECKS, SCHEMA.keys, '')
  if (config.ranker !== undefined && config.ranker !== null) checkKeys(config.ranker, RANKER_CONFIG_CHECKS, SCHEMA.rankerKeys, 'ranker')
  return config
}

/** Trains a model off the JavaScript thread; the event loop keeps running. */
export async function train(trainSet: Dataset, config: TrainConfig = {}, options: TrainOptions = {}): Promise<Model> {
  const checked = checkConfig(config)
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
      handle = await callAsync(() => native.train(trainSet.handle, options.testSet?.handle, checked, onEpoch, token, options.initialModel?.handle))
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
  const checked = checkConfig(config)
  checkTrainArguments('trainSync', trainSet, config, options, TRAIN_SYNC_CHECKS)
  const handle = call(() => native.trainSync(trainSet.handle, options.testSet?.handle, checked, options.onEpoch ?? null, options.initialModel?.handle))
  return new Model(handle, trainSet.catalog)
}
