// Title series, ported from the core's `series.rs` (the same rule, checked on the same titles by
// both test suites): the reader derives the ranker's series bonus from the file's titles, as the
// native model does.

// Rust's notion of whitespace, not JavaScript's (they differ on U+0085 and U+FEFF), so both
// languages cut titles alike.
/** Rust's `char::is_whitespace` (Unicode White_Space): what `str::trim` strips. */
const RUST_SPACE = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]'
const TRIM_START = new RegExp(`^${RUST_SPACE}+`)
const TRIM_END = new RegExp(`${RUST_SPACE}+$`)

export function trimEnd(s: string): string {
  // Most strings end in a printable ASCII character: no regular expression needed.
  const last = s.charCodeAt(s.length - 1)
  return last > 0x20 && last < 0x7f ? s : s.replace(TRIM_END, '')
}

export function trim(s: string): string {
  return trimEnd(s).replace(TRIM_START, '')
}

/** Rust's `str::split_whitespace`. */
function splitWhitespace(s: string): string[] {
  return s.split(new RegExp(`${RUST_SPACE}+`)).filter((w) => w.length > 0)
}

/** A series with more members than this is a common word, not a franchise. */
export const MAX_SERIES = 25

const SEQUEL_MARKERS = new Set(['II', 'III', 'IV', 'V', 'VI', 'VII', 'VIII', 'Part'])

function isSequelMarker(word: string): boolean {
  const w = word.replace(/[,.]+$/, '')
  return (w.length > 0 && /^[0-9]+$/.test(w)) || SEQUEL_MARKERS.has(w)
}

/** The series name of a title, lower-case, or null (the core's `series_key`). */
export function seriesKey(title: string): string | null {
  let t = trim(title)
  const last = t.lastIndexOf(' (')
  if (last >= 0 && t.endsWith(')')) {
    const year = t.slice(last + 2).replace(/\)+$/, '')
    if (year.length >= 4 && /^[0-9-]+$/.test(year)) t = trimEnd(t.slice(0, last))
  }
  const first = t.indexOf(' (')
  if (first >= 0) t = t.slice(0, first)
  for (const suffix of [', The', ', A', ', An']) {
    if (t.endsWith(suffix)) {
      t = t.slice(0, t.length - suffix.length)
      break
    }
  }
  for (const prefix of ['The ', 'A ', 'An ']) {
    if (t.startsWith(prefix)) {
      t = t.slice(prefix.length)
      break
    }
  }
  const cuts = [t.indexOf(':'), t.indexOf(' - ')].filter((c) => c >= 0)
  if (cuts.length > 0) t = t.slice(0, Math.min(...cuts))
  const words = splitWhitespace(t)
  let end = words.length
  for (let j = 1; j < words.length; j++) {
    if (isSequelMarker(words[j] as string)) {
      end = j
      break
    }
  }
  const key = words.slice(0, end).join(' ').toLowerCase()
  return [...key].length >= 3 ? key : null
}

/** For each movie index, the indices of its series' members (itself included), or null. */
export function seriesMembers(titles: Array<string | undefined>): Array<number[] | null> {
  const groups = new Map<string, number[]>()
  titles.forEach((title, i) => {
    const key = title === undefined ? null : seriesKey(title)
    if (key === null) return
    const group = groups.get(key)
    if (group) group.push(i)
    else groups.set(key, [i])
  })
  const out: Array<number[] | null> = titles.map(() => null)
  for (const group of groups.values()) {
    if (group.length < 2 || group.length > MAX_SERIES) continue
    for (const i of group) out[i] = group
  }
  return out
}
