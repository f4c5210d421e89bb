// The experiment config: one JSON object naming the data, the split, the model and its
// hyperparameters, the metrics and the output folder. Validated with zod; every error message
// starts with the path of the offending key ("model.factors: expected a whole number ≥ 1").
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { z } from 'zod'

import { AlsrecError, invalidArgument } from '../errors.js'
import type { ModelKind, TrainConfig } from '../train.js'

export const MODEL_KINDS = ['bias', 'biased', 'genre', 'implicit', 'popular', 'toprated', 'bayesian'] as const satisfies readonly ModelKind[]

/** Whether a model kind has latent vectors (and so uses `factors`). */
export function hasVectors(kind: string): boolean {
  return kind !== 'bias' && kind !== 'popular' && kind !== 'toprated'
}

/** Whether a model kind predicts star ratings (and so has a meaningful RMSE). */
export function predictsRatings(kind: string): boolean {
  return kind !== 'implicit' && kind !== 'popular'
}

const num = (min: number, opts: { int?: boolean; exclusiveMin?: boolean; max?: number } = {}) => {
  let s = opts.int ? z.number().int() : z.number()
  s = opts.exclusiveMin ? s.gt(min) : s.gte(min)
  if (opts.max !== undefined) s = s.lte(opts.max)
  return s
}

/** A hyperparameter that a grid may give as a list of values. */
const listable = <T extends z.ZodType>(s: T) => z.union([s, z.array(s).min(1)]).optional()

const generateShape = {
  users: num(1, { int: true }).default(600),
  movies: num(1, { int: true }).default(2000),
  ratings: num(1, { int: true }).default(80000),
  seed: num(0, { int: true, max: 0xffffffff }).default(42),
  factors: num(1, { int: true }).default(8),
  noise: num(0).default(0.6),
  /** Where to write the set; a cache folder keyed by the options when absent. */
  dir: z.string().min(1).optional(),
}

const columnsShape = {
  user: z.union([z.string().min(1), num(0, { int: true })]),
  movie: z.union([z.string().min(1), num(0, { int: true })]),
  rating: z.union([z.string().min(1), num(0, { int: true })]),
  timestamp: z.union([z.string().min(1), num(0, { int: true })]).optional(),
}

const ratingsFileShape = {
  file: z.string().min(1),
  columns: z.strictObject(columnsShape),
  delimiter: z.string().min(1).max(2).optional(),
  header: z.boolean().optional(),
}

const dataShape = {
  /** A MovieLens folder (ratings.csv + movies.csv). */
  movielens: z.string().min(1).optional(),
  /** A synthetic set made by the seeded generator. */
  generate: z.strictObject(generateShape).optional(),
  /** A generic ratings file with a column mapping. */
  ratings: z.strictObject(ratingsFileShape).optional(),
  onBadRow: z.enum(['error', 'skip']).optional(),
  /** Ratings outside [min, max] are bad rows (MovieLens: [0.5, 5]). */
  ratingScale: z.tuple([z.number(), z.number()]).optional(),
  /** Drop users / movies with fewer ratings, repeatedly until none is left below. */
  minUserRatings: num(0, { int: true, max: 0xffffffff }).optional(),
  minMovieRatings: num(0, { int: true, max: 0xffffffff }).optional(),
  /** Drop ratings of movies the catalog does not list. */
  catalogOnly: z.boolean().optional(),
  /** Parsing threads (default all cores). */
  threads: num(1, { int: true }).optional(),
}

const splitShape = {
  kind: z.enum(['random', 'user', 'temporal']).default('random'),
  testFraction: num(0, { exclusiveMin: true, max: 0.99 }).default(0.2),
  seed: num(0, { int: true, max: 0xffffffff }).default(42),
  /** k-fold cross-validation (grid only): every fold is the test set once. */
  folds: num(2, { int: true, max: 100 }).optional(),
  /** 'user' and 'temporal': users with fewer ratings stay wholly in train (default 2). */
  minRatings: num(0, { int: true, max: 0xffffffff }).optional(),
  /** 'temporal': every rating at or after this Unix time (seconds) is a test rating, instead of each user's latest fraction. */
  cutoff: z.number().int().optional(),
  /** Test ratings whose user or movie has no training rating: 'keep' (default) or 'drop'. */
  coldStart: z.enum(['keep', 'drop']).optional(),
}

const rankerShape = {
  factors: num(1, { int: true, max: 1024 }).optional(),
  tau: num(0, { exclusiveMin: true }).optional(),
  alpha: num(0).optional(),
  epochs: num(1, { int: true, max: 10000 }).optional(),
  cgSteps: num(1, { int: true, max: 256 }).optional(),
  ratingWeight: num(0).optional(),
  ratingSupport: num(0).optional(),
  popularityPenalty: num(0).optional(),
  learnPopularityPenalty: z.boolean().optional(),
  seriesBonus: num(0).optional(),
  learnSeriesBonus: z.boolean().optional(),
}

const modelShape = {
  kind: z.union([z.enum(MODEL_KINDS), z.array(z.enum(MODEL_KINDS)).min(1)]).default('genre'),
  factors: listable(num(1, { int: true, max: 1024 })),
  lambda: listable(num(0, { exclusiveMin: true })),
  tau: listable(num(0)),
  gamma: listable(num(0)),
  beta: listable(num(0)),
  alpha: listable(num(0)),
  epochs: listable(num(1, { int: true })),
  seed: listable(num(0, { int: true })),
  initScale: listable(num(0)),
  tolerance: listable(num(0)),
  patience: listable(num(1, { int: true })),
  /** Spark's ALS-WR: regularization scaled by each row's rating count. */
  weightedRegularization: listable(z.boolean()),
  /** Implicit model: conjugate gradient ('cg') or exact ('cholesky') row solves. */
  solver: listable(z.enum(['cg', 'cholesky'])),
  cgSteps: listable(num(1, { int: true, max: 256 })),
  threads: num(1, { int: true }).optional(),
  /** 'biased', 'genre' and 'bayesian': the implicit ranker of their lists (null: rank by the predicted rating). */
  ranker: z.union([z.null(), z.strictObject(rankerShape)]).optional(),
  /** 'popular': weigh each rating 2^(−age/h), h in days from the newest rating (what is popular lately). */
  recencyHalfLife: num(0.001, { max: 1e6 }).optional(),
  /** 'bayesian': sweeps discarded before the averaging starts (less than `epochs`, the number of sweeps). */
  burnIn: num(0, { int: true }).optional(),
  /** 'bayesian': the hyperprior of the vector priors, 'wishart' (full precision) or 'gamma' (diagonal). */
  hyperprior: listable(z.enum(['wishart', 'gamma'])),
  /** 'bayesian': movie vectors drawn around their genres' vectors (default true). */
  genrePriors: listable(z.boolean()),
}

/** The values `metrics.rankBy` (and `alsrec grid --rank-by`) accept. */
export const RANK_BY = /^(rmse|coverage|(precision|recall|ndcg|map|hitrate)@\d+)$/

const metricsShape = {
  /** Ranking metrics on the test set after training. */
  ranking: z.boolean().default(true),
  /** Cut-off of the top-N lists. */
  k: num(1, { int: true }).default(10),
  /** A test rating at or above this counts as relevant. */
  threshold: num(0).default(4),
  /**
   * What orders a grid's table and picks its best run: 'rmse' (test RMSE, lower is better;
   * implicit models, which predict no ratings, sort last) or a ranking metric at the cut-off k,
   * e.g. 'ndcg@10', 'precision@10', 'recall@10', 'map@10', 'hitrate@10', 'coverage' (higher is
   * better).
   */
  rankBy: z.string().regex(RANK_BY, "expected 'rmse', 'coverage' or <precision|recall|ndcg|map|hitrate>@<k>").default('rmse'),
}

const tuneShape = {
  /** Configurations sampled (the defaults among them). */
  trials: num(1, { int: true, max: 10000 }).optional(),
  /** Keep the best 1/eta at each rung, train them eta times longer. */
  eta: num(2, { int: true, max: 100 }).optional(),
  /** Wall-clock budget: no new training starts past it. */
  seconds: num(0, { exclusiveMin: true }).optional(),
  seed: num(0, { int: true }).optional(),
  /** Share of the training ratings held out to score the configurations. */
  validationFraction: num(0, { exclusiveMin: true, max: 0.9 }).optional(),
  /** Inner validation splits whose scores are averaged (default 2). */
  folds: num(1, { int: true, max: 10 }).optional(),
  /** Configurations the local search around the halving's winner evaluates (default 16; 0: none). */
  refine: num(0, { int: true, max: 10000 }).optional(),
}

const outputShape = {
  dir: z.string().min(1),
  saveModel: z.boolean().default(true),
  plots: z.boolean().default(true),
}

const sparkShape = {
  /** Spark master: local[2] (default), spark://host:7077, yarn, … */
  master: z.string().min(1).optional(),
  /** A spark-submit to run the job with (default: the job runs on the pyspark package's own Spark). */
  sparkSubmit: z.string().min(1).optional(),
  /** The Python with pyspark (default: $ALSREC_PYTHON, build/spark-venv, python3). */
  python: z.string().min(1).optional(),
}

const rootShape = {
  $schema: z.string().optional(),
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  data: z.strictObject(dataShape).check((ctx) => {
    const given = (['movielens', 'generate', 'ratings'] as const).filter((k) => ctx.value[k] !== undefined)
    if (given.length !== 1)
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        message: given.length === 0 ? 'give one of "movielens", "generate" or "ratings"' : `give only one of ${given.map((g) => `"${g}"`).join(', ')}`,
      })
  }),
  split: z.strictObject(splitShape).default({ kind: 'random', testFraction: 0.2, seed: 42 }),
  model: z.strictObject(modelShape).default({ kind: 'genre' }),
  metrics: z.strictObject(metricsShape).default({ ranking: true, k: 10, threshold: 4, rankBy: 'rmse' }),
  /** Tune the model's hyperparameters on the training part first (alsrec tune, docs). */
  tune: z.strictObject(tuneShape).optional(),
  output: z.strictObject(outputShape),
  /** What trains the model: alsrec itself, or MLlib ALS on Spark (docs/spark.md). */
  engine: z.enum(['alsrec', 'spark']).default('alsrec'),
  /** engine 'spark': where and how Spark runs. */
  spark: z.strictObject(sparkShape).optional(),
  /** Written by grids into each run's config.json: the run id, fold and varied values. */
  run: z.record(z.string(), z.unknown()).optional(),
}

/** Allowed keys by object path, for "did you mean" hints on unknown keys. */
const KEYS: Record<string, string[]> = {
  '': Object.keys(rootShape),
  data: Object.keys(dataShape),
  'data.generate': Object.keys(generateShape),
  'data.ratings': Object.keys(ratingsFileShape),
  'data.ratings.columns': Object.keys(columnsShape),
  split: Object.keys(splitShape),
  model: Object.keys(modelShape),
  'model.ranker': Object.keys(rankerShape),
  metrics: Object.keys(metricsShape),
  tune: Object.keys(tuneShape),
  output: Object.keys(outputShape),
  spark: Object.keys(sparkShape),
}

const experimentSchema = z.strictObject(rootShape)

export type ExperimentConfigInput = z.input<typeof experimentSchema>
/** A validated config with every default filled in and paths made absolute. */
export type ExperimentConfig = z.output<typeof experimentSchema>
export type ModelSection = ExperimentConfig['model']
export type DataSection = ExperimentConfig['data']
export type SplitSection = ExperimentConfig['split']

/** The hyperparameters a grid can vary, in the order run names list them. */
export const GRID_KEYS = ['kind', 'factors', 'lambda', 'tau', 'gamma', 'beta', 'alpha', 'epochs', 'seed', 'initScale', 'tolerance', 'patience', 'weightedRegularization', 'solver', 'cgSteps', 'hyperprior', 'genrePriors'] as const
export type GridKey = (typeof GRID_KEYS)[number]

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0] ?? 0
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const up = row[j] ?? 0
      row[j] = Math.min(up + 1, (row[j - 1] ?? 0) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1))
      diag = up
    }
  }
  return row[b.length] ?? 0
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing'
  if (Array.isArray(v)) return 'a list'
  if (v === null) return 'null'
  if (typeof v === 'string') return JSON.stringify(v.length > 30 ? `${v.slice(0, 30)}…` : v)
  if (typeof v === 'object') return 'an object'
  return String(v)
}

function valueAt(root: unknown, keys: PropertyKey[]): unknown {
  let v: unknown = root
  for (const k of keys) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined
  return v
}

const EXPECTED: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
}

function formatIssue(issue: z.core.$ZodIssue, input: unknown, base: PropertyKey[] = []): string {
  const keys = [...base, ...issue.path]
  const at = (extra: PropertyKey[] = []): string => [...keys, ...extra].map(String).join('.') || '(config)'
  switch (issue.code) {
    case 'invalid_union': {
      // A listable key: report against the branch the input was aiming at (list or single value).
      const branch = Array.isArray(valueAt(input, keys)) ? issue.errors.at(-1) : issue.errors[0]
      const first = branch?.[0]
      return first ? formatIssue(first, input, keys) : `${at()}: invalid value`
    }
    case 'unrecognized_keys':
      return issue.keys
        .map((key) => {
          const known = KEYS[keys.map(String).join('.')] ?? []
          const close = known.filter((k) => k !== '$schema').sort((a, b) => editDistance(key, a) - editDistance(key, b))[0]
          const hint = close !== undefined && editDistance(key, close) <= Math.max(2, key.length / 3) ? ` (did you mean "${close}"?)` : ` (allowed: ${known.join(', ')})`
          return `${at([key])}: unknown key${hint}`
        })
        .join('; ')
    case 'invalid_type': {
      const got = valueAt(input, keys)
      if (got === undefined) return `${at()}: required (${EXPECTED[issue.expected] ?? issue.expected})`
      return `${at()}: expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describeValue(got)}`
    }
    case 'too_small':
    case 'too_big': {
      const got = describeValue(valueAt(input, keys))
      if (issue.origin === 'number') {
        const bound = issue.code === 'too_small' ? `${issue.inclusive ? '≥' : '>'} ${String(issue.minimum)}` : `${issue.inclusive ? '≤' : '<'} ${String(issue.maximum)}`
        return `${at()}: expected a number ${bound}, got ${got}`
      }
      if (issue.origin === 'array') return `${at()}: expected a list of at least ${String(issue.code === 'too_small' ? issue.minimum : 0)} value(s)`
      if (issue.origin === 'string') return issue.code === 'too_small' ? `${at()}: must not be empty` : `${at()}: too long`
      return `${at()}: out of range, got ${got}`
    }
    case 'invalid_value':
      return `${at()}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(valueAt(input, keys))}`
    default:
      return `${at()}: ${issue.message}`
  }
}

/** A config error: ALSREC_INVALID_ARGUMENT whose message lists every bad key. */
function configError(messages: string[], source: string | undefined): AlsrecError {
  const where = source ? `${source}: ` : ''
  return invalidArgument(`${where}${messages.join('; ')}`)
}

function absolutize(p: string | undefined, baseDir: string): string | undefined {
  return p === undefined ? undefined : path.resolve(baseDir, p)
}

/**
 * Validates a config object and fills its defaults. Relative paths are resolved against
 * `baseDir` (the config file's folder; the working directory for objects from code).
 */
export function resolveConfig(input: unknown, options: { baseDir?: string; source?: string } = {}): ExperimentConfig {
  const result = experimentSchema.safeParse(input)
  if (!result.success) throw configError(result.error.issues.map((i) => formatIssue(i, input)), options.source)
  const config = result.data
  const rankBy = config.metrics.rankBy
  const at = /@(\d+)$/.exec(rankBy)
  if (at && Number(at[1]) !== config.metrics.k) throw configError([`metrics.rankBy: '${rankBy}' needs metrics.k = ${at[1]} (it is ${config.metrics.k})`], options.source)
  if (rankBy !== 'rmse' && !config.metrics.ranking) throw configError([`metrics.rankBy: '${rankBy}' needs metrics.ranking = true`], options.source)
  const split = config.split
  if (split.cutoff !== undefined && split.kind !== 'temporal') throw configError([`split.cutoff: applies to kind 'temporal' only (kind is '${split.kind}')`], options.source)
  if (split.minRatings !== undefined && split.kind === 'random') throw configError(["split.minRatings: applies to kinds 'user' and 'temporal' only (kind is 'random')"], options.source)
  if (split.folds !== undefined && (split.kind !== 'random' || split.cutoff !== undefined || split.minRatings !== undefined)) throw configError([`split.folds: k-fold cross-validation partitions all ratings at random; it takes no kind '${split.kind}', cutoff or minRatings (coldStart and seed apply)`], options.source)
  const scale = config.data.ratingScale
  if (scale && !(Number.isFinite(scale[0]) && Number.isFinite(scale[1]) && scale[0] <= scale[1])) throw configError([`data.ratingScale: expected [min, max] with min ≤ max, got [${scale.join(', ')}]`], options.source)
  const baseDir = options.baseDir ?? process.cwd()
  const data = { ...config.data }
  data.movielens = absolutize(data.movielens, baseDir)
  if (data.generate) data.generate = { ...data.generate, dir: absolutize(data.generate.dir, baseDir) }
  if (data.ratings) data.ratings = { ...data.ratings, file: path.resolve(baseDir, data.ratings.file) }
  for (const k of Object.keys(data) as Array<keyof typeof data>) if (data[k] === undefined) delete data[k]
  return { ...config, data, output: { ...config.output, dir: path.resolve(baseDir, config.output.dir) } }
}

/** Reads and validates a config file; errors name the file and the bad key. */
export function loadConfigFile(file: string): ExperimentConfig {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new AlsrecError('ALSREC_NOT_FOUND', `cannot read config ${file}: ${(err as Error).message}`)
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw invalidArgument(`${file}: not valid JSON (${(err as Error).message})`)
  }
  return resolveConfig(raw, { baseDir: path.dirname(path.resolve(file)), source: file })
}

/** The keys of the model section given as lists (what a grid varies). */
export function listedKeys(model: ModelSection): GridKey[] {
  return GRID_KEYS.filter((k) => Array.isArray(model[k]) && (model[k] as unknown[]).length > 1)
}

/** One point of a grid: a plain training config. */
export interface GridPoint {
  train: TrainConfig & { model: ModelKind }
  /** The values of the varied keys, e.g. { kind: 'biased', factors: 8 }. */
  varied: Partial<Record<GridKey, string | number>>
}

/**
 * The cartesian product of the listed hyperparameters. The bias-only model ignores `factors`,
 * so its points with different factors would be identical runs; they collapse into one.
 */
export function expandGrid(model: ModelSection): GridPoint[] {
  const varied = listedKeys(model)
  let points: GridPoint[] = [{ train: { model: 'genre' }, varied: {} }]
  for (const key of GRID_KEYS) {
    const value = model[key]
    if (value === undefined) continue
    const values = (Array.isArray(value) ? value : [value]) as Array<string | number | boolean>
    points = points.flatMap((p) =>
      values.map((v) => ({
        train: { ...p.train, [key === 'kind' ? 'model' : key]: v },
        varied: varied.includes(key) ? { ...p.varied, [key]: v } : p.varied,
      })),
    )
  }
  if (model.threads !== undefined) for (const p of points) p.train.threads = model.threads
  // The ranker applies to the explicit models with vectors; the others have none.
  if (model.ranker !== undefined)
    for (const p of points) if (p.train.model === 'biased' || p.train.model === 'genre' || p.train.model === 'bayesian') p.train.ranker = model.ranker
  if (model.burnIn !== undefined) for (const p of points) if (p.train.model === 'bayesian') p.train.burnIn = model.burnIn
  if (model.recencyHalfLife !== undefined) for (const p of points) if (p.train.model === 'popular') p.train.recencyHalfLife = model.recencyHalfLife
  const seen = new Set<string>()
  return points.filter((p) => {
    if (hasVectors(p.train.model)) return true
    const key = JSON.stringify({ ...p.train, factors: undefined })
    if (seen.has(key)) return false
    seen.add(key)
    delete p.varied.factors
    delete p.train.factors
    return true
  })
}

/** The single training config of a non-grid experiment, or an error naming the listed keys. */
export function singleTrainConfig(model: ModelSection): GridPoint['train'] {
  const listed = listedKeys(model)
  if (listed.length > 0) throw invalidArgument(`model.${listed[0]}: gives a list of values; run a grid (alsrec grid / runGrid) or give one value`)
  const [point] = expandGrid(model)
  if (!point) throw invalidArgument('model: no configuration to train')
  return point.train
}
