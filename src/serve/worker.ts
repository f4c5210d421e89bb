// A `serve --workers N` process: the whole server on the configuration the primary put in the
// environment. It tells the primary once that it listens (or why it could not start), stops on
// SIGTERM, and exits when the primary goes away, so no worker outlives its cluster.
import { AlsrecError } from '../errors.js'
import { WORKER_ENV, type WorkerConfig, type WorkerMessage } from './cluster.js'
import { serve } from './server.js'

async function main(): Promise<void> {
  // Resolves once the message is handed to the channel, so an exit right after cannot lose it.
  const send = (m: WorkerMessage): Promise<void> =>
    new Promise((resolve) => {
      if (process.send === undefined) resolve()
      else process.send(m, undefined, {}, () => resolve())
    })
  let config: WorkerConfig
  try {
    config = JSON.parse(process.env[WORKER_ENV] ?? '') as WorkerConfig
  } catch {
    await send({ type: 'failed', code: 'ALSREC_INTERNAL', message: `${WORKER_ENV} is not set: this file is started by serve --workers` })
    process.exit(1)
  }
  try {
    const server = await serve({ model: config.model, port: config.port, host: config.host, watch: config.watch, logger: { level: config.logLevel }, ...(config.settleMs !== undefined ? { settleMs: config.settleMs } : {}) })
    const port = Number(new URL(server.url).port)
    const m = server.model
    await send({ type: 'listening', url: server.url, port, model: { kind: m.kind, k: m.factors, users: m.numUsers, movies: m.numMovies } })
    let stopping = false
    const stop = (): void => {
      if (stopping) return
      stopping = true
      void server.close().finally(() => process.exit(0))
    }
    process.on('SIGTERM', stop)
    // Ctrl-C reaches the whole process group; the primary answers it with SIGTERM to each
    // worker, and must not see a worker exit first and take it for a crash to restart.
    process.on('SIGINT', () => {})
    process.on('disconnect', stop)
  } catch (err) {
    await send({ type: 'failed', code: err instanceof AlsrecError ? err.code : 'ALSREC_INTERNAL', message: err instanceof Error ? err.message : String(err) })
    process.exit(1)
  }
}

void main()
