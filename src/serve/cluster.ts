// `serve` on several processes (node:cluster): each worker loads the model and runs the whole
// app; the primary only shares the listening socket and restarts a worker that dies. One Node
// process answers on one core (the handlers are synchronous native calls of a fraction of a
// millisecond, so the event loop, not the query, is what saturates first); workers are the way
// to use the others. Node 20 has no SO_REUSEPORT listen option, so the sharing is cluster's
// round-robin hand-off of accepted connections.
import cluster, { type Worker } from 'node:cluster'
import path from 'node:path'

import { AlsrecError, invalidArgument, type AlsrecErrorCode } from '../errors.js'

export interface ClusterOptions {
  /** The model file every worker loads. */
  model: string
  /** Worker processes, at least 2 (one worker is plain `serve`). */
  workers: number
  port?: number
  host?: string
  watch?: boolean
  /** pino level of every worker's JSON request logs (default 'info'). */
  logLevel?: string
  settleMs?: number
}

export interface ServerCluster {
  readonly url: string
  readonly workers: number
  /** The model the first worker loaded. */
  readonly model: ServedSummary
  /** The process ids of the workers alive now. */
  pids(): number[]
  /** Resolves when the next replacement of a dead worker listens. */
  replaced(): Promise<void>
  /** Stops every worker and resolves once they have exited. */
  close(): Promise<void>
}

/** What a worker reads from its environment: its share of `ClusterOptions`. */
export interface WorkerConfig {
  model: string
  port: number
  host: string
  watch: boolean
  logLevel: string
  settleMs?: number
}

export const WORKER_ENV = 'ALSREC_SERVE_WORKER'

/** Messages a worker sends the primary once, when it listens or fails to start. */
export type WorkerMessage = { type: 'listening'; url: string; port: number; model: ServedSummary } | { type: 'failed'; code: AlsrecErrorCode | string; message: string }

/** What the announcement line says of the model. */
export interface ServedSummary {
  kind: string
  k: number
  users: number
  movies: number
}

/** A whole number of workers, 1 to this, is accepted. */
export const MAX_WORKERS = 64
/** A worker that dies is restarted, but not more often than this per minute (a crash loop stops). */
const RESTARTS_PER_MINUTE = 5

export async function serveCluster(options: ClusterOptions): Promise<ServerCluster> {
  if (!cluster.isPrimary) throw new AlsrecError('ALSREC_INTERNAL', 'serveCluster runs in the primary process, not in a worker')
  const { workers } = options
  if (!Number.isInteger(workers) || workers < 2 || workers > MAX_WORKERS) throw invalidArgument(`workers must be a whole number from 2 to ${MAX_WORKERS} (got ${String(workers)})`)
  const port = options.port ?? 8080
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalidArgument(`port must be a whole number from 0 to 65535 (got ${String(port)})`)
  const host = options.host ?? '127.0.0.1'
  if (typeof options.model !== 'string' || options.model === '') throw invalidArgument('model must be a model file path')
  const config: WorkerConfig = { model: path.resolve(options.model), port, host, watch: options.watch === true, logLevel: options.logLevel ?? 'info', ...(options.settleMs !== undefined ? { settleMs: options.settleMs } : {}) }

  // worker.js beside this file (worker.ts when run from source, with the same loader flags).
  cluster.setupPrimary({ exec: path.join(__dirname, `worker${path.extname(__filename)}`), args: [] })
  const live = new Set<Worker>()
  let closing = false
  const restarts: number[] = []
  let waiters: Array<() => void> = []

  const start = (cfg: WorkerConfig): Promise<{ worker: Worker; message: Extract<WorkerMessage, { type: 'listening' }> }> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork({ [WORKER_ENV]: JSON.stringify(cfg) })
      live.add(worker)
      let started = false
      worker.on('message', (m: WorkerMessage) => {
        if (started) return
        started = true
        if (m.type === 'listening') resolve({ worker, message: m })
        else reject(new AlsrecError(isCode(m.code) ? m.code : 'ALSREC_INTERNAL', m.message))
      })
      worker.on('exit', (code, signal) => {
        live.delete(worker)
        if (!started) {
          started = true
          reject(new AlsrecError('ALSREC_INTERNAL', `a serve worker exited before listening (${signal ?? `code ${code}`})`))
          return
        }
        if (!closing) replace(cfg, code, signal)
      })
    })

  const replace = (cfg: WorkerConfig, code: number | null, signal: string | null): void => {
    const now = Date.now()
    while (restarts.length > 0 && (restarts[0] ?? 0) < now - 60_000) restarts.shift()
    if (restarts.length >= RESTARTS_PER_MINUTE) {
      console.error(`alsrec serve: a worker exited (${signal ?? `code ${code}`}); ${RESTARTS_PER_MINUTE} restarts in the last minute, so it is not restarted (${live.size} left)`)
      if (live.size === 0) process.exitCode = 1
      return
    }
    restarts.push(now)
    console.error(`alsrec serve: a worker exited (${signal ?? `code ${code}`}); starting another`)
    start(cfg).then(
      () => {
        const w = waiters
        waiters = []
        for (const resolve of w) resolve()
      },
      (err: unknown) => console.error(`alsrec serve: the replacement worker failed: ${err instanceof Error ? err.message : String(err)}`),
    )
  }

  const stopAll = async (): Promise<void> => {
    closing = true
    const exits = [...live].map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))))
    for (const w of live) w.process.kill('SIGTERM')
    await Promise.all(exits)
  }

  try {
    // The first worker alone, so that a broken model file fails once, before N processes
    // read it. Every worker then asks for the same address and port, 0 included: cluster
    // keys the shared socket by what was asked, so listen(0) gives every worker one port.
    const first = await start(config)
    await Promise.all(Array.from({ length: workers - 1 }, () => start(config)))
    return {
      url: first.message.url,
      workers,
      model: first.message.model,
      pids: () => [...live].flatMap((w) => (w.process.pid === undefined || w.isDead() ? [] : [w.process.pid])),
      replaced: () => new Promise<void>((resolve) => waiters.push(resolve)),
      close: stopAll,
    }
  } catch (err) {
    await stopAll()
    throw err
  }
}

const CODES: readonly string[] = ['ALSREC_INVALID_DATA', 'ALSREC_INVALID_ARGUMENT', 'ALSREC_NOT_FOUND', 'ALSREC_IO', 'ALSREC_BAD_MODEL_FILE', 'ALSREC_ABORTED', 'ALSREC_INTERNAL'] satisfies AlsrecErrorCode[]

function isCode(code: string): code is AlsrecErrorCode {
  return CODES.includes(code)
}
