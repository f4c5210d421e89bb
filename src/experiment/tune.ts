// tune(): hyperparameters that fit the data, for the MAP models. Successive halving (Jamieson &
// Talwalkar 2016, the inner loop of Hyperband): `trials` configurations drawn log-uniformly
// (the defaults among them) train a few epochs each on an inner split of the *training* data;
// the best third trains on, warm-started, for three times the epochs, and so on until the
// survivors have trained the full epochs. The score is the validation RMSE (NDCG@10 for the
// implicit model, which predicts no ratings). The test set is never seen.
import { abortError, invalidArgument } from '../errors.js'
import type { Dataset } from '../dataset.js'
import type { Model } from '../model.js'
import { native } from '../native.js'
import { train, type TrainConfig } from '../train.js'

/** A hyperparameter's search range: [low, high] sampled log-uniformly, or a list to pick from. */
export type TuneRange = readonly [number, number] | readonly number[]

export interface TuneOptions {
  /** Configurations sampled (default 27, the defaults included). */
  trials?: number
  /** Keep the best 1/eta at each rung and train them eta times longer (default 3). */
  eta?: number
  /** Wall-clock budget in seconds: no new training starts past it (default: none). */
  seconds?: number
  /** Seed of the sampling and of the inner validation split (default 42). */
  seed?: number
  /** The share of the training ratings held out for validation (default 0.1). */
  validationFraction?: number
  /** Search ranges over the defaults' (see TUNE_SPACE). */
  space?: Partial<Record<TunedKey, TuneRange>>
  signal?: AbortSignal
  onTrial?: (trial: TuneTrial) => void
}

export type TunedKey = 'factors' | 'tau' | 'gamma' | 'beta' | 'alpha'

export interface TuneTrial {
  /** 0-based index of the configuration (0 is the model's defaults). */
  id: number
  rung: number
  epochs: number
  config: TrainConfig
  /** Validation RMSE (lower is better) or NDCG@10 (higher is better). */
  score: number
  seconds: number
}

export interface TuneResult {
  /** The best configuration: the given config with the tuned keys replaced. */
  best: TrainConfig
  metric: 'rmse' | 'ndcg@10'
  bestScore: number
  /** The defaults' validation score at the full epochs (null when the seconds ran out first). */
  defaultScore: number | null
  trials: TuneTrial[]
  trainings: number
  seconds: number
  validation: { trainRatings: number; validationRatings: number; fraction: number; seed: number }
  /** Why the search ended early, if it did. */
  stoppedBy: 'seconds' | null
}

/** The ranges searched by model kind; λ stays 1 (only the ratios τ/λ, γ/λ matter). */
export const TUNE_SPACE: Record<string, Partial<Record<TunedKey, TuneRange>>> = {
  bias: { gamma: [0.1, 50] },
  biased: { factors: [16, 32, 64], tau: [1, 100], gamma: [0.2, 50] },
  genre: { factors: [16, 32, 64], tau: [1, 100], gamma: [0.2, 50], beta: [0.01, 10] },
  implicit: { factors: [32, 64, 128], tau: [1, 200], alpha: [0.1, 40] },
}

/** mulberry32: a small seeded generator, so a search is reproducible. */
function generator(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function sample(range: TuneRange, key: TunedKey, random: () => number): number {
  // `factors` is always a list of choices; the others are [low, high] ranges.
  if (key === 'factors') return range[Math.floor(random() * range.length)] as number
  const [lo, hi] = range as readonly [number, number]
  return Math.exp(Math.log(lo) + random() * (Math.log(hi) - Math.log(lo)))
}

function checkRange(key: TunedKey, range: TuneRange): void {
  const ok = key === 'factors' ? range.length > 0 && range.every((x) => Number.isInteger(x) && x >= 1 && x <= 1024) : range.length === 2 && range.every((x) => Number.isFinite(x) && x > 0) && (range[0] as number) <= (range[1] as number)
  if (!ok) throw invalidArgument(key === 'factors' ? `tune space.factors must be a list of whole numbers from 1 to 1024 (got ${JSON.stringify(range)})` : `tune space.${key} must be [low, high] with 0 < low ≤ high (got ${JSON.stringify(range)})`)
}

const positiveInt = (name: string, v: number | undefined, min: number, max: number): void => {
  if (v !== undefined && !(Number.isInteger(v) && v >= min && v <= max)) throw invalidArgument(`tune ${name} must be a whole number from ${min} to ${max} (got ${v})`)
}

/**
 * Searches τ, γ, k (and β, α where the model has them) for `base.model` on an inner validation
 * split of `trainSet`. Returns the best configuration; train it on the whole training set with
 * `train(trainSet, result.best)`.
 */
export async function tune(trainSet: Dataset, base: TrainConfig = {}, options: TuneOptions = {}): Promise<TuneResult> {
  const kind = base.model ?? 'genre'
  const ranges = TUNE_SPACE[kind]
  if (!ranges) throw invalidArgument(kind === 'bayesian' ? "tune: the 'bayesian' model learns its precisions from the data; there is nothing to tune" : `tune: the '${kind}' model has no hyperparameters to tune (tune 'bias', 'biased', 'genre' or 'implicit')`)
  positiveInt('trials', options.trials, 1, 10_000)
  positiveInt('eta', options.eta, 2, 100)
  if (options.seconds !== undefined && !(Number.isFinite(options.seconds) && options.seconds > 0)) throw invalidArgument(`tune seconds must be a number > 0 (got ${options.seconds})`)
  const fraction = options.validationFraction ?? 0.1
  if (!(fraction > 0 && fraction < 1)) throw invalidArgument(`tune validationFraction must be between 0 and 1 (got ${fraction})`)
  const space = { ...ranges, ...options.space }
  for (const key of Object.keys(options.space ?? {}) as TunedKey[]) {
    if (!(key in ranges)) throw invalidArgument(`tune space.${key} does not apply to '${kind}' (it tunes ${Object.keys(ranges).join(', ')})`)
    checkRange(key, space[key] as TuneRange)
  }
  const trials = options.trials ?? 27
  const eta = options.eta ?? 3
  const seed = options.seed ?? 42
  const random = generator(seed)
  const started = performance.now()
  const elapsed = (): number => (performance.now() - started) / 1000
  const { train: inner, test: validation } = trainSet.split({ kind: 'random', testFraction: fraction, seed })
  // The kind's full epochs as the core fills them in.
  const defaults = JSON.parse(native.defaultTrainConfigJson(kind)) as { epochs: number }
  const fullEpochs = base.epochs ?? defaults.epochs
  const metric: TuneResult['metric'] = kind === 'implicit' ? 'ndcg@10' : 'rmse'
  const better = (a: number, b: number): boolean => (metric === 'rmse' ? a < b : a > b)
  const configs: TrainConfig[] = []
  for (let id = 0; id < trials; id++) {
    const c: TrainConfig = { ...base, model: kind }
    if (id > 0) for (const key of Object.keys(space) as TunedKey[]) c[key] = sample(space[key] as TuneRange, key, random)
    configs.push(c)
  }
  // Rungs: epochs E/eta^(R-1), …, E/eta, E over R = ⌊log_eta(trials)⌋ + 1 rungs.
  const rungs = Math.max(1, Math.floor(Math.log(trials) / Math.log(eta) + 1e-9) + 1)
  const epochsAt = (rung: number): number => Math.max(1, Math.round(fullEpochs / eta ** (rungs - 1 - rung)))
  const all: TuneTrial[] = []
  let alive = configs.map((config, id) => ({ id, config, model: null as Model | null, epochs: 0, score: NaN }))
  let trainings = 0
  let stoppedBy: TuneResult['stoppedBy'] = null
  const scoreOf = async (model: Model): Promise<number> => {
    if (metric === 'rmse') return model.history.at(-1)?.testRmse ?? NaN
    const m = await model.rankingMetrics(validation, { k: 10, signal: options.signal })
    return m.ndcg
  }
  let lastRung: typeof alive = []
  for (let rung = 0; rung < rungs; rung++) {
    const epochs = epochsAt(rung)
    const done: typeof alive = []
    for (const t of alive) {
      if (options.signal?.aborted) throw abortError()
      if (options.seconds !== undefined && elapsed() > options.seconds) {
        stoppedBy = 'seconds'
        break
      }
      const t0 = performance.now()
      const more = epochs - t.epochs
      const model =
        more > 0
          ? await train(inner, { ...t.config, epochs: more, tolerance: 0, patience: null, ranker: null }, { testSet: validation, signal: options.signal, ...(t.model ? { initialModel: t.model } : {}) })
          : (t.model as Model)
      trainings++
      const score = await scoreOf(model)
      const trial: TuneTrial = { id: t.id, rung, epochs, config: { ...t.config, epochs: fullEpochs }, score, seconds: (performance.now() - t0) / 1000 }
      all.push(trial)
      options.onTrial?.(trial)
      done.push({ ...t, model, epochs, score })
    }
    if (done.length === 0) break
    lastRung = done
    if (stoppedBy) break
    const ranked = [...done].filter((t) => Number.isFinite(t.score)).sort((a, b) => (better(a.score, b.score) ? -1 : better(b.score, a.score) ? 1 : a.id - b.id))
    if (rung === rungs - 1) break
    alive = ranked.slice(0, Math.max(1, Math.floor(ranked.length / eta)))
  }
  const finite = lastRung.filter((t) => Number.isFinite(t.score))
  if (finite.length === 0) throw invalidArgument('tune: no configuration produced a finite validation score')
  const winner = finite.reduce((a, b) => (better(b.score, a.score) || (b.score === a.score && b.id < a.id) ? b : a))
  // The defaults at the full epochs, for the comparison (trained once more if they fell out).
  let defaultScore = lastRung.find((t) => t.id === 0)?.score ?? null
  if (defaultScore === null && !(options.seconds !== undefined && elapsed() > options.seconds)) {
    const model = await train(inner, { ...base, model: kind, epochs: fullEpochs, tolerance: 0, patience: null, ranker: null }, { testSet: validation, signal: options.signal })
    trainings++
    defaultScore = await scoreOf(model)
  }
  const best: TrainConfig = { ...base, model: kind }
  for (const key of Object.keys(space) as TunedKey[]) if (winner.config[key] !== undefined) best[key] = winner.config[key]
  if (base.epochs !== undefined) best.epochs = base.epochs
  return {
    best,
    metric,
    bestScore: winner.score,
    defaultScore,
    trials: all,
    trainings,
    seconds: elapsed(),
    validation: { trainRatings: inner.numRatings, validationRatings: validation.numRatings, fraction, seed },
    stoppedBy,
  }
}
