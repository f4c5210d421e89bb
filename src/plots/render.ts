// Renders a Vega-Lite spec to SVG (vega's server-side renderer) and to a PNG beside it (resvg).
import type { TopLevelSpec } from 'vega-lite'

import { writeFileAtomic } from '../experiment/atomic.js'

export type PlotSpec = TopLevelSpec

/** Shared look: white background, readable fonts, one font family resvg finds on any system. */
export const PLOT_CONFIG = {
  background: 'white',
  padding: 12,
  font: 'DejaVu Sans, Helvetica, Arial, sans-serif',
  title: { fontSize: 15, subtitleFontSize: 11, subtitleColor: '#444', anchor: 'start', offset: 10 },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', labelLimit: 280 },
} as const

/** One colour per model kind in every plot (tableau10 hues), so plots can be compared at a glance. */
const MODEL_COLORS: Record<string, string> = { bias: '#9c9c9c', biased: '#4c78a8', genre: '#f58518', implicit: '#54a24b', popular: '#b279a2', toprated: '#e45756', bayesian: '#72b7b2' }
const SPARE_COLORS = ['#e45756', '#72b7b2', '#b279a2', '#eeca3b', '#ff9da6', '#9d755d']

/** Colours for legend entries whose model kind is known (others get spare colours in order). */
export function modelColors(kinds: Array<string | undefined>): string[] {
  let spare = 0
  return kinds.map((k) => (k !== undefined ? MODEL_COLORS[k] : undefined) ?? SPARE_COLORS[spare++ % SPARE_COLORS.length] ?? '#000')
}

// vega and vega-lite are ES modules; this package is CommonJS, so load them on first use.
let modules: Promise<[typeof import('vega'), typeof import('vega-lite')]> | undefined
const loadVega = () => (modules ??= Promise.all([import('vega'), import('vega-lite')]))

/**
 * Layers whose name starts with this get hover text: each item's `description` becomes an SVG
 * `<title>` (which browsers and viewers show on hover) in place of its `aria-label`.
 */
export const HOVER_LAYER = 'hover_'

const HOVER_GROUP = new RegExp(`(<g class="mark-\\w+ role-mark ${HOVER_LAYER}[^"]*"[^>]*>)([\\s\\S]*?)(</g>)`, 'g')

export function addHoverTitles(svg: string): string {
  return svg.replace(HOVER_GROUP, (_, open: string, items: string, close: string) => {
    const titled = items
      .replace(/<(path|line|rect|circle)\b([^>]*?) aria-label="([^"]*)"([^>]*?)\/>/g, '<$1$2$4><title>$3</title></$1>')
      .replace(/<text\b([^>]*?) aria-label="([^"]*)"([^>]*)>/g, '<text$1$3><title>$2</title>')
    return open + titled + close
  })
}

export async function toSvg(spec: PlotSpec): Promise<string> {
  const [vega, vl] = await loadVega()
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' })
  try {
    return addHoverTitles(await view.toSVG())
  } finally {
    view.finalize()
  }
}

export async function svgToPng(svg: string, scale = 2): Promise<Buffer> {
  const { Resvg } = await import('@resvg/resvg-js')
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  })
  return resvg.render().asPng()
}

/** Writes `<base>.svg` and `<base>.png`; returns both paths. */
export async function writePlot(spec: PlotSpec, base: string): Promise<{ svg: string; png: string }> {
  const svg = await toSvg(spec)
  writeFileAtomic(`${base}.svg`, svg)
  writeFileAtomic(`${base}.png`, await svgToPng(svg))
  return { svg: `${base}.svg`, png: `${base}.png` }
}
