// The model file's JSON header, read with the native loader's types: a port of `Header`,
// `RankerHeader`, `EpochRecord`, `CatalogColumns` and `Section` in
// crates/alsrec-core/src/modelfile.rs (their serde attributes included: `CatalogColumns` has no
// `rename_all`, so its link and tag columns are `link_ids`, `imdb_ids`, `tmdb_ids`, `tag_ids`,
// `tags`), and of its `check_header`.
import { latentDim, readTrainConfig, trainConfigProblem, type TrainConfig } from './config.js'
import { JsonReader, type Field, type Id, type StructSpec } from './json.js'

/** The core's `modelfile::MAX_ABS_VALUE`: the largest |value| of any float in a model file. */
export const MAX_ABS_VALUE = 1e6

export interface Section {
  name: string
  dtype: string
  offset: number
  count: number
}

export interface EpochRecord {
  epoch: number
  /** NaN where the file has null. */
  trainRmse: number
  trainMae: number
  testRmse: number | null
  testMae: number | null
  loss: number
  seconds: number
  /** Null where the file does not record it (files written before it was). */
  metricsSeconds: number | null
  wallSeconds: number | null
}

export interface CatalogColumns {
  ids: Id[]
  titles: string[]
  years: Array<number | null>
  genres: number[][]
  link_ids: Id[]
  imdb_ids: Array<Id | null>
  tmdb_ids: Array<Id | null>
  tag_ids: Id[]
  tags: Array<Array<[string, number]>>
}

export interface RankerHeader {
  k: number
  config: TrainConfig
  history: EpochRecord[]
}

export interface Header {
  kind: string
  k: number
  mu: number
  config: TrainConfig
  history: EpochRecord[]
  numUsers: number
  numMovies: number
  numSeen: number
  genreNames: string[]
  catalog: CatalogColumns
  sections: Section[]
  ranker: RankerHeader | null
  posterior: PosteriorHeader | null
}

/** A Bayesian model's learned precisions (`PosteriorHeader`). */
export interface PosteriorHeader {
  noisePrecision: number
  userBiasPrecision: number
  movieBiasPrecision: number
  samples: number
}

type Read<T> = (r: JsonReader) => T
const usize: Read<number> = (r) => r.usize()
const f64: Read<number> = (r) => r.f64()
const str: Read<string> = (r) => r.string()
const i64: Read<Id> = (r) => r.i64()
const option =
  <T>(read: Read<T>): Read<T | null> =>
  (r) =>
    r.null() ? null : read(r)
const vec =
  <T>(read: Read<T>): Read<T[]> =>
  (r) =>
    r.seq(read)
const struct =
  <T>(spec: StructSpec): Read<T> =>
  (r) =>
    r.struct(spec) as T
/** `#[serde(with = "nan_as_null")]`: an `Option<f64>`, null read as NaN, required. */
const nanAsNull: Read<number> = (r) => (r.null() ? Number.NaN : r.f64())
const empty = (): unknown[] => []

const EPOCH: StructSpec = {
  name: 'EpochRecord',
  fields: [
    { key: 'epoch', read: usize },
    { key: 'trainRmse', read: nanAsNull },
    { key: 'trainMae', read: nanAsNull },
    { key: 'testRmse', read: option(f64), option: true },
    { key: 'testMae', read: option(f64), option: true },
    { key: 'loss', read: nanAsNull },
    { key: 'seconds', read: f64 },
    { key: 'metricsSeconds', read: option(f64), fieldDefault: () => null },
    { key: 'wallSeconds', read: option(f64), fieldDefault: () => null },
  ],
}

const SECTION: StructSpec = {
  name: 'Section',
  fields: [
    { key: 'name', read: str },
    { key: 'dtype', read: str },
    { key: 'offset', read: usize },
    { key: 'count', read: usize },
  ],
}

const CATALOG_FIELDS: readonly Field[] = [
  { key: 'ids', read: vec(i64) },
  { key: 'titles', read: vec(str) },
  { key: 'years', read: vec(option((r) => r.i32())) },
  { key: 'genres', read: vec(vec((r) => r.u16())) },
  { key: 'link_ids', read: vec(i64), fieldDefault: empty },
  { key: 'imdb_ids', read: vec(option(i64)), fieldDefault: empty },
  { key: 'tmdb_ids', read: vec(option(i64)), fieldDefault: empty },
  { key: 'tag_ids', read: vec(i64), fieldDefault: empty },
  { key: 'tags', read: vec(vec((r) => r.pair(str, (x) => x.u32()))), fieldDefault: empty },
]

const RANKER: StructSpec = {
  name: 'RankerHeader',
  fields: [
    { key: 'k', read: usize },
    { key: 'config', read: readTrainConfig },
    { key: 'history', read: vec(struct(EPOCH)) },
  ],
}

const POSTERIOR: StructSpec = {
  name: 'PosteriorHeader',
  fields: [
    { key: 'noisePrecision', read: (r) => r.f32() },
    { key: 'userBiasPrecision', read: (r) => r.f32() },
    { key: 'movieBiasPrecision', read: (r) => r.f32() },
    { key: 'samples', read: usize },
  ],
}

const HEADER: StructSpec = {
  name: 'Header',
  fields: [
    { key: 'kind', read: str },
    { key: 'k', read: usize },
    { key: 'mu', read: (r) => r.f32() },
    { key: 'config', read: readTrainConfig },
    { key: 'history', read: vec(struct(EPOCH)) },
    { key: 'numUsers', read: usize },
    { key: 'numMovies', read: usize },
    { key: 'numSeen', read: usize },
    { key: 'genreNames', read: vec(str) },
    { key: 'catalog', read: struct({ name: 'CatalogColumns', fields: CATALOG_FIELDS }) },
    { key: 'sections', read: vec(struct(SECTION)) },
    { key: 'ranker', read: option(struct(RANKER)), fieldDefault: () => null },
    { key: 'posterior', read: option(struct(POSTERIOR)), fieldDefault: () => null },
  ],
}

/** `serde_json::from_slice::<Header>`: throws a JsonError where serde_json fails. */
export function parseHeader(json: Uint8Array): Header {
  const r = new JsonReader(json)
  const h = r.struct(HEADER) as unknown as Header
  r.end()
  return h
}

/** `check_header`: the header's fields against each other, before any section is read. */
export function headerProblem(h: Header): string | null {
  if (h.config.model !== h.kind) return `header kind '${h.kind}' disagrees with its config ('${h.config.model}')`
  const config = trainConfigProblem(h.config)
  if (config !== null) return `the header's config is invalid: ${config}`
  if (h.k !== latentDim(h.config)) return `header field 'k' = ${h.k} disagrees with the config (${latentDim(h.config)} factors for '${h.kind}')`
  for (const [field, value] of [
    ['numUsers', h.numUsers],
    ['numMovies', h.numMovies],
    ['numSeen', h.numSeen],
  ] as const) {
    if (value > 4294967295) return `header field '${field}' = ${value} exceeds 4294967295`
  }
  if (!(Math.abs(h.mu) <= MAX_ABS_VALUE)) return `header field 'mu' is not a number within ±${MAX_ABS_VALUE}`
  if (h.genreNames.length > 65535) return "header field 'genreNames' lists more than 65535 genres"
  if (h.ranker !== null) {
    const ranker = trainConfigProblem(h.ranker.config)
    if (ranker !== null) return `the ranker's config is invalid: ${ranker}`
  }
  const bayesian = h.config.model === 'bayesian'
  if (h.posterior === null) {
    if (bayesian) return "a 'bayesian' model needs its 'posterior' header"
  } else {
    if (!bayesian) return `a '${h.kind}' model has no posterior, but the header holds one`
    for (const [field, value] of [
      ['noisePrecision', h.posterior.noisePrecision],
      ['userBiasPrecision', h.posterior.userBiasPrecision],
      ['movieBiasPrecision', h.posterior.movieBiasPrecision],
    ] as const) {
      if (!(Math.abs(value) <= MAX_ABS_VALUE && value > 0)) return `posterior field '${field}' must be a positive number within ±${MAX_ABS_VALUE}`
    }
    if (h.posterior.samples === 0) return "posterior field 'samples' must be at least 1"
  }
  return null
}
