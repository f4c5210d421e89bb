// The scale plot of `npm run bench scale`: epoch seconds and peak RSS against the rating count,
// with the least-squares lines through the sets of one shape family.
import { candidatesAround, labelTextLayers, leaderLayer, placeLabels, pointBox, textWidth, type LabelRequest } from './labels.js'
import { HOVER_LAYER, PLOT_CONFIG, type PlotSpec } from './render.js'

export interface LinearFit {
  /** Intercept. */
  a: number
  /** Slope. */
  b: number
  /** Coefficient of determination (1 when every point is on the line, and for two points). */
  r2: number
  /** (y − fit) / fit per point. */
  relativeResiduals: number[]
  /** The largest |relative residual|: how far the worst point is off the line, as a fraction. */
  maxRelativeResidual: number
}

/** Ordinary least squares y ≈ a + b·x. Needs at least two distinct x. */
export function linearFit(x: readonly number[], y: readonly number[]): LinearFit {
  if (x.length !== y.length || x.length < 2) throw new RangeError(`linearFit needs two or more (x, y) pairs (got ${x.length} x and ${y.length} y)`)
  const n = x.length
  const mx = x.reduce((s, v) => s + v, 0) / n
  const my = y.reduce((s, v) => s + v, 0) / n
  let sxx = 0
  let sxy = 0
  let syy = 0
  for (let i = 0; i < n; i++) {
    const dx = (x[i] ?? 0) - mx
    const dy = (y[i] ?? 0) - my
    sxx += dx * dx
    sxy += dx * dy
    syy += dy * dy
  }
  if (!(sxx > 0)) throw new RangeError('linearFit needs at least two distinct x')
  const b = sxy / sxx
  const a = my - b * mx
  const fitted = x.map((v) => a + b * v)
  const sse = y.reduce((s, v, i) => s + (v - (fitted[i] ?? 0)) ** 2, 0)
  // A flat y (syy = 0) lies on the fitted line exactly.
  const r2 = syy > 0 ? 1 - sse / syy : 1
  const relativeResiduals = y.map((v, i) => (v - (fitted[i] ?? 0)) / (fitted[i] ?? 1))
  return { a, b, r2, relativeResiduals, maxRelativeResidual: Math.max(...relativeResiduals.map(Math.abs)) }
}

export interface ScalePoint {
  name: string
  /** In the shape family the lines are fitted through (the others are drawn, not fitted). */
  family: boolean
  ratings: number
  users: number
  movies: number
  /** Median block-update seconds per epoch. */
  updateSeconds: number
  /** Median whole-epoch seconds (updates + metrics). */
  wallSeconds: number
  /** MiB, as VmHWM reports it (kB / 1024). */
  peakRssMb: number
}

export interface ScalePlotOptions {
  factors: number
  /** A memory target drawn as a dashed line (MiB, like `peakRssMb`). */
  rssTargetMb?: number
  /** Where and how the figures were taken (first subtitle line). */
  context: string
  /** The band drawn around the epoch-time line, as a fraction (default 0.15). */
  tolerance?: number
}

/** The memory panel is in GB of 10⁹ bytes (a target of "6 GB" read strictly). */
const GB_PER_MIB = 2 ** 20 / 1e9
const WIDTH = 400
const HEIGHT = 290
const LABEL_FONT = 10
const POINT_RADIUS = 5.5
const SERIES = {
  update: { title: 'update (block solves)', color: '#4c78a8', ink: '#2f4b69' },
  wall: { title: 'wall (updates + metrics)', color: '#f58518', ink: '#a3560f' },
  rss: { title: 'peak RSS, load + train', color: '#54a24b', ink: '#346530' },
} as const

const millions = (r: number): string => `${Number((r / 1e6).toFixed(1))}M`
const thousands = (n: number): string => (n >= 1e6 ? `${Number((n / 1e6).toFixed(2))}M` : `${Math.round(n / 1e3)}k`)

interface Panel {
  yTitle: string
  yMax: number
  series: Array<{ key: keyof typeof SERIES; values: Array<{ p: ScalePoint; y: number }>; fit: LinearFit | null }>
  label: (p: ScalePoint, y: number) => string
  hover: (p: ScalePoint, y: number, key: keyof typeof SERIES) => string
  /** Hover text of a fitted line. */
  fitHover: (f: LinearFit) => string
  target?: { y: number; text: string }
  band?: { fit: LinearFit; tolerance: number }
}

function panel(spec: Panel, xMax: number): PlotSpec {
  const xDomain: [number, number] = [0, xMax]
  const yDomain: [number, number] = [0, spec.yMax]
  const px = (x: number): number => (WIDTH * x) / xDomain[1]
  const py = (y: number): number => HEIGHT - (HEIGHT * y) / yDomain[1]
  const x = { field: 'x', type: 'quantitative' as const, title: 'ratings (millions)', scale: { domain: xDomain.map((v) => v / 1e6), nice: false } }
  const y = { field: 'y', type: 'quantitative' as const, title: spec.yTitle, scale: { domain: yDomain, nice: false } }
  const points = spec.series.flatMap((s) =>
    s.values.map(({ p, y: v }) => ({ x: p.ratings / 1e6, y: v, color: SERIES[s.key].color, shape: p.family ? 'circle' : 'square', hover: spec.hover(p, v, s.key), label: spec.label(p, v), px: px(p.ratings), py: py(v), key: s.key })),
  )
  const lines = spec.series.flatMap((s) =>
    s.fit ? [0, xMax].map((r) => ({ x: r / 1e6, y: (s.fit?.a ?? 0) + (s.fit?.b ?? 0) * r, color: SERIES[s.key].color, series: s.key, hover: s.fit ? `${SERIES[s.key].title}: ${spec.fitHover(s.fit)}` : '' })) : [],
  )
  const segments = spec.series.flatMap((s) => (s.fit ? [{ x: px(0), y: py(s.fit.a), x2: px(xMax), y2: py(s.fit.a + s.fit.b * xMax), cost: 20 }] : []))
  const band = spec.band
    ? [0, xMax].map((r) => {
        const f = (spec.band?.fit.a ?? 0) + (spec.band?.fit.b ?? 0) * r
        return { x: r / 1e6, lo: f * (1 - (spec.band?.tolerance ?? 0)), hi: f * (1 + (spec.band?.tolerance ?? 0)) }
      })
    : []
  // Each fitted line is named where it ends, sliding left along it when that spot is taken:
  // direct labels read faster than a legend.
  const lineRequests: LabelRequest[] = spec.series.flatMap((s) => {
    const f = s.fit
    if (!f) return []
    const at = (pxX: number): number => py(f.a + (f.b * pxX * xDomain[1]) / WIDTH)
    const candidates = Array.from({ length: 16 }, (_, slide) => {
      const cx = WIDTH - 4 - slide * 24
      return [
        { x: cx, y: at(cx) + 14, align: 'right' as const, cost: slide },
        { x: cx, y: at(cx) - 6, align: 'right' as const, cost: slide + 0.5 },
      ]
    }).flat()
    return [{ text: SERIES[s.key].title, fontSize: LABEL_FONT, anchor: { x: WIDTH - 4, y: at(WIDTH - 4) }, candidates, nearDistance: Number.POSITIVE_INFINITY }]
  })
  const lineOwners = spec.series.filter((s) => s.fit).map((s) => s.key)
  // Value labels only on the first series of each panel (the other's values are in the hover text and
  // the table in docs/scale.md): two labels a point would not fit beside 100M's two points.
  const first = points.filter((p) => p.key === spec.series[0]?.key)
  const requests: LabelRequest[] = [
    ...lineRequests,
    ...first.map((p) => ({ text: p.label, fontSize: LABEL_FONT, anchor: { x: p.px, y: p.py }, candidates: candidatesAround(p.px, p.py, POINT_RADIUS, LABEL_FONT, 10, 'above', textWidth(p.label, LABEL_FONT)) })),
  ]
  const target = spec.target
  const targetLabel = target ? { text: target.text, x: WIDTH - 4, y: py(target.y) - 5, align: 'right' as const } : null
  const { placed } = placeLabels(requests, {
    bounds: { x0: 0, y0: 0, x1: WIDTH, y1: HEIGHT },
    obstacles: [...points.map((p) => pointBox(p.px, p.py, POINT_RADIUS)), ...(targetLabel ? [{ x0: targetLabel.x - textWidth(targetLabel.text, LABEL_FONT) - 2, y0: targetLabel.y - 10, x1: WIDTH, y1: targetLabel.y + 3 }] : [])],
    lines: segments,
  })
  const owner = (i: number): { hover: string; key: keyof typeof SERIES; line: boolean } => {
    const key = lineOwners[i]
    if (key) return { hover: SERIES[key].title, key, line: true }
    const p = first[i - lineOwners.length]
    return { hover: p?.hover ?? '', key: p?.key ?? 'update', line: false }
  }
  // Line names in their line's colour (darkened for contrast on white), values in black.
  const labels = placed.flatMap((l, i) => (l ? [{ ...l, hover: owner(i).hover || l.text, stroke: SERIES[owner(i).key].color, ink: owner(i).line ? SERIES[owner(i).key].ink : '#222' }] : []))
  return {
    width: WIDTH,
    height: HEIGHT,
    layer: [
      ...(band.length > 0
        ? [{ data: { values: band }, mark: { type: 'area' as const, color: SERIES.update.color, opacity: 0.12, clip: true }, encoding: { x, y: { field: 'lo', type: 'quantitative' as const, scale: y.scale, title: spec.yTitle }, y2: { field: 'hi' } } }]
        : []),
      { name: `${HOVER_LAYER}${spec.series[0]?.key ?? 'p'}_fits`, data: { values: lines }, mark: { type: 'line' as const, strokeWidth: 1.5, strokeDash: [5, 3], clip: true }, encoding: { x, y, detail: { field: 'series' }, color: { field: 'color', type: 'nominal' as const, scale: null }, description: { field: 'hover' } } },
      ...(target
        ? [
            { data: { values: [{ y: target.y }] }, mark: { type: 'rule' as const, color: '#c0392b', strokeDash: [6, 4], strokeWidth: 1.5 }, encoding: { y: { field: 'y', type: 'quantitative' as const, scale: y.scale } } },
            { data: { values: [targetLabel] }, mark: { type: 'text' as const, align: 'right' as const, fontSize: LABEL_FONT, color: '#c0392b' }, encoding: { x: { field: 'x', type: 'quantitative' as const, scale: null }, y: { field: 'y', type: 'quantitative' as const, scale: null }, text: { field: 'text' } } },
          ]
        : []),
      { name: `${HOVER_LAYER}${spec.series[0]?.key ?? 'p'}_points`, data: { values: points }, mark: { type: 'point' as const, size: 70, filled: true, opacity: 1 }, encoding: { x, y, color: { field: 'color', type: 'nominal' as const, scale: null }, shape: { field: 'shape', type: 'nominal' as const, scale: null }, description: { field: 'hover' } } },
      ...leaderLayer(`${spec.series[0]?.key ?? 'p'}_leaders`, labels),
      ...labelTextLayers(`${spec.series[0]?.key ?? 'p'}_labels`, labels),
    ],
  } as PlotSpec
}

/**
 * Two panels against the rating count: epoch seconds (update and wall, with their least-squares
 * lines through the family and a ±tolerance band around the update line) and peak RSS (with its
 * line and the memory target). Sets outside the family are drawn as squares and not fitted.
 */
export function scalePlotSpec(points: ScalePoint[], options: ScalePlotOptions): PlotSpec {
  const family = points.filter((p) => p.family)
  const fitOf = (f: (p: ScalePoint) => number): LinearFit | null =>
    new Set(family.map((p) => p.ratings)).size >= 2 ? linearFit(family.map((p) => p.ratings), family.map(f)) : null
  const update = fitOf((p) => p.updateSeconds)
  const wall = fitOf((p) => p.wallSeconds)
  const rss = fitOf((p) => p.peakRssMb * GB_PER_MIB)
  const tolerance = options.tolerance ?? 0.15
  const xMax = Math.max(...points.map((p) => p.ratings), 1) * 1.12
  const shape = (p: ScalePoint): string => `${thousands(p.users)} users × ${thousands(p.movies)} movies`
  const setName = (p: ScalePoint): string => (p.family ? p.name : `${millions(p.ratings)}, ${thousands(p.users)} users`)
  const secondsMax = Math.max(...points.flatMap((p) => [p.updateSeconds, p.wallSeconds]), ...(update ? [(update.a + update.b * xMax) * (1 + tolerance)] : [])) * 1.12
  const target = options.rssTargetMb !== undefined ? options.rssTargetMb * GB_PER_MIB : undefined
  const rssMax = Math.max(...points.map((p) => p.peakRssMb * GB_PER_MIB), target ?? 0) * 1.15
  const fitText = (name: string, f: LinearFit | null, unit: string, scale: number, digits: number): string =>
    f ? `${name} ${(f.b * scale).toFixed(digits)} ${unit}/rating (R² ${f.r2.toFixed(3)})` : ''
  const epochs = panel(
    {
      yTitle: 'seconds per epoch',
      yMax: secondsMax,
      series: [
        { key: 'update', values: points.map((p) => ({ p, y: p.updateSeconds })), fit: update },
        { key: 'wall', values: points.map((p) => ({ p, y: p.wallSeconds })), fit: wall },
      ],
      label: (p, v) => `${setName(p)}: ${v.toFixed(2)} s`,
      hover: (p, v, key) => `${p.name} (${shape(p)}): ${SERIES[key].title} ${v.toFixed(3)} s per epoch`,
      fitHover: (f) => `${f.a.toFixed(3)} s + ${(f.b * 1e9).toFixed(2)} ns per rating, R² = ${f.r2.toFixed(4)}`,
      ...(update ? { band: { fit: update, tolerance } } : {}),
    },
    xMax,
  )
  const memory = panel(
    {
      yTitle: 'peak RSS (GB = 10⁹ bytes)',
      yMax: rssMax,
      series: [{ key: 'rss', values: points.map((p) => ({ p, y: p.peakRssMb * GB_PER_MIB })), fit: rss }],
      label: (p, v) => `${setName(p)}: ${v.toFixed(1)} GB`,
      hover: (p, v) => `${p.name} (${shape(p)}): peak RSS ${v.toFixed(2)} GB`,
      fitHover: (f) => `${(f.a * 1000).toFixed(0)} MB + ${(f.b * 1e9).toFixed(1)} bytes per rating, R² = ${f.r2.toFixed(4)}`,
      ...(target !== undefined ? { target: { y: target, text: `target ${Number(target.toFixed(1))} GB` } } : {}),
    },
    xMax,
  )
  const family0 = family[0]
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: { ...PLOT_CONFIG, concat: { spacing: 40 } },
    title: {
      text: `Epoch time and peak memory against the number of ratings (biased ALS, k = ${options.factors})`,
      subtitle: [
        options.context,
        // Short lines: vega sizes the view by an estimate of the text's width (0.8 em a
        // character), so a long subtitle would widen the image with empty space.
        family0
          ? `circles: ${family0.movies.toLocaleString('en-US')} movies, users in proportion to ratings (${Math.round(family0.ratings / family0.users)} per user); dashed: fits`
          : '',
        update ? `band: ±${Math.round(tolerance * 100)} % of the update line (least squares through the circles)` : '',
        ...points.filter((p) => !p.family).map((p) => `square: ${p.name}, ${shape(p)} (${Math.round(p.ratings / p.users)} per user), not fitted`),
        [fitText('update', update, 'ns', 1e9, 1), fitText('wall', wall, 'ns', 1e9, 1), fitText('memory', rss, 'B', 1e9, 0)].filter(Boolean).join(', '),
      ].filter(Boolean),
    },
    hconcat: [epochs, memory],
  } as PlotSpec
}
