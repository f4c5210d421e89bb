// Option parsers shared by the experiment commands: bad values are usage errors (exit 2).
import { InvalidArgumentError } from 'commander'

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
