// The server's error body, `{ error: { code, message, field } }` (the CLI's --json error with the
// offending field added), and the HTTP status of each alsrec error code.
import type { AlsrecErrorCode } from '../errors.js'
import { AlsrecError } from '../errors.js'

/** Schema of the error body, shared by every route's responses. */
export const errorBodySchema = {
  $id: 'ErrorBody',
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'field'],
      properties: {
        code: { type: 'string', description: 'An ALSREC_… code (src/errors.ts)' },
        message: { type: 'string' },
        field: { type: ['string', 'null'], description: 'The offending parameter, e.g. "query.n" or "body.ratings[2].rating"' },
      },
    },
  },
} as const

export interface ErrorBody {
  error: { code: string; message: string; field: string | null }
}

/** An AlsrecError that names the request field it is about. */
export class FieldError extends AlsrecError {
  readonly field: string
  constructor(code: AlsrecErrorCode, field: string, message: string) {
    super(code, message)
    this.field = field
  }
}

export function badField(field: string, message: string): FieldError {
  return new FieldError('ALSREC_INVALID_ARGUMENT', field, `${field}: ${message}`)
}

export function notFound(field: string, message: string): FieldError {
  return new FieldError('ALSREC_NOT_FOUND', field, message)
}

const STATUS: Partial<Record<string, number>> = {
  ALSREC_INVALID_ARGUMENT: 400,
  ALSREC_NOT_FOUND: 404,
  ALSREC_ABORTED: 503,
}

export function statusOf(code: string): number {
  return STATUS[code] ?? 500
}

export function errorBody(code: string, message: string, field: string | null = null): ErrorBody {
  return { error: { code, message, field } }
}

interface AjvError {
  instancePath?: string
  message?: string
  keyword?: string
  params?: Record<string, unknown>
}

/**
 * Fastify's schema failure as our body: the first ajv error, with its field spelled as a path
 * under the request part ("query.n", "body.ratings[0].rating", "params.userId").
 */
export function validationBody(context: string | undefined, errors: AjvError[]): ErrorBody {
  const first = errors[0] ?? {}
  const part = context === 'querystring' ? 'query' : (context ?? 'request')
  const pointer = (first.instancePath ?? '').split('/').filter((s) => s !== '')
  const extra = first.params?.additionalProperty ?? first.params?.missingProperty
  if (typeof extra === 'string') pointer.push(extra)
  const field = [part, ...pointer].reduce((acc, s) => (/^\d+$/.test(s) ? `${acc}[${s}]` : `${acc}.${s}`))
  const message = first.keyword === 'additionalProperties' ? `${field} is not a known parameter` : `${field} ${first.message ?? 'is invalid'}`
  return errorBody('ALSREC_INVALID_ARGUMENT', message, field)
}
