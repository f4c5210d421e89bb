// tune(): hyperparameters that fit the data, for the MAP models. Successive halving (Jamieson &
// Talwalkar 2016, the inner loop of Hyperband): `trials` configurations drawn log-uniformly
// (the defaults among them) train a few epochs each on an inner split of the *training* data;
// the best third trains on, warm-started, for three times the epochs, and so on until the
// survivors have trained the full epochs. The score is the validation RMSE (NDCG@10 for the
// implicit model, which predicts no ratings), averaged over `folds` inner splits. A local stage
// follows: a coordinate (pattern) search in log space around the halving's winner, every
// candidate trained from scratch exactly as the final model will be. The test set is never seen.
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
  /**
   * Inner validation splits (seeds seed, seed + 1, …) whose scores are averaged (default 2).
   * On ml-latest-small two 90/10 splits of the same training part disagree by ~0.01 in RMSE,
   * ten times the gap between neighbouring configurations; the mean of two halves the noise.
   */
  folds?: number
  /** Configurations the local stage evaluates after successive halving (default 16; 0 skips it). */
  refine?: number
  /** Search ranges over the defaults' (see TUNE_SPACE). */
  space?: Partial<Record<TunedKey, TuneRange>>
  signal?: AbortSignal
  onTrial?: (trial: TuneTrial) => void
}

export type TunedKey = 'factors' | 'tau' | 'gamma' | 'beta' | 'alpha'

export interface TuneTrial {
  /** 0-based index of the configuration (0 is the model's defaults; the local stage's count on). */
  id: number
  /** 'halving' (successive halving, warm-started rungs) or 'local' (the search around its winner). */
  stage: 'halving' | 'local'
  /** The halving rung; the local stage's step (0, 1, …). */
  rung: number
  epochs: number
  config: TrainConfig
  /** Validation RMSE (lower is better) or NDCG@10 (higher is better), the mean over the folds. */
  score: number
  /** Each fold's score. */
  foldScores: number[]
  seconds: number
}

export interface TuneResult {
  /** The best configuration: the given config with the tuned keys replaced. */
  best: TrainConfig
  metric: 'rmse' | 'ndcg@10'
  bestScore: number
  /** The defaults' validation score at the full epochs (null when the seconds ran out first). */
  defaultScore: number | null
  /** The successive-halving winner and its score under the halving protocol (warm-started rungs, fixed epochs), before the local stage. */
  halvingBest: { config: TrainConfig; score: number }
  trials: TuneTrial[]
  trainings: number
  seconds: number
  /** The first fold's sizes; every fold holds out the same share. */
  validation: { trainRatings: number; validationRatings: number; fraction: number; seed: number; folds: number }
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

/** The keys the local stage moves multiplicatively (everything but the list of factors). */
const CONTINUOUS: readonly TunedKey[] = ['tau', 'gamma', 'beta', 'alpha']

/**
 * Searches τ, γ, k (and β, α where the model has them) for `base.model` on inner validation
 * splits of `trainSet`. Returns the best configuration; train it on the whole training set with
 * `train(trainSet, result.best)`.
 */
export async function tune(trainSet: Dataset, base: TrainConfig = {}, options: TuneOptions = {}): Promise<TuneResult> {
  const kind = base.model ?? 'genre'
  const ranges = TUNE_SPACE[kind]
  if (!ranges) throw invalidArgument(kind === 'bayesian' ? "tune: the 'bayesian' model learns its precisions from the data; there is nothing to tune" : `tune: the '${kind}' model has no hyperparameters to tune (tune 'bias', 'biased', 'genre' or 'implicit')`)
  positiveInt('trials', options.trials, 1, 10_000)
  positiveInt('eta', options.eta, 2, 100)
  positiveInt('folds', options.folds, 1, 10)
  positiveInt('refine', options.refine, 0, 10_000)
  if (options.seconds !== undefined && !(Number.isFinite(options.seconds) && options.seconds > 0)) throw invalidArgument(`tune seconds must be a number > 0 (got ${options.seconds})`)
  const fraction = options.validationFraction ?? 0.1
  if (!(fraction > 0 && fraction < 1)) throw invalidArgument(`tune validationFraction must be between 0 and 1 (got ${fraction})`)
  const space = { ...ranges, ...options.space }
  for (const key of Object.keys(options.space ?? {}) as TunedKey[]) {
    if (!(key in ranges)) throw invalidArgument(`tune space.${key} does not apply to '${kind}' (it tunes ${Object.keys(ranges).join(', ')})`)
    checkRange(key, space[key] as TuneRange)
  }
  const keys = Object.keys(space) as TunedKey[]
  const trials = options.trials ?? 27
  const eta = options.eta ?? 3
  const seed = options.seed ?? 42
  const folds = options.folds ?? 2
  const refine = options.refine ?? 16
  const random = generator(seed)
  const started = performance.now()
  const elapsed = (): number => (performance.now() - started) / 1000
  const outOfTime = (): boolean => options.seconds !== undefined && elapsed() > options.seconds
  const splits = Array.from({ length: folds }, (_, f) => trainSet.split({ kind: 'random', testFraction: fraction, seed: seed + f }))
  // The kind's full epochs as the core fills them in.
  const defaults = JSON.parse(native.defaultTrainConfigJson(kind)) as { epochs: number } & Partial<Record<TunedKey, number>>
  const fullEpochs = base.epochs ?? defaults.epochs
  const metric: TuneResult['metric'] = kind === 'implicit' ? 'ndcg@10' : 'rmse'
  const better = (a: number, b: number): boolean => (metric === 'rmse' ? a < b : a > b)
  const configs: TrainConfig[] = []
  for (let id = 0; id < trials; id++) {
    const c: TrainConfig = { ...base, model: kind }
    if (id > 0) for (const key of keys) c[key] = sample(space[key] as TuneRange, key, random)
    configs.push(c)
  }
  // Rungs: epochs E/eta^(R-1), …, E/eta, E over R = ⌊log_eta(trials)⌋ + 1 rungs.
  const rungs = Math.max(1, Math.floor(Math.log(trials) / Math.log(eta) + 1e-9) + 1)
  const epochsAt = (rung: number): number => Math.max(1, Math.round(fullEpochs / eta ** (rungs - 1 - rung)))
  const all: TuneTrial[] = []
  type Alive = { id: number; config: TrainConfig; models: (Model | null)[]; epochs: number; score: number }
  let alive: Alive[] = configs.map((config, id) => ({ id, config, models: splits.map(() => null), epochs: 0, score: NaN }))
  let trainings = 0
  let stoppedBy: TuneResult['stoppedBy'] = null
  const scoreOf = async (model: Model, validation: Dataset): Promise<number> => {
    if (metric === 'rmse') return model.history.at(-1)?.testRmse ?? NaN
    const m = await model.rankingMetrics(validation, { k: 10, signal: options.signal })
    return m.ndcg
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
  const record = (trial: TuneTrial): void => {
    all.push(trial)
    options.onTrial?.(trial)
  }
  let lastRung: Alive[] = []
  for (let rung = 0; rung < rungs; rung++) {
    const epochs = epochsAt(rung)
    const done: Alive[] = []
    for (const t of alive) {
      if (options.signal?.aborted) throw abortError()
      if (outOfTime()) {
        stoppedBy = 'seconds'
        break
      }
      const t0 = performance.now()
      const more = epochs - t.epochs
      const models: Model[] = []
      const foldScores: number[] = []
      for (const [f, { train: inner, test: validation }] of splits.entries()) {
        const previous = t.models[f] ?? null
        const model =
          more > 0
            ? await train(inner, { ...t.config, epochs: more, tolerance: 0, patience: null, ranker: null }, { testSet: validation, signal: options.signal, ...(previous ? { initialModel: previous } : {}) })
            : (previous as Model)
        trainings++
        models.push(model)
        foldScores.push(await scoreOf(model, validation))
      }
      const score = mean(foldScores)
      record({ id: t.id, stage: 'halving', rung, epochs, config: { ...t.config, epochs: fullEpochs }, score, foldScores, seconds: (performance.now() - t0) / 1000 })
      done.push({ ...t, models, epochs, score })
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
  // Every tuned key explicit (the base's or the kind's default where a config leaves it out), so
  // the local stage can step from the defaults too.
  const tunedOf = (config: TrainConfig): TrainConfig => {
    const out: TrainConfig = { ...base, model: kind }
    for (const key of keys) {
      const v = config[key] ?? base[key] ?? defaults[key]
      if (v !== undefined) out[key] = v
    }
    return out
  }
  const halvingBest = { config: { ...tunedOf(winner.config), epochs: fullEpochs }, score: winner.score }

  // The local stage. Halving scores warm-started rungs at a fixed number of epochs; here every
  // candidate trains from scratch with the final training's own stopping rule (the base's
  // tolerance), so the scores compare what `train(trainSet, best)` will do.
  let best = { config: tunedOf(winner.config), score: winner.score }
  let defaultScore: number | null = lastRung.find((t) => t.id === 0)?.score ?? null
  const cache = new Map<string, number>()
  const keyOf = (c: TrainConfig): string => JSON.stringify(keys.map((k) => c[k] ?? null))
  let nextId = trials
  let step = 0
  let evaluations = 0
  const evaluate = async (config: TrainConfig, counted = true): Promise<number | null> => {
    const key = keyOf(config)
    const seen = cache.get(key)
    if (seen !== undefined) return seen
    if (options.signal?.aborted) throw abortError()
    if (outOfTime()) {
      stoppedBy = 'seconds'
      return null
    }
    const t0 = performance.now()
    const foldScores: number[] = []
    for (const { train: inner, test: validation } of splits) {
      const model = await train(inner, { ...config, epochs: fullEpochs, patience: null, ranker: null }, { testSet: validation, signal: options.signal })
      trainings++
      foldScores.push(await scoreOf(model, validation))
    }
    const score = mean(foldScores)
    cache.set(key, score)
    if (counted) evaluations++
    record({ id: nextId++, stage: 'local', rung: step, epochs: fullEpochs, config: { ...config, epochs: fullEpochs }, score, foldScores, seconds: (performance.now() - t0) / 1000 })
    return score
  }
  if (refine > 0 && !stoppedBy) {
    const center = await evaluate(best.config)
    if (center !== null) {
      best = { config: best.config, score: center }
      // The defaults under the same protocol (outside the refine budget: a reference, not a
      // step), so bestScore ≤ defaultScore holds by construction.
      const plain = tunedOf({})
      const d = keyOf(plain) === keyOf(best.config) ? center : await evaluate(plain, false)
      defaultScore = d
      if (d !== null && better(d, best.score)) best = { config: plain, score: d }
    }
    // Pattern search: for each key, one step up, else one step down, kept when the mean
    // validation score improves; after a pass with no gain the step shrinks from ×√2 to ×2^¼,
    // ×2^⅛. The halving's log-uniform draws already cover the range coarsely; on ml-latest-small
    // the validation RMSE moves by 0.002 between τ = 12.6 and 15, so the steps are fine ones.
    // k moves to its neighbours in the list, on the first pass only (each costs a lot).
    const factorChoices = space.factors ? [...new Set(space.factors as readonly number[])].sort((a, b) => a - b) : []
    let ratio = Math.SQRT2
    let pass = 0
    search: while (evaluations < refine && !stoppedBy && ratio > 1.05) {
      let improved = false
      for (const key of keys) {
        const x = best.config[key]
        if (x === undefined) continue
        let candidates: number[]
        if (key === 'factors') {
          if (pass > 0) continue
          const at = factorChoices.indexOf(x)
          candidates = at < 0 ? [] : [factorChoices[at + 1], factorChoices[at - 1]].filter((v): v is number => v !== undefined)
        } else if (CONTINUOUS.includes(key)) {
          const [lo, hi] = space[key] as readonly [number, number]
          candidates = [Math.min(hi, x * ratio), Math.max(lo, x / ratio)].filter((v) => v !== x)
        } else continue
        for (const v of candidates) {
          if (evaluations >= refine) break search
          const config = { ...best.config, [key]: v }
          const score = await evaluate(config)
          if (score === null) break search
          if (better(score, best.score)) {
            best = { config, score }
            improved = true
            break
          }
        }
      }
      step++
      pass++
      if (!improved) ratio = Math.sqrt(ratio)
    }
  }
  // Without a local stage: the defaults at the full epochs under the halving's protocol, for
  // the comparison (trained once more if they fell out).
  if (defaultScore === null && refine === 0 && !outOfTime()) {
    const scores: number[] = []
    for (const { train: inner, test: validation } of splits) {
      const model = await train(inner, { ...base, model: kind, epochs: fullEpochs, tolerance: 0, patience: null, ranker: null }, { testSet: validation, signal: options.signal })
      trainings++
      scores.push(await scoreOf(model, validation))
    }
    defaultScore = mean(scores)
  }
  const chosen: TrainConfig = { ...best.config }
  if (base.epochs !== undefined) chosen.epochs = base.epochs
  const first = splits[0] as (typeof splits)[number]
  return {
    best: chosen,
    metric,
    bestScore: best.score,
    defaultScore,
    halvingBest,
    trials: all,
    trainings,
    seconds: elapsed(),
    validation: { trainRatings: first.train.numRatings, validationRatings: first.test.numRatings, fraction, seed, folds },
    stoppedBy,
  }
}
