// The fastify application: limits, ajv settings, the error shape, OpenAPI docs at /api/docs,
// the API routes and the explorer's bundled files. `buildApp` does not listen, so tests drive
// it with `app.inject`.
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

import { AlsrecError } from '../errors.js'
import { errorBody, errorBodySchema, FieldError, statusOf, validationBody } from './errors.js'
import { registerApiRoutes, type ModelSource } from './routes.js'
import { movieDetailsSchema, movieSchema, recommendationSchema } from './schemas.js'

/** The largest request body (a new user's ratings: 500 ratings are ~20 KiB of JSON). */
export const BODY_LIMIT = 64 * 1024
/** The longest URL (path and query); Node itself refuses request heads past 16 KiB. */
export const URL_LIMIT = 14 * 1024

export interface AppOptions {
  /** fastify's logger option: false (tests), true, or pino options such as { level: 'warn' }. */
  logger?: FastifyServerOptions['logger']
  /** Where the built explorer lives (default: dist/web beside this module). */
  webDir?: string
}

const CONTENT_TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.png': 'image/png', '.svg': 'image/svg+xml', '.map': 'application/json' }

/** Every asset the explorer's page may load comes from this server: nothing from a CDN. */
const EXPLORER_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'"

function webFiles(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>()
  if (!existsSync(dir)) return files
  for (const name of readdirSync(dir)) if (CONTENT_TYPES[path.extname(name)] !== undefined) files.set(name, readFileSync(path.join(dir, name)))
  return files
}

export async function buildApp(source: ModelSource, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: BODY_LIMIT,
    routerOptions: { maxParamLength: 64 },
    // Bounds a client that sends its request slowly; handlers themselves are sub-millisecond to a few ms.
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    // Unknown parameters are refused, not dropped: a typo ("genre=") must not silently mean "no filter".
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true, allErrors: false } },
  })

  app.addHook('onRequest', async (req, reply) => {
    if (req.url.length > URL_LIMIT) return reply.code(414).send(errorBody('ALSREC_INVALID_ARGUMENT', `the URL is longer than ${URL_LIMIT} bytes`, 'url'))
  })

  app.setErrorHandler((err, req, reply) => {
    const e = err as Error & { validation?: unknown; validationContext?: string; statusCode?: number; code?: string }
    if (Array.isArray(e.validation)) return reply.code(400).send(validationBody(e.validationContext, e.validation as []))
    if (e instanceof FieldError) return reply.code(statusOf(e.code)).send(errorBody(e.code, e.message, e.field))
    if (e instanceof AlsrecError) return reply.code(statusOf(e.code)).send(errorBody(e.code, e.message))
    // fastify's own refusals: malformed JSON, a body past the limit, an unsupported media type.
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      const field = typeof e.code === 'string' && e.code.startsWith('FST_ERR_CTP') ? 'body' : null
      return reply.code(e.statusCode).send(errorBody('ALSREC_INVALID_ARGUMENT', e.message, field))
    }
    req.log.error({ err }, 'request failed')
    return reply.code(500).send(errorBody('ALSREC_INTERNAL', 'internal error (see the server log)'))
  })

  app.setNotFoundHandler((req, reply) => reply.code(404).send(errorBody('ALSREC_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0] ?? ''}`, 'url')))

  for (const schema of [errorBodySchema, movieSchema, movieDetailsSchema, recommendationSchema]) app.addSchema(schema)
  await app.register(swagger, {
    openapi: {
      info: { title: 'alsrec serve', description: 'Recommendations, similar movies, explanations and the movie map of one alsrec model. Errors are { error: { code, message, field } }.', version: '1' },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  })
  await app.register(swaggerUi, { routePrefix: '/api/docs' })

  registerApiRoutes(app, source)

  const files = webFiles(options.webDir ?? path.join(__dirname, '..', 'web'))
  const sendFile = (name: string, reply: import('fastify').FastifyReply): unknown => {
    const body = files.get(name)
    if (body === undefined) return reply.code(404).send(errorBody('ALSREC_NOT_FOUND', `no file ${name}${files.size === 0 ? ' (the explorer is not built: npm run build:ts)' : ''}`, 'url'))
    return reply.type(CONTENT_TYPES[path.extname(name)] ?? 'application/octet-stream').header('content-security-policy', EXPLORER_CSP).header('cache-control', 'no-cache').send(body)
  }
  app.get('/', { schema: { hide: true } }, async (_req, reply) => sendFile('index.html', reply))
  app.get<{ Params: { file: string } }>('/assets/:file', { schema: { hide: true, params: { type: 'object', properties: { file: { type: 'string', pattern: '^[A-Za-z0-9._-]+$', maxLength: 64 } } } } }, async (req, reply) => sendFile(req.params.file, reply))
  return app
}
