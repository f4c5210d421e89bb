// The server's public entry. fastify and its plugins load only when `serve` is called, so
// `require('alsrec')` and the other CLI commands do not pay for them.
import type { Server, ServeOptions } from './server.js'

export type { Server, ServeOptions } from './server.js'

/** Serves a model's JSON API (OpenAPI docs at /api/docs) and the web explorer at /; see docs/serve.md. */
export async function serve(options: ServeOptions): Promise<Server> {
  const { serve: start } = await import('./server.js')
  return start(options)
}
