// The native loader and the pure-TypeScript reader fed the same mutated model files (a seeded
// loop, in the spirit of crates/alsrec-core/src/robustness_tests.rs): they must agree on what
// they accept, refuse with ALSREC_BAD_MODEL_FILE only, and answer alike (bit for bit, finitely)
// what they accept. Checksums and lengths are recomputed, so the parsers' checks, not the
// CRC, must catch each mutation.
import test from 'ava'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

import { AlsrecError, loadModelSync, loadMovieLensSync, readModel, trainSync } from '../dist/index.js'
import { crc32c } from '../dist/reader/crc32c.js'
import type { ReaderRecommendation } from '../dist/reader/index.js'
import { sampleDir } from './helpers.js'

const PREAMBLE = 24
const dir = mkdtempSync(path.join(tmpdir(), 'alsrec-agreement-'))
test.after.always(() => rmSync(dir, { recursive: true, force: true }))

/** xoshiro128**, seeded by splitmix32: the same mutants on every run. */
function rng(seed: number): () => number {
  let z = seed >>> 0
  const next32 = (): number => {
    z = (z + 0x9e3779b9) >>> 0
    let x = z
    x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0
    return (x ^ (x >>> 16)) >>> 0
  }
  const s = [next32(), next32(), next32(), next32()]
  return () => {
    const [a, b, c, d] = s as [number, number, number, number]
    const out = Math.imul(((Math.imul(b, 5) << 7) | (Math.imul(b, 5) >>> 25)) >>> 0, 9) >>> 0
    const t = (b << 9) >>> 0
    s[2] = (c ^ a) >>> 0
    s[3] = (d ^ b) >>> 0
    s[1] = (b ^ (s[2] as number)) >>> 0
    s[0] = (a ^ (s[3] as number)) >>> 0
    s[2] = ((s[2] as number) ^ t) >>> 0
    s[3] = (((s[3] as number) << 11) | ((s[3] as number) >>> 21)) >>> 0
    return out
  }
}

type Rng = () => number
const below = (r: Rng, n: number): number => r() % n
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[below(r, xs.length)] as T

// The models: every kind of file the loaders must handle, small enough to mutate thousands of
// times: the sample's first 150 users (a quarter of its ratings) and its whole catalog.
const smallDir = path.join(dir, 'small')
const linkedDir = path.join(dir, 'linked')
const ratings = readFileSync(path.join(sampleDir, 'ratings.csv'), 'utf8').split('\n')
const fewer = [ratings[0], ...ratings.slice(1).filter((line) => line !== '' && Number(line.split(',')[0]) <= 150)].join('\n') + '\n'
for (const d of [smallDir, linkedDir]) {
  mkdirSync(d)
  writeFileSync(path.join(d, 'ratings.csv'), fewer)
  writeFileSync(path.join(d, 'movies.csv'), readFileSync(path.join(sampleDir, 'movies.csv')))
}
const sample = loadMovieLensSync(smallDir)
const linkIds = sample.catalog.movies.slice(0, 30).map((m) => m.movieId)
writeFileSync(path.join(linkedDir, 'links.csv'), 'movieId,imdbId,tmdbId\n' + linkIds.map((id, i) => `${id},${String(100000 + i).padStart(7, '0')},${i % 3 === 0 ? '' : 900 + i}`).join('\n') + '\n')
writeFileSync(path.join(linkedDir, 'tags.csv'), 'userId,movieId,tag,timestamp\n' + linkIds.slice(0, 8).flatMap((id, i) => [`1,${id},funny,1`, `2,${id},tag ${i},2`, `3,${id},funny,3`]).join('\n') + '\n')
const linked = loadMovieLensSync(linkedDir)

const specs: Array<[string, () => ReturnType<typeof trainSync>]> = [
  // A series bonus fixed above 0, so the title-series path is exercised too.
  ['genre+ranker', () => trainSync(sample, { factors: 4, epochs: 2, threads: 1, ranker: { factors: 4, epochs: 2, seriesBonus: 0.3, learnSeriesBonus: false } })],
  ['implicit', () => trainSync(sample, { model: 'implicit', factors: 4, epochs: 2, threads: 1 })],
  ['bias', () => trainSync(sample, { model: 'bias', epochs: 2, threads: 1 })],
  ['popular', () => trainSync(sample, { model: 'popular', threads: 1 })],
  ['bayesian, no ranker', () => trainSync(sample, { model: 'bayesian', factors: 3, epochs: 3, burnIn: 1, threads: 1, ranker: null })],
  ['biased, links and tags, no ranker', () => trainSync(linked, { model: 'biased', factors: 4, epochs: 2, threads: 1, ranker: null })],
]
interface ModelFile {
  name: string
  bytes: Uint8Array
  /** The header's JSON text, its reserved space (up to the first section) and its sections. */
  json: string
  room: number
  sections: Array<{ name: string; offset: number; count: number; dtype: string }>
  /** Every path into the header (arrays' first 40 elements only, as the Rust test). */
  paths: Array<Array<string | number>>
}
const files: ModelFile[] = specs.map(([name, train]) => {
  const p = path.join(dir, `${name.replace(/[^a-z]+/g, '-')}.alsrec`)
  train().saveSync(p)
  const bytes = new Uint8Array(readFileSync(p))
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(PREAMBLE, PREAMBLE + new DataView(bytes.buffer, bytes.byteOffset).getUint32(12, true)))) as {
    sections: ModelFile['sections']
    history: Array<{ seconds: number; metricsSeconds?: number; wallSeconds?: number }>
    ranker?: { history: Array<{ seconds: number; metricsSeconds?: number; wallSeconds?: number }> }
  }
  const room = Math.min(...header.sections.map((s) => s.offset)) - PREAMBLE
  // Training times vary from run to run: fixed, so every run mutates the same files.
  for (const h of [...header.history, ...(header.ranker?.history ?? [])]) {
    h.seconds = 0.25
    if (h.metricsSeconds !== undefined) h.metricsSeconds = 0.125
    if (h.wallSeconds !== undefined) h.wallSeconds = 0.375
  }
  const json = JSON.stringify(header)
  writeHeader(bytes, json, room)
  const all: ModelFile['paths'] = []
  paths(header, [], all)
  return { name, bytes: seal(bytes), json, room, sections: header.sections, paths: all }
})

/** Writes a header's JSON into its reserved space, padded with spaces; false if it does not fit. */
function writeHeader(b: Uint8Array, json: string, room: number): boolean {
  const encoded = new TextEncoder().encode(json)
  if (encoded.length > room) return false
  b.fill(0x20, PREAMBLE, PREAMBLE + room)
  b.set(encoded, PREAMBLE)
  new DataView(b.buffer, b.byteOffset).setUint32(12, encoded.length, true)
  return true
}

/** Sets the total length (bytes 16..24) and the trailing CRC-32C to match the bytes. */
function seal(b: Uint8Array): Uint8Array {
  if (b.length < PREAMBLE + 4) return b
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  view.setBigUint64(16, BigInt(b.length), true)
  view.setUint32(b.length - 4, crc32c(b.subarray(0, b.length - 4)), true)
  return b
}

/** Every path into a JSON value, arrays' first 40 elements only. */
function paths(v: unknown, at: Array<string | number>, out: Array<Array<string | number>>): void {
  out.push(at)
  if (Array.isArray(v)) v.slice(0, 40).forEach((x, i) => paths(x, [...at, i], out))
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out)
}

/** Literals JSON.stringify cannot write: they probe how each side types numbers and enums. */
const RAW = ['1.0', '-0', '1e400', '-1e400', '1e2', '18446744073709551615', '18446744073709551616', '9223372036854775807', '-9223372036854775808', '-9223372036854775809', '4294967295', '65535', '65536', '3.4028235e38', '3.4028236e38', '1e-50', '{"biased":null}', '{"implicit":null}', '["x",1]', '"\\ud800"', '"\\u00e9"', '[[]]', '{"":0}']

function interesting(r: Rng, old: unknown, raws: string[]): unknown {
  const numbers = [0, 1, -1, 2, 255, 65536, 4294967295, 2 ** 32, 2 ** 53, 2 ** 61, 1e30, -0.5, 0.5, 1e-30]
  switch (below(r, 14)) {
    case 0:
      return null
    case 1:
      return 'x'
    case 2:
      return []
    case 3:
      return {}
    case 4:
      return true
    case 5:
      return typeof old === 'number' ? old + (below(r, 2) === 0 ? 1 : -1) : 0
    case 6:
      return typeof old === 'number' ? old * 2 : 'biased'
    case 7:
    case 8: {
      // A raw literal, spliced in after serialization.
      raws.push(pick(r, RAW))
      return `\u0001RAW${raws.length - 1}\u0001`
    }
    default:
      return pick(r, numbers)
  }
}

function setAt(root: unknown, at: Array<string | number>, f: (parent: Record<string | number, unknown>, key: string | number) => void): void {
  let v = root as Record<string | number, unknown>
  for (const key of at.slice(0, -1)) v = v[key] as Record<string | number, unknown>
  f(v, at[at.length - 1] as string | number)
}

type Mutation = { kind: string; bytes: Uint8Array }

/** One mutant of a file, or null when the mutation does not apply. */
function mutate(r: Rng, original: ModelFile): Mutation | null {
  const { room, sections, bytes: file } = original
  const dataStart = PREAMBLE + room
  const end = file.length - 4
  const roll = below(r, 20)
  if (roll < 11) {
    // The header: one value replaced or one key dropped, re-serialized into its space.
    const json = JSON.parse(original.json) as unknown
    const at = original.paths[1 + below(r, original.paths.length - 1)] as Array<string | number>
    const raws: string[] = []
    let kind: string
    if (below(r, 6) === 0) {
      kind = `delete ${at.join('/')}`
      setAt(json, at, (parent, key) => {
        if (Array.isArray(parent)) parent.splice(key as number, 1)
        else delete parent[key]
      })
    } else {
      let value: unknown
      setAt(json, at, (parent, key) => {
        value = interesting(r, parent[key], raws)
        parent[key] = value
      })
      kind = `set ${at.join('/')} = ${typeof value === 'string' && value.startsWith('\u0001') ? raws[0] : JSON.stringify(value)}`
    }
    const text = JSON.stringify(json).replace(/"\\u0001RAW(\d+)\\u0001"/g, (_, i: string) => raws[Number(i)] as string)
    const b = file.slice()
    return writeHeader(b, text, room) ? { kind, bytes: seal(b) } : null
  }
  if (roll < 12) {
    // A byte of the JSON text itself: its syntax, strings and UTF-8.
    const len = new DataView(file.buffer, file.byteOffset).getUint32(12, true)
    const b = file.slice()
    const at = PREAMBLE + below(r, len)
    const byte = pick(r, [0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x20, 0x30, 0x2d, 0x2e, 0x65, 0x80, 0xc3, 0xff, 0x00, 0x0a, below(r, 256)])
    b[at] = byte
    return { kind: `header byte ${at - PREAMBLE} = 0x${byte.toString(16)}`, bytes: seal(b) }
  }
  if (roll < 18) {
    // The sections: a special float or integer at 4-aligned spots, in one section or anywhere.
    if (end <= dataStart + 4) return null
    const b = file.slice()
    const view = new DataView(b.buffer)
    const words: string[] = []
    for (let j = 1 + below(r, 3); j > 0; j--) {
      let at: number
      const s = pick(r, sections)
      const size = s.count * (s.dtype === 'i64' || s.dtype === 'u64' ? 8 : 4)
      if (below(r, 2) === 0 && size >= 4) at = s.offset + 4 * below(r, size / 4)
      else at = (dataStart + below(r, end - 4 - dataStart)) & ~3
      const special = below(r, 9)
      if (special === 0) view.setFloat32(at, Number.NaN, true)
      else if (special === 1) view.setFloat32(at, below(r, 2) === 0 ? Infinity : -Infinity, true)
      else if (special === 2) view.setFloat32(at, 1e38, true)
      else view.setUint32(at, special === 3 ? 0xffffffff : special === 4 ? 0 : special === 5 ? below(r, 64) : r(), true)
      words.push(`${at}:${view.getUint32(at, true).toString(16)}`)
    }
    return { kind: `words ${words.join(' ')}`, bytes: seal(b) }
  }
  // The length: cut short or padded, then sealed as if whole.
  if (below(r, 2) === 0) {
    const cut = PREAMBLE + 4 + below(r, end - PREAMBLE - 4 + 1)
    const b = new Uint8Array(cut + 4)
    b.set(file.subarray(0, cut))
    return { kind: `truncated to ${cut}`, bytes: seal(b) }
  }
  const pad = 8 * (1 + below(r, 3))
  const b = new Uint8Array(file.length + pad)
  b.set(file.subarray(0, end))
  return { kind: `padded by ${pad}`, bytes: seal(b) }
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown }
function attempt<T>(f: () => T): Outcome<T> {
  try {
    return { ok: true, value: f() }
  } catch (error) {
    return { ok: false, error }
  }
}
const codeOf = (e: unknown): string => (e instanceof AlsrecError ? e.code : `uncoded ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`)

type Answer = ReaderRecommendation
const shape = (list: Answer[]): Answer[] => list.map((a) => ({ movieId: a.movieId, title: a.title, year: a.year, genres: a.genres, score: a.score, ...(a.rating === undefined ? {} : { rating: a.rating }) }))

test('the unmutated files load alike in both readers', (t) => {
  for (const { name, bytes } of files) {
    const p = path.join(dir, 'whole.alsrec')
    writeFileSync(p, bytes)
    const native = loadModelSync(p)
    const reader = readModel(bytes)
    const user = native.userIds()[0] ?? 0
    t.deepEqual(shape(reader.recommend(user, { n: 10 })), shape(native.recommend(user, { n: 10 })), name)
  }
})

test('native loader and TypeScript reader agree on thousands of mutated files', (t) => {
  const r = rng(20240917)
  const tally = { mutants: 0, refused: 0, accepted: 0, disagreements: 0, uncoded: 0, nonFinite: 0, answers: 0 }
  const findings: string[] = []
  const note = (what: string): void => {
    if (findings.length < 40) findings.push(what)
  }
  const started = Date.now()
  const p = path.join(dir, 'mutant.alsrec')
  while (tally.mutants < 3000) {
    const file = files[tally.mutants % files.length] as (typeof files)[number]
    const mutant = mutate(r, file)
    if (mutant === null) continue
    tally.mutants++
    const what = `${file.name}: ${mutant.kind}`
    writeFileSync(p, mutant.bytes)
    const native = attempt(() => loadModelSync(p))
    const reader = attempt(() => readModel(mutant.bytes))
    for (const [side, outcome] of [
      ['native', native],
      ['reader', reader],
    ] as const) {
      if (!outcome.ok && codeOf(outcome.error) !== 'ALSREC_BAD_MODEL_FILE') {
        tally.uncoded++
        note(`${what}: ${side} threw ${codeOf(outcome.error)}`)
      }
    }
    if (native.ok !== reader.ok) {
      tally.disagreements++
      const refusal = !native.ok ? native.error : !reader.ok ? reader.error : null
      const why = `${native.ok ? 'reader' : 'native'} refused (${refusal instanceof Error ? refusal.message : String(refusal)})`
      note(`${what}: ${native.ok ? 'native accepted' : 'reader accepted'}, ${why}`)
      continue
    }
    if (!native.ok || !reader.ok) {
      tally.refused++
      continue
    }
    tally.accepted++
    // Accepted by both: the same answers, every one finite.
    const model = native.value
    const view = reader.value
    const ids = Array.from(model.userIds())
    const users = [ids[0], ids[ids.length >> 1], ids[ids.length - 1], pick(r, ids)].filter((u): u is number => u !== undefined && Number.isSafeInteger(u))
    const movies = new Set<number>()
    const compare = (label: string, a: () => Answer[], b: () => Answer[]): void => {
      tally.answers++
      const x = attempt(a)
      const y = attempt(b)
      if (!x.ok || !y.ok) {
        if (x.ok || y.ok || codeOf(x.error) !== codeOf(y.error)) {
          tally.disagreements++
          note(`${what}: ${label}: native ${x.ok ? 'answered' : codeOf(x.error)}, reader ${y.ok ? 'answered' : codeOf(y.error)}`)
        }
        for (const o of [x, y]) {
          if (!o.ok && !(o.error instanceof AlsrecError && o.error.code !== 'ALSREC_INTERNAL')) {
            tally.uncoded++
            note(`${what}: ${label}: ${codeOf(o.error)}`)
          }
        }
        return
      }
      const [nx, ny] = [shape(x.value), shape(y.value)]
      for (const list of [nx, ny]) {
        const bad = list.find((s) => !Number.isFinite(s.score) || (s.rating !== undefined && !Number.isFinite(s.rating)))
        if (bad) {
          tally.nonFinite++
          note(`${what}: ${label}: a non-finite answer (${JSON.stringify(bad)})`)
        }
      }
      // Bit for bit: Object.is tells −0 from +0, which JSON.stringify does not.
      const alike = nx.length === ny.length && nx.every((a, i) => {
        const b = ny[i] as Answer
        return Object.is(a.score, b.score) && Object.is(a.rating, b.rating) && JSON.stringify(a) === JSON.stringify(b)
      })
      if (!alike) {
        tally.disagreements++
        note(`${what}: ${label}: native ${JSON.stringify(nx.slice(0, 3))} ≠ reader ${JSON.stringify(ny.slice(0, 3))}`)
      }
      for (const s of nx) movies.add(s.movieId)
    }
    for (const u of users) compare(`recommend(${u})`, () => model.recommend(u, { n: 10 }), () => view.recommend(u, { n: 10 }))
    const catalog = model.catalog.movies
    for (const m of [...[...movies].slice(0, 2), catalog[0]?.movieId, catalog[catalog.length - 1]?.movieId]) {
      if (m === undefined || !Number.isSafeInteger(m)) continue
      compare(`similarMovies(${m})`, () => model.similarMovies(m, { n: 10 }), () => view.similarMovies(m, { n: 10 }))
    }
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  t.log(`${tally.mutants} mutants in ${seconds} s: ${tally.refused} refused by both, ${tally.accepted} accepted by both (${tally.answers} answers compared), ${tally.disagreements} disagreements, ${tally.uncoded} uncoded errors, ${tally.nonFinite} non-finite answers`)
  for (const f of findings) t.log(f)
  t.is(tally.disagreements, 0, 'the two loaders disagree')
  t.is(tally.uncoded, 0, 'errors without an ALSREC code (or ALSREC_INTERNAL)')
  t.is(tally.nonFinite, 0, 'answers with NaN or ±Infinity')
  t.true(tally.refused > 1000 && tally.accepted > 300, `${tally.refused} refused, ${tally.accepted} accepted: the mutations should exercise both paths`)
})

test('a finite value so large that norms overflow is refused by both loaders', (t) => {
  // A component of 1e37 is finite, but its square overflows f32: cosines would become ±0 and
  // NaN. Both loaders bound every float of a model file (the core's MAX_ABS_VALUE, 1e6).
  const file = files.find((f) => f.name.startsWith('biased')) as ModelFile
  const b = file.bytes.slice()
  const view = new DataView(b.buffer)
  const movieFactors = file.sections.find((s) => s.name === 'movieFactors') as ModelFile['sections'][number]
  view.setFloat32(movieFactors.offset + 4 * (4 * 10 + 1), 1e37, true)
  const p = path.join(dir, 'huge.alsrec')
  writeFileSync(p, seal(b))
  for (const load of [() => loadModelSync(p), () => readModel(readFileSync(p))]) {
    const e = t.throws(load, { instanceOf: AlsrecError })
    t.is(e?.code, 'ALSREC_BAD_MODEL_FILE')
    t.regex(e?.message ?? '', /movieFactors.*beyond ±1000000/)
  }
})
