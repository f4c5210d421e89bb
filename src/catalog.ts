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
 * The comparable form of a title: lower case, no accents, no year, a trailing ", The" moved to
 * the front, punctuation folded to spaces. "Lord of the Rings, The (1978)" and "the lord of
 * the rings" meet here, as "lord of the rings": a leading article is dropped.
 */
export function normalizeTitle(title: string): string {
  let t = title.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().trim()
  t = t.replace(/\s*\((?:\d{4}(?:[-–]\d{0,4})?)\)\s*$/u, '')
  // Alternate titles in parentheses ("(a.k.a. …)", foreign titles) do not help matching.
  t = t.replace(/\s*\([^)]*\)\s*$/u, '')
  const m = /^(.*),\s*([a-z']+)$/u.exec(t)
  if (m && m[2] !== undefined && ARTICLES.includes(m[2])) t = `${m[2]} ${m[1] ?? ''}`
  t = t.replace(/[^\p{L}\p{N}]+/gu, ' ').trim()
  // A leading article is dropped on both sides, so "Lord of the Rings" finds
  // "Lord of the Rings, The" and "The Lord of the Rings" alike.
  const words = t.split(' ')
  if (words.length > 1 && ARTICLES.includes(words[0] ?? '')) t = words.slice(1).join(' ')
  return t
}

function yearOf(query: string): number | null {
  const m = /\((\d{4})\)\s*$/.exec(query.trim())
  return m?.[1] !== undefined ? Number(m[1]) : null
}

/** The movie catalog, with lookups by id and a forgiving title search. */
export class Catalog {
  readonly movies: readonly Movie[]
  readonly genreNames: readonly string[]
  private readonly byId = new Map<number, Movie>()
  private normalized: string[] | null = null

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

  /** All movies whose normalized title equals, then starts with, then contains the query. */
  search(query: string, limit = 10): Movie[] {
    this.normalized ??= this.movies.map((m) => normalizeTitle(m.title))
    const q = normalizeTitle(query)
    if (q === '') return []
    const year = yearOf(query)
    const ranked: Array<[number, Movie]> = []
    this.movies.forEach((m, i) => {
      const t = this.normalized?.[i] ?? ''
      let rank = t === q ? 0 : t.startsWith(q) ? 1 : t.includes(q) ? 2 : -1
      if (rank < 0) return
      if (year !== null) rank += m.year === year ? 0 : 3
      ranked.push([rank, m])
    })
    ranked.sort((a, b) => a[0] - b[0] || a[1].title.length - b[1].title.length || a[1].movieId - b[1].movieId)
    return ranked.slice(0, limit).map((r) => r[1])
  }

  /** Exactly one movie for a title, or an error that lists the candidates. */
  findOne(query: string): Movie {
    const found = this.search(query, 6)
    const q = normalizeTitle(query)
    const year = yearOf(query)
    const exact = found.filter((m) => normalizeTitle(m.title) === q && (year === null || m.year === year))
    if (exact.length === 1 && exact[0]) return exact[0]
    if (found.length === 1 && found[0]) return found[0]
    if (found.length === 0) throw new AlsrecError('ALSREC_NOT_FOUND', `no movie matches the title "${query}"`)
    const list = found.map((m) => `"${m.title}" (id ${m.movieId})`).join(', ')
    throw new AlsrecError('ALSREC_NOT_FOUND', `the title "${query}" matches several movies: ${list}; give the year or the id`)
  }
}
