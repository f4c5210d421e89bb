// What the explorer asks of a model. The server answers over HTTP (HttpBackend); a static
// export would answer in the page itself. The page only ever talks to this interface.
export interface Movie {
  movieId: number
  title: string
  year: number | null
  genres: string[]
  ratingCount?: number
}

export interface MovieDetails extends Movie {
  meanRating: number | null
  links: Record<string, string>
}

export interface Because {
  movieId?: number
  title?: string
  rating?: number
  /** Rating points the rated film adds to the score (the fold-in's explanation). */
  points?: number
  genres?: string[]
}

export interface Recommendation extends Movie {
  score: number
  rating?: number
  because?: Because | null
}

export interface ModelInfo {
  kind: string
  k: number
  users: number
  movies: number
  genres: string[]
  ratingRange: [number, number]
}

export interface NewUserRequest {
  ratings: Array<{ movieId: number; rating: number }>
  likedGenres: string[]
  genres?: string[]
  diversity: number
  n: number
}

/** Every map point in columns: ids, coordinates, main-genre index (255: none), popularity. */
export interface MapData {
  movieIds: Float64Array
  x: Float32Array
  y: Float32Array
  counts: Uint32Array
  genre: Uint8Array
}

export interface Backend {
  info(): Promise<ModelInfo>
  search(query: string, limit: number): Promise<Movie[]>
  movie(movieId: number): Promise<MovieDetails>
  similar(movieId: number, n: number): Promise<Recommendation[]>
  recommend(request: NewUserRequest): Promise<Recommendation[]>
  map(): Promise<MapData>
}

/** The map's binary body (docs/serve.md): "ALSRMAP1", u32 count, u32 genres, then the columns. */
export function decodeMap(buffer: ArrayBuffer): MapData {
  const view = new DataView(buffer)
  const magic = String.fromCharCode(...new Uint8Array(buffer, 0, 8))
  if (magic !== 'ALSRMAP1') throw new Error('not a movie map')
  const n = view.getUint32(8, true)
  let at = 16
  const movieIds = new Float64Array(buffer.slice(at, at + 8 * n))
  at += 8 * n
  const x = new Float32Array(buffer.slice(at, at + 4 * n))
  at += 4 * n
  const y = new Float32Array(buffer.slice(at, at + 4 * n))
  at += 4 * n
  const counts = new Uint32Array(buffer.slice(at, at + 4 * n))
  at += 4 * n
  const genre = new Uint8Array(buffer.slice(at, at + n))
  return { movieIds, x, y, counts, genre }
}

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export class HttpBackend implements Backend {
  constructor(private readonly base = '') {}

  private async json<T>(path: string, init?: RequestInit): Promise<T> {
    const res = await fetch(this.base + path, init)
    const body = (await res.json()) as T & { error?: { code: string; message: string } }
    if (!res.ok) throw new ApiError(body.error?.code ?? `HTTP_${res.status}`, body.error?.message ?? res.statusText)
    return body
  }

  info(): Promise<ModelInfo> {
    return this.json('/api/model')
  }
  async search(query: string, limit: number): Promise<Movie[]> {
    return (await this.json<{ movies: Movie[] }>(`/api/search?q=${encodeURIComponent(query)}&limit=${limit}`)).movies
  }
  movie(movieId: number): Promise<MovieDetails> {
    return this.json(`/api/movies/${movieId}`)
  }
  async similar(movieId: number, n: number): Promise<Recommendation[]> {
    return (await this.json<{ similar: Recommendation[] }>(`/api/movies/${movieId}/similar?n=${n}`)).similar
  }
  async recommend(request: NewUserRequest): Promise<Recommendation[]> {
    const body = JSON.stringify(request)
    return (await this.json<{ recommendations: Recommendation[] }>('/api/recommendations', { method: 'POST', headers: { 'content-type': 'application/json' }, body })).recommendations
  }
  async map(): Promise<MapData> {
    const res = await fetch(`${this.base}/api/map.bin`)
    if (!res.ok) throw new ApiError(`HTTP_${res.status}`, 'the movie map did not load')
    return decodeMap(await res.arrayBuffer())
  }
}
