// What the server holds per model: the native model plus what its routes read many times and
// the native API does not keep (per-movie means, the 2-D map as one binary body). Built once
// per model file, then swapped in whole, so a request sees one model from start to end.
import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'

import type { Movie } from '../catalog.js'
import { AlsrecError } from '../errors.js'
import { loadModel, type Model } from '../model.js'
import { readModel } from '../reader/index.js'

/** The map's binary layout (GET /api/map.bin); docs/serve.md describes it. */
export const MAP_MAGIC = 'ALSRMAP1'
/** The genre index of a movie without genres in the binary map. */
export const NO_GENRE = 255

export interface MovieStats {
  ratingCount: number
  /** Mean training rating, null for a movie without ratings. */
  meanRating: number | null
}

export interface MapPoint {
  movieId: number
  x: number
  y: number
  /** Index into `genres` of the model (`/api/model`), or null. */
  genre: number | null
  ratingCount: number
}

export class ServedModel {
  readonly model: Model
  /** The file's base name (never the full path: that is the server's business). */
  readonly file: string | null
  readonly loadedAt: string
  readonly bytes: number | null
  private readonly stats: Map<number, MovieStats>
  private readonly mapPoints: MapPoint[]
  /** The map as one little-endian body, made once: 62k movies is ~1.3 MB, too much for JSON per request. */
  readonly mapBinary: Buffer
  readonly explained: [number, number]
  /** Movies by training ratings: typeahead ranks the popular title first among equal matches. */
  readonly ratingCounts: ReadonlyMap<number, number>

  constructor(model: Model, means: ReadonlyMap<number, number> | null, file: string | null, bytes: number | null) {
    this.model = model
    this.file = file
    this.bytes = bytes
    this.loadedAt = new Date().toISOString()
    this.ratingCounts = model.ratingCounts()
    this.stats = new Map()
    for (const [id, count] of this.ratingCounts) {
      const mean = means?.get(id)
      this.stats.set(id, { ratingCount: count, meanRating: mean === undefined || Number.isNaN(mean) ? null : mean })
    }
    const map = model.movieMap({ minRatings: 1 })
    this.explained = map.explained
    const genreIndex = new Map(model.catalog.genreNames.map((g, i) => [g, i]))
    const genreFrequency = new Map<string, number>()
    for (const m of model.catalog.movies) for (const g of m.genres) genreFrequency.set(g, (genreFrequency.get(g) ?? 0) + 1)
    this.mapPoints = Array.from(map.movieIds, (movieId, i) => {
      const genre = mainGenre(model.catalog.describe(movieId), genreFrequency)
      return { movieId, x: map.x[i] ?? 0, y: map.y[i] ?? 0, genre: genre === null ? null : (genreIndex.get(genre) ?? null), ratingCount: this.ratingCounts.get(movieId) ?? 0 }
    })
    this.mapBinary = encodeMap(this.mapPoints, model.catalog.genreNames.length)
  }

  movieStats(movieId: number): MovieStats {
    return this.stats.get(movieId) ?? { ratingCount: 0, meanRating: null }
  }

  /** The movie with its id known to the catalog, or undefined. */
  movie(movieId: number): Movie | undefined {
    return this.model.catalog.get(movieId)
  }

  mapPage(offset: number, limit: number): { total: number; offset: number; points: MapPoint[] } {
    return { total: this.mapPoints.length, offset, points: this.mapPoints.slice(offset, offset + limit) }
  }
}

/**
 * The genre a movie is coloured by: its rarest genre in the catalog. MovieLens lists genres
 * alphabetically and most movies are Drama or Comedy, so the first or the commonest genre would
 * paint the map in two colours; the rarest says most about the film (Animation, Film-Noir, …).
 */
function mainGenre(movie: Movie, frequency: ReadonlyMap<string, number>): string | null {
  let best: string | null = null
  for (const g of movie.genres) if (best === null || (frequency.get(g) ?? 0) < (frequency.get(best) ?? 0)) best = g
  return best
}

/** Header (8-byte magic, u32 count, u32 genre count), then f64 ids, f32 x, f32 y, u32 rating counts, u8 genre index. */
function encodeMap(points: MapPoint[], genreCount: number): Buffer {
  const n = points.length
  const buffer = Buffer.alloc(16 + n * (8 + 4 + 4 + 4 + 1))
  buffer.write(MAP_MAGIC, 0, 'latin1')
  buffer.writeUInt32LE(n, 8)
  buffer.writeUInt32LE(genreCount, 12)
  let at = 16
  for (const p of points) at = buffer.writeDoubleLE(p.movieId, at)
  for (const p of points) at = buffer.writeFloatLE(p.x, at)
  for (const p of points) at = buffer.writeFloatLE(p.y, at)
  for (const p of points) at = buffer.writeUInt32LE(p.ratingCount, at)
  for (const p of points) at = buffer.writeUInt8(p.genre ?? NO_GENRE, at)
  return buffer
}

/**
 * Loads a model file for serving: the native model, then the file's bytes once more through the
 * TypeScript reader for the per-movie mean ratings. If the file was replaced between the two
 * reads (the counts disagree), the load is retried, so the means always belong to the model.
 */
export async function loadServedModel(file: string): Promise<ServedModel> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const model = await loadModel(file)
    const bytes = await readFile(file)
    let stats
    try {
      stats = readModel(bytes).movieRatingStats()
    } catch (err) {
      // Replaced by a damaged file since the native load: try again, the loop decides.
      if (err instanceof AlsrecError && err.code === 'ALSREC_BAD_MODEL_FILE' && attempt < 2) continue
      throw err
    }
    const counts = model.ratingCounts()
    const same = stats.movieIds.length === model.numMovies && Array.from(stats.movieIds).every((id, i) => counts.get(id) === stats.counts[i])
    if (!same) continue
    const means = new Map(Array.from(stats.movieIds, (id, i) => [id, stats.means[i] ?? Number.NaN]))
    return new ServedModel(model, means, path.basename(file), (await stat(file)).size)
  }
  throw new AlsrecError('ALSREC_IO', `${file} kept changing while it was read; try again once it is written`)
}

/** A model given as an object (tests, scripts): no file, so no mean ratings. */
export function servedFromModel(model: Model): ServedModel {
  return new ServedModel(model, null, null, null)
}
