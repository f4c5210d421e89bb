import { candidatesAround, labelTextLayers, leaderLayer, placeLabels, pointBox, textWidth, type Candidate, type LabelRequest } from './labels.js'
import { HOVER_LAYER, modelColors, PLOT_CONFIG, type PlotSpec } from './render.js'

export interface RmseAtK {
  model: string
  /** Number of latent factors; null for the bias-only model, which has none. */
  factors: number | null
  testRmse: number
}

const WIDTH = 520
const HEIGHT = 320
const LABEL_FONT = 10
/** Radius of a point marker (size 60) plus its outline, in pixels. */
const POINT_RADIUS = 5.5
/** Room kept above the highest and below the lowest value for their labels, in pixels. */
const PAD_TOP = 34
const PAD_BOTTOM = 30

/** A darker shade of a #rrggbb colour, so text in a series' colour stays readable. */
function darken(hex: string, by = 0.35): string {
  const m = /^#([0-9a-f]{6})$/i.exec(hex)
  if (!m?.[1]) return '#333'
  const n = Number.parseInt(m[1], 16)
  const c = [n >> 16, (n >> 8) & 255, n & 255].map((v) => Math.round(v * (1 - by)).toString(16).padStart(2, '0'))
  return `#${c.join('')}`
}

/**
 * Decimals of the value labels: 3, or 4 when two different values at the same k (or a value and
 * a reference line) would read the same with 3.
 */
function labelDigits(lines: Array<{ factors: number | null; testRmse: number }>, flat: Array<{ testRmse: number }>): 3 | 4 {
  const same = (a: number, b: number): boolean => a !== b && a.toFixed(3) === b.toFixed(3)
  for (const [i, p] of lines.entries()) {
    if (flat.some((f) => same(f.testRmse, p.testRmse))) return 4
    if (lines.some((q, j) => j > i && q.factors === p.factors && same(q.testRmse, p.testRmse))) return 4
  }
  return 3
}

/**
 * Test RMSE against the number of latent factors, one line per model. Where a grid varied other
 * hyperparameters too, each point is the best run at that k. The bias-only model has no k and
 * is drawn as a dashed horizontal reference line.
 *
 * Every value label is placed in pixel space (the scales have explicit domains, so the pixel of
 * each point is known here): each label takes the nearest free spot around its point, inside the
 * plot and clear of every marker and every other label, moving further out with a leader line
 * when the spots next to the point are taken. Every point and line also carries its exact value
 * as an SVG hover title.
 */
export function rmseVsKSpec(points: RmseAtK[], context: string): PlotSpec {
  const best = new Map<string, RmseAtK & { runs: number }>()
  for (const p of points) {
    if (!Number.isFinite(p.testRmse)) continue
    const key = `${p.model}\u0000${p.factors ?? ''}`
    const prev = best.get(key)
    const runs = (prev?.runs ?? 0) + 1
    best.set(key, !prev || p.testRmse < prev.testRmse ? { ...p, runs } : { ...prev, runs })
  }
  const ofRuns = (n: number): string => (n > 1 ? ` (best of ${n} runs at this k)` : '')
  const lines = [...best.values()]
    .filter((p) => p.factors !== null)
    .sort((a, b) => (a.factors ?? 0) - (b.factors ?? 0))
    .map((p) => ({ ...p, hover: `${p.model}, k = ${p.factors ?? 0}: test RMSE ${p.testRmse.toFixed(4)}${ofRuns(p.runs)}` }))
  const references = [...best.values()].filter((p) => p.factors === null)
  const digits = labelDigits(lines, references)
  const flat = references
    .map((p) => ({ kind: p.model, model: `${p.model} (no factors)`, testRmse: p.testRmse, label: `${p.model} only: ${p.testRmse.toFixed(digits)}`, hover: `${p.model} only (no factors): test RMSE ${p.testRmse.toFixed(4)}${p.runs > 1 ? ` (best of ${p.runs} runs)` : ''}` }))
  const ks = lines.map((p) => p.factors ?? 1)
  const kMin = ks.length > 0 ? Math.min(...ks) : 1
  const kMax = ks.length > 0 ? Math.max(...ks) : 2
  // Factors usually double from run to run; a log2 axis spaces them evenly.
  const logScale = kMax / kMin >= 8
  const xDomain: [number, number] = logScale ? [kMin / 1.25, kMax * 1.25] : [Math.max(0, kMin - (kMax - kMin) * 0.06 - 0.5), kMax + (kMax - kMin) * 0.06 + 0.5]
  const xPixel = (k: number): number =>
    logScale ? (WIDTH * (Math.log(k) - Math.log(xDomain[0]))) / (Math.log(xDomain[1]) - Math.log(xDomain[0])) : (WIDTH * (k - xDomain[0])) / (xDomain[1] - xDomain[0])
  // The y domain is explicit (with room for the labels above and below) so pixels are known here.
  const all = [...lines, ...flat].map((p) => p.testRmse)
  const lo = all.length > 0 ? Math.min(...all) : 0.8
  const hi = all.length > 0 ? Math.max(...all) : 1
  const span = hi - lo > 1e-9 ? hi - lo : Math.max(0.01, Math.abs(hi) * 0.02)
  const unit = span / (HEIGHT - PAD_TOP - PAD_BOTTOM)
  const mid = (lo + hi) / 2
  const yDomain: [number, number] = hi - lo > 1e-9 ? [lo - PAD_BOTTOM * unit, hi + PAD_TOP * unit] : [mid - span / 2 - PAD_BOTTOM * unit, mid + span / 2 + PAD_TOP * unit]
  const yPixel = (v: number): number => HEIGHT - (HEIGHT * (v - yDomain[0])) / (yDomain[1] - yDomain[0])

  const kinds = [...new Set([...lines.map((p) => p.model), ...flat.map((p) => p.kind)])]
  const models = [...new Set([...lines.map((p) => p.model), ...flat.map((p) => p.model)])]
  const range = modelColors(kinds)
  const colorOf = (model: string): string => range[models.indexOf(model)] ?? '#333'
  const color = { field: 'model', type: 'nominal' as const, title: 'model', sort: models, scale: { domain: models, range } }

  // Label placement: the reference lines' labels first (they may only slide along their line),
  // then the points' values from left to right.
  const pts = lines.map((p) => ({ ...p, px: xPixel(p.factors ?? 1), py: yPixel(p.testRmse) }))
  const segments = models.flatMap((m) => {
    const own = pts.filter((p) => p.model === m)
    return own.slice(1).map((p, i) => ({ x: own[i]?.px ?? p.px, y: own[i]?.py ?? p.py, x2: p.px, y2: p.py }))
  })
  const rules = flat.map((f) => ({ x: 0, y: yPixel(f.testRmse), x2: WIDTH, y2: yPixel(f.testRmse) }))
  const ruleRequests: LabelRequest[] = flat.map((f) => {
    const y = yPixel(f.testRmse)
    const candidates: Candidate[] = []
    for (let slide = 0; slide <= 12; slide++) {
      const x = WIDTH - 4 - slide * 36
      candidates.push({ x, y: y - 5, align: 'right', cost: slide }, { x, y: y + 12, align: 'right', cost: slide + 0.5 })
    }
    return { text: f.label, fontSize: LABEL_FONT, anchor: { x: WIDTH - 4, y }, candidates, nearDistance: Number.POSITIVE_INFINITY }
  })
  // A label goes first to the side away from the other models' points at the same k.
  const prefer = (p: (typeof pts)[number]): 'above' | 'below' => {
    const others = pts.filter((q) => q.factors === p.factors && q.model !== p.model)
    return others.filter((q) => q.py < p.py).length > others.filter((q) => q.py > p.py).length ? 'below' : 'above'
  }
  const pointRequests: LabelRequest[] = pts.map((p) => ({ text: p.testRmse.toFixed(digits), fontSize: LABEL_FONT, anchor: { x: p.px, y: p.py }, candidates: candidatesAround(p.px, p.py, POINT_RADIUS, LABEL_FONT, 14, prefer(p), textWidth(p.testRmse.toFixed(digits), LABEL_FONT)) }))
  const { placed, hidden } = placeLabels([...ruleRequests, ...pointRequests], {
    bounds: { x0: 0, y0: 0, x1: WIDTH, y1: HEIGHT },
    obstacles: pts.map((p) => pointBox(p.px, p.py, POINT_RADIUS)),
    // Text over a dashed reference line is hard to read: crossing one costs more than a series line.
    lines: [...segments.map((l) => ({ ...l, cost: 20 })), ...rules.map((l) => ({ ...l, cost: 25 }))],
  })
  const owners = [...flat.map((f) => ({ model: f.model, hover: f.hover })), ...pts.map((p) => ({ model: p.model, hover: p.hover }))]
  const labels = placed.flatMap((l, i) => (l ? [{ ...l, hover: owners[i]?.hover ?? l.text, stroke: colorOf(owners[i]?.model ?? ''), ink: darken(colorOf(owners[i]?.model ?? '')) }] : []))

  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: PLOT_CONFIG,
    width: WIDTH,
    height: HEIGHT,
    title: {
      text: 'Test RMSE versus number of latent factors k',
      subtitle: [
        context,
        'each point: best run at that k; dashed line: bias-only model (uses no factors); lower is better',
        ...(hidden > 0 ? [`${hidden} value label(s) left out for lack of room: hover a point for its value`] : []),
      ],
    },
    layer: [
      {
        data: { values: lines },
        mark: { type: 'line', strokeWidth: 2 },
        encoding: {
          x: {
            field: 'factors',
            type: 'quantitative',
            title: 'k, number of latent factors',
            scale: logScale ? { type: 'log', base: 2, domain: xDomain, nice: false } : { domain: xDomain, nice: false },
            axis: { values: [...new Set(ks)], format: 'd' },
          },
          y: { field: 'testRmse', type: 'quantitative', title: 'test RMSE (stars, lower is better)', scale: { domain: yDomain, nice: false } },
          color,
        },
      },
      {
        name: `${HOVER_LAYER}rmse_points`,
        data: { values: lines },
        mark: { type: 'point', size: 60, filled: true, opacity: 1 },
        encoding: { x: { field: 'factors', type: 'quantitative' }, y: { field: 'testRmse', type: 'quantitative' }, color, description: { field: 'hover' } },
      },
      {
        name: `${HOVER_LAYER}reference_lines`,
        data: { values: flat },
        mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 2 },
        encoding: { y: { field: 'testRmse', type: 'quantitative' }, color, description: { field: 'hover' } },
      },
      ...leaderLayer('label_leaders', labels),
      ...labelTextLayers('value_labels', labels),
    ],
  }
}
