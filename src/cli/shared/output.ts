// Printing shared by every command: aligned tables, numbers, sizes, movie lists and --json output.
import { CommanderError } from 'commander'

import { AlsrecError, type Recommendation } from '../../index.js'

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
 * A list as a table: the predicted rating (on the rating scale) where the model predicts one,
 * else the score under `scoreLabel` (a preference or a cosine).
 */
export function printMovies(rows: Recommendation[], scoreLabel: string): void {
  const rated = rows.length > 0 && rows.every((r) => r.rating !== undefined)
  // A Bayesian model's spread beside its prediction: 4.21★ ± 0.35.
  const value = (r: Recommendation): string => (rated ? `${(r.rating ?? 0).toFixed(2)}★${r.spread !== undefined ? ` ± ${r.spread.toFixed(2)}` : ''}` : r.score.toFixed(3))
  console.log(formatTable(['  #', 'movie', 'genres', rated ? 'predicted' : scoreLabel], rows.map((r, i) => [`  ${i + 1}`, r.title, r.genres.join('|'), value(r)]), ['r', 'l', 'l', 'r']))
}

/** JSON for --json modes: typed arrays become plain arrays, two-space indent. */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, (_key, v: unknown) => (ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as unknown as ArrayLike<number>) : v), 2))
}

/**
 * An error as the one line --json modes print on stderr: `{"error":{"code","message"}}`. Codes are
 * alsrec's (`ALSREC_…`); a command-line mistake caught by the parser is ALSREC_INVALID_ARGUMENT,
 * an interruption ALSREC_ABORTED, a system error ALSREC_IO, anything else ALSREC_INTERNAL.
 */
export function errorJson(err: unknown): string {
  let code: string
  let message: string
  if (err instanceof CommanderError) {
    code = 'ALSREC_INVALID_ARGUMENT'
    message = err.message.replace(/^error: /, '').trim()
  } else if (err instanceof AlsrecError) {
    code = err.code
    message = err.message
  } else if (err instanceof Error) {
    const sys = (err as NodeJS.ErrnoException).code
    code = err.name === 'AbortError' ? 'ALSREC_ABORTED' : typeof sys === 'string' && /^E[A-Z]+$/.test(sys) ? 'ALSREC_IO' : 'ALSREC_INTERNAL'
    message = err.message
  } else {
    code = 'ALSREC_INTERNAL'
    message = String(err)
  }
  return JSON.stringify({ error: { code, message } })
}
