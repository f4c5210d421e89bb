// Shared printing helpers for the CLI: aligned tables, sizes, progress bars and one-line errors.

/** Column alignment: 'l'eft or 'r'ight; by default the first column is left-aligned, the rest right. */
export type Align = 'l' | 'r'

export function formatTable(header: string[], rows: Array<Array<string | number>>, align?: Align[]): string {
  const cells = [header, ...rows.map((r) => r.map(String))]
  const widths = header.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)))
  const side = (c: number): Align => align?.[c] ?? (c === 0 ? 'l' : 'r')
  return cells
    .map((r) =>
      r
        .map((cell, c) => (side(c) === 'l' ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

export function fmt(x: number | null | undefined, digits = 4): string {
  return x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(digits)
}

export function thousands(n: number): string {
  return n.toLocaleString('en-US')
}

/** 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`
}

/**
 * A one-line progress bar on stderr, redrawn at most every 100 ms. It draws only when stderr is
 * a terminal, so piped or captured output stays clean.
 */
export class ProgressBar {
  private readonly enabled: boolean
  private lastDraw = 0
  private drawn = false

  constructor(enabled = process.stderr.isTTY === true) {
    this.enabled = enabled
  }

  /** `fraction` in [0, 1] or null when the total is unknown; `text` follows the bar. */
  update(label: string, fraction: number | null, text: string, force = false): void {
    if (!this.enabled) return
    const now = performance.now()
    if (!force && now - this.lastDraw < 100) return
    this.lastDraw = now
    const width = 30
    const bar =
      fraction === null
        ? ''
        : `[${'#'.repeat(Math.round(Math.min(1, Math.max(0, fraction)) * width)).padEnd(width, '-')}] ${(fraction * 100).toFixed(0).padStart(3)}% `
    process.stderr.write(`\r\x1b[2K${label} ${bar}${text}`)
    this.drawn = true
  }

  /** Ends the bar's line so the next output starts on a fresh one. */
  done(): void {
    if (this.enabled && this.drawn) process.stderr.write('\n')
    this.drawn = false
  }
}

/** JSON for --json modes: typed arrays become plain arrays, two-space indent. */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, (_key, v: unknown) => (ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as unknown as ArrayLike<number>) : v), 2))
}
