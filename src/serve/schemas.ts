// JSON schemas of the API: fastify validates every request against them (ajv) before a handler
// runs, serializes responses by them, and @fastify/swagger publishes them as OpenAPI.
// Limits live here so that the docs show them.

/** The longest list a request may ask for. */
export const MAX_N = 100
/** The most ratings a new-user request may carry, and the most candidate ids. */
export const MAX_RATINGS = 500
export const MAX_CANDIDATES = 1000
/** The most map points per JSON page (GET /api/map.bin has them all in one body). */
export const MAX_MAP_PAGE = 10_000

const id = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const
const nullableInteger = { type: ['integer', 'null'] } as const

export const movieSchema = {
  $id: 'Movie',
  type: 'object',
  required: ['movieId', 'title', 'year', 'genres', 'ratingCount'],
  properties: {
    movieId: { type: 'integer' },
    title: { type: 'string' },
    year: nullableInteger,
    genres: { type: 'array', items: { type: 'string' } },
    ratingCount: { type: 'integer', description: 'Training ratings of the movie' },
  },
} as const

export const movieDetailsSchema = {
  $id: 'MovieDetails',
  type: 'object',
  required: ['movieId', 'title', 'year', 'genres', 'ratingCount', 'meanRating', 'links'],
  properties: {
    ...movieSchema.properties,
    meanRating: { type: ['number', 'null'], description: 'Mean training rating; null without ratings or when the server was given a model object rather than a file' },
    tagCount: { type: 'integer' },
    imdbId: { type: 'integer' },
    tmdbId: { type: 'integer' },
    links: {
      type: 'object',
      properties: { movielens: { type: 'string' }, imdb: { type: 'string' }, tmdb: { type: 'string' } },
    },
  },
} as const

export const recommendationSchema = {
  $id: 'Recommendation',
  type: 'object',
  required: ['movieId', 'title', 'year', 'genres', 'score'],
  properties: {
    movieId: { type: 'integer' },
    title: { type: 'string' },
    year: nullableInteger,
    genres: { type: 'array', items: { type: 'string' } },
    score: { type: 'number', description: 'What the list is ranked by (not on the rating scale in general)' },
    rating: { type: 'number', description: 'Predicted rating on the rating scale, where the model predicts one' },
    because: {
      type: ['object', 'null'],
      description: "New-user lists: the rated film that adds the most points to this one's score (explainForNewUser), or the liked genres it has",
      properties: {
        movieId: { type: 'integer' },
        title: { type: 'string' },
        rating: { type: 'number' },
        points: { type: 'number', description: 'Rating points the rated film adds to the score' },
        genres: { type: 'array', items: { type: 'string' } },
      },
    },
  },
} as const

const listResponse = (key: string) =>
  ({
    type: 'object',
    required: [key],
    properties: { [key]: { type: 'array', items: { $ref: 'Recommendation#' } } },
  }) as const

/** Filters of the known-user and similar-movie lists, as query-string parameters. */
const filterQuery = {
  n: { type: 'integer', minimum: 1, maximum: MAX_N, default: 10, description: `List length, at most ${MAX_N}` },
  genres: { type: 'string', maxLength: 1000, description: 'Only movies of these genres, comma-separated' },
  years: { type: 'string', maxLength: 20, description: 'Only movies of these years: 1990-1999, 1995, 1990- or -1999' },
  minRatings: { type: 'integer', minimum: 0, maximum: 2 ** 32 - 1, description: "Only movies with at least this many training ratings (default: the model's popularity floor)" },
  candidates: { type: 'string', maxLength: 20 * MAX_CANDIDATES, pattern: '^[0-9]+(,[0-9]+)*$', description: `Only these movie ids, comma-separated (at most ${MAX_CANDIDATES})` },
} as const

const rankQuery = {
  diversity: { type: 'number', minimum: 0, maximum: 1, default: 0, description: 'Genre diversity re-ranking weight' },
} as const

export const searchRoute = {
  summary: 'Title search (typeahead)',
  description: 'Prefix and substring matches on the normalized title: accents, case and moved articles ("Matrix, The") do not matter; a trailing "(1999)" ranks that year first. Among equal matches the most rated comes first.',
  querystring: {
    type: 'object',
    required: ['q'],
    additionalProperties: false,
    properties: {
      q: { type: 'string', minLength: 1, maxLength: 200 },
      limit: { type: 'integer', minimum: 1, maximum: 50, default: 10 },
    },
  },
  response: { 200: { type: 'object', required: ['movies'], properties: { movies: { type: 'array', items: { $ref: 'Movie#' } } } } },
} as const

const movieParams = { type: 'object', required: ['movieId'], properties: { movieId: id } } as const
const userParams = { type: 'object', required: ['userId'], properties: { userId: id } } as const

export const movieRoute = {
  summary: "A movie's details",
  params: movieParams,
  response: { 200: { $ref: 'MovieDetails#' }, 404: { $ref: 'ErrorBody#' } },
} as const

export const similarRoute = {
  summary: 'Movies most like a movie (cosine of their vectors)',
  params: movieParams,
  querystring: { type: 'object', additionalProperties: false, properties: filterQuery },
  response: { 200: listResponse('similar'), 400: { $ref: 'ErrorBody#' }, 404: { $ref: 'ErrorBody#' } },
} as const

export const userRecommendationsRoute = {
  summary: 'Top-N for a user the model knows',
  params: userParams,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { ...filterQuery, ...rankQuery, includeSeen: { type: 'boolean', default: false, description: 'Keep movies the user rated' } },
  },
  response: { 200: listResponse('recommendations'), 400: { $ref: 'ErrorBody#' }, 404: { $ref: 'ErrorBody#' } },
} as const

export const explainRoute = {
  summary: "Why a known user gets a movie's score",
  params: { type: 'object', required: ['userId', 'movieId'], properties: { userId: id, movieId: id } },
  querystring: { type: 'object', additionalProperties: false, properties: { top: { type: 'integer', minimum: 1, maximum: 50, default: 5 } } },
  response: {
    200: {
      type: 'object',
      properties: {
        userId: { type: 'integer' },
        movie: { $ref: 'Movie#' },
        score: { type: 'number' },
        globalMean: { type: 'number' },
        userBias: { type: 'number' },
        movieBias: { type: 'number' },
        genrePart: { type: 'number' },
        latentPart: { type: 'number' },
        refitPersonal: { type: 'number' },
        contributions: {
          type: 'array',
          items: {
            type: 'object',
            properties: { movieId: { type: 'integer' }, title: { type: 'string' }, year: nullableInteger, genres: { type: 'array', items: { type: 'string' } }, rating: { type: 'number' }, points: { type: 'number' }, share: { type: 'number' } },
          },
        },
        because: { type: 'string', description: 'The explanation in one line' },
      },
    },
    400: { $ref: 'ErrorBody#' },
    404: { $ref: 'ErrorBody#' },
  },
} as const

export const newUserRoute = {
  summary: 'Top-N for a new user from ratings and/or liked genres',
  description: 'The visitor is folded in with the movies fixed; rated movies are left out of the list. Each recommendation says which rated film (or liked genre) it follows from.',
  body: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ratings: {
        type: 'array',
        maxItems: MAX_RATINGS,
        items: {
          type: 'object',
          required: ['movieId', 'rating'],
          additionalProperties: false,
          properties: { movieId: id, rating: { type: 'number', description: "On the model's rating scale (GET /api/model)" } },
        },
      },
      likedGenres: { type: 'array', maxItems: 50, items: { type: 'string', maxLength: 100 } },
      n: filterQuery.n,
      genres: { type: 'array', maxItems: 50, items: { type: 'string', maxLength: 100 }, description: 'Only movies of these genres' },
      years: { type: 'array', minItems: 2, maxItems: 2, items: { type: 'integer', minimum: -32768, maximum: 32767 }, description: '[from, to]' },
      minRatings: filterQuery.minRatings,
      candidates: { type: 'array', maxItems: MAX_CANDIDATES, items: id },
      diversity: rankQuery.diversity,
    },
  },
  response: { 200: listResponse('recommendations'), 400: { $ref: 'ErrorBody#' }, 404: { $ref: 'ErrorBody#' } },
} as const

export const mapRoute = {
  summary: 'The 2-D movie map, one JSON page',
  description: 'Movies with training ratings on the first two principal components of their vectors, with their main genre (the rarest of their genres, an index into /api/model genres) and popularity. GET /api/map.bin has every point in one binary body.',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { offset: { type: 'integer', minimum: 0, maximum: 2 ** 32 - 1, default: 0 }, limit: { type: 'integer', minimum: 1, maximum: MAX_MAP_PAGE, default: 1000 } },
  },
  response: {
    200: {
      type: 'object',
      properties: {
        total: { type: 'integer' },
        offset: { type: 'integer' },
        explained: { type: 'array', items: { type: 'number' } },
        points: {
          type: 'array',
          items: { type: 'object', properties: { movieId: { type: 'integer' }, x: { type: 'number' }, y: { type: 'number' }, genre: nullableInteger, ratingCount: { type: 'integer' } } },
        },
      },
    },
  },
} as const

export const mapBinaryRoute = {
  summary: 'The whole movie map as one binary body',
  description: 'Little-endian: "ALSRMAP1", u32 count, u32 genre count, then count × f64 movie ids, f32 x, f32 y, u32 rating counts, u8 genre index (255: none). See docs/serve.md.',
  querystring: { type: 'object', additionalProperties: false, properties: {} },
} as const

export const modelRoute = {
  summary: 'The model being served',
  response: {
    200: {
      type: 'object',
      properties: {
        kind: { type: 'string' },
        k: { type: 'integer' },
        users: { type: 'integer' },
        movies: { type: 'integer' },
        catalogMovies: { type: 'integer' },
        globalMean: { type: 'number' },
        ratingRange: { type: 'array', items: { type: 'number' } },
        hasRanker: { type: 'boolean' },
        popularityFloor: { type: 'integer' },
        genres: { type: 'array', items: { type: 'string' } },
        file: { type: ['string', 'null'] },
        fileBytes: { type: ['integer', 'null'] },
        loadedAt: { type: 'string' },
        keptEpoch: { type: 'integer' },
        training: { type: ['object', 'null'], additionalProperties: true, description: 'The kept epoch of the training history (RMSE, MAE, …)' },
        config: { type: 'object', additionalProperties: true },
        limits: { type: 'object', additionalProperties: true },
      },
    },
  },
} as const

export const healthRoute = {
  summary: 'Liveness: the server answers and has a model',
  response: { 200: { type: 'object', properties: { status: { type: 'string' }, model: { type: ['string', 'null'] }, loadedAt: { type: 'string' } } } },
} as const
