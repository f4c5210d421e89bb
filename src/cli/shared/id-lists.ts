// Lists of ids given on the command line or in a file (--users, --candidates) and year ranges
// (--years). All failures are usage errors naming the flag.
import { readFile, stat } from 'node:fs/promises'

import { AlsrecError, invalidArgument } from '../../errors.js'

const MAX_ID = Number.MAX_SAFE_INTEGER

function idOf(flag: string, token: string, where: string): number {
  const n = /^\d+$/.test(token) ? Number(token) : NaN
  if (!Number.isSafeInteger(n) || n > MAX_ID) throw invalidArgument(`${flag}: '${token}'${where} is not an id (a whole number ≥ 0)`)
  return n
}

/**
 * Ids from a file: one per line (the first field of a CSV or tab-separated line), or the column
 * named `column` when the first line is a header holding it. Blank lines and lines starting
 * with '#' are skipped. Repeats are dropped, the first occurrence kept.
 */
export function parseIdFile(flag: string, file: string, text: string, column: string): number[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  let field = 0
  let start = lines.findIndex((l) => l.trim() !== '' && !l.trim().startsWith('#'))
  if (start < 0) throw invalidArgument(`${flag}: ${file} lists no ids`)
  const first = (lines[start] ?? '').trim()
  const header = first.split(/[,\t;]/).map((h) => h.trim().replace(/^"|"$/g, ''))
  if (header.some((h) => !/^\d+$/.test(h))) {
    const at = header.findIndex((h) => h.toLowerCase() === column.toLowerCase())
    if (at < 0) throw invalidArgument(`${flag}: ${file} has a header without a '${column}' column (got '${first.slice(0, 80)}'); give one id per line or a CSV with a ${column} column`)
    field = at
    start++
  }
  const seen = new Set<number>()
  const ids: number[] = []
  for (let i = start; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim()
    if (line === '' || line.startsWith('#')) continue
    const token = (line.split(/[,\t;]/)[field] ?? '').trim().replace(/^"|"$/g, '')
    const id = idOf(flag, token, ` on line ${i + 1} of ${file}`)
    if (!seen.has(id)) {
      seen.add(id)
      ids.push(id)
    }
  }
  if (ids.length === 0) throw invalidArgument(`${flag}: ${file} lists no ids`)
  return ids
}

/** A flag's ids: a file (see parseIdFile) when one exists at that path, else comma-separated ids. */
export async function idList(flag: string, value: string, column: string): Promise<number[]> {
  const isFile = await stat(value).then(
    (s) => s.isFile(),
    () => false,
  )
  if (isFile) {
    const text = await readFile(value, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new AlsrecError('ALSREC_IO', `${flag}: cannot read ${value}: ${err.message}`)
    })
    return parseIdFile(flag, value, text, column)
  }
  const tokens = value
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')
  if (tokens.length === 0 || tokens.some((t) => !/^\d+$/.test(t))) {
    throw invalidArgument(`${flag} takes a file of ids or comma-separated ids; '${value}' is neither (no such file)`)
  }
  return [...new Set(tokens.map((t) => idOf(flag, t, '')))]
}

const YEAR_MIN = -(2 ** 31)
const YEAR_MAX = 2 ** 31 - 1

/** "1990-1999", "1995" (that year), "1990-" (from 1990 on), "-1999" (up to 1999); ".." works as the dash. */
export function parseYears(flag: string, value: string): [number, number] {
  const v = value.trim()
  const single = /^(\d{1,4})$/.exec(v)
  if (single) return [Number(single[1]), Number(single[1])]
  const m = /^(\d{1,4})?\s*(?:-|–|\.\.)\s*(\d{1,4})?$/.exec(v)
  if (!m || (m[1] === undefined && m[2] === undefined)) throw invalidArgument(`${flag} takes a year range such as 1990-1999, 1995, 1990- or -1999 (got '${value}')`)
  const from = m[1] === undefined ? YEAR_MIN : Number(m[1])
  const to = m[2] === undefined ? YEAR_MAX : Number(m[2])
  if (from > to) throw invalidArgument(`${flag}: the range ${from}-${to} is empty (from > to)`)
  return [from, to]
}
