// A pure-TypeScript reader and scorer of alsrec model files (docs/model-format.md). It uses only
// DataView, typed arrays and TextDecoder, so it runs in a browser or an edge worker without the
// native addon. Scores are computed in f32 with the same operation order as the Rust core
// (Math.fround after every step), so results match the native `recommend`/`similarMovies`
// bit for bit.
import { AlsrecError } from '../errors.js'
import { crc32c } from './crc32c.js'

const MAGIC = 'ALSRECMF'
const FORMAT_VERSION = 1
const PREAMBLE = 24

export interface ReaderRecommendation {
  movieId: number
  title: string
  year: number | null
  genres: string[]
  score: number
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
  private readonly catalog = new Map<number, { title: string; year: number | null; genres: string[] }>()
  private movieNorms: Float32Array | null = null

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
    const c = h.catalog
    c.ids.forEach((id, i) => {
      this.catalog.set(id, { title: c.titles[i] ?? '', year: c.years[i] ?? null, genres: (c.genres[i] ?? []).map((g) => h.genreNames[g] ?? '') })
    })
  }

  private describe(index: number, score: number): ReaderRecommendation {
    const movieId = this.movieIds[index] as number
    const m = this.catalog.get(movieId)
    return { movieId, title: m?.title ?? `movie ${movieId}`, year: m?.year ?? null, genres: m?.genres ?? [], score }
  }

  private static checkN(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new AlsrecError('ALSREC_INVALID_ARGUMENT', `n must be a whole number ≥ 1 (got ${n})`)
  }

  /** The top-N movies for a known user, best first; the same as the native `recommend`. */
  recommend(userId: number, options: { n?: number; excludeSeen?: boolean } = {}): ReaderRecommendation[] {
    const n = options.n ?? 10
    ModelReader.checkN(n)
    const u = this.userIndex.get(userId)
    if (u === undefined) throw new AlsrecError('ALSREC_NOT_FOUND', `unknown user id ${userId}`)
    const k = this.k
    const base = f32(this.globalMean + (this.userBias[u] as number))
    const seenStart = options.excludeSeen === false ? 0 : (this.seenIndptr[u] as number)
    const seenEnd = options.excludeSeen === false ? 0 : (this.seenIndptr[u + 1] as number)
    let next = seenStart
    const top = new TopN(n)
    for (let i = 0; i < this.numMovies; i++) {
      if (next < seenEnd && this.seenIndices[next] === i) {
        next++
        continue
      }
      const score = f32(f32(base + (this.movieBias[i] as number)) + dot(this.userFactors, u * k, this.movieFactors, i * k, k))
      top.push(i, score)
    }
    return top.items.map((i, r) => this.describe(i, top.scores[r] as number))
  }

  /** The movies nearest to a movie by cosine similarity; the same as the native `similarMovies`. */
  similarMovies(movieId: number, options: { n?: number } = {}): ReaderRecommendation[] {
    const n = options.n ?? 10
    ModelReader.checkN(n)
    const q = this.movieIndex.get(movieId)
    if (q === undefined) throw new AlsrecError('ALSREC_NOT_FOUND', `unknown movie id ${movieId}`)
    const k = this.k
    if (k === 0) throw new AlsrecError('ALSREC_INVALID_ARGUMENT', 'the bias-only model has no latent vectors to compare')
    const v = this.movieFactors
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
      if (i === q || !(ni > 0)) continue
      top.push(i, f32(dot(v, q * k, v, i * k, k) / f32(qn * ni)))
    }
    return top.items.map((i, r) => this.describe(i, top.scores[r] as number))
  }
}

/** Parses a model file's bytes (e.g. from `fetch(url).then(r => r.arrayBuffer())`). */
export function readModel(bytes: Uint8Array | ArrayBuffer): ModelReader {
  return new ModelReader(bytes)
}
