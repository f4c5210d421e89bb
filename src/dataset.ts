import { Catalog } from './catalog.js'
import { call, callAsync, invalidArgument } from './errors.js'
import { native, type Native } from './native.js'
import { boolean, checkId, checkOptions, checkPath, describe, int, oneOf, pair, finite, type Check } from './validate.js'

/** Options of the loaders; unknown keys and values of the wrong type are rejected. */
export interface LoadOptions {
  /** 'error' (default) stops at the first bad row; 'skip' skips and counts it in the report. */
  onBadRow?: 'error' | 'skip'
  /** Ratings outside [min, max] are bad rows. MovieLens files default to [0.5, 5]. */
  ratingScale?: [number, number]
  /** Drop users / movies with fewer ratings, repeatedly until none is left below. */
  minUserRatings?: number
  minMovieRatings?: number
  /** Drop ratings of movies the catalog does not list (counted in report.ratingsNotInCatalog). */
  catalogOnly?: boolean
  /** Worker threads for parsing; default all cores. */
  threads?: number
}

/**
 * Options of `loadSplit`: those of the loaders that apply to a predefined split, and what to do
 * with its cold-start test rows. `minUserRatings`, `minMovieRatings` and `catalogOnly` are
 * rejected: the split is kept as given, and filtering the two files would change it (which
 * ratings count, and on which side). Filter the files first, or load one file and `split` it.
 */
export type LoadSplitOptions = Omit<LoadOptions, 'minUserRatings' | 'minMovieRatings' | 'catalogOnly'> & {
  /** Test rows whose user or movie has no training rating: 'keep' (default) or 'drop'. */
  coldStart?: 'keep' | 'drop'
}

/** How to read a delimited ratings file that is not a MovieLens one. */
export interface ColumnMapping {
  /** Field separator, any non-empty string: ',' (default), '\t', '::', ';', '|'. */
  delimiter?: string
  /** Whether the first line names the columns (default true). */
  header?: boolean
  /** A column by 0-based position, or by header name. */
  user: number | string
  item: number | string
  rating: number | string
  timestamp?: number | string
}

/** Sizes of a split, and the test rows whose user or movie has no rating in train. */
export interface SplitReport {
  trainRows: number
  testRows: number
  coldUserRows: number
  coldMovieRows: number
  /** Rows with a cold user or a cold movie (or both). */
  coldRows: number
  /** Cold rows removed from the test set (coldStart: 'drop'). */
  dropped: number
}

export interface LoadReport {
  ratingsFile: string
  /** 'movielens-csv' | 'movielens-dat' | 'movielens-100k' | 'mapped' */
  format: string
  rowsRead: number
  rowsKept: number
  rowsSkipped: number
  /** [reason, count] pairs, in first-seen order. */
  skippedReasons: Array<[string, number]>
  blankLines: number
  /** Repeated (user, movie) pairs dropped; the latest rating is kept. */
  duplicates: number
  hasTimestamps: boolean
  filteredRatings: number
  filteredUsers: number
  filteredMovies: number
  /** Ratings of movies a (non-empty) catalog does not list; dropped with catalogOnly. */
  ratingsNotInCatalog: number
  users: number
  movies: number
  catalogMovies: number
  minRating: number
  maxRating: number
  density: number
  bytes: number
  /** Wall time of the whole load, and of its parse (read, split, intern) part. */
  seconds: number
  parseSeconds: number
  /** Present on the parts of a split. */
  split?: SplitReport
}

export interface SplitOptions {
  /**
   * 'random' (default): a random fraction of all ratings. 'user': each user with at least
   * `minRatings` ratings keeps a random fraction in test. 'temporal': each user's latest
   * fraction, or with `cutoff` every rating at or after that Unix time.
   */
  kind?: 'random' | 'user' | 'temporal'
  /** Fraction of ratings put in the test set, in (0, 1). Default 0.2. */
  testFraction?: number
  seed?: number
  /** 'user' and 'temporal': users with fewer ratings stay wholly in train (default 2). */
  minRatings?: number
  /** 'temporal': a global cutoff in Unix seconds instead of a per-user fraction. */
  cutoff?: number
  /** Test rows whose user or movie is absent from train: 'keep' (default) or 'drop'. */
  coldStart?: 'keep' | 'drop'
}

export interface SplitResult {
  train: Dataset
  test: Dataset
  report: SplitReport
}

const seedCheck = int(0, 0xffffffff)
const coldStartCheck = oneOf('keep', 'drop')

const LOAD_CHECKS = {
  onBadRow: oneOf('error', 'skip'),
  ratingScale: pair(finite(), '[min, max], two finite numbers'),
  minUserRatings: int(0),
  minMovieRatings: int(0),
  catalogOnly: boolean,
  threads: int(1),
} satisfies Record<string, Check>

const LOAD_SPLIT_CHECKS: Record<string, Check> = {
  onBadRow: LOAD_CHECKS.onBadRow,
  ratingScale: LOAD_CHECKS.ratingScale,
  threads: LOAD_CHECKS.threads,
  coldStart: coldStartCheck,
}
/** Loader options a predefined split does not apply (see `LoadSplitOptions`). */
const NOT_FOR_LOAD_SPLIT = ['minUserRatings', 'minMovieRatings', 'catalogOnly']

const column: Check = (value, name) => {
  if (typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff)) return
  throw invalidArgument(`${name} must be a 0-based column number or a header name (got ${describe(value)})`)
}

const MAPPING_CHECKS: Record<string, Check> = {
  delimiter: (value, name) => {
    if (typeof value !== 'string' || value === '') throw invalidArgument(`${name} must be a non-empty string (got ${describe(value)})`)
  },
  header: boolean,
  user: column,
  item: column,
  rating: column,
  timestamp: column,
}

function mappingJson(mapping: ColumnMapping | undefined): string | undefined {
  if (mapping === undefined || mapping === null) return undefined
  checkOptions('column mapping', mapping, MAPPING_CHECKS, 'mapping.')
  for (const key of ['user', 'item', 'rating'] as const) if (mapping[key] === undefined) throw invalidArgument(`column mapping: mapping.${key} is required (a 0-based column number or a header name)`)
  return JSON.stringify(mapping)
}

const SPLIT_CHECKS: Record<string, Check> = {
  kind: oneOf('random', 'user', 'temporal'),
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
}

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
    return JSON.parse(call(() => this.handle.reportJson())) as LoadReport
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
    const { kind = 'random', testFraction = 0.2, seed = 42, minRatings = 2, cutoff, coldStart } = options
    const json = JSON.stringify({ kind, testFraction, seed, minRatings, cutoff, dropColdStart: coldStart === 'drop' })
    const [train, test] = call(() => this.handle.split(json))
    if (!train || !test) throw new Error('split returned no parts')
    return this.parts(train, test)
  }

  /** k folds: each rating is in exactly one fold's test set; the others form its train set. */
  folds(k: number, seed = 42, options: { coldStart?: 'keep' | 'drop' } = {}): SplitResult[] {
    int(2)(k, 'k')
    seedCheck(seed, 'seed')
    checkOptions('folds options', options, { coldStart: coldStartCheck })
    const handles = call(() => this.handle.folds(k, seed, options.coldStart === 'drop'))
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

function only(sets: Native.Dataset[]): Dataset {
  const [first] = sets
  if (!first) throw new Error('load returned no data set')
  return new Dataset(first)
}

/**
 * Loads a MovieLens directory off the main thread: ratings.csv (ml-latest-small, ml-20m/25m/32m),
 * ratings.dat (ml-1m, ml-10m) or u.data (ml-100k), with movies.csv / movies.dat / u.item and
 * links.csv / tags.csv when present. A MovieLens ratings file may be given instead.
 */
export async function loadMovieLens(dir: string, options: LoadOptions = {}): Promise<Dataset> {
  checkPath('dir', dir)
  checkOptions('load options', options, LOAD_CHECKS)
  return only(await callAsync(() => native.loadMovieLens(dir, options)))
}

export function loadMovieLensSync(dir: string, options: LoadOptions = {}): Dataset {
  checkPath('dir', dir)
  checkOptions('load options', options, LOAD_CHECKS)
  return new Dataset(call(() => native.loadMovieLensSync(dir, options)))
}

/** Loads one ratings file: a MovieLens one (detected) or any delimited file read by `mapping`. */
export async function loadRatings(file: string, mapping?: ColumnMapping, options: LoadOptions = {}): Promise<Dataset> {
  checkPath('file', file)
  const json = mappingJson(mapping)
  checkOptions('load options', options, LOAD_CHECKS)
  return only(await callAsync(() => native.loadRatings(file, json, options)))
}

export function loadRatingsSync(file: string, mapping?: ColumnMapping, options: LoadOptions = {}): Dataset {
  checkPath('file', file)
  const json = mappingJson(mapping)
  checkOptions('load options', options, LOAD_CHECKS)
  return new Dataset(call(() => native.loadRatingsSync(file, json, options)))
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
  const json = mappingJson(mapping)
  if (options !== null && typeof options === 'object') {
    const given = NOT_FOR_LOAD_SPLIT.filter((key) => (options as Record<string, unknown>)[key] !== undefined)
    if (given.length > 0)
      throw invalidArgument(
        `loadSplit options: ${given.join(', ')} ${given.length > 1 ? 'are' : 'is'} not supported: a predefined split is kept as given, and filtering its two files would change the split; filter the files first, or load one ratings file with loadRatings and split it`,
      )
  }
  checkOptions('loadSplit options', options, LOAD_SPLIT_CHECKS)
  const { coldStart, ...rest } = options
  const nativeOptions = { ...rest, dropColdStart: coldStart === 'drop' }
  const [train, test] = await callAsync(() => native.loadSplit(trainFile, testFile, json, nativeOptions))
  if (!train || !test) throw new Error('loadSplit returned no parts')
  const trainSet = new Dataset(train)
  const testSet = new Dataset(test)
  const report = testSet.report.split
  if (!report) throw new Error('loadSplit returned no report')
  return { train: trainSet, test: testSet, report }
}
