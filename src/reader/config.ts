// The training config of a model file, read and validated as the native loader does: a port of
// `TrainConfig`/`RankerConfig` in crates/alsrec-core/src/als/config.rs (their serde attributes
// `rename_all = "camelCase", deny_unknown_fields, default`, their `Default` impls, the key lists
// `TrainConfig::keys()`/`RankerConfig::keys()` and `validate()`), with `MAX_THREADS` from
// crates/alsrec-core/src/cancel.rs. Keep the two in step: the agreement test
// (__test__/reader-agreement.spec.ts) feeds both loaders the same mutated files.
import type { Field, JsonReader, StructSpec } from './json.js'

export const MODEL_KINDS = ['bias', 'biased', 'genre', 'implicit', 'popular', 'toprated', 'bayesian'] as const
export type ModelKind = (typeof MODEL_KINDS)[number]
export const SOLVERS = ['cg', 'cholesky'] as const
export const HYPERPRIORS = ['wishart', 'gamma'] as const

/** `crate::cancel::MAX_THREADS`. */
export const MAX_THREADS = 256

export interface RankerConfig {
  factors: number
  tau: number
  alpha: number
  epochs: number
  cgSteps: number
  ratingWeight: number
  ratingSupport: number
  popularityPenalty: number
  learnPopularityPenalty: boolean
  seriesBonus: number
  learnSeriesBonus: boolean
}

export interface TrainConfig {
  model: ModelKind
  factors: number
  lambda: number
  tau: number
  gamma: number
  beta: number
  alpha: number
  epochs: number
  seed: number
  threads: number | null
  initScale: number
  tolerance: number
  patience: number | null
  weightedRegularization: boolean
  solver: (typeof SOLVERS)[number]
  cgSteps: number
  ranker: RankerConfig | null
  recencyHalfLife: number | null
  burnIn: number
  hyperprior: (typeof HYPERPRIORS)[number]
  genrePriors: boolean
}

/** `RankerConfig::default()` (f32 fields as the f32 values Rust holds). */
export function defaultRankerConfig(): RankerConfig {
  return {
    factors: 128,
    tau: 30,
    alpha: 1,
    epochs: 15,
    cgSteps: 3,
    ratingWeight: Math.fround(0.1),
    ratingSupport: 10,
    popularityPenalty: Math.fround(0.07),
    learnPopularityPenalty: true,
    seriesBonus: Math.fround(0.1),
    learnSeriesBonus: true,
  }
}

/** `TrainConfig::default()`: the biased model's defaults, what a header's missing keys take. */
export function defaultTrainConfig(): TrainConfig {
  return {
    model: 'biased',
    factors: 32,
    lambda: 1,
    tau: 15,
    gamma: 2,
    beta: 1,
    alpha: 10,
    epochs: 15,
    seed: 42,
    threads: null,
    initScale: Math.fround(0.1),
    tolerance: 1e-4,
    patience: null,
    weightedRegularization: false,
    solver: 'cg',
    cgSteps: 3,
    ranker: defaultRankerConfig(),
    recencyHalfLife: null,
    burnIn: 0,
    hyperprior: 'wishart',
    genrePriors: false,
  }
}

const usize = (r: JsonReader): number => r.usize()
const f32 = (r: JsonReader): number => r.f32()
const f64 = (r: JsonReader): number => r.f64()
const bool = (r: JsonReader): boolean => r.bool()
const option =
  <T>(read: (r: JsonReader) => T) =>
  (r: JsonReader): T | null =>
    r.null() ? null : read(r)

const RANKER_FIELDS: readonly Field[] = [
  { key: 'factors', read: usize },
  { key: 'tau', read: f32 },
  { key: 'alpha', read: f32 },
  { key: 'epochs', read: usize },
  { key: 'cgSteps', read: usize },
  { key: 'ratingWeight', read: f32 },
  { key: 'ratingSupport', read: f32 },
  { key: 'popularityPenalty', read: f32 },
  { key: 'learnPopularityPenalty', read: bool },
  { key: 'seriesBonus', read: f32 },
  { key: 'learnSeriesBonus', read: bool },
]

const RANKER_SPEC: StructSpec = {
  name: 'RankerConfig',
  fields: RANKER_FIELDS,
  denyUnknown: true,
  defaults: () => defaultRankerConfig() as unknown as Record<string, unknown>,
}

/** The keys a ranker config may hold (`RANKER_KEYS`). */
export const RANKER_KEYS: readonly string[] = RANKER_FIELDS.map((f) => f.key)

export function readRankerConfig(r: JsonReader): RankerConfig {
  return r.struct(RANKER_SPEC) as unknown as RankerConfig
}

const CONFIG_FIELDS: readonly Field[] = [
  { key: 'model', read: (r) => r.variant(MODEL_KINDS) },
  { key: 'factors', read: usize },
  { key: 'lambda', read: f32 },
  { key: 'tau', read: f32 },
  { key: 'gamma', read: f32 },
  { key: 'beta', read: f32 },
  { key: 'alpha', read: f32 },
  { key: 'epochs', read: usize },
  { key: 'seed', read: usize },
  { key: 'threads', read: option(usize), option: true },
  { key: 'initScale', read: f32 },
  { key: 'tolerance', read: f64 },
  { key: 'patience', read: option(usize), option: true },
  { key: 'weightedRegularization', read: bool },
  { key: 'solver', read: (r) => r.variant(SOLVERS) },
  { key: 'cgSteps', read: usize },
  { key: 'ranker', read: option(readRankerConfig), option: true },
  { key: 'recencyHalfLife', read: option(f64), option: true },
  { key: 'burnIn', read: usize },
  { key: 'hyperprior', read: (r) => r.variant(HYPERPRIORS) },
  { key: 'genrePriors', read: bool },
]

const CONFIG_SPEC: StructSpec = {
  name: 'TrainConfig',
  fields: CONFIG_FIELDS,
  denyUnknown: true,
  defaults: () => defaultTrainConfig() as unknown as Record<string, unknown>,
}

/** The keys a config may hold (`CONFIG_KEYS`). */
export const CONFIG_KEYS: readonly string[] = CONFIG_FIELDS.map((f) => f.key)

export function readTrainConfig(r: JsonReader): TrainConfig {
  return r.struct(CONFIG_SPEC) as unknown as TrainConfig
}

const nonNegative = (v: number): boolean => Number.isFinite(v) && v >= 0

/** `RankerConfig::validate`: the first problem, or null. */
export function rankerConfigProblem(c: RankerConfig): string | null {
  if (!(c.factors >= 1 && c.factors <= 1024)) return `ranker.factors must be an integer from 1 to 1024 (got ${c.factors})`
  for (const name of ['tau', 'alpha', 'ratingWeight', 'ratingSupport', 'popularityPenalty', 'seriesBonus'] as const) {
    if (!nonNegative(c[name])) return `ranker.${name} must be a finite number ≥ 0 (got ${c[name]})`
  }
  if (c.tau === 0) return "ranker.tau must be > 0: the ranker's rows are solved by CG, which needs it"
  if (!(c.epochs >= 1 && c.epochs <= 10_000)) return `ranker.epochs must be an integer from 1 to 10000 (got ${c.epochs})`
  if (!(c.cgSteps >= 1 && c.cgSteps <= 256)) return `ranker.cgSteps must be an integer from 1 to 256 (got ${c.cgSteps})`
  return null
}

/** `TrainConfig::validate`: the first problem, or null. */
export function trainConfigProblem(c: TrainConfig): string | null {
  if (!(c.factors >= 1 && c.factors <= 1024)) return `factors must be an integer from 1 to 1024 (got ${c.factors})`
  for (const name of ['lambda', 'tau', 'gamma', 'beta', 'alpha'] as const) {
    if (!nonNegative(c[name])) return `${name} must be a finite number ≥ 0 (got ${c[name]})`
  }
  if (c.lambda === 0) return 'lambda must be > 0: it weighs the data, and 0 ignores it'
  if (c.epochs === 0) return 'epochs must be at least 1 (got 0)'
  if (c.threads !== null && !(c.threads >= 1 && c.threads <= MAX_THREADS)) return `threads must be a whole number from 1 to ${MAX_THREADS} (got ${c.threads})`
  if (!nonNegative(c.initScale)) return `initScale must be a finite number ≥ 0 (got ${c.initScale})`
  if (!nonNegative(c.tolerance)) return `tolerance must be a finite number ≥ 0 (got ${c.tolerance})`
  if (!(c.cgSteps >= 1 && c.cgSteps <= 256)) return `cgSteps must be an integer from 1 to 256 (got ${c.cgSteps})`
  if (c.model === 'bayesian') {
    const problem = bayesianProblem(c)
    if (problem !== null) return problem
  } else if (c.burnIn !== 0 || c.genrePriors) return `${c.burnIn !== 0 ? 'burnIn' : 'genrePriors'} applies to the 'bayesian' model, not '${c.model}'`
  if (c.ranker !== null) {
    if (c.model !== 'biased' && c.model !== 'genre' && c.model !== 'bayesian') return `ranker applies to the 'biased', 'genre' and 'bayesian' models, not '${c.model}' (set it to null)`
    const problem = rankerConfigProblem(c.ranker)
    if (problem !== null) return problem
  }
  if (c.recencyHalfLife !== null) {
    if (c.model !== 'popular') return `recencyHalfLife applies to the 'popular' model, not '${c.model}'`
    const h = c.recencyHalfLife
    if (!(Number.isFinite(h) && h >= 1e-3 && h <= 1e6)) return `recencyHalfLife must be a number of days from 0.001 to 1000000 (got ${h})`
  }
  if (c.patience === 0) return 'patience must be at least 1 (got 0)'
  return null
}

/** `TrainConfig::validate_bayesian`. */
function bayesianProblem(c: TrainConfig): string | null {
  if (c.burnIn >= c.epochs) return `burnIn must be less than epochs, the number of sweeps, so that some are kept (got burnIn ${c.burnIn} with epochs ${c.epochs})`
  if (c.tolerance !== 0) return "tolerance does not apply to 'bayesian': a Gibbs chain does not converge to a loss minimum (set epochs and burnIn)"
  if (c.patience !== null) return "patience does not apply to 'bayesian': its prediction is the average of every kept sweep"
  if (c.weightedRegularization) return "weightedRegularization does not apply to 'bayesian': it learns its prior precisions from the data"
  if (c.tau === 0 || c.gamma === 0) return "tau and gamma must be > 0 for 'bayesian': they are the first sweep's prior precisions"
  return null
}

/**
 * The double that JSON.parse reads from serde_json's text of an f32 (the shortest decimal that
 * rounds back to it, as ryu writes it): what the native model's `config` shows for 0.1f32.
 */
export function f32Decimal(x: number): number {
  if (x === 0 || !Number.isFinite(x)) return x
  for (let p = 1; p <= 9; p++) {
    // The nearest p-digit decimal and its neighbours: the shortest that round-trips, nearest first.
    const [digits, exp] = x.toExponential(p - 1).replace('.', '').split('e') as [string, string]
    const n = Number(digits)
    let best: number | null = null
    for (const m of [n, n - 1, n + 1]) {
      const d = Number(`${m}e${Number(exp) - (p - 1)}`)
      if (Math.fround(d) === x && (best === null || Math.abs(d - x) < Math.abs(best - x))) best = d
    }
    if (best !== null) return best
  }
  return x
}

/** The config as the native model's `config` shows it: f32 fields as their decimal text. */
export function configForDisplay(c: TrainConfig): TrainConfig {
  const ranker = c.ranker && {
    ...c.ranker,
    tau: f32Decimal(c.ranker.tau),
    alpha: f32Decimal(c.ranker.alpha),
    ratingWeight: f32Decimal(c.ranker.ratingWeight),
    ratingSupport: f32Decimal(c.ranker.ratingSupport),
    popularityPenalty: f32Decimal(c.ranker.popularityPenalty),
    seriesBonus: f32Decimal(c.ranker.seriesBonus),
  }
  return { ...c, lambda: f32Decimal(c.lambda), tau: f32Decimal(c.tau), gamma: f32Decimal(c.gamma), beta: f32Decimal(c.beta), alpha: f32Decimal(c.alpha), initScale: f32Decimal(c.initScale), ranker }
}

/** `TrainConfig::has_genre_vectors`. */
export function hasGenreVectors(c: TrainConfig): boolean {
  return c.model === 'genre' || (c.model === 'bayesian' && c.genrePriors)
}

/** `TrainConfig::latent_dim`: the latent dimension actually trained (0 for the baselines). */
export function latentDim(c: TrainConfig): number {
  return c.model === 'bias' || c.model === 'popular' || c.model === 'toprated' ? 0 : c.factors
}
