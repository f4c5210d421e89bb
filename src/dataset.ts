import { Catalog } from './catalog.js'
import { call, callAsync, invalidArgument } from './errors.js'
import { native, type Native } from './native.js'
import { boolean, checkId, checkOptions, checkPath, describe, int, oneOf, pair, finite, valuesOf, type Check, type ChecksOf } from './validate.js'

/** Options of the loaders (generated from the binding's `LoadOptions`); unknown keys and values of the wrong type are rejected. */
export type LoadOptions = Native.LoadOptions

/**
 * Options of `loadSplit` (generated from the binding's `LoadSplitOptions`): those of the loaders
 * that apply to a predefined split, and what to do with its cold-start test rows.
 */
export type LoadSplitOptions = Native.LoadSplitOptions

/**
 * How to read a delimited ratings file that is not a MovieLens one (generated from the
 * binding's `ColumnMapping`). The movie column was once called `item`; that name is still read
 * (see `LegacyColumnMapping`) but is deprecated.
 */
export type ColumnMapping = Native.ColumnMapping | LegacyColumnMapping

/** @deprecated The old spelling of a ColumnMapping, with `item` for the movie column; use `movie`. */
export type LegacyColumnMapping = Omit<Native.ColumnMapping, 'movie'> & {
  /** @deprecated use `movie`. */
  item: number | string
}

/** Sizes of a split (generated from the binding's `SplitReport`). */
export type SplitReport = Native.SplitReport

/** What a load did (generated from the binding's `LoadReport`). */
export type LoadReport = Native.LoadReport

/** How `dataset.split` divides the ratings (generated from the binding's `SplitOptions`). */
export type SplitOptions = Native.SplitOptions

/** Every rating of a set once, as three parallel arrays in raw ids. */
export type RatingTriplets = Native.RatingTriplets

export interface SplitResult {
  train: Dataset
  test: Dataset
  report: SplitReport
}

const seedCheck = int(0, 0xffffffff)
const coldStartCheck = oneOf(...valuesOf<Native.ColdStart>({ keep: true, drop: true }))
const onBadRowCheck = oneOf(...valuesOf<Native.OnBadRow>({ error: true, skip: true }))
const ratingScaleCheck = pair(finite(), '[min, max], two finite numbers')

const LOAD_CHECKS = {
  onBadRow: onBadRowCheck,
  ratingScale: ratingScaleCheck,
  minUserRatings: int(0),
  minMovieRatings: int(0),
  catalogOnly: boolean,
  threads: int(1),
} satisfies ChecksOf<Native.LoadOptions>

const LOAD_SPLIT_CHECKS = {
  onBadRow: onBadRowCheck,
  ratingScale: ratingScaleCheck,
  threads: int(1),
  coldStart: coldStartCheck,
} satisfies ChecksOf<Native.LoadSplitOptions>
/** Loader options a predefined split does not apply (see `LoadSplitOptions`). */
const NOT_FOR_LOAD_SPLIT = Object.keys(LOAD_CHECKS).filter((key) => !(key in LOAD_SPLIT_CHECKS))

const column: Check = (value, name) => {
  if (typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff)) return
  throw invalidArgument(`${name} must be a 0-based column number or a header name (got ${describe(value)})`)
}

const MAPPING_CHECKS = {
  delimiter: (value, name) => {
    if (typeof value !== 'string' || value === '') throw invalidArgument(`${name} must be a non-empty string (got ${describe(value)})`)
  },
  header: boolean,
  user: column,
  movie: column,
  rating: column,
  timestamp: column,
} satisfies ChecksOf<Native.ColumnMapping>

/** The mapping as the native layer takes it: the deprecated `item` read as `movie`, keys checked. */
function nativeMapping(mapping: ColumnMapping | undefined): Native.ColumnMapping | undefined {
  if (mapping === undefined || mapping === null) return undefined
  let given: unknown = mapping
  if (typeof mapping === 'object' && !Array.isArray(mapping) && 'item' in mapping) {
    const { item, ...rest } = mapping
    if ('movie' in rest) throw invalidArgument('column mapping: give the movie column as mapping.movie only (mapping.item is its deprecated name)')
    given = { ...rest, movie: item }
  }
  checkOptions('column mapping', given, MAPPING_CHECKS, 'mapping.')
  const m = given as Native.ColumnMapping
  for (const key of ['user', 'movie', 'rating'] as const) if (m[key] === undefined) throw invalidArgument(`column mapping: mapping.${key} is required (a 0-based column number or a header name)`)
  return m
}

const SPLIT_CHECKS = {
  kind: oneOf(...valuesOf<Native.SplitKind>({ random: true, user: true, temporal: true })),
  testFraction: (value, name) => {
    if (typeof value === 'number' && value > 0 && value < 1) return
    throw invalidArgument(`${name} must be a number between 0 and 1, exclusive (got ${describe(value)})`)
  },
  seed: seedCheck,
  minRatings: int(0),
  cutoff: (value, name) => {
    if (typeof value === 'number' && Number.isSafeInteger(value)) return
    throw invalidArgument(`${name} must be a whole number of Unix seconds (got ${describe(value)})`)
  },
  coldStart: coldStartCheck,
} satisfies ChecksOf<Native.SplitOptions>

/** Ratings with their id maps and movie catalog; the arrays stay in native memory. */
export class Dataset {
  /** @internal */
  readonly handle: Native.Dataset
  private catalogCache: Catalog | undefined

  /** @internal */
  constructor(handle: Native.Dataset, catalog?: Catalog) {
    this.handle = handle
    this.catalogCache = catalog
  }

  get numRatings(): number {
    return this.handle.numRatings
  }
  /** Users with at least one rating in this set. */
  get numUsers(): number {
    return this.handle.numUsers
  }
  /** Movies with at least one rating in this set. */
  get numMovies(): number {
    return this.handle.numMovies
  }
  get meanRating(): number {
    return this.handle.meanRating
  }
  get report(): LoadReport {
    return this.handle.report
  }
  get catalog(): Catalog {
    this.catalogCache ??= new Catalog(call(() => this.handle.catalog()))
    return this.catalogCache
  }

  /** Raw user ids (as in the file), in index order. */
  userIds(): Float64Array {
    return this.handle.userIds()
  }

  /** The movies a user rated in this set, with the ratings. */
  userRatings(userId: number): { movieIds: Float64Array; ratings: Float32Array } {
    checkId('userId', userId)
    return call(() => this.handle.userRatings(userId))
  }

  /** Raw movie ids (as in the file), in index order: rated movies first, then catalog-only. */
  movieIds(): Float64Array {
    return this.handle.movieIds()
  }

  /** Every rating of this set once, as raw user ids, raw movie ids and ratings in three parallel arrays. */
  ratingTriplets(): RatingTriplets {
    return this.handle.ratingTriplets()
  }

  /** The dense index of a raw user id, or undefined when the user is unknown. */
  userIndex(userId: number): number | undefined {
    checkId('userId', userId)
    const i = this.handle.userIndex(userId)
    return i < 0 ? undefined : i
  }

  /** The dense index of a raw movie id, or undefined when the movie is unknown. */
  movieIndex(movieId: number): number | undefined {
    checkId('movieId', movieId)
    const i = this.handle.movieIndex(movieId)
    return i < 0 ? undefined : i
  }

  /** A movie's distinct tags from tags.csv with how often each was given, most frequent first. */
  movieTags(movieId: number): Array<{ tag: string; count: number }> {
    checkId('movieId', movieId)
    return this.handle.movieTags(movieId)
  }

  /** A seeded train/test split; both parts share this dataset's ids and catalog. */
  split(options: SplitOptions = {}): SplitResult {
    checkOptions('split options', options, SPLIT_CHECKS)
    const [train, test] = call(() => this.handle.split(options))
    if (!train || !test) throw new Error('split returned no parts')
    return this.parts(train, test)
  }

  /** k folds: each rating is in exactly one fold's test set; the others form its train set. */
  folds(k: number, seed = 42, options: { coldStart?: 'keep' | 'drop' } = {}): SplitResult[] {
    int(2)(k, 'k')
    seedCheck(seed, 'seed')
    checkOptions('folds options', options, { coldStart: coldStartCheck })
    const handles = call(() => this.handle.folds(k, seed, options.coldStart))
    const out: SplitResult[] = []
    for (let i = 0; i + 1 < handles.length; i += 2) {
      const [train, test] = [handles[i], handles[i + 1]]
      if (train && test) out.push(this.parts(train, test))
    }
    return out
  }

  private parts(train: Native.Dataset, test: Native.Dataset): SplitResult {
    const testSet = new Dataset(test, this.catalogCache)
    const report = testSet.report.split
    if (!report) throw new Error('split returned no report')
    return { train: new Dataset(train, this.catalogCache), test: testSet, report }
  }
}

/**
 * Loads a MovieLens directory off the main thread: ratings.csv (ml-latest-small, ml-20m/25m/32m),
 * ratings.dat (ml-1m, ml-10m) or u.data (ml-100k), with movies.csv / movies.dat / u.item and
 * links.csv / tags.csv when present. A MovieLens ratings file may be given instead.
 */
export async function loadMovieLens(dir: string, options: LoadOptions = {}): Promise<Dataset> {
  checkPath('dir', dir)
  checkOptions('load options', options, LOAD_CHECKS)
  return new Dataset(await callAsync(() => native.loadMovieLens(dir, options)))
}

export function loadMovieLensSync(dir: string, options: LoadOptions = {}): Dataset {
  checkPath('dir', dir)
  checkOptions('load options', options, LOAD_CHECKS)
  return new Dataset(call(() => native.loadMovieLensSync(dir, options)))
}

/** Loads one ratings file: a MovieLens one (detected) or any delimited file read by `mapping`. */
export async function loadRatings(file: string, mapping?: ColumnMapping, options: LoadOptions = {}): Promise<Dataset> {
  checkPath('file', file)
  const m = nativeMapping(mapping)
  checkOptions('load options', options, LOAD_CHECKS)
  return new Dataset(await callAsync(() => native.loadRatings(file, m, options)))
}

export function loadRatingsSync(file: string, mapping?: ColumnMapping, options: LoadOptions = {}): Dataset {
  checkPath('file', file)
  const m = nativeMapping(mapping)
  checkOptions('load options', options, LOAD_CHECKS)
  return new Dataset(call(() => native.loadRatingsSync(file, m, options)))
}

/**
 * A predefined split (ml-100k u1.base/u1.test … ub, ml-10m r1.train/r1.test, or your own pair):
 * both sets share one pair of id maps; test rows whose user or movie is not in the training
 * file are counted in `report` and kept, or dropped with `coldStart: 'drop'`. The split is
 * taken as given: `minUserRatings`, `minMovieRatings` and `catalogOnly` are rejected (see
 * `LoadSplitOptions`).
 */
export async function loadSplit(trainFile: string, testFile: string, mapping?: ColumnMapping, options: LoadSplitOptions = {}): Promise<SplitResult> {
  checkPath('trainFile', trainFile)
  checkPath('testFile', testFile)
  const m = nativeMapping(mapping)
  if (options !== null && typeof options === 'object') {
    const given = NOT_FOR_LOAD_SPLIT.filter((key) => (options as Record<string, unknown>)[key] !== undefined)
    if (given.length > 0)
      throw invalidArgument(
        `loadSplit options: ${given.join(', ')} ${given.length > 1 ? 'are' : 'is'} not supported: a predefined split is kept as given, and filtering its two files would change the split; filter the files first, or load one ratings file with loadRatings and split it`,
      )
  }
  checkOptions('loadSplit options', options, LOAD_SPLIT_CHECKS)
  const [train, test] = await callAsync(() => native.loadSplit(trainFile, testFile, m, options))
  if (!train || !test) throw new Error('loadSplit returned no parts')
  const trainSet = new Dataset(train)
  const testSet = new Dataset(test)
  const report = testSet.report.split
  if (!report) throw new Error('loadSplit returned no report')
  return { train: trainSet, test: testSet, report }
}
