import { AlsrecError } from './errors.js'
import type { Native } from './native.js'

export interface Movie {
  movieId: number
  title: string
  year: number | null
  genres: string[]
  /** From links.csv, when the data set has it. */
  imdbId?: number
  tmdbId?: number
  /** How many tags (tags.csv) the movie was given; `dataset.movieTags(id)` lists them. */
  tagCount?: number
}

const ARTICLES = ['the', 'a', 'an', 'les', 'la', 'le', 'l\'', 'el', 'il', 'der', 'die', 'das']

/**
 * A title's exact-match key: lower case, no accents, no year, no trailing alternate titles in
 * parentheses, a trailing article (", The") moved to the front, punctuation folded to spaces.
 * "Lord of the Rings, The (1978)" and "The Lord of the Rings" have the same key; "Lord of the
 * Rings" does not (an article is part of a title).
 */
export function titleKey(title: string): string {
  let t = title.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().trim()
  t = t.replace(/\s*\((?:\d{4}(?:[-–]\d{0,4})?)\)\s*$/u, '')
  // Alternate titles in parentheses ("(a.k.a. …)", foreign titles) do not help matching.
  t = t.replace(/\s*\([^)]*\)\s*$/u, '')
  const m = /^(.*),\s*([a-z']+)$/u.exec(t)
  if (m && m[2] !== undefined && ARTICLES.includes(m[2])) t = `${m[2]} ${m[1] ?? ''}`
  return t.replace(/[^\p{L}\p{N}]+/gu, ' ').trim()
}

/**
 * The comparable form of a title for searching: its {@link titleKey} without a leading article.
 * "Lord of the Rings, The (1978)" and "the lord of the rings" meet here, as "lord of the rings".
 */
export function normalizeTitle(title: string): string {
  const t = titleKey(title)
  // A leading article is dropped on both sides, so a search for "Lord of the Rings" finds
  // "Lord of the Rings, The" and "The Lord of the Rings" alike.
  const words = t.split(' ')
  return words.length > 1 && ARTICLES.includes(words[0] ?? '') ? words.slice(1).join(' ') : t
}

/** How a title query found its movie (see {@link Catalog.resolve}). */
export type TitleMatchKind = 'exact' | 'only-match' | 'picked-first'

export interface TitleMatch {
  movie: Movie
  /**
   * 'exact': the one movie with this title (and year, if given); 'only-match': the one movie
   * whose title contains the query; 'picked-first': several matched and `pickFirst` took the
   * first of `candidates`.
   */
  match: TitleMatchKind
  /** The movies the query matched, best first (at most 10). */
  candidates: Movie[]
  /** How many movies matched in all. */
  matches: number
}

function yearOf(query: string): number | null {
  const m = /\((\d{4})\)\s*$/.exec(query.trim())
  return m?.[1] !== undefined ? Number(m[1]) : null
}

/** How {@link Catalog.resolve} chooses among several matches. */
export interface ResolveOptions {
  /** Take the best of several matches instead of failing with the list of candidates. */
  pickFirst?: boolean
  /** Training ratings by movie id (`model.ratingCounts()`): among equally good matches the most rated ranks first. */
  ratingCounts?: ReadonlyMap<number, number>
}

/** The movie catalog, with lookups by id and a forgiving title search. */
export class Catalog {
  readonly movies: readonly Movie[]
  readonly genreNames: readonly string[]
  private readonly byId = new Map<number, Movie>()
  private normalized: { loose: string[]; strict: string[] } | null = null

  constructor(columns: Native.CatalogColumns) {
    const movies: Movie[] = []
    for (let i = 0; i < columns.ids.length; i++) {
      const start = columns.genreOffsets[i] ?? 0
      const end = columns.genreOffsets[i + 1] ?? start
      const genres: string[] = []
      for (let j = start; j < end; j++) genres.push(columns.genreNames[columns.genreIndices[j] ?? 0] ?? '')
      const year = columns.years[i] ?? 0
      const movie: Movie = { movieId: columns.ids[i] ?? 0, title: columns.titles[i] ?? '', year: year === 0 ? null : year, genres }
      const imdb = columns.imdbIds[i] ?? NaN
      const tmdb = columns.tmdbIds[i] ?? NaN
      if (!Number.isNaN(imdb)) movie.imdbId = imdb
      if (!Number.isNaN(tmdb)) movie.tmdbId = tmdb
      const tags = columns.tagCounts[i] ?? 0
      if (tags > 0) movie.tagCount = tags
      movies.push(movie)
    }
    this.movies = movies
    this.genreNames = columns.genreNames
    for (const m of movies) this.byId.set(m.movieId, m)
  }

  get size(): number {
    return this.movies.length
  }

  get(movieId: number): Movie | undefined {
    return this.byId.get(movieId)
  }

  /** The movie, or a stand-in with its id as title when the catalog does not list it. */
  describe(movieId: number): Movie {
    return this.byId.get(movieId) ?? { movieId, title: `movie ${movieId}`, year: null, genres: [] }
  }

  private keys(): { loose: string[]; strict: string[] } {
    this.normalized ??= { loose: this.movies.map((m) => normalizeTitle(m.title)), strict: this.movies.map((m) => titleKey(m.title)) }
    return this.normalized
  }

  /** Every match of a query, best first: the same title, then titles starting with it, then containing it; a year in the query ranks that year first. */
  private ranked(query: string, ratingCounts?: ReadonlyMap<number, number>, limit = Infinity): Movie[] {
    const keys = this.keys()
    const q = normalizeTitle(query)
    if (q === '') return []
    const strict = titleKey(query)
    const year = yearOf(query)
    const ranked: Array<[number, Movie]> = []
    this.movies.forEach((m, i) => {
      const t = keys.loose[i] ?? ''
      let rank = keys.strict[i] === strict ? 0 : t === q ? 1 : t.startsWith(q) ? 2 : t.includes(q) ? 3 : -1
      if (rank < 0) return
      if (year !== null) rank += m.year === year ? 0 : 4
      ranked.push([rank, m])
    })
    // Among equally good matches the most rated comes first when counts are known: "Star Wars"
    // means Episode IV to most people, not the shortest title that contains it.
    const count = (m: Movie): number => ratingCounts?.get(m.movieId) ?? 0
    const order = (a: [number, Movie], b: [number, Movie]): number => a[0] - b[0] || count(b[1]) - count(a[1]) || a[1].title.length - b[1].title.length || a[1].movieId - b[1].movieId
    if (limit >= ranked.length) return ranked.sort(order).map((r) => r[1])
    // A typeahead's one-letter query matches most of a 62k catalog: keep only the best `limit`
    // (the order is total, so this is the full sort's first `limit`) instead of sorting them all.
    const top: Array<[number, Movie]> = []
    for (const r of ranked) {
      const last = top[top.length - 1]
      if (top.length >= limit && last !== undefined && order(r, last) >= 0) continue
      let lo = 0
      let hi = top.length
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (order(top[mid] as [number, Movie], r) <= 0) lo = mid + 1
        else hi = mid
      }
      top.splice(lo, 0, r)
      if (top.length > limit) top.pop()
    }
    return top.map((r) => r[1])
  }

  /**
   * All movies whose normalized title equals, then starts with, then contains the query; with
   * `ratingCounts`, the most rated first among equally good matches (what a typeahead wants).
   */
  search(query: string, limit = 10, options: Pick<ResolveOptions, 'ratingCounts'> = {}): Movie[] {
    return this.ranked(query, options.ratingCounts, Math.max(0, limit))
  }

  /**
   * The movie a title names. An exact match wins: the one movie whose {@link titleKey} equals the
   * query's (so "The Lord of the Rings" finds "Lord of the Rings, The (1978)"), with the year
   * when the query gives one ("Hamlet (1996)"; with a year, the one movie of that year whose
   * title matches but for a leading article counts too). Else the one movie whose title contains
   * the query. Else, with `pickFirst`, the first candidate (`match: 'picked-first'`); without it,
   * an error listing the candidates with their ids and years (ALSREC_NOT_FOUND, also when
   * nothing matches). "Lord of the Rings" and "Star Wars" are both ambiguous this way.
   */
  resolve(query: string, options: ResolveOptions = {}): TitleMatch {
    const all = this.ranked(query, options.ratingCounts)
    const candidates = all.slice(0, 10)
    const keys = this.keys()
    const strict = titleKey(query)
    const loose = normalizeTitle(query)
    const year = yearOf(query)
    const sameTitle = (key: string[], q: string): Movie[] => this.movies.filter((m, i) => key[i] === q && (year === null || m.year === year))
    let exact = sameTitle(keys.strict, strict)
    if (exact.length === 0 && year !== null) exact = sameTitle(keys.loose, loose)
    const result = (movie: Movie, match: TitleMatchKind): TitleMatch => ({ movie, match, candidates, matches: all.length })
    if (exact.length === 1 && exact[0]) return result(exact[0], 'exact')
    if (all.length === 1 && all[0]) return result(all[0], 'only-match')
    // `all` is ranked, so its first exact match is the best of several.
    const first = all.find((m) => exact.includes(m)) ?? all[0]
    if (options.pickFirst === true && first) return result(first, 'picked-first')
    if (!first) throw new AlsrecError('ALSREC_NOT_FOUND', `no movie matches the title "${query}"`)
    const listed = exact.length > 1 ? all.filter((m) => exact.includes(m)).slice(0, 10) : candidates
    const more = (exact.length > 1 ? exact.length : all.length) - listed.length
    // A title carries its year where the catalog knows one ("Hamlet (1996)").
    const list = listed.map((m) => `"${m.title}" (id ${m.movieId}${m.year === null ? ', no year' : ''})`).join(', ')
    throw new AlsrecError(
      'ALSREC_NOT_FOUND',
      `the title "${query}" matches several movies: ${list}${more > 0 ? ` and ${more} more` : ''}; give the full title with its year, or the id`,
    )
  }

  /** Exactly one movie for a title ({@link Catalog.resolve}), or an error that lists the candidates. */
  findOne(query: string, options: ResolveOptions = {}): Movie {
    return this.resolve(query, options).movie
  }
}
