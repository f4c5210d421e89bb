import { Catalog } from './catalog.js'
import { call, callAsync, invalidArgument } from './errors.js'
import { native, type Native } from './native.js'

export interface LoadOptions {
  /** 'error' (default) stops at the first bad row; 'skip' skips and counts it in the report. */
  onBadRow?: 'error' | 'skip'
}

export interface LoadReport {
  ratingsFile: string
  rowsRead: number
  rowsKept: number
  rowsSkipped: number
  skippedReasons: Array<[string, number]>
  duplicates: number
  users: number
  movies: number
  catalogMovies: number
  minRating: number
  maxRating: number
  density: number
}

export interface SplitOptions {
  kind?: 'random'
  /** Fraction of ratings put in the test set, in (0, 1). Default 0.2. */
  testFraction?: number
  seed?: number
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
    return call(() => this.handle.userRatings(userId))
  }

  /** A seeded train/test split; both parts share this dataset's ids and catalog. */
  split(options: SplitOptions = {}): { train: Dataset; test: Dataset } {
    const { kind = 'random', testFraction = 0.2, seed = 42 } = options
    if (kind !== 'random') throw invalidArgument(`split kind must be 'random' (got '${String(kind)}')`)
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw invalidArgument(`seed must be an integer from 0 to 4294967295 (got ${seed})`)
    const [train, test] = call(() => this.handle.splitRandom(testFraction, seed))
    if (!train || !test) throw new Error('split returned no parts')
    return { train: new Dataset(train, this.catalogCache), test: new Dataset(test, this.catalogCache) }
  }
}

/** Loads a MovieLens directory (ratings.csv + movies.csv) off the main thread. */
export async function loadMovieLens(dir: string, options: LoadOptions = {}): Promise<Dataset> {
  const handle = await callAsync(() => native.loadMovieLens(dir, options))
  return new Dataset(handle)
}

export function loadMovieLensSync(dir: string, options: LoadOptions = {}): Dataset {
  return new Dataset(call(() => native.loadMovieLensSync(dir, options)))
}
