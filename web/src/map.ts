// The movie map: every point written straight into an ImageData buffer (one typed-array store
// per pixel, so 62k points redraw in a couple of milliseconds and pan/zoom stays smooth), then
// the highlighted films drawn on top as rings. Hover finds the nearest point through a grid.
import type { MapData } from './backend.js'

export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#aec7e8', '#ffbb78', '#98df8a', '#ff9896', '#c5b0d5', '#c49c94', '#f7b6d2', '#dbdb8d', '#9edae5', '#393b79']
const NO_GENRE = 255
const BACKGROUND = 0xff_1a_14_12 // ABGR of #12141a
const GRID = 64

function abgr(hex: string): number {
  const v = parseInt(hex.slice(1), 16)
  return (0xff << 24) | ((v & 0xff) << 16) | (v & 0xff00) | ((v >> 16) & 0xff)
}

export interface MapHighlights {
  rated: ReadonlySet<number>
  recommended: ReadonlySet<number>
  selected: number | null
}

export class MovieMap {
  private data: MapData | null = null
  private colors: Uint32Array = new Uint32Array(0)
  private index = new Map<number, number>()
  private bounds = { x0: 0, x1: 1, y0: 0, y1: 1 }
  /** View: screen = (data - center) * scale + half size. */
  private view = { cx: 0.5, cy: 0.5, zoom: 1 }
  private grid: number[][] = []
  private highlights: MapHighlights = { rated: new Set(), recommended: new Set(), selected: null }
  private frame = 0
  private drag: { x: number; y: number; cx: number; cy: number } | null = null
  private readonly ctx: CanvasRenderingContext2D
  /** The movie under the pointer, for a title that arrives after the hover began. */
  private hovered: number | null = null
  /** How many points the last frame drew (tests read pixels; this is for the status line). */
  drawn = 0

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly tooltip: HTMLElement,
    private readonly titleOf: (movieId: number) => string,
    private readonly onPick: (movieId: number) => void,
  ) {
    const ctx = canvas.getContext('2d', { willReadFrequently: false })
    if (ctx === null) throw new Error('no 2-D canvas')
    this.ctx = ctx
    canvas.addEventListener('pointerdown', (e) => this.pointerDown(e))
    canvas.addEventListener('pointermove', (e) => this.pointerMove(e))
    canvas.addEventListener('pointerup', (e) => this.pointerUp(e))
    canvas.addEventListener('pointerleave', () => (this.tooltip.hidden = true))
    canvas.addEventListener('wheel', (e) => this.wheel(e), { passive: false })
    canvas.addEventListener('keydown', (e) => this.key(e))
    new ResizeObserver(() => this.request()).observe(canvas)
  }

  setData(data: MapData): void {
    this.data = data
    const n = data.movieIds.length
    this.colors = new Uint32Array(n)
    const palette = PALETTE.map(abgr)
    for (let i = 0; i < n; i++) {
      const g = data.genre[i] ?? NO_GENRE
      this.colors[i] = g === NO_GENRE ? abgr('#888888') : (palette[g % palette.length] ?? 0)
    }
    this.index = new Map(Array.from(data.movieIds, (id, i) => [id, i]))
    let x0 = Infinity
    let x1 = -Infinity
    let y0 = Infinity
    let y1 = -Infinity
    for (let i = 0; i < n; i++) {
      const x = data.x[i] ?? 0
      const y = data.y[i] ?? 0
      x0 = Math.min(x0, x)
      x1 = Math.max(x1, x)
      y0 = Math.min(y0, y)
      y1 = Math.max(y1, y)
    }
    if (!(x1 > x0)) [x0, x1] = [x0 - 1, x0 + 1]
    if (!(y1 > y0)) [y0, y1] = [y0 - 1, y0 + 1]
    this.bounds = { x0, x1, y0, y1 }
    this.grid = Array.from({ length: GRID * GRID }, () => [])
    for (let i = 0; i < n; i++) {
      const gx = Math.min(GRID - 1, Math.floor((((data.x[i] ?? 0) - x0) / (x1 - x0)) * GRID))
      const gy = Math.min(GRID - 1, Math.floor((((data.y[i] ?? 0) - y0) / (y1 - y0)) * GRID))
      this.grid[gy * GRID + gx]?.push(i)
    }
    this.reset()
  }

  /** A title has arrived: shown if its movie is still under the pointer. */
  titleArrived(movieId: number): void {
    if (this.hovered === movieId && !this.tooltip.hidden) this.tooltip.textContent = this.titleOf(movieId)
  }

  setHighlights(h: MapHighlights): void {
    this.highlights = h
    this.request()
  }

  reset(): void {
    const b = this.bounds
    this.view = { cx: (b.x0 + b.x1) / 2, cy: (b.y0 + b.y1) / 2, zoom: 1 }
    this.request()
  }

  /** Centres the view on a movie (zooming in a little) if it is on the map. */
  focus(movieId: number): void {
    const i = this.index.get(movieId)
    if (i === undefined || !this.data) return
    this.view = { cx: this.data.x[i] ?? 0, cy: this.data.y[i] ?? 0, zoom: Math.max(this.view.zoom, 3) }
    this.request()
  }

  private request(): void {
    if (this.frame !== 0) return
    this.frame = requestAnimationFrame(() => {
      this.frame = 0
      this.draw()
    })
  }

  /** Data units to CSS pixels at zoom 1: the whole map fits the canvas with a margin. */
  private baseScale(w: number, h: number): number {
    const b = this.bounds
    return 0.92 * Math.min(w / (b.x1 - b.x0), h / (b.y1 - b.y0))
  }

  private toScreen(x: number, y: number, w: number, h: number): [number, number] {
    const s = this.baseScale(w, h) * this.view.zoom
    // y grows upwards on the map, downwards on screen.
    return [(x - this.view.cx) * s + w / 2, h / 2 - (y - this.view.cy) * s]
  }

  private toData(px: number, py: number): [number, number] {
    const w = this.canvas.clientWidth
    const h = this.canvas.clientHeight
    const s = this.baseScale(w, h) * this.view.zoom
    return [(px - w / 2) / s + this.view.cx, (h / 2 - py) / s + this.view.cy]
  }

  private draw(): void {
    const dpr = window.devicePixelRatio || 1
    const w = this.canvas.clientWidth
    const h = this.canvas.clientHeight
    if (w === 0 || h === 0) return
    const pw = Math.round(w * dpr)
    const ph = Math.round(h * dpr)
    if (this.canvas.width !== pw || this.canvas.height !== ph) {
      this.canvas.width = pw
      this.canvas.height = ph
    }
    const image = this.ctx.createImageData(pw, ph)
    const pixels = new Uint32Array(image.data.buffer)
    pixels.fill(BACKGROUND)
    const data = this.data
    let drawn = 0
    if (data) {
      const s = this.baseScale(w, h) * this.view.zoom * dpr
      const ox = pw / 2 - this.view.cx * s
      const oy = ph / 2 + this.view.cy * s
      // Points grow a little when zoomed in, so a sparse close-up stays readable.
      const n = data.movieIds.length
      const base = n < 20_000 ? 2.5 : 1.5
      const size = Math.max(1, Math.min(6, Math.round(dpr * base * (1 + Math.max(0, Math.log2(this.view.zoom)) / 3))))
      for (let i = 0; i < n; i++) {
        const px = Math.round((data.x[i] ?? 0) * s + ox)
        const py = Math.round(oy - (data.y[i] ?? 0) * s)
        if (px < 0 || py < 0 || px + size > pw || py + size > ph) continue
        const c = this.colors[i] ?? 0
        for (let dy = 0; dy < size; dy++) pixels.fill(c, (py + dy) * pw + px, (py + dy) * pw + px + size)
        drawn++
      }
    }
    this.ctx.putImageData(image, 0, 0)
    this.drawn = drawn
    this.canvas.dataset.drawn = String(drawn)
    if (!data) return
    this.ctx.save()
    this.ctx.scale(dpr, dpr)
    const ring = (movieId: number, color: string, r: number): void => {
      const i = this.index.get(movieId)
      if (i === undefined) return
      const [x, y] = this.toScreen(data.x[i] ?? 0, data.y[i] ?? 0, w, h)
      this.ctx.beginPath()
      this.ctx.arc(x, y, r, 0, 2 * Math.PI)
      this.ctx.strokeStyle = color
      this.ctx.lineWidth = 2
      this.ctx.stroke()
    }
    for (const id of this.highlights.recommended) ring(id, '#ffd166', 5)
    for (const id of this.highlights.rated) ring(id, '#ffffff', 6)
    if (this.highlights.selected !== null) ring(this.highlights.selected, '#ef476f', 9)
    this.ctx.restore()
  }

  /** The point nearest to a screen position, within 8 px. */
  private nearest(px: number, py: number): number | null {
    const data = this.data
    if (!data) return null
    const w = this.canvas.clientWidth
    const h = this.canvas.clientHeight
    const [x, y] = this.toData(px, py)
    const b = this.bounds
    const s = this.baseScale(w, h) * this.view.zoom
    const reach = 8 / s
    const gx0 = Math.max(0, Math.floor(((x - reach - b.x0) / (b.x1 - b.x0)) * GRID))
    const gx1 = Math.min(GRID - 1, Math.floor(((x + reach - b.x0) / (b.x1 - b.x0)) * GRID))
    const gy0 = Math.max(0, Math.floor(((y - reach - b.y0) / (b.y1 - b.y0)) * GRID))
    const gy1 = Math.min(GRID - 1, Math.floor(((y + reach - b.y0) / (b.y1 - b.y0)) * GRID))
    let best: number | null = null
    let bestD = reach * reach
    for (let gy = gy0; gy <= gy1; gy++) {
      for (let gx = gx0; gx <= gx1; gx++) {
        for (const i of this.grid[gy * GRID + gx] ?? []) {
          const d = ((data.x[i] ?? 0) - x) ** 2 + ((data.y[i] ?? 0) - y) ** 2
          if (d <= bestD) {
            bestD = d
            best = i
          }
        }
      }
    }
    return best === null ? null : (data.movieIds[best] ?? null)
  }

  private pointerDown(e: PointerEvent): void {
    this.canvas.setPointerCapture(e.pointerId)
    this.drag = { x: e.offsetX, y: e.offsetY, cx: this.view.cx, cy: this.view.cy }
  }

  private pointerMove(e: PointerEvent): void {
    if (this.drag) {
      const s = this.baseScale(this.canvas.clientWidth, this.canvas.clientHeight) * this.view.zoom
      this.view.cx = this.drag.cx - (e.offsetX - this.drag.x) / s
      this.view.cy = this.drag.cy + (e.offsetY - this.drag.y) / s
      this.request()
      return
    }
    const id = this.nearest(e.offsetX, e.offsetY)
    this.hovered = id
    if (id === null) {
      this.tooltip.hidden = true
      return
    }
    this.tooltip.textContent = this.titleOf(id)
    this.tooltip.style.left = `${e.offsetX + 12}px`
    this.tooltip.style.top = `${e.offsetY + 12}px`
    this.tooltip.hidden = false
  }

  private pointerUp(e: PointerEvent): void {
    const d = this.drag
    this.drag = null
    // A click (no drag) on a point opens that movie.
    if (d && Math.abs(e.offsetX - d.x) + Math.abs(e.offsetY - d.y) < 4) {
      const id = this.nearest(e.offsetX, e.offsetY)
      if (id !== null) this.onPick(id)
    }
  }

  private zoomAt(factor: number, px: number, py: number): void {
    const [x, y] = this.toData(px, py)
    const zoom = Math.min(512, Math.max(0.5, this.view.zoom * factor))
    const f = this.view.zoom / zoom
    // Keep the data point under the cursor where it is.
    this.view = { cx: x - (x - this.view.cx) * f, cy: y - (y - this.view.cy) * f, zoom }
    this.request()
  }

  private wheel(e: WheelEvent): void {
    e.preventDefault()
    this.zoomAt(Math.exp(-e.deltaY * 0.0015), e.offsetX, e.offsetY)
  }

  private key(e: KeyboardEvent): void {
    const w = this.canvas.clientWidth
    const h = this.canvas.clientHeight
    const step = 40 / (this.baseScale(w, h) * this.view.zoom)
    const moves: Record<string, () => void> = {
      '+': () => this.zoomAt(1.25, w / 2, h / 2),
      '=': () => this.zoomAt(1.25, w / 2, h / 2),
      '-': () => this.zoomAt(0.8, w / 2, h / 2),
      ArrowLeft: () => (this.view.cx -= step),
      ArrowRight: () => (this.view.cx += step),
      ArrowUp: () => (this.view.cy += step),
      ArrowDown: () => (this.view.cy -= step),
      '0': () => this.reset(),
    }
    const move = moves[e.key]
    if (!move) return
    e.preventDefault()
    move()
    this.request()
  }
}
