import { HOVER_LAYER, type PlotSpec } from './render.js'

// Label placement in pixel space: every label gets a box measured from its text, and is put at
// the cheapest candidate position whose box stays inside the plot and meets no other label and
// no marker. Plots that use it give their scales explicit domains, so data maps to pixels here
// exactly as vega maps it.

/** Advance widths of DejaVu Sans (the plots' font) in em, for the printable ASCII characters. */
const ASCII_WIDTHS =
  // ' ' … '~'
  [0.318, 0.401, 0.46, 0.838, 0.636, 0.95, 0.78, 0.275, 0.39, 0.39, 0.5, 0.838, 0.318, 0.361, 0.318, 0.337,
    0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.337, 0.337, 0.838, 0.838, 0.838, 0.531,
    1, 0.684, 0.686, 0.698, 0.77, 0.632, 0.575, 0.775, 0.752, 0.295, 0.295, 0.656, 0.557, 0.863, 0.748, 0.787,
    0.603, 0.787, 0.695, 0.635, 0.611, 0.732, 0.684, 0.989, 0.685, 0.611, 0.685, 0.39, 0.337, 0.39, 0.838, 0.5,
    0.5, 0.613, 0.635, 0.55, 0.635, 0.615, 0.352, 0.635, 0.634, 0.278, 0.278, 0.579, 0.278, 0.974, 0.634, 0.612,
    0.635, 0.635, 0.411, 0.521, 0.392, 0.634, 0.592, 0.818, 0.592, 0.592, 0.525, 0.636, 0.337, 0.636, 0.838]

/** Width in pixels of `text` set in DejaVu Sans at `fontSize`; other characters count as wide ones. */
export function textWidth(text: string, fontSize: number): number {
  let em = 0
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0
    // Wide (CJK, full-width) characters take a full em; other non-ASCII letters about a capital's.
    em += code >= 32 && code < 127 ? (ASCII_WIDTHS[code - 32] ?? 0.7) : code >= 0x1100 ? 1 : 0.75
  }
  return em * fontSize
}

/** Ink above and below the baseline, in em (DejaVu Sans: capitals 0.73, descenders 0.24). */
const ASCENT = 0.78
const DESCENT = 0.26

export interface Box {
  x0: number
  y0: number
  x1: number
  y1: number
}

export type Align = 'left' | 'center' | 'right'

/** Where a label may go: its anchor (baseline point) with an alignment, and what it costs. */
export interface Candidate {
  x: number
  y: number
  align: Align
  cost: number
}

export interface LabelRequest {
  text: string
  fontSize: number
  /** The point the label belongs to: a leader line joins it to a label set further off. */
  anchor: { x: number; y: number }
  candidates: Candidate[]
  /** A label this far (px) or nearer from its anchor needs no leader line. */
  nearDistance?: number
}

export interface PlacedLabel {
  text: string
  fontSize: number
  x: number
  y: number
  align: Align
  box: Box
  /** From the anchor to the nearest point of the box, when the label sits away from its point. */
  leader: { x: number; y: number; x2: number; y2: number } | null
}

/** Room kept clear around every label box, in pixels. */
const MARGIN = 1.5

export function textBox(text: string, fontSize: number, x: number, y: number, align: Align): Box {
  const w = textWidth(text, fontSize)
  const x0 = align === 'left' ? x : align === 'right' ? x - w : x - w / 2
  return { x0: x0 - MARGIN, y0: y - ASCENT * fontSize - MARGIN, x1: x0 + w + MARGIN, y1: y + DESCENT * fontSize + MARGIN }
}

export function intersects(a: Box, b: Box): boolean {
  return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1
}

export function inside(a: Box, bounds: Box): boolean {
  return a.x0 >= bounds.x0 && a.x1 <= bounds.x1 && a.y0 >= bounds.y0 && a.y1 <= bounds.y1
}

/** Whether the segment (x1,y1)–(x2,y2) passes through the box (Liang–Barsky clipping). */
export function segmentHitsBox(s: { x: number; y: number; x2: number; y2: number }, b: Box): boolean {
  const dx = s.x2 - s.x
  const dy = s.y2 - s.y
  let t0 = 0
  let t1 = 1
  for (const [p, q] of [[-dx, s.x - b.x0], [dx, b.x1 - s.x], [-dy, s.y - b.y0], [dy, b.y1 - s.y]] as const) {
    if (p === 0) {
      if (q < 0) return false
    } else {
      const t = q / p
      if (p < 0) t0 = Math.max(t0, t)
      else t1 = Math.min(t1, t)
      if (t0 > t1) return false
    }
  }
  return true
}

/** A marker's box: a square around a point of radius `r`. */
export function pointBox(x: number, y: number, r: number): Box {
  return { x0: x - r, y0: y - r, x1: x + r, y1: y + r }
}

/**
 * Candidate anchors around a point marker of radius `r`: above, below, right, left and the four
 * diagonals first (`prefer: 'below'` puts the positions below first); then further out in rings
 * (these get a leader line), up to `rings` rings, some set off diagonally by up to half the
 * label's `width` so their leader passes the labels right beside the point.
 */
export function candidatesAround(x: number, y: number, r: number, fontSize: number, rings = 6, prefer: 'above' | 'below' = 'above', width = 0): Candidate[] {
  const gap = r + 3
  const up = y - gap - DESCENT * fontSize - MARGIN
  const down = y + gap + ASCENT * fontSize + MARGIN
  const mid = y + (ASCENT - DESCENT) * fontSize * 0.5
  // Cost of a position above (a) or below (b) the point.
  const [a, b] = prefer === 'above' ? [0, 1] : [1, 0]
  const near: Candidate[] = [
    { x, y: up, align: 'center', cost: a },
    { x, y: down, align: 'center', cost: b },
    { x: x + gap + MARGIN, y: mid, align: 'left', cost: 2.5 },
    { x: x - gap - MARGIN, y: mid, align: 'right', cost: 2.5 },
    { x: x + r, y: up, align: 'left', cost: 3 + a },
    { x: x - r, y: up, align: 'right', cost: 3 + a },
    { x: x + r, y: down, align: 'left', cost: 3 + b },
    { x: x - r, y: down, align: 'right', cost: 3 + b },
  ]
  const far: Candidate[] = []
  const step = (ASCENT + DESCENT) * fontSize + 2 * MARGIN + 1
  for (let ring = 1; ring <= rings; ring++) {
    const d = ring * step
    const cost = 10 + ring * 4
    for (const [cx, align] of [[x, 'center'], [x + r, 'left'], [x - r, 'right']] as const) {
      const side = align === 'center' ? 0 : 1
      far.push({ x: cx, y: up - d, align, cost: cost + side + a }, { x: cx, y: down + d, align, cost: cost + side + b })
    }
    far.push({ x: x + gap + MARGIN + d, y: mid, align: 'left', cost: cost + 2.5 }, { x: x - gap - MARGIN - d, y: mid, align: 'right', cost: cost + 2.5 })
    // Diagonally off, so the leader line passes between the labels beside and above the point.
    for (const dx of [d, 2 * d, width / 2 + d]) {
      far.push({ x: x + r + dx, y: up - d, align: 'left', cost: cost + 3 + a }, { x: x - r - dx, y: up - d, align: 'right', cost: cost + 3 + a })
      far.push({ x: x + r + dx, y: down + d, align: 'left', cost: cost + 3 + b }, { x: x - r - dx, y: down + d, align: 'right', cost: cost + 3 + b })
    }
  }
  return [...near, ...far]
}

export interface PlaceOptions {
  /** The plot area: every label box stays inside it. */
  bounds: Box
  /** Markers and other fixed things no label may cover. */
  obstacles?: Box[]
  /** Lines a label should rather not cross (each crossing adds its cost, or `lineCost`). */
  lines?: LineCost[]
  lineCost?: number
  /** More orders (lists of request indexes) to try besides the built-in ones. */
  orders?: number[][]
  /**
   * The requests are ranked, most important first: of two placements that hide as many labels,
   * the one that hides less important ones wins.
   */
  ranked?: boolean
}

/** The leader from an anchor to the nearest point of the text (the box less its margin), or null when the box is near it. */
function leaderTo(anchor: { x: number; y: number }, box: Box, near: number): PlacedLabel['leader'] {
  const x2 = Math.min(Math.max(anchor.x, box.x0 + MARGIN), box.x1 - MARGIN)
  const y2 = Math.min(Math.max(anchor.y, box.y0 + MARGIN), box.y1 - MARGIN)
  return Math.hypot(x2 - anchor.x, y2 - anchor.y) > near ? { x: anchor.x, y: anchor.y, x2, y2 } : null
}

export interface LineCost {
  x: number
  y: number
  x2: number
  y2: number
  /** What crossing it costs (default `lineCost`). */
  cost?: number
}

interface Placement {
  placed: Array<PlacedLabel | null>
  hidden: number
  cost: number
}

function placeInOrder(requests: LabelRequest[], order: number[], options: PlaceOptions): Placement {
  const obstacles = options.obstacles ?? []
  const labels: Box[] = []
  const leaders: NonNullable<PlacedLabel['leader']>[] = []
  const lineCost = options.lineCost ?? 8
  const placed: Array<PlacedLabel | null> = requests.map(() => null)
  let hidden = 0
  let total = 0
  for (const index of order) {
    const req = requests[index]
    if (!req) continue
    let best: { c: Candidate; box: Box; leader: PlacedLabel['leader']; cost: number } | null = null
    for (const c of req.candidates) {
      if (best && c.cost >= best.cost) continue
      const box = textBox(req.text, req.fontSize, c.x, c.y, c.align)
      if (!inside(box, options.bounds) || obstacles.some((o) => intersects(o, box)) || labels.some((l) => intersects(l, box))) continue
      if (leaders.some((l) => segmentHitsBox(l, box))) continue
      const leader = leaderTo(req.anchor, box, req.nearDistance ?? 10)
      // A leader line runs over no other label and no other marker.
      if (leader && (labels.some((l) => segmentHitsBox(leader, l)) || obstacles.some((o) => !containsPoint(o, req.anchor) && segmentHitsBox(leader, o)))) continue
      const cost = c.cost + (options.lines ?? []).reduce((sum, l) => sum + (segmentHitsBox(l, box) ? (l.cost ?? lineCost) : 0), 0)
      if (!best || cost < best.cost) best = { c, box, leader, cost }
    }
    if (!best) {
      hidden++
      continue
    }
    total += best.cost
    labels.push(best.box)
    if (best.leader) leaders.push(best.leader)
    placed[index] = { text: req.text, fontSize: req.fontSize, x: best.c.x, y: best.c.y, align: best.c.align, box: best.box, leader: best.leader }
  }
  return { placed, hidden, cost: total }
}

/** The first label a placement hides (Infinity when none). */
const firstHidden = (p: Placement): number => {
  const i = p.placed.indexOf(null)
  return i < 0 ? Number.POSITIVE_INFINITY : i
}

function better(p: Placement, than: Placement, ranked: boolean): boolean {
  if (p.hidden !== than.hidden) return p.hidden < than.hidden
  if (ranked && firstHidden(p) !== firstHidden(than)) return firstHidden(p) > firstHidden(than)
  return p.cost < than.cost - 1e-9
}

const containsPoint = (b: Box, p: { x: number; y: number }): boolean => p.x >= b.x0 && p.x <= b.x1 && p.y >= b.y0 && p.y <= b.y1

/**
 * Places the labels. Each takes its cheapest free candidate: inside the bounds, on no marker,
 * label or leader line, with its own leader line over no other label or marker. Labels are
 * placed one after another; several orders are tried (the given one, most important first; its
 * reverse; the most crowded first) and the placement that hides the fewest labels, then costs
 * least, wins. A label with no free candidate is left out (null) and counted in `hidden`.
 */
export function placeLabels(requests: LabelRequest[], options: PlaceOptions): { placed: Array<PlacedLabel | null>; hidden: number } {
  const given = requests.map((_, i) => i)
  const crowd = requests.map((r) => requests.filter((q) => Math.hypot(q.anchor.x - r.anchor.x, q.anchor.y - r.anchor.y) < 40).length)
  const crowded = [...given].sort((a, b) => (crowd[b] ?? 0) - (crowd[a] ?? 0) || a - b)
  const orders = [given, [...given].reverse(), crowded, ...(options.orders ?? [])]
  let best: Placement | null = null
  for (const order of orders) {
    const p = placeInOrder(requests, order, options)
    if (!best || better(p, best, options.ranked ?? false)) best = p
  }
  return { placed: best?.placed ?? [], hidden: best?.hidden ?? 0 }
}

type Layer = NonNullable<Extract<PlotSpec, { layer: unknown }>['layer']>[number]

/**
 * Vega-Lite text layers drawing placed labels at their pixel positions (one layer per alignment,
 * which vega-lite cannot encode), each under a white halo, with its `hover` text as an SVG title.
 * A label's `ink` colours its text (default black).
 */
export function labelTextLayers(name: string, labels: Array<PlacedLabel & { hover: string; ink?: string }>): Layer[] {
  return (['left', 'center', 'right'] as const).flatMap((align) => {
    const values = labels.filter((l) => l.align === align).map((l) => ({ ...l, ink: l.ink ?? 'black' }))
    if (values.length === 0) return []
    const encoding = { x: { field: 'x', type: 'quantitative' as const, scale: null }, y: { field: 'y', type: 'quantitative' as const, scale: null }, text: { field: 'text' } }
    const mark = { type: 'text' as const, align, baseline: 'alphabetic' as const, fontSize: values[0]?.fontSize ?? 10 }
    return [
      // The halo keeps a label readable where it crosses a line or dots.
      { name: `${name}_halo_${align}`, data: { values }, mark: { ...mark, stroke: 'white', strokeWidth: 4, strokeOpacity: 1, strokeJoin: 'round' as const, aria: false }, encoding },
      { name: `${HOVER_LAYER}${name}_${align}`, data: { values }, mark, encoding: { ...encoding, color: { field: 'ink', type: 'nominal' as const, scale: null }, description: { field: 'hover' } } },
    ]
  })
}

/** A rule layer drawing the leader lines of placed labels (`stroke` colours each, default grey). */
export function leaderLayer(name: string, labels: Array<PlacedLabel & { stroke?: string }>): Layer[] {
  const values = labels.flatMap((l) => (l.leader ? [{ ...l.leader, stroke: l.stroke ?? '#555' }] : []))
  if (values.length === 0) return []
  const pixel = { type: 'quantitative' as const, scale: null }
  return [
    {
      name,
      data: { values },
      mark: { type: 'rule' as const, strokeWidth: 1, opacity: 0.8, aria: false },
      encoding: { x: { field: 'x', ...pixel }, y: { field: 'y', ...pixel }, x2: { field: 'x2' }, y2: { field: 'y2' }, color: { field: 'stroke', type: 'nominal' as const, scale: null } },
    },
  ]
}
