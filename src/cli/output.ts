// Shared printing helpers for the CLI: aligned tables and one-line errors.

export function formatTable(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((r) => r.map(String))]
  const widths = header.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)))
  return cells.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ')).join('\n')
}

export function fmt(x: number | null | undefined, digits = 4): string {
  return x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(digits)
}

export function thousands(n: number): string {
  return n.toLocaleString('en-US')
}
