// The JSON API. Each handler reads the served model once at its start (`source()`), so a
// reload swapping the model mid-request cannot mix two models in one answer. Request checks
// the schemas cannot express (genre names, the rating scale, list sizes) are made here, before
// the model is asked, so that every refusal names its field.
import type { FastifyInstance } from 'fastify'

import { parseYears } from '../cli/shared/id-lists.js'
import { AlsrecError } from '../errors.js'
import type { Explanation, NewUserProfile, Recommendation, RecommendOptions } from '../model.js'
import { badField, FieldError, notFound } from './errors.js'
import * as S from './schemas.js'
import type { ServedModel } from './state.js'

export type ModelSource = () => ServedModel

interface FilterQuery {
  n: number
  genres?: string
  years?: string
  minRatings?: number
  candidates?: string
}

interface UserQuery extends FilterQuery {
  diversity: number
  includeSeen: boolean
}

interface NewUserBody {
  ratings?: Array<{ movieId: number; rating: number }>
  likedGenres?: string[]
  n?: number
  genres?: string[]
  years?: [number, number]
  minRatings?: number
  candidates?: number[]
  diversity?: number
}

/** Genre names as the model spells them, any case given; an unknown one is refused with the vocabulary. */
function genreNames(served: ServedModel, field: string, names: readonly string[]): string[] {
  const known = new Map(served.model.catalog.genreNames.map((g) => [g.toLowerCase(), g]))
  return names.map((name, i) => {
    const g = known.get(name.trim().toLowerCase())
    if (g === undefined) throw badField(names.length > 1 ? `${field}[${i}]` : field, `unknown genre '${name}'; the genres are ${[...known.values()].join(', ')}`)
    return g
  })
}

function commaList(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '')
  return items.length === 0 ? undefined : items
}

/** The filters of a query string as `RecommendOptions`. */
function queryFilters(served: ServedModel, q: FilterQuery): RecommendOptions {
  const options: RecommendOptions = { n: q.n }
  const genres = commaList(q.genres)
  if (genres !== undefined) options.genres = genreNames(served, 'query.genres', genres)
  if (q.years !== undefined) {
    try {
      options.years = parseYears('query.years', q.years)
    } catch (err) {
      throw badField('query.years', err instanceof Error ? err.message.replace(/^query\.years:? ?/, '') : String(err))
    }
  }
  if (q.minRatings !== undefined) options.minRatings = q.minRatings
  if (q.candidates !== undefined) {
    const ids = q.candidates.split(',').map(Number)
    if (ids.length > S.MAX_CANDIDATES) throw badField('query.candidates', `at most ${S.MAX_CANDIDATES} ids (got ${ids.length})`)
    if (!ids.every(Number.isSafeInteger)) throw badField('query.candidates', 'ids must be whole numbers')
    options.candidates = ids
  }
  return options
}

function withCount(served: ServedModel, m: { movieId: number; title: string; year: number | null; genres: string[] }): { movieId: number; title: string; year: number | null; genres: string[]; ratingCount: number } {
  return { movieId: m.movieId, title: m.title, year: m.year, genres: m.genres, ratingCount: served.movieStats(m.movieId).ratingCount }
}

/** The movie a path names, or 404 naming the parameter. */
function knownMovie(served: ServedModel, movieId: number, field = 'params.movieId'): void {
  if (served.movie(movieId) === undefined && !served.ratingCounts.has(movieId)) throw notFound(field, `unknown movie id ${movieId}`)
}

/** A native NOT_FOUND (unknown user) named after its parameter. */
async function asField<T>(field: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof AlsrecError && !(err instanceof FieldError) && err.code === 'ALSREC_NOT_FOUND') throw new FieldError(err.code, field, err.message)
    throw err
  }
}

function links(m: { movieId: number; imdbId?: number; tmdbId?: number }): Record<string, string> {
  const out: Record<string, string> = { movielens: `https://movielens.org/movies/${m.movieId}` }
  if (m.imdbId !== undefined) out.imdb = `https://www.imdb.com/title/tt${String(m.imdbId).padStart(7, '0')}/`
  if (m.tmdbId !== undefined) out.tmdb = `https://www.themoviedb.org/movie/${m.tmdbId}`
  return out
}

/** "because you rated X (5★)": the rated film that adds most to the score. */
function becauseLine(e: Explanation): string {
  const top = [...e.contributions].sort((a, b) => b.points - a.points)[0]
  if (top === undefined || !(top.points > 0)) return 'mostly its general appeal (no rated film adds to it)'
  return `because you rated ${top.title} (${top.rating}★)`
}

/**
 * What each new-user recommendation follows from: the rated film that adds the most points to
 * its score in `explainForNewUser` (the visitor's folded-in row split over their ratings, as
 * `becauseLine` does for a known user), else the liked genres it has.
 */
function because(served: ServedModel, recs: Recommendation[], profile: NewUserProfile): Array<Recommendation & { because: unknown }> {
  const rated = profile.ratings?.length ?? 0
  const likedGenres = new Set((profile.genres ?? []).map((g) => g.toLowerCase()))
  const explained = rated > 0 && served.model.factors > 0 && recs.length > 0 ? served.model.explainManyForNewUser(profile, recs.map((r) => r.movieId), { top: rated }) : []
  return recs.map((rec, i) => {
    const top = [...(explained[i]?.contributions ?? [])].sort((a, b) => b.points - a.points)[0]
    if (top !== undefined && top.points > 0) return { ...rec, because: { movieId: top.movieId, title: top.title, rating: top.rating, points: top.points } }
    const genres = rec.genres.filter((g) => likedGenres.has(g.toLowerCase()))
    return { ...rec, because: genres.length > 0 ? { genres } : null }
  })
}

export function registerApiRoutes(app: FastifyInstance, source: ModelSource): void {
  app.get('/health', { schema: S.healthRoute }, async () => {
    const served = source()
    return { status: 'ok', model: served.file, loadedAt: served.loadedAt }
  })

  const describeModel = async (): Promise<Record<string, unknown>> => {
    const served = source()
    const m = served.model
    return {
      kind: m.kind,
      k: m.factors,
      users: m.numUsers,
      movies: m.numMovies,
      catalogMovies: m.catalog.size,
      globalMean: m.globalMean,
      ratingRange: m.ratingRange(),
      hasRanker: m.hasRanker,
      popularityFloor: m.popularityFloor,
      genres: m.catalog.genreNames,
      file: served.file,
      fileBytes: served.bytes,
      loadedAt: served.loadedAt,
      keptEpoch: m.keptEpoch,
      training: m.history.find((h) => h.epoch === m.keptEpoch) ?? m.history.at(-1) ?? null,
      config: m.config,
      limits: { maxN: S.MAX_N, maxRatings: S.MAX_RATINGS, maxCandidates: S.MAX_CANDIDATES, maxMapPage: S.MAX_MAP_PAGE },
    }
  }
  app.get('/api/model', { schema: S.modelRoute }, describeModel)
  // The name for it, beside /health.
  app.get('/model', { schema: { ...S.modelRoute, hide: true } }, describeModel)

  app.get<{ Querystring: { q: string; limit: number } }>('/api/search', { schema: S.searchRoute }, async (req) => {
    const served = source()
    const movies = served.model.catalog.search(req.query.q, req.query.limit, { ratingCounts: served.ratingCounts })
    return { movies: movies.map((m) => withCount(served, m)) }
  })

  app.get<{ Params: { movieId: number } }>('/api/movies/:movieId', { schema: S.movieRoute }, async (req) => {
    const served = source()
    const id = req.params.movieId
    knownMovie(served, id)
    const m = served.model.catalog.describe(id)
    return { ...m, ...served.movieStats(id), links: links(m) }
  })

  app.get<{ Params: { movieId: number }; Querystring: FilterQuery }>('/api/movies/:movieId/similar', { schema: S.similarRoute }, async (req) => {
    const served = source()
    knownMovie(served, req.params.movieId)
    const options = queryFilters(served, req.query)
    const similar = await asField('params.movieId', () => served.model.similarMovies(req.params.movieId, options))
    return { similar }
  })

  app.get<{ Params: { userId: number }; Querystring: UserQuery }>('/api/users/:userId/recommendations', { schema: S.userRecommendationsRoute }, async (req) => {
    const served = source()
    const options: RecommendOptions = { ...queryFilters(served, req.query), diversity: req.query.diversity, excludeSeen: !req.query.includeSeen }
    // The synchronous call: about a millisecond on a 62k-movie model, where recommendMany's
    // batch machinery costs several times that per single user (measured by `npm run bench serve`).
    const recommendations = await asField('params.userId', () => served.model.recommend(req.params.userId, options))
    return { recommendations }
  })

  app.get<{ Params: { userId: number; movieId: number }; Querystring: { top: number } }>('/api/users/:userId/explain/:movieId', { schema: S.explainRoute }, async (req) => {
    const served = source()
    knownMovie(served, req.params.movieId)
    const e = await asField('params.userId', () => served.model.explain(req.params.userId, req.params.movieId, { top: req.query.top }))
    return { ...e, movie: withCount(served, e.movie), because: becauseLine(e) }
  })

  app.post<{ Body: NewUserBody }>('/api/recommendations', { schema: S.newUserRoute }, async (req) => {
    const served = source()
    const body = req.body ?? {}
    const [lo, hi] = served.model.ratingRange()
    const seen = new Set<number>()
    for (const [i, r] of (body.ratings ?? []).entries()) {
      if (seen.has(r.movieId)) throw badField(`body.ratings[${i}].movieId`, `movie ${r.movieId} is rated twice`)
      seen.add(r.movieId)
      knownMovie(served, r.movieId, `body.ratings[${i}].movieId`)
      if (!(r.rating >= lo && r.rating <= hi)) throw badField(`body.ratings[${i}].rating`, `${r.rating} is outside the rating scale ${lo}–${hi}`)
    }
    const likedGenres = genreNames(served, 'body.likedGenres', body.likedGenres ?? [])
    if (seen.size === 0 && likedGenres.length === 0) throw badField('body.ratings', 'a new user needs at least one rating or one liked genre')
    const options: RecommendOptions = { n: body.n ?? 10, diversity: body.diversity ?? 0 }
    if (body.genres !== undefined && body.genres.length > 0) options.genres = genreNames(served, 'body.genres', body.genres)
    if (body.years !== undefined) {
      if (body.years[0] > body.years[1]) throw badField('body.years', `the range ${body.years[0]}-${body.years[1]} is empty (from > to)`)
      options.years = body.years
    }
    if (body.minRatings !== undefined) options.minRatings = body.minRatings
    if (body.candidates !== undefined) options.candidates = body.candidates
    const profile: NewUserProfile = { ratings: (body.ratings ?? []).map((r) => ({ movie: r.movieId, rating: r.rating })), genres: likedGenres }
    const recs = served.model.recommendForNewUser(profile, options)
    return { recommendations: because(served, recs, profile) }
  })

  app.get<{ Querystring: { offset: number; limit: number } }>('/api/map', { schema: S.mapRoute }, async (req) => {
    const served = source()
    return { ...served.mapPage(req.query.offset, req.query.limit), explained: served.explained }
  })

  app.get('/api/map.bin', { schema: S.mapBinaryRoute }, async (_req, reply) => {
    const served = source()
    return reply.type('application/octet-stream').header('cache-control', 'no-cache').send(served.mapBinary)
  })
}
