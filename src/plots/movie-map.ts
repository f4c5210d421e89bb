import type { Catalog } from '../catalog.js'
import { PLOT_CONFIG, type PlotSpec } from './render.js'

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

/**
 * The most-rated movies whose labels would not overprint an already chosen one (a label runs
 * about a quarter of the plot's width to the right of its dot, one line high).
 */
function pickLabels<T extends { x: number; y: number; ratings: number; movieId: number }>(rows: T[], n: number): Array<T & { side: 'left' | 'right' }> {
  const xs = rows.map((r) => r.x)
  const ys = rows.map((r) => r.y)
  const xMax = Math.max(...xs)
  const xSpan = xMax - Math.min(...xs) || 1
  const w = xSpan * 0.3
  const h = (Math.max(...ys) - Math.min(...ys) || 1) * 0.045
  // Near the right edge a label goes to the left of its dot so it stays inside the plot.
  const box = (r: T, side: 'left' | 'right'): [number, number] => (side === 'right' ? [r.x, r.x + w] : [r.x - w, r.x])
  const chosen: Array<T & { side: 'left' | 'right' }> = []
  for (const r of [...rows].sort((a, b) => b.ratings - a.ratings || a.movieId - b.movieId)) {
    if (chosen.length >= n) break
    const side = r.x > xMax - xSpan * 0.35 ? 'left' : 'right'
    const [a0, a1] = box(r, side)
    const free = chosen.every((c) => {
      const [b0, b1] = box(c, c.side)
      return a1 < b0 || b1 < a0 || Math.abs(c.y - r.y) > h
    })
    if (free) chosen.push({ ...r, side })
  }
  return chosen
}

/** Labels to the right of their dot, or to the left near the right edge so they stay inside. */
function labelLayers(labelled: Array<{ side: string }>): NonNullable<Extract<PlotSpec, { layer: unknown }>['layer']> {
  return (['right', 'left'] as const).flatMap((side) => {
    const values = labelled.filter((l) => l.side === side)
    const place = { align: side === 'right' ? ('left' as const) : ('right' as const), dx: side === 'right' ? 5 : -5, dy: -5, fontSize: 10 }
    const encoding = { x: { field: 'x', type: 'quantitative' as const }, y: { field: 'y', type: 'quantitative' as const }, text: { field: 'label' } }
    return [
      // A white halo under each label keeps it readable over the dots.
      { data: { values }, mark: { type: 'text' as const, ...place, stroke: 'white', strokeWidth: 3, strokeOpacity: 0.85 }, encoding },
      { data: { values }, mark: { type: 'text' as const, ...place, color: 'black' }, encoding },
    ]
  })
}

/**
 * The 2-D movie map: every movie a dot at its projected latent vector, coloured by its first
 * listed genre; the best-known (most-rated) titles are labelled.
 */
export function movieMapSpec(map: MovieMapInput, catalog: Catalog, options: MovieMapOptions = {}): PlotSpec {
  const nLabels = options.labels ?? 12
  const nGenres = options.genres ?? 9
  const rows = Array.from(map.movieIds, (movieId, i) => {
    const movie = catalog.describe(movieId)
    return { movieId, x: map.x[i] ?? 0, y: map.y[i] ?? 0, title: movie.title, genre: movie.genres[0] ?? UNKNOWN_GENRE, ratings: options.popularity?.get(movieId) ?? 0 }
  })
  const genreCounts = new Map<string, number>()
  for (const r of rows) genreCounts.set(r.genre, (genreCounts.get(r.genre) ?? 0) + 1)
  const shown = [...genreCounts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, nGenres).map(([g]) => g)
  const values = rows.map((r) => ({ ...r, genre: shown.includes(r.genre) ? r.genre : 'other' }))
  const domain = [...shown, ...(values.some((v) => v.genre === 'other') ? ['other'] : [])]
  const labelled = pickLabels(values, nLabels).map((v) => ({ ...v, label: v.title.length > 32 ? `${v.title.slice(0, 31)}…` : v.title }))
  const labelSource = options.popularity ? `the ${nLabels} most-rated movies` : `${nLabels} movies`
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: PLOT_CONFIG,
    width: 620,
    height: 460,
    title: {
      text: 'Movie map: learned movie vectors projected to 2-D (PCA)',
      subtitle: [
        ...(options.context ? [options.context] : []),
        `one dot per movie, coloured by its first listed genre; labels: ${labelSource}`,
        'movies close together are liked by the same users; the axes themselves have no units',
      ],
    },
    layer: [
      {
        data: { values },
        mark: { type: 'circle', size: 14, opacity: 0.55 },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: 'first principal component of the movie vectors', scale: { zero: false } },
          y: { field: 'y', type: 'quantitative', title: 'second principal component', scale: { zero: false } },
          color: { field: 'genre', type: 'nominal', title: 'first genre', scale: { domain, scheme: 'tableau10' } },
        },
      },
      {
        data: { values: labelled },
        mark: { type: 'circle', size: 40, color: 'black' },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
      },
      ...labelLayers(labelled),
    ],
  }
}
