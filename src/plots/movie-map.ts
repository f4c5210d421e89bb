import type { Catalog } from '../catalog.js'
import { candidatesAround, labelTextLayers, leaderLayer, placeLabels, pointBox, textWidth } from './labels.js'
import { HOVER_LAYER, PLOT_CONFIG, type PlotSpec } from './render.js'

export interface MovieMapInput {
  movieIds: ArrayLike<number>
  x: ArrayLike<number>
  y: ArrayLike<number>
}

export interface MovieMapOptions {
  /** Ratings per movie in the training data; the most-rated get labels. */
  popularity?: Map<number, number>
  /** How many titles to label (default 12). */
  labels?: number
  /** Distinct genre colours before the rest become "other" (default 9). */
  genres?: number
  context?: string
}

const UNKNOWN_GENRE = '(no genres listed)'
/** MovieLens lists IMAX as a genre, but it is a film format: it colours a movie only alone. */
const FORMAT_GENRES = new Set(['IMAX'])
const WIDTH = 620
const HEIGHT = 460
const LABEL_FONT = 10
/** Radius of a labelled (black, size 40) dot plus a little room, in pixels. */
const LABELLED_DOT_RADIUS = 4.5
const TITLE_CHARS = 32

/**
 * Each movie's most distinctive genre: of the genres it lists, the one the fewest movies on the
 * map list (the rarest, so the most telling: Toy Story is "Animation" rather than "Comedy",
 * Star Wars "Sci-Fi" rather than "Action"). Ties go to the alphabetically first genre. IMAX is
 * a format, not a genre: it counts only for a movie that lists nothing else. A movie without
 * genres gets "(no genres listed)".
 */
export function distinctiveGenres(genreLists: ReadonlyArray<readonly string[]>): string[] {
  const counts = new Map<string, number>()
  for (const genres of genreLists) for (const g of new Set(genres)) counts.set(g, (counts.get(g) ?? 0) + 1)
  return genreLists.map((genres) => {
    const content = genres.filter((g) => !FORMAT_GENRES.has(g) && g !== UNKNOWN_GENRE)
    const pool = content.length > 0 ? content : genres.filter((g) => g !== UNKNOWN_GENRE)
    let best: string | undefined
    for (const g of pool) {
      const c = counts.get(g) ?? 0
      const b = best === undefined ? Number.POSITIVE_INFINITY : (counts.get(best) ?? 0)
      if (c < b || (c === b && best !== undefined && g < best)) best = g
    }
    return best ?? UNKNOWN_GENRE
  })
}

/** [min, max] widened by a twentieth on each side (a point's spot on the map is all that counts). */
function paddedDomain(values: number[]): [number, number] {
  // A loop, not Math.min(...values): a large catalog would overflow the argument stack.
  let lo = Number.POSITIVE_INFINITY
  let hi = Number.NEGATIVE_INFINITY
  for (const v of values) {
    if (!Number.isFinite(v)) continue
    if (v < lo) lo = v
    if (v > hi) hi = v
  }
  if (lo > hi) [lo, hi] = [-1, 1]
  const pad = (hi - lo || Math.max(1, Math.abs(hi))) * 0.05
  return [lo - pad, hi + pad]
}

/**
 * The 2-D movie map: every movie a dot at its projected latent vector, coloured by its most
 * distinctive genre (see `distinctiveGenres`); the most-rated titles are labelled. Labels are
 * placed in pixel space (the scales have explicit domains): each takes the nearest free spot
 * around its dot, clear of the other labels and labelled dots, further off with a leader line
 * when needed. A title that finds no room is left out, and the subtitle says how many were.
 * Every dot has its full title and genres as SVG hover text.
 */
export function movieMapSpec(map: MovieMapInput, catalog: Pick<Catalog, 'describe'>, options: MovieMapOptions = {}): PlotSpec {
  const nLabels = options.labels ?? 12
  const nGenres = options.genres ?? 9
  const movies = Array.from(map.movieIds, (movieId) => catalog.describe(movieId))
  const distinctive = distinctiveGenres(movies.map((m) => m.genres))
  const rows = movies.map((movie, i) => {
    const genre = distinctive[i] ?? UNKNOWN_GENRE
    const listed = movie.genres.length > 0 ? movie.genres.join(', ') : 'no genres listed'
    const ratings = options.popularity?.get(movie.movieId) ?? 0
    return {
      movieId: movie.movieId,
      x: map.x[i] ?? 0,
      y: map.y[i] ?? 0,
      title: movie.title,
      genre,
      ratings,
      hover: `${movie.title}: ${listed}${movie.genres.length > 1 ? ` (coloured as ${genre})` : ''}${options.popularity ? `; ${ratings} training ratings` : ''}`,
    }
  })
  const genreCounts = new Map<string, number>()
  for (const r of rows) genreCounts.set(r.genre, (genreCounts.get(r.genre) ?? 0) + 1)
  const shown = [...genreCounts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, nGenres).map(([g]) => g)
  const values = rows.map((r) => ({ ...r, genre: shown.includes(r.genre) ? r.genre : 'other' }))
  const domain = [...shown, ...(values.some((v) => v.genre === 'other') ? ['other'] : [])]

  const xDomain = paddedDomain(rows.map((r) => r.x))
  const yDomain = paddedDomain(rows.map((r) => r.y))
  const px = (x: number): number => (WIDTH * (x - xDomain[0])) / (xDomain[1] - xDomain[0])
  const py = (y: number): number => HEIGHT - (HEIGHT * (y - yDomain[0])) / (yDomain[1] - yDomain[0])
  // Movies without a finite position are not drawn, so they are not labelled either.
  const wanted = values
    .filter((v) => Number.isFinite(v.x) && Number.isFinite(v.y))
    .sort((a, b) => b.ratings - a.ratings || a.movieId - b.movieId)
    .slice(0, nLabels)
  const { placed, hidden } = placeLabels(
    wanted.map((v) => {
      const text = v.title.length > TITLE_CHARS ? `${v.title.slice(0, TITLE_CHARS - 1)}…` : v.title
      const around = candidatesAround(px(v.x), py(v.y), LABELLED_DOT_RADIUS, LABEL_FONT, 8, 'above', textWidth(text, LABEL_FONT))
      // Beside the dot first (the way maps label places), then above or below, then further off.
      return { text, fontSize: LABEL_FONT, anchor: { x: px(v.x), y: py(v.y) }, candidates: around.map((c) => ({ ...c, cost: c.align === 'center' ? c.cost + 2 : c.cost })) }
    }),
    { bounds: { x0: 0, y0: 0, x1: WIDTH, y1: HEIGHT }, obstacles: wanted.map((v) => pointBox(px(v.x), py(v.y), LABELLED_DOT_RADIUS)), ranked: true },
  )
  const labels = placed.flatMap((l, i) => (l ? [{ ...l, hover: wanted[i]?.hover ?? l.text }] : []))
  const shownLabels = labels.length
  const n = wanted.length
  const most = options.popularity ? (n === 1 ? 'the most-rated movie' : `the ${n} most-rated movies`) : `${n} movie${n === 1 ? '' : 's'} (the lowest ids: no rating counts given)`
  const labelNote =
    n === 0 ? 'no labels' : hidden === 0 ? `labels: ${most}` : `labels: ${shownLabels} of ${most} (${hidden} left out: no room without overlap; hover a dot for its title)`

  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: PLOT_CONFIG,
    width: WIDTH,
    height: HEIGHT,
    title: {
      text: 'Movie map: learned movie vectors projected to 2-D (PCA)',
      subtitle: [
        ...(options.context ? [options.context] : []),
        "one dot per movie, coloured by its most distinctive genre: of its genres, the one the fewest movies on this map list",
        labelNote,
        'movies close together are liked by the same users; the axes themselves have no units',
      ],
    },
    layer: [
      {
        name: `${HOVER_LAYER}movies`,
        data: { values },
        mark: { type: 'circle', size: 14, opacity: 0.55 },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: 'first principal component of the movie vectors', scale: { domain: xDomain, nice: false } },
          y: { field: 'y', type: 'quantitative', title: 'second principal component', scale: { domain: yDomain, nice: false } },
          color: { field: 'genre', type: 'nominal', title: 'most distinctive genre', scale: { domain, scheme: 'tableau10' }, legend: { titleLimit: 320 } },
          description: { field: 'hover' },
        },
      },
      {
        name: `${HOVER_LAYER}labelled_movies`,
        data: { values: wanted },
        mark: { type: 'circle', size: 40, color: 'black', opacity: 1 },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, description: { field: 'hover' } },
      },
      ...leaderLayer('title_leaders', labels),
      ...labelTextLayers('titles', labels),
    ],
  }
}
