// Reads positions back out of a rendered plot's SVG: the plot area, the marks of a named layer,
// and the box each text really covers, measured by rendering it alone with resvg (the font the
// PNGs use), so label tests check what a reader sees, not what the placement code assumed.
import { Resvg } from '@resvg/resvg-js'

export interface Box {
  x0: number
  y0: number
  x1: number
  y1: number
}

export interface SvgItem {
  tag: string
  /** The class of the mark group holding it (vega names it `<layer name>_marks`). */
  layer: string
  /** Absolute position: every ancestor's translate() plus its own. */
  x: number
  y: number
  attrs: Record<string, string>
  /** Text content (escaped as in the SVG), for <text>. */
  text: string
  /** Its <title> (hover text, unescaped), if any. */
  title: string | null
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }
const unescape = (s: string): string => s.replace(/&(#\d+|#x[0-9a-f]+|\w+);/gi, (m, e: string) => (e.startsWith('#x') ? String.fromCodePoint(Number.parseInt(e.slice(2), 16)) : e.startsWith('#') ? String.fromCodePoint(Number(e.slice(1))) : (ENTITIES[e] ?? m)))

const translateOf = (attrs: Record<string, string>): [number, number] => {
  const m = /translate\(\s*([-\d.e]+)[ ,]+([-\d.e]+)\s*\)/.exec(attrs.transform ?? '')
  return m ? [Number(m[1]), Number(m[2])] : [0, 0]
}

function parseAttrs(s: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of s.matchAll(/([\w:-]+)="([^"]*)"/g)) if (m[1] !== undefined) out[m[1]] = m[2] ?? ''
  return out
}

export interface SvgLayout {
  /** The data rectangle of the (single) view, in absolute SVG coordinates. */
  plot: Box
  items: SvgItem[]
}

export function readSvg(svg: string): SvgLayout {
  const stack: Array<{ tag: string; x: number; y: number; layer: string }> = [{ tag: 'root', x: 0, y: 0, layer: '' }]
  const items: SvgItem[] = []
  let plot: Box | null = null
  let current: SvgItem | null = null
  let inTitle = false
  for (const m of svg.matchAll(/<(\/?)([\w:]+)((?:[^>"]|"[^"]*")*?)(\/?)>|([^<]+)/g)) {
    const [, closing, tag, rawAttrs, selfClosing, text] = m
    if (text !== undefined) {
      if (inTitle && current) current.title = (current.title ?? '') + unescape(text)
      else if (current && (current.tag === 'text' || current.tag === 'tspan')) current.text += text
      continue
    }
    if (tag === undefined) continue
    if (closing) {
      if (tag === 'title') inTitle = false
      else {
        if (current && tag === current.tag) current = null
        const top = stack.at(-1)
        if (top && top.tag === tag && stack.length > 1) stack.pop()
      }
      continue
    }
    const attrs = parseAttrs(rawAttrs ?? '')
    const parent = stack.at(-1) ?? { x: 0, y: 0, layer: '' }
    const [tx, ty] = translateOf(attrs)
    const x = parent.x + tx
    const y = parent.y + ty
    if (tag === 'title') {
      inTitle = !selfClosing
      continue
    }
    if (tag === 'g') {
      const cls = attrs.class ?? ''
      const layer = /role-mark (\S+)/.exec(cls)?.[1] ?? parent.layer
      if (!selfClosing) stack.push({ tag, x, y, layer })
      continue
    }
    if (plot === null && tag === 'path' && attrs.class === 'background') {
      const d = /^M0\.5,0\.5h([\d.]+)v([\d.]+)/.exec(attrs.d ?? '')
      if (d) plot = { x0: x, y0: y, x1: x + Number(d[1]), y1: y + Number(d[2]) }
    }
    const item: SvgItem = { tag, layer: parent.layer, x, y, attrs, text: '', title: null }
    items.push(item)
    if (!selfClosing) {
      current = item
      stack.push({ tag, x, y, layer: parent.layer })
    }
  }
  if (!plot) throw new Error('no plot area found in the SVG')
  return { plot, items }
}

/** The items of every layer whose mark-group class contains `name`. */
export function layerItems(layout: SvgLayout, name: string, tag?: string): SvgItem[] {
  return layout.items.filter((i) => i.layer.includes(name) && (tag === undefined || i.tag === tag))
}

/**
 * The ink box of a <text> item as resvg renders it (the PNG's renderer and fonts), in absolute
 * coordinates. Throws when nothing renders (no usable font), so a test cannot pass vacuously.
 */
export function inkBox(item: SvgItem): Box {
  const keep = ['text-anchor', 'font-family', 'font-size', 'font-weight', 'font-style']
  const attrs = keep.filter((k) => item.attrs[k] !== undefined).map((k) => `${k}="${item.attrs[k]}"`).join(' ')
  const probe = `<svg xmlns="http://www.w3.org/2000/svg" width="3000" height="1000"><text x="1500" y="500" ${attrs} xml:space="preserve">${item.text}</text></svg>`
  const bbox = new Resvg(probe, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).getBBox()
  if (!bbox || bbox.width <= 0) throw new Error(`text "${item.text}" rendered nothing: no font for ${item.attrs['font-family'] ?? '(default)'}`)
  return { x0: item.x + bbox.x - 1500, y0: item.y + bbox.y - 500, x1: item.x + bbox.x - 1500 + bbox.width, y1: item.y + bbox.y - 500 + bbox.height }
}

export const intersects = (a: Box, b: Box): boolean => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1
export const within = (a: Box, b: Box): boolean => a.x0 >= b.x0 && a.x1 <= b.x1 && a.y0 >= b.y0 && a.y1 <= b.y1

/** Distance from a point to a box (0 inside it). */
export function distanceToBox(x: number, y: number, b: Box): number {
  const dx = Math.max(b.x0 - x, 0, x - b.x1)
  const dy = Math.max(b.y0 - y, 0, y - b.y1)
  return Math.hypot(dx, dy)
}

/** Every pair of boxes that intersect, by index. */
export function overlappingPairs(boxes: Box[]): Array<[number, number]> {
  const out: Array<[number, number]> = []
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) if (intersects(boxes[i] as Box, boxes[j] as Box)) out.push([i, j])
  return out
}
