// The explorer without a server (`alsrec export-web`): the model file is read in the page by
// the pure-TypeScript reader, which answers similar movies exactly as the native core does and
// a visitor's list by the same fold-in as the server's recommendForNewUser (in f64, so equal
// but for near-ties), each with its "because" from the reader's explainForNewUser; titles are
// searched by the same Catalog code as the server's; the map was computed at export.
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
   * The reader's recommendForNewUser; each film's `because` is the rated film adding the most
   * points to its score (the reader's explainForNewUser), else the liked genres it has, as the
   * server's route gives it.
   */
  async recommend(request: NewUserRequest): Promise<Recommendation[]> {
    const profile = { ratings: request.ratings.map((r) => ({ movie: r.movieId, rating: r.rating })), genres: request.likedGenres }
    const options = { n: request.n, diversity: request.diversity, ...(request.genres !== undefined && request.genres.length > 0 ? { genres: request.genres } : {}) }
    const likedGenres = new Set(request.likedGenres.map((g) => g.toLowerCase()))
    return this.reader.recommendForNewUser(profile, options).map((rec) => {
      if (request.ratings.length > 0 && this.modelInfo.k > 0) {
        const e = this.reader.explainForNewUser(profile, rec.movieId, { top: request.ratings.length })
        const top = [...e.contributions].sort((a, b) => b.points - a.points)[0]
        if (top !== undefined && top.points > 0) return { ...rec, because: { movieId: top.movieId, title: top.title, rating: top.rating, points: top.points } }
      }
      const genres = rec.genres.filter((g) => likedGenres.has(g.toLowerCase()))
      return { ...rec, because: genres.length > 0 ? { genres } : null }
    })
  }

  async map(): Promise<MapData> {
    return this.mapData
  }
}
