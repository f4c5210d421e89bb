import { Catalog, type Movie } from './catalog.js'
import { Dataset } from './dataset.js'
import { call, callAsync, invalidArgument } from './errors.js'
import { native, type Native } from './native.js'
import { linkSignal } from './signal.js'
import { abortSignal, boolean, checkedLater, checkId, checkIds, checkOptions, checkPath, checkRatings, describe, finite, i32, instanceOf, int, oneOf, pair, stringArray, valuesOf, type Check, type ChecksOf } from './validate.js'

export interface Recommendation extends Movie {
  /**
   * What the list is ranked by: the ranker's score for models with a ranker (the default, see
   * docs/ranking.md), else the predicted rating (a preference for implicit models); the cosine
   * in similarity queries. Not on the rating scale in general: show `rating` to people.
   */
  score: number
  /** The predicted rating, clamped to the model's rating scale; absent where the model predicts none (implicit models, similarity queries). */
  rating?: number
  /** A 'bayesian' model's posterior standard deviation of the predicted rating (known users only; see `predictionSpread`). */
  spread?: number
}

/**
 * Which movies may be returned, and how they are ranked (generated from the binding's
 * `RecommendOptions`; `candidates` may be any array-like of ids here, it is checked and copied).
 * Unknown keys and values of the wrong type are rejected (ALSREC_INVALID_ARGUMENT).
 */
export type RecommendOptions = Omit<Native.RecommendOptions, 'candidates'> & {
  /** Only these movie ids. */
  candidates?: ArrayLike<number>
}

/** Top-N of every user as flat typed arrays (generated from the binding's `RecommendAllResult`). */
export type RecommendAllResult = Native.RecommendAllResult

/** A model's training config with every default filled in (`model.config`). */
export type ResolvedConfig = Required<Omit<Native.TrainConfig, 'ranker'>> & { ranker: Required<Native.RankerConfig> | null }

/**
 * A movie by id, or by a title that `catalog.findOne` resolves to exactly one movie: an exact
 * title ("The Lord of the Rings", "Lord of the Rings, The (1978)") or the only title containing
 * it; an ambiguous one ("Lord of the Rings", "Star Wars") throws ALSREC_NOT_FOUND listing the
 * candidates with ids and years (`catalog.resolve(title, { pickFirst: true })` takes the first).
 */
export type MovieRef = number | string

export interface NewUserProfile {
  ratings?: Array<{ movie: MovieRef; rating: number }>
  /** Liked genres: enough on their own for a first list. */
  genres?: string[]
}

export interface Contribution extends Movie {
  /** The user's training rating of this movie. */
  rating: number
  /** Rating points this movie adds to (or takes from) the score. */
  points: number
  /** |points| as a fraction of all rated movies' |points|. */
  share: number
}

/** A score split into its terms: score = globalMean + userBias + movieBias + genrePart + latentPart. */
export interface Explanation extends NewUserExplanation {
  userId: number
}

/**
 * `explain` for a visitor's folded-in row. The contributions name rated movies only: with liked
 * genres, their stand-in rows make up the rest of `refitPersonal`.
 */
export interface NewUserExplanation {
  movie: Movie
  score: number
  globalMean: number
  userBias: number
  movieBias: number
  /** u·p_n: what the movie's genres predict (0 outside the genre model). */
  genrePart: number
  /** u·(v_n − p_n): the movie's own profile beyond its genres. */
  latentPart: number
  /** userBias + u·v_n of the user refitted to the final movie vectors: what the contributions add up to. */
  refitPersonal: number
  /** The rated movies that move the score most, largest |points| first. */
  contributions: Contribution[]
}

/** Precision, recall, NDCG, MAP, hit rate, coverage and novelty at k (generated from the binding's `RankingMetrics`). */
export type RankingMetrics = Native.RankingMetrics

export interface RankingOptions {
  /** List length (default 10). */
  k?: number
  /** A test rating at or above this is relevant (default 4). */
  threshold?: number
  signal?: AbortSignal
}

/** How many ratings of a set are a model's training ratings (generated from the binding's `TrainingOverlap`). */
export type TrainingOverlap = Native.TrainingOverlap

/** 2-D coordinates of the movie vectors (generated from the binding's `MovieMap`). */
export type MovieMap = Native.MovieMap

export interface NewRatings {
  userIds: ArrayLike<number>
  movieIds: ArrayLike<number>
  ratings: ArrayLike<number>
}

/** A new movie's catalog entry for `partialFit` (a `Movie` of a `Catalog` will do; other keys are ignored). */
export interface NewMovie {
  movieId: number
  /** As MovieLens writes it, year included: "Dune: Part Two (2024)". */
  title: string
  /** Names from the model's genre vocabulary (`model.catalog.genreNames`), any case. */
  genres: readonly string[]
}

export interface PartialFitOptions {
  /**
   * Catalog entries of new movies (e.g. `(await loadCatalog('movies.csv')).movies`): movies the
   * model's catalog lacks are added with their titles and genres, so the genre model draws
   * their vectors toward their genre prior; listed movies without ratings join as catalog-only
   * movies (vector = genre prior). Entries of movies the catalog lists are ignored. A genre
   * outside the model's vocabulary is refused (ALSREC_INVALID_ARGUMENT).
   */
  movies?: Iterable<NewMovie>
}

const FILTER_CHECKS = {
  n: int(1),
  genres: stringArray,
  minRatings: int(0),
  years: pair(i32, '[from, to], two whole numbers'),
  candidates: checkedLater,
} satisfies Partial<ChecksOf<Native.RecommendOptions>>
const RECOMMEND_CHECKS = { ...FILTER_CHECKS, excludeSeen: boolean, diversity: finite(0, 1) } satisfies ChecksOf<Native.RecommendOptions>
const RECOMMEND_ALL_CHECKS: Record<string, Check> = { ...RECOMMEND_CHECKS, signal: abortSignal }
const SIMILAR_MOVIES_CHECKS: Record<string, Check> = FILTER_CHECKS
const RANKING_CHECKS = { k: int(1), threshold: finite() } satisfies Record<string, Check>
const RANKING_ASYNC_CHECKS: Record<string, Check> = { ...RANKING_CHECKS, signal: abortSignal }
const EXPORT_FORMATS = valuesOf<Native.ExportFormat>({ csv: true, npy: true })
const testSetCheck = instanceOf(Dataset)

/** The options as the native layer takes them; absent keys take the core's defaults. */
function nativeOptions(what: string, o: RecommendOptions, checks: Record<string, Check>): Native.RecommendOptions {
  checkOptions(what, o, checks)
  const { candidates, ...rest } = o
  return candidates === undefined ? rest : { ...rest, candidates: checkIds('candidates', candidates) }
}

/** A trained model and the catalog its movie ids refer to. */
export class Model {
  /** @internal */
  readonly handle: Native.Model
  readonly catalog: Catalog

  /** @internal */
  constructor(handle: Native.Model, catalog?: Catalog) {
    this.handle = handle
    this.catalog = catalog ?? new Catalog(call(() => handle.catalog()))
  }

  get kind(): string {
    return this.handle.kind
  }
  get factors(): number {
    return this.handle.factors
  }
  get globalMean(): number {
    return this.handle.globalMean
  }
  get numUsers(): number {
    return this.handle.numUsers
  }
  get numMovies(): number {
    return this.handle.numMovies
  }
  /** The resolved training config, as the model file stores it: every key, null where unset. */
  get config(): ResolvedConfig {
    return JSON.parse(this.handle.configJson) as ResolvedConfig
  }
  /** One record per epoch trained. */
  get history(): Native.EpochRecord[] {
    return this.handle.history
  }
  /**
   * The epoch of `history` whose parameters the model holds: with `patience`, the first epoch
   * with the lowest test RMSE (training kept it and went on a few epochs); otherwise the last.
   */
  get keptEpoch(): number {
    return this.handle.keptEpoch
  }
  /** Raw user ids, in the model's order. */
  userIds(): Float64Array {
    return this.handle.userIds()
  }
  /** Raw movie ids, in the model's order: rated movies first, then catalog-only ones. */
  movieIds(): Float64Array {
    return this.handle.movieIds()
  }
  /** Each movie's number of training ratings, by raw movie id (0 for catalog-only movies). */
  ratingCounts(): ReadonlyMap<number, number> {
    if (this.countsCache === undefined) {
      const ids = this.handle.movieIds()
      const counts = this.handle.movieRatingCounts()
      this.countsCache = new Map(Array.from(ids, (id, i) => [id, counts[i] ?? 0]))
    }
    return this.countsCache
  }
  private countsCache: Map<number, number> | undefined

  /** The fewest training ratings a movie needs to appear in a list unless `minRatings` says otherwise. */
  get popularityFloor(): number {
    return this.handle.popularityFloor
  }

  /** Whether an implicit ranker decides the lists (the default for 'biased', 'genre' and 'bayesian'). */
  get hasRanker(): boolean {
    return this.handle.hasRanker
  }

  /** [lowest, highest] training rating: the scale new ratings must lie on. */
  ratingRange(): [number, number] {
    return this.handle.ratingRange()
  }

  private movies(r: Native.ScoredMovies): Recommendation[] {
    return Array.from(r.movieIds, (id, i) => {
      const rating = r.ratings[i]
      return { ...this.catalog.describe(id), score: r.scores[i] ?? Number.NaN, ...(rating !== undefined && !Number.isNaN(rating) ? { rating } : {}) }
    })
  }

  private movieId(movie: MovieRef, name: string): number {
    if (typeof movie === 'number') return checkId(name, movie)
    if (typeof movie === 'string') return this.catalog.findOne(movie, { ratingCounts: this.ratingCounts() }).movieId
    throw invalidArgument(`${name} must be a movie id or a title (got ${describe(movie)})`)
  }

  /** The top-N movies for a known user, best first, with titles. Sync: well under a millisecond. */
  recommend(userId: number, options: RecommendOptions = {}): Recommendation[] {
    checkId('userId', userId)
    const o = nativeOptions('recommend options', options, RECOMMEND_CHECKS)
    const list = this.movies(call(() => this.handle.recommend(userId, o)))
    if (this.handle.posterior === null || list.length === 0) return list
    // How sure a Bayesian model is of each predicted rating, beside it.
    const spread = call(() => this.handle.predictionSpread(Float64Array.from(list, () => userId), Float64Array.from(list, (r) => r.movieId)))
    return list.map((r, i) => ({ ...r, spread: spread[i] as number }))
  }

  /** Top-N for every user at once, on all cores, as typed arrays. */
  async recommendAll(options: RecommendOptions & { signal?: AbortSignal } = {}): Promise<RecommendAllResult> {
    checkOptions('recommendAll options', options, RECOMMEND_ALL_CHECKS)
    const { signal, ...query } = options
    const o = nativeOptions('recommendAll options', query, RECOMMEND_CHECKS)
    const { token, done } = linkSignal(signal)
    try {
      return await callAsync(() => this.handle.recommendAll(o, token))
    } finally {
      done()
    }
  }

  /**
   * Top-N of these users (raw ids, in the order given), laid out as `recommendAll`'s result
   * (`userIds` is the ids asked for). An unknown user is ALSREC_NOT_FOUND before any list is made.
   */
  async recommendMany(userIds: ArrayLike<number>, options: RecommendOptions & { signal?: AbortSignal } = {}): Promise<RecommendAllResult> {
    const users = checkIds('userIds', userIds)
    checkOptions('recommendMany options', options, RECOMMEND_ALL_CHECKS)
    const { signal, ...query } = options
    const o = nativeOptions('recommendMany options', query, RECOMMEND_CHECKS)
    const { token, done } = linkSignal(signal)
    try {
      return await callAsync(() => this.handle.recommendMany(users, o, token))
    } finally {
      done()
    }
  }

  recommendManySync(userIds: ArrayLike<number>, options: RecommendOptions = {}): RecommendAllResult {
    const users = checkIds('userIds', userIds)
    const o = nativeOptions('recommendManySync options', options, RECOMMEND_CHECKS)
    return call(() => this.handle.recommendManySync(users, o))
  }

  recommendAllSync(options: RecommendOptions = {}): RecommendAllResult {
    const o = nativeOptions('recommendAllSync options', options, RECOMMEND_CHECKS)
    return call(() => this.handle.recommendAllSync(o))
  }

  /** The predicted rating of a user for a movie. */
  predict(userId: number, movieId: number): number {
    checkId('userId', userId)
    checkId('movieId', movieId)
    return call(() => this.handle.predict(userId, movieId))
  }

  /** Predictions for the pairs (userIds[j], movieIds[j]). */
  predictMany(userIds: ArrayLike<number>, movieIds: ArrayLike<number>): Float32Array {
    const users = checkIds('userIds', userIds)
    const movies = checkIds('movieIds', movieIds)
    return call(() => this.handle.predictMany(users, movies))
  }

  /**
   * The posterior standard deviation of each prediction of `predictMany(userIds, movieIds)`:
   * how sure a 'bayesian' model is of the score (docs/model.md, "Bayesian ALS"). Other kinds
   * have no posterior and throw ALSREC_INVALID_ARGUMENT.
   */
  predictionSpread(userIds: ArrayLike<number>, movieIds: ArrayLike<number>): Float32Array {
    const users = checkIds('userIds', userIds)
    const movies = checkIds('movieIds', movieIds)
    return call(() => this.handle.predictionSpread(users, movies))
  }

  /** A 'bayesian' model's learned precisions, averaged over its kept sweeps; null for other kinds. */
  get posterior(): Native.PosteriorSummary | null {
    return this.handle.posterior ?? null
  }

  /**
   * Recommendations for someone the model has not seen, from a few ratings (movies by id or
   * title) and/or liked genres: the visitor is folded in by the training update with the movies
   * fixed. Rated movies are left out of the list.
   */
  recommendForNewUser(profile: NewUserProfile, options: RecommendOptions = {}): Recommendation[] {
    const [ids, values, genres] = this.profileArrays(profile)
    const o = nativeOptions('recommendForNewUser options', options, RECOMMEND_CHECKS)
    return this.movies(call(() => this.handle.recommendForNewUser(ids, values, genres, o)))
  }

  /** A profile's rated movie ids, their ratings and the liked genres, checked. */
  private profileArrays(profile: NewUserProfile): [Float64Array, Float32Array, string[]] {
    if (profile === undefined) throw invalidArgument('profile must be an object { ratings?, genres? } (got undefined)')
    checkOptions('profile', profile, PROFILE_CHECKS, 'profile.')
    const ratings = profile.ratings ?? []
    const ids = new Float64Array(ratings.length)
    const values = new Float32Array(ratings.length)
    ratings.forEach((r, i) => {
      const name = `profile.ratings[${i}]`
      checkOptions(name, r, RATED_CHECKS, `${name}.`)
      if (r === undefined || r.movie === undefined || r.rating === undefined) throw invalidArgument(`${name} must be { movie, rating } (got ${describe(r)})`)
      ids[i] = this.movieId(r.movie, `${name}.movie`)
      values[i] = r.rating
    })
    return [ids, values, profile.genres ?? []]
  }

  /** The movies nearest to a movie by cosine similarity of their vectors; `score` is the cosine. */
  similarMovies(movie: MovieRef, options: Omit<RecommendOptions, 'excludeSeen' | 'diversity'> = {}): Recommendation[] {
    const id = this.movieId(movie, 'movie')
    const o = nativeOptions('similarMovies options', options, SIMILAR_MOVIES_CHECKS)
    return this.movies(call(() => this.handle.similarMovies(id, o)))
  }

  /** The users nearest to a user by cosine similarity. */
  similarUsers(userId: number, options: { n?: number } = {}): Array<{ userId: number; score: number }> {
    checkId('userId', userId)
    checkOptions('similarUsers options', options, { n: int(1) })
    const n = options.n ?? 10
    const r = call(() => this.handle.similarUsers(userId, n))
    return Array.from(r.userIds, (id, i) => ({ userId: id, score: r.scores[i] ?? Number.NaN }))
  }

  /** Why the user gets this score: its terms and the rated movies that weigh most. */
  explain(userId: number, movie: MovieRef, options: { top?: number } = {}): Explanation {
    checkId('userId', userId)
    const movieId = this.movieId(movie, 'movie')
    checkOptions('explain options', options, { top: int(1) })
    const top = options.top ?? 5
    const e = call(() => this.handle.explain(userId, movieId, top))
    return { userId, ...this.explanation(movieId, e) }
  }

  /**
   * Why a visitor (as `recommendForNewUser` folds them in) gets this score: `explain`'s terms and
   * rated movies for their folded-in row. Synchronous, as `explain`: one small solve.
   */
  explainForNewUser(profile: NewUserProfile, movie: MovieRef, options: { top?: number } = {}): NewUserExplanation {
    const [ids, values, genres] = this.profileArrays(profile)
    const movieId = this.movieId(movie, 'movie')
    checkOptions('explainForNewUser options', options, { top: int(1) })
    const top = options.top ?? 5
    return this.explanation(movieId, call(() => this.handle.explainForNewUser(ids, values, genres, movieId, top)))
  }

  /**
   * `explainForNewUser` for several movies (a whole list's "because" lines): the visitor is
   * folded in and their system factorized once, instead of once per movie.
   */
  explainManyForNewUser(profile: NewUserProfile, movies: readonly MovieRef[], options: { top?: number } = {}): NewUserExplanation[] {
    const [ids, values, genres] = this.profileArrays(profile)
    if (!Array.isArray(movies)) throw invalidArgument(`movies must be an array of movie ids or titles (got ${describe(movies)})`)
    const movieIds = Float64Array.from(movies, (m, i) => this.movieId(m, `movies[${i}]`))
    checkOptions('explainManyForNewUser options', options, { top: int(1) })
    const top = options.top ?? 5
    const explained = call(() => this.handle.explainManyForNewUser(ids, values, genres, movieIds, top))
    return explained.map((e, i) => this.explanation(movieIds[i] ?? Number.NaN, e))
  }

  private explanation(movieId: number, e: Native.ExplanationJs): NewUserExplanation {
    return {
      movie: this.catalog.describe(movieId),
      score: e.score,
      globalMean: e.globalMean,
      userBias: e.userBias,
      movieBias: e.movieBias,
      genrePart: e.genrePart,
      latentPart: e.latentPart,
      refitPersonal: e.refitPersonal,
      contributions: e.contributions.map((c) => ({ ...this.catalog.describe(c.movieId), rating: c.rating, points: c.points, share: c.share })),
    }
  }

  /**
   * A new model with these ratings folded in: new users and movies get rows, users with new
   * ratings are refitted. `options.movies` gives new movies their titles and genres.
   */
  async partialFit(ratings: NewRatings, options: PartialFitOptions = {}): Promise<Model> {
    const [u, m, r] = newRatingArrays(ratings)
    const movies = newMovies(options)
    const handle = await callAsync(() => this.handle.partialFit(u, m, r, movies))
    return new Model(handle, movies === undefined ? this.catalog : undefined)
  }

  partialFitSync(ratings: NewRatings, options: PartialFitOptions = {}): Model {
    const [u, m, r] = newRatingArrays(ratings)
    const movies = newMovies(options)
    const handle = call(() => this.handle.partialFitSync(u, m, r, movies))
    return new Model(handle, movies === undefined ? this.catalog : undefined)
  }

  /** The movies with the longest ("polarizing") and shortest (bland) vectors; `score` is the norm. */
  vectorNorms(options: { n?: number; minRatings?: number } = {}): { largest: Recommendation[]; smallest: Recommendation[] } {
    checkOptions('vectorNorms options', options, { n: int(1), minRatings: int(0) })
    const n = options.n ?? 10
    const r = call(() => this.handle.vectorNorms(n, options.minRatings ?? 10))
    return { largest: this.movies(r.largest), smallest: this.movies(r.smallest) }
  }

  /** 2-D coordinates of the movie vectors on their first two principal components. */
  movieMap(options: { minRatings?: number } = {}): MovieMap {
    checkOptions('movieMap options', options, { minRatings: int(0) })
    return call(() => this.handle.movieMap(options.minRatings ?? 1))
  }

  /** Precision, recall, NDCG, MAP and hit rate at k on a test set, catalog coverage and novelty (docs/ranking.md). */
  async rankingMetrics(testSet: Dataset, options: RankingOptions = {}): Promise<RankingMetrics> {
    testSetCheck(testSet, 'testSet')
    checkOptions('rankingMetrics options', options, RANKING_ASYNC_CHECKS)
    const k = options.k ?? 10
    const threshold = options.threshold ?? 4
    const { token, done } = linkSignal(options.signal)
    try {
      return await callAsync(() => this.handle.rankingMetrics(testSet.handle, k, threshold, token))
    } finally {
      done()
    }
  }

  rankingMetricsSync(testSet: Dataset, options: Omit<RankingOptions, 'signal'> = {}): RankingMetrics {
    testSetCheck(testSet, 'testSet')
    checkOptions('rankingMetricsSync options', options, RANKING_CHECKS)
    const k = options.k ?? 10
    return call(() => this.handle.rankingMetricsSync(testSet.handle, k, options.threshold ?? 4))
  }

  /**
   * How many ratings of `testSet` are this model's training ratings ((user, movie) pairs
   * matched by raw id), counted in one parallel pass off the JavaScript thread. Scoring a model
   * on ratings it was trained on flatters it: a test set from another split or seed of the same
   * data overlaps its training set. `evaluateTarget` / `alsrec evaluate` refuse such a set
   * unless told to drop (or include) them.
   */
  async trainingOverlap(testSet: Dataset): Promise<TrainingOverlap> {
    testSetCheck(testSet, 'testSet')
    return await callAsync(() => this.handle.trainingOverlap(testSet.handle))
  }

  trainingOverlapSync(testSet: Dataset): TrainingOverlap {
    testSetCheck(testSet, 'testSet')
    return call(() => this.handle.trainingOverlapSync(testSet.handle))
  }

  /** `testSet` without this model's training ratings (same ids and catalog): what is left to test it on. */
  async withoutTrainingRatings(testSet: Dataset): Promise<Dataset> {
    testSetCheck(testSet, 'testSet')
    return new Dataset(await callAsync(() => this.handle.withoutTrainingRatings(testSet.handle)), testSet.catalog)
  }

  withoutTrainingRatingsSync(testSet: Dataset): Dataset {
    testSetCheck(testSet, 'testSet')
    return new Dataset(call(() => this.handle.withoutTrainingRatingsSync(testSet.handle)), testSet.catalog)
  }

  /** Writes the model file atomically: an existing file is replaced only once the new one is complete. */
  async save(path: string): Promise<void> {
    checkPath('path', path)
    await callAsync(() => this.handle.save(path))
  }

  saveSync(path: string): void {
    checkPath('path', path)
    call(() => this.handle.saveSync(path))
  }

  /** Writes factors and biases into `dir` as CSV or `.npy` files; returns the file names. */
  exportFactors(dir: string, options: { format?: 'csv' | 'npy' } = {}): string[] {
    checkPath('dir', dir)
    checkOptions('exportFactors options', options, { format: oneOf(...EXPORT_FORMATS) })
    return call(() => this.handle.exportFactors(dir, options.format ?? 'npy'))
  }

  /**
   * Writes the model as a Spark MLlib `ALSModel` folder that `ALSModel.load` reads (docs/spark.md):
   * models with biases as u′ = [u, b_u, 1], v′ = [v, 1, μ + c_n] (rank k + 2), so Spark predicts
   * exactly what alsrec does; implicit models as they are. An existing `dir` only with `force`.
   */
  async exportSpark(dir: string, options: { force?: boolean } = {}): Promise<Native.SparkExport> {
    checkPath('dir', dir)
    checkOptions('exportSpark options', options, { force: boolean })
    return await callAsync(() => native.exportSpark(this.handle, dir, options.force === true))
  }
}

const PROFILE_CHECKS: Record<string, Check> = {
  ratings: (value, name) => {
    if (!Array.isArray(value)) throw invalidArgument(`${name} must be an array of { movie, rating } (got ${describe(value)})`)
  },
  genres: stringArray,
}
const RATED_CHECKS: Record<string, Check> = { movie: checkedLater, rating: finite() }
const NEW_RATINGS_CHECKS: Record<string, Check> = { userIds: checkedLater, movieIds: checkedLater, ratings: checkedLater }

function newMovies(options: PartialFitOptions): Native.NewMovie[] | undefined {
  checkOptions('partialFit options', options, { movies: checkedLater })
  if (options.movies === undefined) return undefined
  if (options.movies === null || typeof options.movies === 'string' || typeof (options.movies as Partial<Iterable<NewMovie>>)[Symbol.iterator] !== 'function') {
    throw invalidArgument(`partialFit options.movies must be an array of { movieId, title, genres } (got ${describe(options.movies)})`)
  }
  const out: Native.NewMovie[] = []
  let i = 0
  for (const m of options.movies) {
    const name = `options.movies[${i++}]`
    if (m === null || typeof m !== 'object') throw invalidArgument(`${name} must be { movieId, title, genres } (got ${describe(m)})`)
    checkId(`${name}.movieId`, m.movieId)
    if (typeof m.title !== 'string') throw invalidArgument(`${name}.title must be a string (got ${describe(m.title)})`)
    stringArray(m.genres, `${name}.genres`)
    out.push({ movieId: m.movieId, title: m.title, genres: [...m.genres] })
  }
  return out
}

function newRatingArrays(r: NewRatings): [Float64Array, Float64Array, Float32Array] {
  if (r === undefined) throw invalidArgument('partialFit takes { userIds, movieIds, ratings } (got undefined)')
  checkOptions('partialFit ratings', r, NEW_RATINGS_CHECKS)
  for (const key of ['userIds', 'movieIds', 'ratings'] as const) if (r[key] === undefined) throw invalidArgument(`partialFit takes { userIds, movieIds, ratings }: ${key} is missing`)
  return [checkIds('userIds', r.userIds), checkIds('movieIds', r.movieIds), checkRatings('ratings', r.ratings)]
}

/**
 * Reads a movie catalog: a `movies.csv` (MovieLens `movieId,title,genres`), `movies.dat`,
 * `u.item`, or a folder holding one (with its links.csv and tags.csv).
 */
export async function loadCatalog(path: string): Promise<Catalog> {
  checkPath('path', path)
  return new Catalog(await callAsync(() => native.loadCatalog(path)))
}

export function loadCatalogSync(path: string): Catalog {
  checkPath('path', path)
  return new Catalog(call(() => native.loadCatalogSync(path)))
}

/** Reads a model file, checking its magic, version, sizes and checksum. */
export async function loadModel(path: string): Promise<Model> {
  checkPath('path', path)
  return new Model(await callAsync(() => native.loadModel(path)))
}

export function loadModelSync(path: string): Model {
  checkPath('path', path)
  return new Model(call(() => native.loadModelSync(path)))
}
