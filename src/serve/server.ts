// `serve()`: loads the model, builds the app, listens, and with `watch` reloads the model when
// its file is replaced. A reload builds the new ServedModel completely before one assignment
// swaps it in; a file that fails to load leaves the old model serving and logs why.
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import { watch as watchDir, type FSWatcher } from 'node:fs'
import { stat } from 'node:fs/promises'
import path from 'node:path'

import { invalidArgument } from '../errors.js'
import { Model } from '../model.js'
import { buildApp } from './app.js'
import { loadServedModel, servedFromModel, type ServedModel } from './state.js'

export interface ServeOptions {
  /** A model file (needed for `watch`), or a loaded model. */
  model: string | Model
  /** Default 8080; 0 picks a free port (see `url`). */
  port?: number
  /** Default 127.0.0.1 (this machine only); '0.0.0.0' or '::' to expose the server. */
  host?: string
  /** Reload the model when its file is replaced. */
  watch?: boolean
  /** fastify's logger option (default: JSON logs at 'info' on stdout). */
  logger?: FastifyServerOptions['logger']
  /** How long a file must stay unchanged before a reload reads it (ms, default 300). */
  settleMs?: number
}

export interface Server {
  /** e.g. http://127.0.0.1:8080/ */
  readonly url: string
  readonly app: FastifyInstance
  /** The model served right now (a reload replaces it). */
  readonly model: Model
  /** Resolves after each reload attempt: true if the new file is being served. */
  reloaded(): Promise<boolean>
  close(): Promise<void>
}

/** Starts the server; resolves once it listens. */
export async function serve(options: ServeOptions): Promise<Server> {
  if (options === null || typeof options !== 'object') throw invalidArgument('serve takes { model, port?, host?, watch? }')
  const port = options.port ?? 8080
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalidArgument(`port must be a whole number from 0 to 65535 (got ${String(port)})`)
  const host = options.host ?? '127.0.0.1'
  if (typeof host !== 'string' || host === '') throw invalidArgument('host must be a host name or address')
  let current: ServedModel
  if (options.model instanceof Model) {
    if (options.watch === true) throw invalidArgument('watch needs a model file, not a model object')
    current = servedFromModel(options.model)
  } else if (typeof options.model === 'string') current = await loadServedModel(options.model)
  else throw invalidArgument('model must be a model file path or a Model')

  const app = await buildApp(() => current, { logger: options.logger ?? { level: 'info' } })
  await app.listen({ port, host })
  const address = app.server.address()
  const actualPort = typeof address === 'object' && address !== null ? address.port : port
  const shownHost = host.includes(':') ? `[${host}]` : host
  const url = `http://${shownHost}:${actualPort}/`

  let watcher: FSWatcher | null = null
  let stopWatching = (): void => {}
  let waiters: Array<(ok: boolean) => void> = []
  const settled = (ok: boolean): void => {
    const w = waiters
    waiters = []
    for (const resolve of w) resolve(ok)
  }
  if (options.watch === true && typeof options.model === 'string') {
    const file = path.resolve(options.model)
    const settle = options.settleMs ?? 300
    let timer: NodeJS.Timeout | null = null
    let loading = false
    let again = false
    let lastSeen = await signature(file)
    const reload = async (): Promise<void> => {
      if (loading) {
        again = true
        return
      }
      loading = true
      try {
        const sig = await signature(file)
        if (sig === null || sig === lastSeen) return
        try {
          const next = await loadServedModel(file)
          lastSeen = sig
          current = next
          app.log.info({ file: path.basename(file), users: next.model.numUsers, movies: next.model.numMovies }, 'model reloaded')
          settled(true)
        } catch (err) {
          lastSeen = sig
          app.log.error({ file: path.basename(file), err: err instanceof Error ? err.message : String(err) }, 'model reload failed; still serving the previous model')
          settled(false)
        }
      } finally {
        loading = false
        if (again) {
          again = false
          schedule()
        }
      }
    }
    const schedule = (): void => {
      if (timer !== null) clearTimeout(timer)
      timer = setTimeout(() => void reload(), settle)
    }
    // The directory, not the file: replacing a file by rename (what model.save does) ends a
    // watch on the old inode.
    watcher = watchDir(path.dirname(file), (_event, name) => {
      if (name === null || name === path.basename(file)) schedule()
    })
    stopWatching = () => {
      if (timer !== null) clearTimeout(timer)
      watcher?.close()
    }
  }

  return {
    url,
    app,
    get model() {
      return current.model
    },
    reloaded: () => new Promise<boolean>((resolve) => waiters.push(resolve)),
    close: async () => {
      stopWatching()
      await app.close()
    },
  }
}

/** What tells a replaced file from the old one: inode, size and modification time. */
async function signature(file: string): Promise<string | null> {
  try {
    const s = await stat(file)
    return `${s.ino}:${s.size}:${s.mtimeMs}`
  } catch {
    return null
  }
}
