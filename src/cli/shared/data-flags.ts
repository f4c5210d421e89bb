// The flags that reach the API's split options (`dataset.split`) and loader options
// (`loadMovieLens` / `loadRatings`) from `alsrec train` and `alsrec evaluate`: one table per
// option set, keyed by the generated option types, so an option added to the API fails to compile
// here until it has a flag (and __test__/split-parity.spec.ts checks the config schema too).
import { InvalidArgumentError, Option, type Command } from 'commander'

import type { Native } from '../../native.js'
import { parseInteger, parseNumber } from './options.js'

/** The flag (commander attribute name) of each split option. */
export const SPLIT_FLAGS = {
  kind: 'split',
  testFraction: 'testFraction',
  seed: 'splitSeed',
  minRatings: 'splitMinRatings',
  cutoff: 'cutoff',
  coldStart: 'coldStart',
} as const satisfies Record<keyof Required<Native.SplitOptions>, string>

/** The flag (commander attribute name) of each loader option. */
export const LOAD_FLAGS = {
  onBadRow: 'onBadRow',
  ratingScale: 'ratingScale',
  minUserRatings: 'minUserRatings',
  minMovieRatings: 'minMovieRatings',
  catalogOnly: 'catalogOnly',
  threads: 'loadThreads',
} as const satisfies Record<keyof Required<Native.LoadOptions>, string>

export interface DataFlagValues {
  split?: 'random' | 'user' | 'temporal'
  testFraction?: number
  splitSeed?: number
  splitMinRatings?: number
  cutoff?: number
  coldStart?: 'keep' | 'drop'
  onBadRow?: 'error' | 'skip'
  ratingScale?: [number, number]
  minUserRatings?: number
  minMovieRatings?: number
  catalogOnly?: boolean
  loadThreads?: number
}

/** A Unix time in seconds, or an ISO date / date-time ("2015-01-01", "2015-01-01T12:00:00Z"). */
export function parseTime(value: string): number {
  if (/^-?\d+$/.test(value.trim())) return Number(value)
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(/T/.test(value) ? value : `${value}T00:00:00Z`) : Number.NaN
  if (!Number.isFinite(ms)) throw new InvalidArgumentError(`expected Unix seconds or a date such as 2015-01-01, got "${value}"`)
  return Math.floor(ms / 1000)
}

function parseScale(value: string): [number, number] {
  const parts = value.split(',').map((x) => x.trim())
  const [lo, hi] = parts.map(Number)
  if (parts.length !== 2 || lo === undefined || hi === undefined || !Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi) throw new InvalidArgumentError(`expected min,max such as 0.5,5, got "${value}"`)
  return [lo, hi]
}

/**
 * Adds the split flags. `seedFlag` is the split seed's flag: `--split-seed` in train (where
 * `--seed` seeds the model), `--seed` in evaluate.
 */
export function addSplitFlags(command: Command, what: string, seedFlag: '--split-seed' | '--seed' = '--split-seed'): Command {
  return command
    .addOption(new Option('--split <kind>', `split kind: random (a random share of all ratings), user (a share of each user's), temporal (each user's latest share, or everything from --cutoff on)${what}`).choices(['random', 'user', 'temporal']))
    .option('--test-fraction <f>', `share of ratings held out for testing${what}`, parseNumber)
    .option(`${seedFlag} <s>`, `seed of the train/test split${what}`, parseInteger)
    .option('--split-min-ratings <n>', `user/temporal splits: users with fewer ratings stay wholly in train (default 2)${what}`, parseInteger)
    .option('--cutoff <time>', 'temporal split: every rating at or after this Unix time or date (2015-01-01) is a test rating (implies --split temporal)', parseTime)
    .addOption(new Option('--cold-start <what>', `test ratings of users or movies with no training rating: keep or drop${what}`).choices(['keep', 'drop']))
}

/** Adds the loader flags. */
export function addLoadFlags(command: Command): Command {
  return command
    .addOption(new Option('--on-bad-row <what>', 'a row that cannot be read: error (stop) or skip (count it)').choices(['error', 'skip']))
    .option('--rating-scale <min,max>', 'ratings outside [min, max] are bad rows (MovieLens: 0.5,5)', parseScale)
    .option('--min-user-ratings <n>', 'drop users with fewer ratings (repeatedly, with --min-movie-ratings)', parseInteger)
    .option('--min-movie-ratings <n>', 'drop movies with fewer ratings', parseInteger)
    .option('--catalog-only', 'drop ratings of movies the catalog (movies.csv) does not list')
    .option('--load-threads <n>', 'threads parsing the ratings (default: all cores)', parseInteger)
}

/** The split options the flags give (config-section keys), kind set to temporal by a lone --cutoff. */
export function splitFromFlags(o: DataFlagValues, seed: number | undefined): Record<string, unknown> {
  const split: Record<string, unknown> = {}
  if (o.split !== undefined) split.kind = o.split
  else if (o.cutoff !== undefined) split.kind = 'temporal'
  if (o.testFraction !== undefined) split.testFraction = o.testFraction
  if (seed !== undefined) split.seed = seed
  if (o.splitMinRatings !== undefined) split.minRatings = o.splitMinRatings
  if (o.cutoff !== undefined) split.cutoff = o.cutoff
  if (o.coldStart !== undefined) split.coldStart = o.coldStart
  return split
}

/** The loader options the flags give (data-section keys). */
export function loadFromFlags(o: DataFlagValues): Record<string, unknown> {
  const data: Record<string, unknown> = {}
  if (o.onBadRow !== undefined) data.onBadRow = o.onBadRow
  if (o.ratingScale !== undefined) data.ratingScale = o.ratingScale
  if (o.minUserRatings !== undefined) data.minUserRatings = o.minUserRatings
  if (o.minMovieRatings !== undefined) data.minMovieRatings = o.minMovieRatings
  if (o.catalogOnly !== undefined) data.catalogOnly = o.catalogOnly
  if (o.loadThreads !== undefined) data.threads = o.loadThreads
  return data
}
