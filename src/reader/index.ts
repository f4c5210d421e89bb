// A pure-TypeScript reader and scorer of alsrec model files (docs/model-format.md). It uses only
// DataView, typed arrays and TextDecoder, so it runs in a browser or an edge worker without the
// native addon. It refuses exactly the files the native loader refuses, always with an
// ALSREC_BAD_MODEL_FILE error: `ModelReader`'s constructor is a port of `decode` and `build` in
// crates/alsrec-core/src/modelfile.rs, with the header's types and `check_header` in
// ./header.ts, the config's serde rules and `validate()` in ./config.ts, and serde_json's JSON
// rules in ./json.ts. Scores are computed in f32 with the same operation order as the Rust core
// (Math.fround after every step), so results match the native `recommend`/`similarMovies` bit
// for bit.
import { AlsrecError } from '../errors.js'
import { configForDisplay, hasGenreVectors, type TrainConfig } from './config.js'
import { crc32c } from './crc32c.js'
import { headerProblem, MAX_ABS_VALUE, parseHeader, type Header, type Section } from './header.js'
import { idKey, JsonError, type Id } from './json.js'
import { cholesky, choleskySolve, regularizedGram } from './linalg.js'
import { seriesMembers, trim, trimEnd } from './series.js'

const MAGIC = 'ALSRECMF'
const FORMAT_VERSION = 1
const PREAMBLE = 24
/** The core's `catalog::NO_GENRES`, which a catalog drops. */
const NO_GENRES = '(no genres listed)'

export interface ReaderRecommendation {
  movieId: number
  title: string
  year: number | null
  genres: string[]
  score: number
  /** The predicted rating clamped to the rating scale; absent where the model predicts none. */
  rating?: number
}

/** A visitor the model has never seen: ratings of known movies (by id) and/or liked genres. */
export interface ReaderNewUser {
  ratings?: Array<{ movie: number; rating: number }>
  genres?: string[]
}

/** The native `recommendForNewUser` options the reader answers. */
export interface ReaderNewUserOptions {
  n?: number
  minRatings?: number
  /** Only movies with at least one of these genres. */
  genres?: string[]
  /** Genre diversity (MMR weight) from 0 to 1. */
  diversity?: number
  excludeSeen?: boolean
}

/** The native `explainForNewUser`: the visitor's score split into its terms and rated movies. */
export interface ReaderExplanation {
  score: number
  globalMean: number
  userBias: number
  movieBias: number
  genrePart: number
  latentPart: number
  refitPersonal: number
  /** The rated movies that move the score most, largest |points| first. */
  contributions: Array<{ movieId: number; title: string; rating: number; points: number; share: number }>
}

/** How many of a liked genre's most-rated movies stand for it (the core's `GENRE_EXAMPLES`). */
const GENRE_EXAMPLES = 50

/** The fixed rows a fold-in solves against: vectors (views into a factor matrix), biases and ratings. */
interface Rows {
  vectors: Array<[Float32Array, number]>
  bias: number[]
  ratings: number[]
}

/** One row's least-squares problem (the core's `ExplicitRow` / `ImplicitRow`), in f64. */
interface RowProblem {
  k: number
  implicit: boolean
  lambda: number
  tau: number
  gamma: number
  alpha: number
  mu: number
  weighted: boolean
  /** The fixed side's vectors, for implicit rows' λ VᵀV + τ I (`base`, built on first use). */
  factors: Float32Array | null
  base: Float64Array | null
  /** A Bayesian model's user prior: Λ and Λ m. */
  prior: { precision: Float64Array; precisionTimesMean: Float64Array } | null
}

/** A visitor folded in: (u, b), the rows behind them and the rated movies (the rows' first ones). */
interface Visitor {
  u: Float64Array
  b: number
  rows: Rows
  items: number[]
  ratings: number[]
  genres: number[]
  /** The factorized system: L with A = L Lᵀ, of size k + 1 (k for implicit models); null if singular. */
  factor: Float64Array | null
}

function bad(message: string): AlsrecError {
  return new AlsrecError('ALSREC_BAD_MODEL_FILE', message)
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

function f32(x: number): number {
  return Math.fround(x)
}

/** Rust's `f32::max`: a NaN loses to a number. */
function fmax(a: number, b: number): number {
  if (Number.isNaN(a)) return b
  if (Number.isNaN(b)) return a
  return a > b ? a : b
}


/** The core's `year_from_title`: the year of a trailing "(1995)" or "(1995-1997)", or null. */
function yearFromTitle(title: string): number | null {
  let t = trimEnd(title)
  if (!t.endsWith(')')) return null
  t = t.slice(0, -1)
  const open = t.lastIndexOf('(')
  if (open < 0) return null
  const first = t.slice(open + 1).split(/[-\u2013]/)[0] ?? ''
  return /^[0-9]{4}$/.test(first) ? Number(first) : null
}

/** Raw ids to indices, exact for every i64 (numbers below 2^53, bigints beyond: see `idKey`). */
class IdIndex {
  private readonly map = new Map<Id, number>()
  set(key: Id, index: number): void {
    this.map.set(key, index)
  }
  get size(): number {
    return this.map.size
  }
  /** The index of a raw id given as a JS number, or undefined. */
  get(id: number): number | undefined {
    if (!Number.isInteger(id)) return undefined
    return this.map.get(id >= -9007199254740992 && id < 9007199254740992 ? id : BigInt(id))
  }
}

/** The i64 at `at`: as the double nearest to it (what the native API returns) and as a key. */
function i64At(view: DataView, at: number): [number, Id] {
  const lo = view.getUint32(at, true)
  const hi = view.getInt32(at + 4, true)
  const value = hi * 4294967296 + lo
  if (hi >= -2097152 && hi < 2097152) return [value, value]
  return [value, idKey((BigInt(hi) << 32n) | BigInt(lo))]
}

/** The Rust core's `kernels::dot`: eight f32 accumulators, added pairwise, then the tail. */
function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, k: number): number {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0
  const chunks = Math.floor(k / 8)
  for (let c = 0; c < chunks; c++) {
    const x = ao + c * 8
    const y = bo + c * 8
    a0 = f32(a0 + f32((a[x] as number) * (b[y] as number)))
    a1 = f32(a1 + f32((a[x + 1] as number) * (b[y + 1] as number)))
    a2 = f32(a2 + f32((a[x + 2] as number) * (b[y + 2] as number)))
    a3 = f32(a3 + f32((a[x + 3] as number) * (b[y + 3] as number)))
    a4 = f32(a4 + f32((a[x + 4] as number) * (b[y + 4] as number)))
    a5 = f32(a5 + f32((a[x + 5] as number) * (b[y + 5] as number)))
    a6 = f32(a6 + f32((a[x + 6] as number) * (b[y + 6] as number)))
    a7 = f32(a7 + f32((a[x + 7] as number) * (b[y + 7] as number)))
  }
  // The lanes are added pairwise, as `kernels::dot` does: ((0+4) + (1+5)) + ((2+6) + (3+7)).
  let sum = f32(f32(f32(a0 + a4) + f32(a1 + a5)) + f32(f32(a2 + a6) + f32(a3 + a7)))
  for (let j = chunks * 8; j < k; j++) sum = f32(sum + f32((a[ao + j] as number) * (b[bo + j] as number)))
  return sum
}

// The core ranks by `f32::total_cmp`: +0 above −0, and a NaN by its sign bit. From finite
// inputs a NaN only comes out of arithmetic (∞/∞, ∞ − ∞, when a vector's norm overflows), and
// on x86-64 that is the default NaN, whose sign bit is set: it ranks below −∞. JavaScript cannot
// see a NaN's sign, so every NaN ranks last here, as on x86-64 (aarch64's default NaN is
// positive and would rank first natively).

/** Whether score a ranks above b in `f32::total_cmp` order. */
function above(a: number, b: number): boolean {
  if (a !== a) return false
  if (b !== b) return true
  return a > b || (a === 0 && b === 0 && Object.is(b, -0) && !Object.is(a, -0))
}

/** Equal in `f32::total_cmp` order. */
function same(a: number, b: number): boolean {
  if (a !== a || b !== b) return a !== a && b !== b
  return a === b && Object.is(a, -0) === Object.is(b, -0)
}

/** Keeps the n best (score descending by `total_cmp`, then index ascending), like the core's top-N. */
class TopN {
  readonly items: number[] = []
  readonly scores: number[] = []
  constructor(private readonly n: number) {}
  push(item: number, score: number): void {
    const len = this.items.length
    if (len === this.n) {
      const worst = this.scores[len - 1] as number
      if (above(worst, score) || (same(score, worst) && item > (this.items[len - 1] as number))) return
    }
    let at = len
    while (at > 0 && (above(score, this.scores[at - 1] as number) || (same(this.scores[at - 1] as number, score) && (this.items[at - 1] as number) > item))) at--
    this.items.splice(at, 0, item)
    this.scores.splice(at, 0, score)
    if (this.items.length > this.n) {
      this.items.pop()
      this.scores.pop()
    }
  }
}

/** The model's bytes as a Uint8Array, or an ALSREC_INVALID_ARGUMENT error for anything else. */
function asBytes(input: unknown): Uint8Array {
  if (input instanceof Uint8Array) return input
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
  const tag = Object.prototype.toString.call(input)
  if (tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]') return new Uint8Array(input as ArrayBuffer)
  throw new AlsrecError('ALSREC_INVALID_ARGUMENT', `readModel needs the file's bytes (a Uint8Array or an ArrayBuffer), got ${tag.slice(8, -1)}`)
}

/** An f32 section: a view of the file's bytes where alignment allows, else a copy. */
type Floats = Float32Array

export class ModelReader {
  readonly kind: string
  readonly k: number
  readonly globalMean: number
  /** The training config as the native model's `config` shows it (defaults filled in, no ranker without one). */
  readonly config: TrainConfig
  readonly numUsers: number
  readonly numMovies: number
  private readonly userIndex = new IdIndex()
  private readonly movieIndex = new IdIndex()
  private readonly movieIds: Float64Array
  private readonly movieKeys: Id[]
  private readonly userFactors: Floats
  private readonly userBias: Floats
  private readonly movieFactors: Floats
  private readonly movieBias: Floats
  private readonly seenIndptr: Uint32Array
  private readonly seenIndices: Uint32Array
  private readonly seenValues: Floats
  /** Series members per movie index, for the ranker's series bonus (built on first use). */
  private series: Array<number[] | null> | null = null
  private readonly catalog = new Map<Id, { title: string; year: number | null; genres: string[]; genreIndices: number[] }>()
  private movieNorms: Float32Array | null = null
  /** The ranker's vectors (docs/ranking.md), or null. */
  private readonly ranker: { k: number; userFactors: Floats; movieFactors: Floats; ratingWeight: number; ratingSupport: number; popularityPenalty: number; seriesBonus: number } | null
  private readonly movieCounts: Uint32Array
  private readonly ratingRange: [number, number]
  private rankSpace: { k: number; rows: Float32Array; offset: Float32Array; userNorm: number } | null = null
  /** The fewest training ratings a movie needs to appear in a list by default (as the native model). */
  readonly popularityFloor: number
  private readonly genreFactors: Floats
  /** Header genre indices by lower-case name (the names the catalog keeps). */
  private readonly genreByName = new Map<string, number>()
  private readonly problem: RowProblem
  private readonly rankerProblem: RowProblem | null
  private movieGenreCache: number[][] | null = null

  /**
   * Parses and checks a model file's bytes as the native loader does (`modelfile::decode`):
   * magic, version, length, checksum, the header's types and fields, then every section.
   */
  constructor(input: Uint8Array | ArrayBuffer) {
    const bytes = asBytes(input)
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    if (bytes.length < 8 || String.fromCharCode(...bytes.subarray(0, 8)) !== MAGIC) throw bad('not an alsrec model file (wrong magic bytes)')
    if (bytes.length < PREAMBLE + 4) throw bad(`truncated: ${bytes.length} bytes, shorter than the fixed preamble`)
    const version = view.getUint32(8, true)
    if (version > FORMAT_VERSION) throw bad(`format version ${version} is newer than this reader reads (${FORMAT_VERSION})`)
    if (version === 0) throw bad('format version 0 is not valid')
    const declared = view.getBigUint64(16, true)
    if (BigInt(bytes.length) < declared) throw bad(`truncated: the file has ${bytes.length} bytes, its header says ${declared}`)
    if (BigInt(bytes.length) > declared) throw bad(`${BigInt(bytes.length) - declared} unexpected bytes after the end (${declared} bytes)`)
    const total = bytes.length
    const end = total - 4
    const stored = view.getUint32(end, true)
    const actual = crc32c(bytes.subarray(0, end))
    if (stored !== actual) throw bad(`checksum mismatch (stored ${stored.toString(16)}, computed ${actual.toString(16)}): the file is damaged`)
    const headerLen = view.getUint32(12, true)
    if (PREAMBLE + headerLen > end) throw bad('the header length runs past the end of the file')
    let h: Header
    try {
      h = parseHeader(bytes.subarray(PREAMBLE, PREAMBLE + headerLen))
    } catch (err) {
      if (err instanceof JsonError) throw bad(`invalid header: ${err.message}`)
      // A header beyond what this engine can hold (strings past its maximum length, say).
      throw bad(`invalid header: ${err instanceof Error ? err.message : String(err)}`)
    }
    // `build`, check by check.
    const problem = headerProblem(h)
    if (problem !== null) throw bad(problem)
    const { numUsers: m, numMovies: n, k } = h
    const genreRows = hasGenreVectors(h.config) ? h.genreNames.length : 0
    const section = (name: string, dtype: 'f32' | 'u32' | 'i64' | 'u64', count: number | null): Section => {
      const s = h.sections.find((x) => x.name === name)
      if (!s) throw bad(`section '${name}' is missing`)
      if (s.dtype !== dtype) throw bad(`section '${name}' has dtype ${s.dtype} (expected ${dtype})`)
      if (count !== null && s.count !== count) throw bad(`section '${name}' holds ${s.count} values (expected ${count})`)
      const len = s.count * (dtype === 'i64' || dtype === 'u64' ? 8 : 4)
      // Sizes past 2^53 are not exact here, but are far past the end of any file either way.
      if (s.offset % 8 !== 0 || s.offset < PREAMBLE || s.offset + len > end) throw bad(`section '${name}' lies outside the file`)
      return s
    }
    const floats = (s: Section): Floats => {
      const at = bytes.byteOffset + s.offset
      if (LITTLE_ENDIAN && at % 4 === 0) return new Float32Array(bytes.buffer, at, s.count)
      const out = new Float32Array(s.count)
      for (let i = 0; i < s.count; i++) out[i] = view.getFloat32(s.offset + 4 * i, true)
      return out
    }
    // The core's `finite` and MAX_ABS_VALUE: beyond ±1e6 a score or a norm could overflow.
    const finite = (name: string, values: Floats): Floats => {
      for (let i = 0; i < values.length; i++) {
        const v = values[i] as number
        if (!(Math.abs(v) <= MAX_ABS_VALUE)) throw bad(Number.isFinite(v) ? `section '${name}' holds ${v} at ${i}, beyond ±${MAX_ABS_VALUE}` : `section '${name}' holds a non-finite value (${v}) at ${i}`)
      }
      return values
    }
    const ids = (s: Section, index: IdIndex): [Float64Array, Id[]] => {
      const values = new Float64Array(s.count)
      const keys: Id[] = new Array<Id>(s.count)
      for (let i = 0; i < s.count; i++) {
        const [value, key] = i64At(view, s.offset + 8 * i)
        values[i] = value
        keys[i] = key
        index.set(key, i)
      }
      return [values, keys]
    }
    const userIds = section('userIds', 'i64', m)
    const movieIds = section('movieIds', 'i64', n)
    const genreFactors = section('genreFactors', 'f32', null)
    const genreCount = genreRows * k
    if (genreFactors.count !== genreCount && genreFactors.count !== 0) throw bad(`section 'genreFactors' holds ${genreFactors.count} values (expected ${genreCount})`)
    const ptr = section('seenIndptr', 'u64', m + 1)
    const nnz = h.numSeen
    // Every entry ≤ numSeen < 2^32 in a valid row index (it rises to numSeen), so a high word
    // that is not 0 is refused as natively, where the rise back to numSeen would fail.
    const indptr = new Uint32Array(m + 1)
    let rowIndexValid = true
    for (let u = 0; u <= m; u++) {
      if (view.getUint32(ptr.offset + 8 * u + 4, true) !== 0) rowIndexValid = false
      indptr[u] = view.getUint32(ptr.offset + 8 * u, true)
      if (u > 0 && (indptr[u - 1] as number) > (indptr[u] as number)) rowIndexValid = false
    }
    if (!rowIndexValid || indptr[0] !== 0 || indptr[m] !== nnz) throw bad("section 'seenIndptr' is not a valid row index")
    const idx = section('seenIndices', 'u32', nnz)
    const at = bytes.byteOffset + idx.offset
    const indices = LITTLE_ENDIAN && at % 4 === 0 ? new Uint32Array(bytes.buffer, at, idx.count) : Uint32Array.from({ length: idx.count }, (_, i) => view.getUint32(idx.offset + 4 * i, true))
    for (let j = 0; j < indices.length; j++) if ((indices[j] as number) >= n) throw bad("section 'seenIndices' refers to a movie past the end")
    // Queries walk each user's seen movies in order to skip them: a row must be sorted, once each.
    for (let u = 0; u < m; u++) {
      for (let j = (indptr[u] as number) + 1; j < (indptr[u + 1] as number); j++) {
        if ((indices[j - 1] as number) >= (indices[j] as number)) throw bad(`section 'seenIndices' is not sorted and distinct in row ${u}`)
      }
    }
    const c = h.catalog
    const rows = c.ids.length
    if (c.titles.length !== rows || c.genres.length !== rows || c.years.length !== rows) throw bad('catalog columns have different lengths')
    // As the core's `Catalog::push`: genre names trimmed, empty ones and NO_GENRES dropped.
    const genreNames = h.genreNames.map((name) => {
      const trimmed = trim(name)
      return trimmed === '' || trimmed === NO_GENRES ? null : trimmed
    })
    for (let i = 0; i < rows; i++) {
      const genres: string[] = []
      const genreIndices: number[] = []
      for (const g of c.genres[i] as number[]) {
        if (g >= genreNames.length) throw bad(`catalog genre index ${g} out of range`)
        const name = genreNames[g]
        if (name !== null && name !== undefined) {
          genres.push(name)
          genreIndices.push(g)
        }
      }
      const title = c.titles[i] as string
      // The native catalog derives the year from the title (0 reads as none, as in `Catalog`).
      const year = yearFromTitle(title)
      this.catalog.set(c.ids[i] as Id, { title, year: year === 0 ? null : year, genres, genreIndices })
    }
    if (c.imdb_ids.length !== c.link_ids.length || c.tmdb_ids.length !== c.link_ids.length) throw bad('catalog link columns have different lengths')
    if (new Set(c.link_ids).size !== c.link_ids.length) throw bad('catalog links repeat a movie')
    if (c.tags.length !== c.tag_ids.length) throw bad('catalog tag columns have different lengths')
    if (new Set(c.tag_ids).size !== c.tag_ids.length) throw bad('catalog tags repeat a movie')
    ids(userIds, this.userIndex)
    ;[this.movieIds, this.movieKeys] = ids(movieIds, this.movieIndex)
    if (this.userIndex.size !== m) throw bad("section 'userIds' holds repeated ids")
    if (this.movieIndex.size !== n) throw bad("section 'movieIds' holds repeated ids")
    let rankerFactors: [Floats, Floats] | null = null
    if (h.ranker !== null) {
      const r = h.ranker
      if (r.config.model !== 'implicit' || r.config.factors !== r.k || !(r.k >= 1 && r.k <= 1024))
        throw bad(`the ranker header is inconsistent (kind '${r.config.model}', k = ${r.k}, factors = ${r.config.factors})`)
      const users = floats(section('rankerUserFactors', 'f32', m * r.k))
      const movies = floats(section('rankerMovieFactors', 'f32', n * r.k))
      rankerFactors = [finite('rankerUserFactors', users), finite('rankerMovieFactors', movies)]
    }
    let userPrior: RowProblem['prior'] = null
    if (h.posterior !== null) {
      // The core's checks of a Bayesian model's priors and variances, in its order.
      for (const side of ['user', 'movie'] as const) {
        const mean = finite(`${side}PriorMean`, floats(section(`${side}PriorMean`, 'f32', k)))
        const precision = finite(`${side}PriorPrecision`, floats(section(`${side}PriorPrecision`, 'f32', k * k)))
        if (side === 'user') {
          const times = new Float64Array(k)
          for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) times[i] = (times[i] as number) + (precision[i * k + j] as number) * (mean[j] as number)
          userPrior = { precision: Float64Array.from(precision), precisionTimesMean: times }
        }
      }
      for (const [name, count] of [
        ['userFactorVariance', m * k],
        ['userBiasVariance', m],
        ['movieFactorVariance', n * k],
        ['movieBiasVariance', n],
      ] as const) {
        const values = floats(section(name, 'f32', count))
        for (let i = 0; i < values.length; i++) {
          const v = values[i] as number
          if (!(Math.abs(v) <= MAX_ABS_VALUE && v >= 0)) throw bad(`section '${name}' holds ${v} at ${i}: a variance is a number from 0 to ${MAX_ABS_VALUE}`)
        }
      }
    }
    const config = h.config
    // Files written before rankers existed have no `ranker` key; the config default has one.
    if (h.ranker === null) config.ranker = null
    else if (config.ranker === null) throw bad('the file has a ranker but its config has none')
    this.genreFactors = finite('genreFactors', floats(genreFactors))
    genreNames.forEach((name, g) => {
      if (name !== null && !this.genreByName.has(name.toLowerCase())) this.genreByName.set(name.toLowerCase(), g)
    })
    const floatSection = (name: string, count: number): Floats => finite(name, floats(section(name, 'f32', count)))
    this.seenValues = floatSection('seenValues', nnz)
    this.userFactors = floatSection('userFactors', m * k)
    this.userBias = floatSection('userBias', m)
    this.movieFactors = floatSection('movieFactors', n * k)
    this.movieBias = floatSection('movieBias', n)
    // Accepted: the file is what the native loader would build.
    this.kind = h.kind
    this.k = k
    this.globalMean = h.mu
    this.config = configForDisplay(config)
    this.numUsers = m
    this.numMovies = n
    this.seenIndptr = indptr
    this.seenIndices = indices
    this.movieCounts = new Uint32Array(n)
    const counts = this.movieCounts
    for (let j = 0; j < indices.length; j++) {
      const i = indices[j] as number
      counts[i] = (counts[i] as number) + 1
    }
    this.popularityFloor = popularityFloor(this.movieCounts)
    let lo = Infinity
    let hi = -Infinity
    const values = this.seenValues
    for (let j = 0; j < values.length; j++) {
      const v = values[j] as number
      lo = Math.min(lo, v)
      hi = Math.max(hi, v)
    }
    this.ratingRange = Number.isFinite(lo) ? [lo, hi] : [0.5, 5]
    // A Bayesian model solves a user's row with its learned precisions (the core's `explicit_row`).
    this.problem = {
      k,
      implicit: h.kind === 'implicit',
      lambda: h.posterior?.noisePrecision ?? config.lambda,
      tau: config.tau,
      gamma: h.posterior?.userBiasPrecision ?? config.gamma,
      alpha: config.alpha,
      mu: h.mu,
      weighted: config.weightedRegularization,
      factors: h.kind === 'implicit' ? this.movieFactors : null,
      base: null,
      prior: userPrior,
    }
    if (rankerFactors !== null && h.ranker !== null) {
      const c = h.ranker.config
      const rk = h.ranker.k
      this.rankerProblem = { k: rk, implicit: true, lambda: c.lambda, tau: c.tau, gamma: c.gamma, alpha: c.alpha, mu: 0, weighted: false, factors: rankerFactors[1], base: null, prior: null }
    } else this.rankerProblem = null
    const rc = config.ranker
    if (rankerFactors !== null && rc !== null && h.ranker !== null) {
      this.ranker = {
        k: h.ranker.k,
        userFactors: rankerFactors[0],
        movieFactors: rankerFactors[1],
        ratingWeight: rc.ratingWeight,
        ratingSupport: rc.ratingSupport,
        popularityPenalty: rc.popularityPenalty,
        seriesBonus: rc.seriesBonus,
      }
    } else this.ranker = null
  }

  private describe(index: number, score: number, rating?: number): ReaderRecommendation {
    const movieId = this.movieIds[index] as number
    const m = this.catalog.get(this.movieKeys[index] as Id)
    return { movieId, title: m?.title ?? `movie ${movieId}`, year: m?.year ?? null, genres: m ? [...m.genres] : [], score, ...(rating === undefined ? {} : { rating }) }
  }

  /** The ranking space of the core's `RankSpace`: q_u·w_i + offset_i, built on first use. */
  private space(): { k: number; rows: Float32Array; offset: Float32Array; userNorm: number } {
    if (this.rankSpace) return this.rankSpace
    const r = this.ranker
    const n = this.numMovies
    if (!r) {
      this.rankSpace = { k: this.k, rows: this.movieFactors, offset: this.movieBias, userNorm: 0 }
      return this.rankSpace
    }
    const k = this.k
    const width = r.k + k + 1
    const rows = new Float32Array(n * width)
    const offset = new Float32Array(n)
    for (let i = 0; i < n; i++) {
      rows.set(r.movieFactors.subarray(i * r.k, (i + 1) * r.k), i * width)
      rows.set(this.movieFactors.subarray(i * k, (i + 1) * k), i * width + r.k)
      rows[i * width + r.k + k] = this.movieBias[i] as number
      const popularity = f32(Math.log1p(this.movieCounts[i] as number))
      offset[i] = -f32(r.popularityPenalty * popularity)
    }
    const norms = new Float32Array(this.numUsers)
    for (let u = 0; u < this.numUsers; u++) norms[u] = f32(Math.sqrt(dot(r.userFactors, u * r.k, r.userFactors, u * r.k, r.k)))
    norms.sort()
    this.rankSpace = { k: width, rows, offset, userNorm: norms[Math.floor(norms.length / 2)] ?? 1 }
    return this.rankSpace
  }

  /** The query vector and base of a known user in the ranking space (the core's `RankSpace::query`). */
  private query(u: number): { q: Float32Array; base: number } {
    const s = this.space()
    const r = this.ranker
    const k = this.k
    if (!r) return { q: this.userFactors.subarray(u * k, (u + 1) * k), base: f32(this.globalMean + (this.userBias[u] as number)) }
    const q = new Float32Array(s.k)
    const norm = f32(Math.sqrt(dot(r.userFactors, u * r.k, r.userFactors, u * r.k, r.k)))
    const scale = norm > 0 ? fmax(f32(s.userNorm / norm), 1) : 0
    for (let j = 0; j < r.k; j++) q[j] = f32(scale * (r.userFactors[u * r.k + j] as number))
    const ratings = f32((this.seenIndptr[u + 1] as number) - (this.seenIndptr[u] as number))
    const w = f32(f32(r.ratingWeight * ratings) / f32(ratings + r.ratingSupport))
    for (let j = 0; j < k; j++) q[r.k + j] = f32(w * (this.userFactors[u * k + j] as number))
    q[r.k + k] = w
    return { q, base: 0 }
  }

  /** A movie index's genre indices (the native `item_genres`). */
  private movieGenres(): number[][] {
    if (this.movieGenreCache) return this.movieGenreCache
    this.movieGenreCache = Array.from(this.movieKeys, (id) => this.catalog.get(id)?.genreIndices ?? [])
    return this.movieGenreCache
  }

  private genreIndex(field: string, name: unknown): number {
    const g = typeof name === 'string' ? this.genreByName.get(trim(name).toLowerCase()) : undefined
    if (g === undefined) throw new AlsrecError('ALSREC_INVALID_ARGUMENT', `${field}: unknown genre '${String(name)}'; the genres are ${[...this.genreByName.keys()].join(', ')}`)
    return g
  }

  /** Movie indices by rating count, most rated first (ties by index): the core's order in `genre_rows`. */
  private byPopularity(): number[] {
    const movies: number[] = []
    for (let i = 0; i < this.numMovies; i++) if ((this.movieCounts[i] as number) > 0) movies.push(i)
    return movies.sort((a, b) => (this.movieCounts[b] as number) - (this.movieCounts[a] as number) || a - b)
  }

  /**
   * The visitor folded in as the native `fold_in_new_user` does: the rated movies in movie
   * order, then the liked genres' rows (`genre_rows`), solved by training's row system.
   */
  private foldIn(profile: ReaderNewUser): Visitor {
    if (typeof profile !== 'object' || profile === null) throw new AlsrecError('ALSREC_INVALID_ARGUMENT', 'profile must be an object { ratings?, genres? }')
    const [lo, hi] = this.ratingRange
    // A movie rated twice is two rows, as natively (the server refuses such a request).
    const pairs: Array<[number, number]> = []
    for (const [j, r] of (profile.ratings ?? []).entries()) {
      ModelReader.checkId(`profile.ratings[${j}].movie`, r?.movie)
      const i = this.movieIndex.get(r.movie)
      if (i === undefined) throw new AlsrecError('ALSREC_NOT_FOUND', `unknown movie id ${r.movie}`)
      const rating = f32(r.rating)
      if (!(Number.isFinite(rating) && lo <= rating && rating <= hi)) throw new AlsrecError('ALSREC_INVALID_ARGUMENT', `the rating ${r.rating} of movie ${r.movie} is outside the scale ${lo}–${hi}`)
      pairs.push([i, rating])
    }
    const genres = (profile.genres ?? []).map((g, j) => this.genreIndex(`profile.genres[${j}]`, g))
    if (pairs.length === 0 && genres.length === 0) throw new AlsrecError('ALSREC_INVALID_ARGUMENT', 'a new user needs at least one rating or one liked genre')
    pairs.sort((a, b) => a[0] - b[0])
    const k = this.k
    const rows: Rows = { vectors: [], bias: [], ratings: [] }
    for (const [i, r] of pairs) {
      rows.vectors.push([this.movieFactors, i * k])
      rows.bias.push(this.movieBias[i] as number)
      rows.ratings.push(r)
    }
    if (genres.length > 0) {
      if (this.kind === 'genre' && this.genreFactors.length > 0) {
        for (const g of genres) {
          rows.vectors.push([this.genreFactors, g * k])
          rows.bias.push(0)
          rows.ratings.push(hi)
        }
      }
      const movieGenres = this.movieGenres()
      const liked = (i: number): boolean => (movieGenres[i] as number[]).some((g) => genres.includes(g))
      const wanted = GENRE_EXAMPLES * genres.length
      const movies = this.byPopularity()
      for (const i of movies.filter(liked).slice(0, wanted)) {
        rows.vectors.push([this.movieFactors, i * k])
        rows.bias.push(this.movieBias[i] as number)
        rows.ratings.push(hi)
      }
      for (const i of movies.filter((i) => !liked(i)).slice(0, wanted)) {
        const c = this.movieBias[i] as number
        rows.vectors.push([this.movieFactors, i * k])
        rows.bias.push(c)
        rows.ratings.push(f32(this.globalMean + c))
      }
    }
    if (rows.ratings.length === 0) throw new AlsrecError('ALSREC_INVALID_ARGUMENT', 'none of the liked genres has a rated movie')
    const { factor, solution } = solveRow(this.problem, rows)
    const u = solution.subarray(0, k)
    const b = this.problem.implicit ? 0 : (solution[k] as number)
    return { u, b, rows, items: pairs.map((p) => p[0]), ratings: pairs.map((p) => p[1]), genres, factor }
  }

  /** The ranker's x for a visitor (the core's `fold_in_new_user_ranker`); empty without a ranker. */
  private foldInRanker(v: Visitor): Float64Array {
    const p = this.rankerProblem
    const r = this.ranker
    if (!p || !r) return new Float64Array(0)
    const rows: Rows = { vectors: [], bias: [], ratings: [] }
    v.items.forEach((i, j) => {
      rows.vectors.push([r.movieFactors, i * r.k])
      rows.bias.push(0)
      rows.ratings.push(v.ratings[j] as number)
    })
    if (v.genres.length > 0) {
      const movieGenres = this.movieGenres()
      const liked = this.byPopularity().filter((i) => (movieGenres[i] as number[]).some((g) => v.genres.includes(g)))
      for (const i of liked.slice(0, GENRE_EXAMPLES * v.genres.length)) {
        rows.vectors.push([r.movieFactors, i * r.k])
        rows.bias.push(0)
        rows.ratings.push(this.ratingRange[1])
      }
    }
    return solveRow(p, rows).solution.subarray(0, r.k)
  }

  /**
   * Recommendations for a visitor from a few ratings and/or liked genres: the native
   * `recommendForNewUser` (the fold-in, the ranker's, the rank space, the popularity floor, the
   * series bonus and genre diversity), computed in f64 where the core uses f32, so the lists
   * agree but for near-ties.
   */
  recommendForNewUser(profile: ReaderNewUser, options: ReaderNewUserOptions = {}): ReaderRecommendation[] {
    const n = Math.min(options.n ?? 10, Math.max(1, this.numMovies))
    ModelReader.checkN(options.n ?? 10)
    const min = this.minRatings(options.minRatings)
    const diversity = options.diversity ?? 0
    if (!(Number.isFinite(diversity) && diversity >= 0 && diversity <= 1)) throw new AlsrecError('ALSREC_INVALID_ARGUMENT', `diversity must be a number from 0 to 1 (got ${diversity})`)
    let filterGenres = (options.genres ?? []).map((g, j) => this.genreIndex(`genres[${j}]`, g))
    const v = this.foldIn(profile)
    const x = this.foldInRanker(v)
    // With genres alone the list stays within them (as natively), unless the caller filtered.
    if (v.items.length === 0 && filterGenres.length === 0) filterGenres = v.genres
    const seen = new Set(options.excludeSeen === false ? [] : v.items)
    const movieGenres = this.movieGenres()
    const admits = (i: number): boolean => !seen.has(i) && (this.movieCounts[i] as number) >= min && (filterGenres.length === 0 || (movieGenres[i] as number[]).some((g) => filterGenres.includes(g)))
    const { q, base } = this.visitorQuery(v, x)
    const space = this.space()
    const score = (i: number): number => {
      let s = base + (space.offset[i] as number)
      for (let j = 0; j < space.k; j++) s += (q[j] as number) * (space.rows[i * space.k + j] as number)
      return s
    }
    const poolSize = diversity > 0 ? Math.max(n * 4, 50) : n
    let pool = new TopN(poolSize)
    for (let i = 0; i < this.numMovies; i++) if (admits(i)) pool.push(i, score(i))
    const bonus = this.ranker?.seriesBonus ?? 0
    const liked = this.likedMembers(v.items, v.ratings)
    if (bonus > 0 && liked.size > 0) {
      const rest = new TopN(poolSize)
      pool.items.forEach((i, r) => {
        if (!liked.has(i)) rest.push(i, pool.scores[r] as number)
      })
      for (const i of liked) if (admits(i)) rest.push(i, score(i) + bonus)
      pool = rest
    }
    const top = diversify(pool, n, diversity, movieGenres)
    const rates = this.kind !== 'implicit' && this.kind !== 'popular'
    const k = this.k
    return top.map(([i, sc]) => {
      if (!rates) return this.describe(i, sc)
      let r = this.globalMean + v.b + (this.movieBias[i] as number)
      for (let j = 0; j < k; j++) r += (v.u[j] as number) * (this.movieFactors[i * k + j] as number)
      return this.describe(i, sc, Math.min(Math.max(r, this.ratingRange[0]), this.ratingRange[1]))
    })
  }

  /** A visitor's query vector and base in the ranking space (the core's `RankSpace::query`). */
  private visitorQuery(v: Visitor, x: Float64Array): { q: Float64Array; base: number } {
    const s = this.space()
    const r = this.ranker
    const k = this.k
    if (!r) return { q: v.u, base: this.globalMean + v.b }
    const q = new Float64Array(s.k)
    let nx = 0
    for (let j = 0; j < r.k; j++) nx += (x[j] as number) ** 2
    const norm = Math.sqrt(nx)
    const scale = norm > 0 ? Math.max(s.userNorm / norm, 1) : 0
    for (let j = 0; j < r.k; j++) q[j] = scale * (x[j] as number)
    const ratings = v.items.length
    const w = (r.ratingWeight * ratings) / (ratings + r.ratingSupport)
    for (let j = 0; j < k; j++) q[r.k + j] = w * (v.u[j] as number)
    q[r.k + k] = w
    return { q, base: 0 }
  }

  /** The members of the series of the films rated at or above the visitor's mean (the core's `Series::liked_members`). */
  private likedMembers(items: number[], ratings: number[]): Set<number> {
    const out = new Set<number>()
    if (!this.ranker || !(this.ranker.seriesBonus > 0) || items.length === 0) return out
    if (!this.series) this.series = seriesMembers(Array.from(this.movieKeys, (id) => this.catalog.get(id)?.title))
    const mean = ratings.reduce((a, r) => a + r, 0) / ratings.length
    items.forEach((i, j) => {
      if ((ratings[j] as number) < mean) return
      for (const m of this.series?.[i] ?? []) out.add(m)
    })
    return out
  }

  /**
   * Why a visitor gets a movie's score: the native `explainForNewUser`, the personal part of the
   * score b + u·v_n of their folded-in row as a sum over its rows, row j adding
   * w_j ṽ_nᵀ A⁻¹ ṽ_j (crates/alsrec-core/src/foldin/explain.rs). The contributions name the
   * rated movies; liked genres' rows make up the rest of `refitPersonal`.
   */
  explainForNewUser(profile: ReaderNewUser, movieId: number, options: { top?: number } = {}): ReaderExplanation {
    const top = options.top ?? 5
    ModelReader.checkN(top)
    ModelReader.checkId('movie', movieId)
    const item = this.movieIndex.get(movieId)
    if (item === undefined) throw new AlsrecError('ALSREC_NOT_FOUND', `unknown movie id ${movieId}`)
    const v = this.foldIn(profile)
    const k = this.k
    const p = this.problem
    const dim = p.implicit ? k : k + 1
    const genrePrior = new Float64Array(k)
    const genres = this.movieGenres()[item] as number[]
    if (this.genreFactors.length > 0 && genres.length > 0) {
      const scale = 1 / Math.sqrt(genres.length)
      for (const g of genres) for (let j = 0; j < k; j++) genrePrior[j] = (genrePrior[j] as number) + scale * (this.genreFactors[g * k + j] as number)
    }
    let uv = 0
    let genrePart = 0
    for (let j = 0; j < k; j++) {
      uv += (v.u[j] as number) * (this.movieFactors[item * k + j] as number)
      genrePart += (v.u[j] as number) * (genrePrior[j] as number)
    }
    const rows = v.rows
    const points = new Float64Array(rows.ratings.length)
    if (v.factor !== null) {
      const z = new Float64Array(dim)
      for (let j = 0; j < k; j++) z[j] = this.movieFactors[item * k + j] as number
      if (dim > k) z[k] = 1
      choleskySolve(v.factor, dim, z)
      rows.ratings.forEach((r, j) => {
        const [vec, off] = rows.vectors[j] as [Float32Array, number]
        let s = dim > k ? (z[k] as number) : 0
        for (let d = 0; d < k; d++) s += (vec[off + d] as number) * (z[d] as number)
        const w = p.implicit ? p.lambda * (1 + p.alpha * r) : p.lambda * (r - p.mu - (rows.bias[j] as number))
        points[j] = w * s
      })
    }
    const rated = v.items.length
    let totalAbs = 0
    for (let j = 0; j < rated; j++) totalAbs += Math.abs(points[j] as number)
    const order = Array.from({ length: rated }, (_, j) => j).sort((a, b) => Math.abs(points[b] as number) - Math.abs(points[a] as number) || a - b)
    const contributions = order.slice(0, top).map((j) => {
      const i = v.items[j] as number
      const m = this.describe(i, 0)
      return { movieId: m.movieId, title: m.title, rating: v.ratings[j] as number, points: points[j] as number, share: totalAbs > 0 ? Math.abs(points[j] as number) / totalAbs : 0 }
    })
    return {
      score: this.globalMean + v.b + (this.movieBias[item] as number) + uv,
      globalMean: this.globalMean,
      userBias: v.b,
      movieBias: this.movieBias[item] as number,
      genrePart,
      latentPart: uv - genrePart,
      refitPersonal: points.reduce((a, x) => a + x, 0),
      contributions,
    }
  }

  /** The predicted rating of a known user, clamped to the scale; undefined for implicit models. */
  private rating(u: number, i: number): number | undefined {
    if (this.kind === 'implicit' || this.kind === 'popular') return undefined
    const k = this.k
    const r = f32(f32(f32(this.globalMean + (this.userBias[u] as number)) + (this.movieBias[i] as number)) + dot(this.userFactors, u * k, this.movieFactors, i * k, k))
    return Math.min(Math.max(r, this.ratingRange[0]), this.ratingRange[1])
  }

  /** As the native API's `checkId`: ids are safe integers. */
  private static checkId(name: string, id: unknown): void {
    if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw new AlsrecError('ALSREC_INVALID_ARGUMENT', `${name} must be a whole number id (a safe integer; got ${String(id)})`)
  }

  private static checkN(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new AlsrecError('ALSREC_INVALID_ARGUMENT', `n must be a whole number ≥ 1 (got ${n})`)
  }

  private minRatings(given: number | undefined): number {
    if (given === undefined) return this.popularityFloor
    if (!Number.isInteger(given) || given < 0) throw new AlsrecError('ALSREC_INVALID_ARGUMENT', `minRatings must be a whole number ≥ 0 (got ${given})`)
    return given
  }

  /** The top-N movies for a known user, best first; the same as the native `recommend`. */
  recommend(userId: number, options: { n?: number; excludeSeen?: boolean; minRatings?: number } = {}): ReaderRecommendation[] {
    const n = options.n ?? 10
    ModelReader.checkN(n)
    const min = this.minRatings(options.minRatings)
    ModelReader.checkId('userId', userId)
    const u = this.userIndex.get(userId)
    if (u === undefined) throw new AlsrecError('ALSREC_NOT_FOUND', `unknown user id ${userId}`)
    const space = this.space()
    const k = space.k
    const { q, base } = this.query(u)
    const seenStart = options.excludeSeen === false ? 0 : (this.seenIndptr[u] as number)
    const seenEnd = options.excludeSeen === false ? 0 : (this.seenIndptr[u + 1] as number)
    let next = seenStart
    const liked = this.likedSeries(u)
    const bonus = this.ranker?.seriesBonus ?? 0
    const top = new TopN(n)
    for (let i = 0; i < this.numMovies; i++) {
      if (next < seenEnd && this.seenIndices[next] === i) {
        next++
        continue
      }
      if ((this.movieCounts[i] as number) < min) continue
      let score = f32(f32(base + (space.offset[i] as number)) + dot(q, 0, space.rows, i * k, k))
      if (liked.has(i)) score = f32(score + bonus)
      top.push(i, score)
    }
    return top.items.map((i, r) => this.describe(i, top.scores[r] as number, this.rating(u, i)))
  }

  /** The members of the series of the films user u rated at or above their mean (the core's `Series::liked_members`). */
  private likedSeries(u: number): Set<number> {
    const out = new Set<number>()
    if (!this.ranker || !(this.ranker.seriesBonus > 0)) return out
    if (!this.series) this.series = seriesMembers(Array.from(this.movieKeys, (id) => this.catalog.get(id)?.title))
    const start = this.seenIndptr[u] as number
    const end = this.seenIndptr[u + 1] as number
    if (end === start) return out
    let sum = 0
    for (let j = start; j < end; j++) sum += this.seenValues[j] as number
    const mean = sum / (end - start)
    for (let j = start; j < end; j++) {
      if ((this.seenValues[j] as number) < mean) continue
      for (const i of this.series[this.seenIndices[j] as number] ?? []) out.add(i)
    }
    return out
  }

  /**
   * Each movie's number of training ratings and their mean, in file order (`movieIds`): what a
   * movie page shows. The native model keeps the counts but not the means, so a server reads
   * them here once per model file.
   */
  movieRatingStats(): { movieIds: Float64Array; counts: Uint32Array; means: Float32Array } {
    const sums = new Float64Array(this.numMovies)
    for (let j = 0; j < this.seenIndices.length; j++) {
      const i = this.seenIndices[j] as number
      sums[i] = (sums[i] as number) + (this.seenValues[j] as number)
    }
    const means = new Float32Array(this.numMovies)
    for (let i = 0; i < this.numMovies; i++) {
      const c = this.movieCounts[i] as number
      means[i] = c > 0 ? (sums[i] as number) / c : Number.NaN
    }
    return { movieIds: this.movieIds.slice(), counts: this.movieCounts.slice(), means }
  }

  /** The movies nearest to a movie by cosine similarity; the same as the native `similarMovies`. */
  similarMovies(movieId: number, options: { n?: number; minRatings?: number } = {}): ReaderRecommendation[] {
    const n = options.n ?? 10
    ModelReader.checkN(n)
    const min = this.minRatings(options.minRatings)
    ModelReader.checkId('movie', movieId)
    const q = this.movieIndex.get(movieId)
    if (q === undefined) throw new AlsrecError('ALSREC_NOT_FOUND', `unknown movie id ${movieId}`)
    if (this.k === 0) throw new AlsrecError('ALSREC_INVALID_ARGUMENT', 'the bias-only model has no latent vectors to compare')
    // The ranker's vectors where there is one, as the native model.
    const k = this.ranker?.k ?? this.k
    const v = this.ranker?.movieFactors ?? this.movieFactors
    if (!this.movieNorms) {
      const norms = new Float32Array(this.numMovies)
      for (let i = 0; i < this.numMovies; i++) norms[i] = f32(Math.sqrt(dot(v, i * k, v, i * k, k)))
      this.movieNorms = norms
    }
    const norms = this.movieNorms
    const qn = norms[q] as number
    const top = new TopN(n)
    if (qn === 0) return []
    for (let i = 0; i < this.numMovies; i++) {
      const ni = norms[i] as number
      if (i === q || !(ni > 0) || (this.movieCounts[i] as number) < min) continue
      top.push(i, f32(dot(v, q * k, v, i * k, k) / f32(qn * ni)))
    }
    return top.items.map((i, r) => this.describe(i, top.scores[r] as number))
  }
}

/**
 * Builds and solves one row's system against `rows` (the core's `ExplicitRow`/`ImplicitRow`):
 * explicit rows the (k+1)-system
 *   (λ Σ ṽ_j ṽ_jᵀ + ω diag(τ…τ, γ)) [x; b] = λ Σ ṽ_j (r_j − μ − c_j)
 * (Λ in place of τ I and Λ m added to the right-hand side under a Bayesian prior), implicit rows
 *   (λ VᵀV + τ I + λ Σ α r_j v_j v_jᵀ) x = λ Σ (1 + α r_j) v_j.
 * A singular system (a regularizer 0) gives the zero row, where the core takes the least-norm
 * solution: trained models have τ, γ > 0, so it does not arise from a file the loader accepts
 * unless a config sets them to 0.
 */
function solveRow(p: RowProblem, rows: Rows): { factor: Float64Array | null; solution: Float64Array } {
  const k = p.k
  const dim = p.implicit ? k : k + 1
  const a = new Float64Array(dim * dim)
  const rhs = new Float64Array(dim)
  const deg = rows.ratings.length
  const ext = new Float64Array(dim)
  for (let j = 0; j < deg; j++) {
    const [vec, off] = rows.vectors[j] as [Float32Array, number]
    for (let d = 0; d < k; d++) ext[d] = vec[off + d] as number
    const r = rows.ratings[j] as number
    if (p.implicit) {
      const g = Math.max(0, p.lambda * p.alpha * r)
      const c = p.lambda * (1 + p.alpha * r)
      for (let i = 0; i < k; i++) {
        rhs[i] = (rhs[i] as number) + c * (ext[i] as number)
        for (let m = i; m < k; m++) a[i * dim + m] = (a[i * dim + m] as number) + g * (ext[i] as number) * (ext[m] as number)
      }
    } else {
      ext[k] = 1
      const t = r - p.mu - (rows.bias[j] as number)
      for (let i = 0; i < dim; i++) {
        rhs[i] = (rhs[i] as number) + p.lambda * t * (ext[i] as number)
        for (let m = i; m < dim; m++) a[i * dim + m] = (a[i * dim + m] as number) + p.lambda * (ext[i] as number) * (ext[m] as number)
      }
    }
  }
  if (p.implicit) {
    if (p.base === null && p.factors !== null) p.base = regularizedGram(p.factors, p.factors.length / Math.max(1, k), k, p.lambda, p.tau)
    const base = p.base ?? new Float64Array(k * k)
    for (let i = 0; i < k; i++) for (let m = i; m < k; m++) a[i * dim + m] = (a[i * dim + m] as number) + (base[i * k + m] as number)
  } else {
    const count = p.weighted ? deg : 1
    for (let i = 0; i < k; i++) {
      if (p.prior) {
        for (let m = i; m < k; m++) a[i * dim + m] = (a[i * dim + m] as number) + (p.prior.precision[i * k + m] as number)
        rhs[i] = (rhs[i] as number) + (p.prior.precisionTimesMean[i] as number)
      } else a[i * dim + i] = (a[i * dim + i] as number) + p.tau * count
    }
    a[k * dim + k] = (a[k * dim + k] as number) + p.gamma * count
  }
  for (let i = 0; i < dim; i++) for (let m = 0; m < i; m++) a[i * dim + m] = a[m * dim + i] as number
  const factor = cholesky(a, dim)
  if (factor === null) return { factor, solution: new Float64Array(dim) }
  return { factor, solution: choleskySolve(factor, dim, rhs) }
}

/** The core's `jaccard` of two genre lists. */
function jaccard(a: number[], b: number[]): number {
  if (a.length === 0 && b.length === 0) return 0
  const common = a.filter((g) => b.includes(g)).length
  return common / (a.length + b.length - common)
}

/** The core's `diversify`: maximal-marginal-relevance re-ranking of a pool for genre diversity. */
function diversify(pool: TopN, n: number, w: number, genres: number[][]): Array<[number, number]> {
  const items = pool.items
  const scores = pool.scores
  if (w <= 0 || items.length <= 1) return items.slice(0, n).map((i, r) => [i, scores[r] as number])
  let lo = Infinity
  let hi = -Infinity
  for (const s of scores) [lo, hi] = [Math.min(lo, s), Math.max(hi, s)]
  const span = hi > lo ? hi - lo : 1
  const taken: number[] = []
  const overlap = new Float64Array(items.length)
  const used = new Uint8Array(items.length)
  while (taken.length < Math.min(n, items.length)) {
    let best = -1
    let bestValue = -Infinity
    for (let c = 0; c < items.length; c++) {
      if (used[c]) continue
      const value = (1 - w) * (((scores[c] as number) - lo) / span) - w * (overlap[c] as number)
      if (best < 0 || value > bestValue) [best, bestValue] = [c, value]
    }
    if (best < 0) break
    used[best] = 1
    taken.push(best)
    const picked = genres[items[best] as number] as number[]
    for (let c = 0; c < items.length; c++) if (!used[c]) overlap[c] = Math.max(overlap[c] as number, jaccard(genres[items[c] as number] as number[], picked))
  }
  return taken.map((c) => [items[c] as number, scores[c] as number])
}

/** The core's `popularity_floor`: the smallest n such that movies with ≥ n ratings hold 90 % of them. */
function popularityFloor(counts: Uint32Array): number {
  const sorted = Array.from(counts).filter((c) => c > 0).sort((a, b) => b - a)
  const total = sorted.reduce((a, b) => a + b, 0)
  let held = 0
  for (const c of sorted) {
    held += c
    if (held * 10 >= total * 9) return c
  }
  return 0
}

/**
 * Parses a model file's bytes (e.g. from `fetch(url).then(r => r.arrayBuffer())`). A file the
 * native `loadModel` would refuse is refused here too, with an ALSREC_BAD_MODEL_FILE error.
 */
export function readModel(bytes: Uint8Array | ArrayBuffer): ModelReader {
  return new ModelReader(bytes)
}
