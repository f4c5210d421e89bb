// The explorer without a server (`alsrec export-web`): the model file is read in the page by
// the pure-TypeScript reader, which answers similar movies exactly as the native core does;
// titles are searched by the same Catalog code as the server's; the map was computed at export.
// The reader has no fold-in, so a visitor's list here is item-to-item: the movies most like
// the films they liked (docs/serve.md says so), not the server's recommendForNewUser.
import { Catalog } from '../../src/catalog.js'
import { readModel, type ModelReader } from '../../src/reader/index.js'
import { decodeMap, type Backend, type MapData, type ModelInfo, type Movie, type MovieDetails, type NewUserRequest, type Recommendation } from './backend.js'

/** catalog.json as export-web writes it: the Catalog's columns as plain arrays. */
interface CatalogFile {
  ids: number[]
  titles: string[]
  years: number[]
  genreOffsets: number[]
  genreIndices: number[]
  genreNames: string[]
  imdbIds: Array<number | null>
  tmdbIds: Array<number | null>
  tagCounts: number[]
  info: ModelInfo
}

/** How many neighbours of each liked film are pooled into the list. */
const NEIGHBOURS = 100

export class StaticBackend implements Backend {
  private constructor(
    private readonly reader: ModelReader,
    private readonly catalog: Catalog,
    private readonly modelInfo: ModelInfo,
    private readonly stats: Map<number, { count: number; mean: number }>,
    private readonly mapData: MapData,
  ) {}

  static async load(base = 'data/'): Promise<StaticBackend> {
    const [modelBytes, catalogFile, mapBytes] = await Promise.all([
      fetch(`${base}model.alsrec`).then((r) => r.arrayBuffer()),
      fetch(`${base}catalog.json`).then((r) => r.json() as Promise<CatalogFile>),
      fetch(`${base}map.bin`).then((r) => r.arrayBuffer()),
    ])
    const reader = readModel(modelBytes)
    const c = catalogFile
    const catalog = new Catalog({
      ids: Float64Array.from(c.ids),
      titles: c.titles,
      years: Int32Array.from(c.years),
      genreOffsets: Uint32Array.from(c.genreOffsets),
      genreIndices: Uint16Array.from(c.genreIndices),
      genreNames: c.genreNames,
      imdbIds: Float64Array.from(c.imdbIds, (x) => x ?? Number.NaN),
      tmdbIds: Float64Array.from(c.tmdbIds, (x) => x ?? Number.NaN),
      tagCounts: Uint32Array.from(c.tagCounts),
    })
    const s = reader.movieRatingStats()
    const stats = new Map(Array.from(s.movieIds, (id, i) => [id, { count: s.counts[i] ?? 0, mean: s.means[i] ?? Number.NaN }]))
    return new StaticBackend(reader, catalog, c.info, stats, decodeMap(mapBytes))
  }

  private withCount(m: Movie): Movie {
    return { movieId: m.movieId, title: m.title, year: m.year, genres: m.genres, ratingCount: this.stats.get(m.movieId)?.count ?? 0 }
  }

  async info(): Promise<ModelInfo> {
    return this.modelInfo
  }

  async search(query: string, limit: number): Promise<Movie[]> {
    const counts = new Map(Array.from(this.stats, ([id, s]) => [id, s.count]))
    return this.catalog.search(query, limit, { ratingCounts: counts }).map((m) => this.withCount(m))
  }

  async movie(movieId: number): Promise<MovieDetails> {
    const m = this.catalog.describe(movieId)
    const s = this.stats.get(movieId)
    const links: Record<string, string> = { movielens: `https://movielens.org/movies/${movieId}` }
    if (m.imdbId !== undefined) links.imdb = `https://www.imdb.com/title/tt${String(m.imdbId).padStart(7, '0')}/`
    if (m.tmdbId !== undefined) links.tmdb = `https://www.themoviedb.org/movie/${m.tmdbId}`
    return { ...this.withCount(m), meanRating: s === undefined || Number.isNaN(s.mean) ? null : s.mean, links }
  }

  async similar(movieId: number, n: number): Promise<Recommendation[]> {
    return this.reader.similarMovies(movieId, { n })
  }

  /**
   * Films liked (at or above the visitor's mean, and above the middle of the scale) pool their
   * nearest neighbours; a movie scores the sum of its cosines to them, weighted by how far above
   * the middle each was rated. Liked genres alone give their most-rated films.
   */
  async recommend(request: NewUserRequest): Promise<Recommendation[]> {
    const [lo, hi] = this.modelInfo.ratingRange
    const mid = (lo + hi) / 2
    const rated = new Set(request.ratings.map((r) => r.movieId))
    const mean = request.ratings.reduce((a, r) => a + r.rating, 0) / Math.max(1, request.ratings.length)
    const liked = request.ratings.filter((r) => r.rating >= mid && (r.rating >= mean || r.rating >= lo + 0.75 * (hi - lo)))
    const pool = new Map<number, { rec: Recommendation; score: number; best: number; because: number }>()
    for (const l of liked) {
      const weight = (l.rating - mid) / (hi - mid) + 0.5
      for (const s of this.reader.similarMovies(l.movieId, { n: NEIGHBOURS })) {
        if (rated.has(s.movieId)) continue
        const entry = pool.get(s.movieId) ?? { rec: s, score: 0, best: -Infinity, because: l.movieId }
        entry.score += weight * s.score
        if (s.score > entry.best) [entry.best, entry.because] = [s.score, l.movieId]
        pool.set(s.movieId, entry)
      }
    }
    const genreOk = (m: Movie): boolean => request.genres === undefined || request.genres.length === 0 || m.genres.some((g) => request.genres?.includes(g))
    const likedGenres = new Set(request.likedGenres)
    let list: Array<{ rec: Recommendation; score: number; because: number | null }>
    if (pool.size > 0) list = [...pool.values()].filter((e) => genreOk(e.rec))
    else {
      // Genres only: the most rated films of the liked genres.
      list = this.catalog.movies
        .filter((m) => !rated.has(m.movieId) && m.genres.some((g) => likedGenres.has(g)) && genreOk(m))
        .map((m) => ({ rec: { ...m, score: this.stats.get(m.movieId)?.count ?? 0 }, score: this.stats.get(m.movieId)?.count ?? 0, because: null }))
    }
    list.sort((a, b) => b.score - a.score || a.rec.movieId - b.rec.movieId)
    return list.slice(0, request.n).map((e) => {
      const source = e.because === null ? undefined : this.catalog.get(e.because)
      const genres = e.rec.genres.filter((g) => likedGenres.has(g))
      const because = source !== undefined ? { movieId: source.movieId, title: source.title } : genres.length > 0 ? { genres } : null
      return { movieId: e.rec.movieId, title: e.rec.title, year: e.rec.year, genres: e.rec.genres, score: e.score, because }
    })
  }

  async map(): Promise<MapData> {
    return this.mapData
  }
}
