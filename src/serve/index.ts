// The server's public entry. fastify and its plugins load only when `serve` is called, so
// `require('alsrec')` and the other CLI commands do not pay for them.
import type { ClusterOptions, ServerCluster } from './cluster.js'
import type { Server, ServeOptions } from './server.js'

export type { Server, ServeOptions } from './server.js'
export type { ClusterOptions, ServerCluster, ServedSummary } from './cluster.js'

/** Serves a model's JSON API (OpenAPI docs at /api/docs) and the web explorer at /; see docs/serve.md. */
export async function serve(options: ServeOptions): Promise<Server> {
  const { serve: start } = await import('./server.js')
  return start(options)
}

/**
 * `serve` on `workers` processes sharing one port (node:cluster), each with its own copy of the
 * model: one Node process answers on one core. A worker that dies is restarted; see docs/serve.md.
 */
export async function serveCluster(options: ClusterOptions): Promise<ServerCluster> {
  const { serveCluster: start } = await import('./cluster.js')
  return start(options)
}
