// A pure-TypeScript reader and scorer of alsrec model files (docs/model-format.md). It uses only
// DataView, typed arrays and TextDecoder, so it runs in a browser or an edge worker without the
// native addon. Scores are computed in f32 with the same operation order as the Rust core
// (Math.fround after every step), so results match the native `recommend`/`similarMovies`
// bit for bit.
import { AlsrecError } from '../errors.js'
import { crc32c } from './crc32c.js'
import { seriesMembers } from './series.js'

const MAGIC = 'ALSRECMF'
const FORMAT_VERSION = 1
const PREAMBLE = 24
/** The core's `RankerConfig::default().series_bonus`. */
const DEFAULT_SERIES_BONUS = 0.1

export interface ReaderRecommendation {
  movieId: number
  title: string
  year: number | null
  genres: string[]
  score: number
  /** The predicted rating clamped to the rating scale; absent where the model predicts none. */
  rating?: number
}

interface Section {
  name: string
  dtype: 'f32' | 'u32' | 'i64' | 'u64'
  offset: number
  count: number
}

interface Header {
  kind: string
  k: number
  mu: number
  config: Record<string, unknown>
  numUsers: number
  numMovies: number
  numSeen: number
  genreNames: string[]
  catalog: { ids: number[]; titles: string[]; years: Array<number | null>; genres: number[][] }
  sections: Section[]
  ranker?: { k: number; config: Record<string, unknown> }
}

function bad(message: string): AlsrecError {
  return new AlsrecError('ALSREC_BAD_MODEL_FILE', message)
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

function f32(x: number): number {
  return Math.fround(x)
}

/** The Rust core's `dot`: eight f32 accumulators, summed in order, then the tail. */
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
  let sum = f32(f32(f32(f32(f32(f32(f32(f32(-0 + a0) + a1) + a2) + a3) + a4) + a5) + a6) + a7)
  for (let j = chunks * 8; j < k; j++) sum = f32(sum + f32((a[ao + j] as number) * (b[bo + j] as number)))
  return sum
}

/** Keeps the n best (score descending, then index ascending), like the core's top-N. */
class TopN {
  readonly items: number[] = []
  readonly scores: number[] = []
  constructor(private readonly n: number) {}
  push(item: number, score: number): void {
    const len = this.items.length
    if (len === this.n) {
      const worst = this.scores[len - 1] as number
      if (score < worst || (score === worst && item > (this.items[len - 1] as number))) return
    }
    let at = len
    while (at > 0 && ((this.scores[at - 1] as number) < score || ((this.scores[at - 1] as number) === score && (this.items[at - 1] as number) > item))) at--
    this.items.splice(at, 0, item)
    this.scores.splice(at, 0, score)
    if (this.items.length > this.n) {
      this.items.pop()
      this.scores.pop()
    }
  }
}

export class ModelReader {
  readonly kind: string
  readonly k: number
  readonly globalMean: number
  readonly config: Record<string, unknown>
  readonly numUsers: number
  readonly numMovies: number
  private readonly userIndex = new Map<number, number>()
  private readonly movieIndex = new Map<number, number>()
  private readonly movieIds: Float64Array
  private readonly userFactors: Float32Array
  private readonly userBias: Float32Array
  private readonly movieFactors: Float32Array
  private readonly movieBias: Float32Array
  private readonly seenIndptr: Float64Array
  private readonly seenIndices: Uint32Array
  private readonly seenValues: Float32Array
  /** Series members per movie index, for the ranker's series bonus (built on first use). */
  private series: Array<number[] | null> | null = null
  private readonly catalog = new Map<number, { title: string; year: number | null; genres: string[] }>()
  private movieNorms: Float32Array | null = null
  /** The ranker's vectors (docs/ranking.md), or null. */
  private readonly ranker: { k: number; userFactors: Float32Array; movieFactors: Float32Array; ratingWeight: number; ratingSupport: number; popularityPenalty: number; seriesBonus: number } | null
  private readonly movieCounts: Uint32Array
  private readonly ratingRange: [number, number]
  private rankSpace: { k: number; rows: Float32Array; offset: Float32Array; userNorm: number } | null = null
  /** The fewest training ratings a movie needs to appear in a list by default (as the native model). */
  readonly popularityFloor: number

  /** Parses and checks a model file's bytes: magic, version, length, checksum, section sizes. */
  constructor(input: Uint8Array | ArrayBuffer) {
    const bytes = input instanceof Uint8Array ? input : new Uint8Array(input)
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    if (bytes.length < 8 || String.fromCharCode(...bytes.subarray(0, 8)) !== MAGIC) throw bad('not an alsrec model file (wrong magic bytes)')
    if (bytes.length < PREAMBLE + 4) throw bad(`truncated: ${bytes.length} bytes, shorter than the fixed preamble`)
    const version = view.getUint32(8, true)
    if (version > FORMAT_VERSION) throw bad(`format version ${version} is newer than this reader reads (${FORMAT_VERSION})`)
    if (version === 0) throw bad('format version 0 is not valid')
    const total = Number(view.getBigUint64(16, true))
    if (bytes.length < total) throw bad(`truncated: the file has ${bytes.length} bytes, its header says ${total}`)
    if (bytes.length > total) throw bad(`${bytes.length - total} unexpected bytes after the end (${total} bytes)`)
    const stored = view.getUint32(total - 4, true)
    const actual = crc32c(bytes.subarray(0, total - 4))
    if (stored !== actual) throw bad(`checksum mismatch (stored ${stored.toString(16)}, computed ${actual.toString(16)}): the file is damaged`)
    const headerLen = view.getUint32(12, true)
    let h: Header
    try {
      h = JSON.parse(new TextDecoder().decode(bytes.subarray(PREAMBLE, PREAMBLE + headerLen))) as Header
    } catch (err) {
      throw bad(`invalid header: ${(err as Error).message}`)
    }
    const section = (name: string, dtype: Section['dtype'], count: number | null): Section => {
      const s = h.sections.find((x) => x.name === name)
      if (!s) throw bad(`section '${name}' is missing`)
      if (s.dtype !== dtype) throw bad(`section '${name}' has dtype ${s.dtype} (expected ${dtype})`)
      if (count !== null && s.count !== count) throw bad(`section '${name}' holds ${s.count} values (expected ${count})`)
      const size = dtype === 'i64' || dtype === 'u64' ? 8 : 4
      if (s.offset % 8 !== 0 || s.offset + s.count * size > total - 4) throw bad(`section '${name}' lies outside the file`)
      return s
    }
    const floats = (s: Section): Float32Array => {
      const at = bytes.byteOffset + s.offset
      if (LITTLE_ENDIAN && at % 4 === 0) return new Float32Array(bytes.buffer, at, s.count)
      const out = new Float32Array(s.count)
      for (let i = 0; i < s.count; i++) out[i] = view.getFloat32(s.offset + 4 * i, true)
      return out
    }
    const wide = (s: Section, signed: boolean): Float64Array => {
      const out = new Float64Array(s.count)
      for (let i = 0; i < s.count; i++) {
        const lo = view.getUint32(s.offset + 8 * i, true)
        const hi = signed ? view.getInt32(s.offset + 8 * i + 4, true) : view.getUint32(s.offset + 8 * i + 4, true)
        out[i] = hi * 4294967296 + lo
      }
      return out
    }
    const { numUsers: m, numMovies: n, k } = h
    this.kind = h.kind
    this.k = k
    this.globalMean = f32(h.mu)
    this.config = h.config
    this.numUsers = m
    this.numMovies = n
    const userIds = wide(section('userIds', 'i64', m), true)
    this.movieIds = wide(section('movieIds', 'i64', n), true)
    userIds.forEach((id, i) => this.userIndex.set(id, i))
    this.movieIds.forEach((id, i) => this.movieIndex.set(id, i))
    this.userFactors = floats(section('userFactors', 'f32', m * k))
    this.userBias = floats(section('userBias', 'f32', m))
    this.movieFactors = floats(section('movieFactors', 'f32', n * k))
    this.movieBias = floats(section('movieBias', 'f32', n))
    this.seenIndptr = wide(section('seenIndptr', 'u64', m + 1), false)
    const idx = section('seenIndices', 'u32', h.numSeen)
    const at = bytes.byteOffset + idx.offset
    if (LITTLE_ENDIAN && at % 4 === 0) this.seenIndices = new Uint32Array(bytes.buffer, at, idx.count)
    else this.seenIndices = Uint32Array.from({ length: idx.count }, (_, i) => view.getUint32(idx.offset + 4 * i, true))
    this.movieCounts = new Uint32Array(n)
    for (const i of this.seenIndices) {
      if (i >= n) throw bad("section 'seenIndices' refers to a movie past the end")
      this.movieCounts[i] = (this.movieCounts[i] ?? 0) + 1
    }
    this.popularityFloor = popularityFloor(this.movieCounts)
    const values = floats(section('seenValues', 'f32', h.numSeen))
    this.seenValues = values
    let lo = Infinity
    let hi = -Infinity
    for (const v of values) {
      lo = Math.min(lo, v)
      hi = Math.max(hi, v)
    }
    this.ratingRange = Number.isFinite(lo) ? [lo, hi] : [0.5, 5]
    if (h.ranker) {
      const rk = h.ranker.k
      const rc = (h.config.ranker ?? null) as { ratingWeight?: unknown; ratingSupport?: unknown; popularityPenalty?: unknown; seriesBonus?: unknown } | null
      const rankerConfig = h.ranker.config as { model?: unknown; factors?: unknown }
      if (!Number.isInteger(rk) || rk < 1 || rk > 1024 || rankerConfig.model !== 'implicit' || rankerConfig.factors !== rk || rc === null || typeof rc.ratingWeight !== 'number' || typeof rc.ratingSupport !== 'number' || typeof rc.popularityPenalty !== 'number' || !(rc.seriesBonus === undefined || typeof rc.seriesBonus === 'number'))
        throw bad(`the ranker header is inconsistent (k = ${String(rk)})`)
      this.ranker = {
        k: rk,
        userFactors: floats(section('rankerUserFactors', 'f32', m * rk)),
        movieFactors: floats(section('rankerMovieFactors', 'f32', n * rk)),
        ratingWeight: f32(rc.ratingWeight),
        ratingSupport: f32(rc.ratingSupport),
        popularityPenalty: f32(rc.popularityPenalty),
        // Files written before the bonus existed get the core's default, as natively.
        seriesBonus: f32(rc.seriesBonus ?? DEFAULT_SERIES_BONUS),
      }
    } else this.ranker = null
    const c = h.catalog
    c.ids.forEach((id, i) => {
      this.catalog.set(id, { title: c.titles[i] ?? '', year: c.years[i] ?? null, genres: (c.genres[i] ?? []).map((g) => h.genreNames[g] ?? '') })
    })
  }

  private describe(index: number, score: number, rating?: number): ReaderRecommendation {
    const movieId = this.movieIds[index] as number
    const m = this.catalog.get(movieId)
    return { movieId, title: m?.title ?? `movie ${movieId}`, year: m?.year ?? null, genres: m?.genres ?? [], score, ...(rating === undefined ? {} : { rating }) }
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
    const scale = norm > 0 ? Math.max(f32(s.userNorm / norm), 1) : 0
    for (let j = 0; j < r.k; j++) q[j] = f32(scale * (r.userFactors[u * r.k + j] as number))
    const ratings = (this.seenIndptr[u + 1] as number) - (this.seenIndptr[u] as number)
    const w = f32(f32(r.ratingWeight * ratings) / f32(ratings + r.ratingSupport))
    for (let j = 0; j < k; j++) q[r.k + j] = f32(w * (this.userFactors[u * k + j] as number))
    q[r.k + k] = w
    return { q, base: 0 }
  }

  /** The predicted rating of a known user, clamped to the scale; undefined for implicit models. */
  private rating(u: number, i: number): number | undefined {
    if (this.kind === 'implicit' || this.kind === 'popular') return undefined
    const k = this.k
    const r = f32(f32(f32(this.globalMean + (this.userBias[u] as number)) + (this.movieBias[i] as number)) + dot(this.userFactors, u * k, this.movieFactors, i * k, k))
    return Math.min(Math.max(r, this.ratingRange[0]), this.ratingRange[1])
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
    if (!this.series) this.series = seriesMembers(Array.from(this.movieIds, (id) => this.catalog.get(id)?.title))
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

  /** The movies nearest to a movie by cosine similarity; the same as the native `similarMovies`. */
  similarMovies(movieId: number, options: { n?: number; minRatings?: number } = {}): ReaderRecommendation[] {
    const n = options.n ?? 10
    ModelReader.checkN(n)
    const min = this.minRatings(options.minRatings)
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

/** Parses a model file's bytes (e.g. from `fetch(url).then(r => r.arrayBuffer())`). */
export function readModel(bytes: Uint8Array | ArrayBuffer): ModelReader {
  return new ModelReader(bytes)
}
