// Option parsing shared by every command. Two kinds, both usage errors (exit 2):
// - commander argParsers (`.option('--k <n>', '…', parseInteger)`), which fail while the command
//   line is parsed, with commander's one-line message;
// - checks of a flag's string value inside an action (`wholeNumber('--n', o.n, 1)`), for flags
//   whose default is shown as given, which throw ALSREC_INVALID_ARGUMENT naming the flag.
import { InvalidArgumentError } from 'commander'

import { invalidArgument } from '../../errors.js'

export function parseNumber(value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got "${value}"`)
  return n
}

export function parseInteger(value: string): number {
  const n = parseNumber(value)
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`expected a whole number, got "${value}"`)
  return n
}

export function parsePositive(value: string): number {
  const n = parseNumber(value)
  if (!(n > 0)) throw new InvalidArgumentError(`expected a positive number, got "${value}"`)
  return n
}

/** A whole number ≥ 1. */
export function parseCount(value: string): number {
  const n = parsePositive(value)
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`expected a whole number, got "${value}"`)
  return n
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }

/** "1048576", "500M", "1.5G" (powers of 1024; a trailing "B" or "iB" is allowed). */
export function parseSize(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(value)
  const n = m ? Math.round(Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? 1)) : NaN
  if (!(n > 0)) throw new InvalidArgumentError(`expected a size such as 1048576, 500M or 2G, got "${value}"`)
  return n
}

/** A flag's value as a whole number in [min, max] (no upper bound when max is omitted). */
export function wholeNumber(flag: string, value: string, min: number, max?: number): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isInteger(n) || n < min || (max !== undefined && n > max)) {
    const range = max === undefined ? `≥ ${min}` : `from ${min} to ${max}`
    throw invalidArgument(`${flag} must be a whole number ${range} (got '${value}')`)
  }
  return n
}

/** A flag's value as a finite number > 0. */
export function positiveNumber(flag: string, value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw invalidArgument(`${flag} must be a number > 0 (got '${value}')`)
  return n
}

/** An optional whole-number flag ≥ 0, e.g. --min-ratings: undefined when not given. */
export function optionalWholeNumber(flag: string, value: string | undefined): number | undefined {
  return value === undefined ? undefined : wholeNumber(flag, value, 0)
}

/** A movie given on the command line: digits are an id, anything else a title. */
export function movieRef(text: string): string | number {
  return /^\d+$/.test(text) ? Number(text) : text
}

/** A comma-separated list, blanks dropped; undefined stays undefined. */
export function commaList(text: string | undefined): string[] | undefined {
  return text === undefined
    ? undefined
    : text
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '')
}
