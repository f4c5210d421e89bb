import { type Command } from 'commander'

import { availableParallelism } from 'node:os'

import { invalidArgument } from '../../errors.js'
import { MAX_WORKERS } from '../../serve/cluster.js'
import { serve, serveCluster, type ServedSummary } from '../../serve/index.js'
import { EXIT_OK } from '../shared/exit-codes.js'
import { wholeNumber } from '../shared/options.js'

interface ServeCliOptions {
  model?: string
  port: string
  host: string
  watch?: boolean
  logLevel: string
  json?: boolean
  workers: string
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve a model: a JSON API (OpenAPI docs at /api/docs) and the web explorer at /')
    .option('--model <file>', 'the model file to serve (required)')
    .option('--port <n>', 'port to listen on (0: any free port)', '8080')
    .option('--host <address>', 'address to bind; 0.0.0.0 or :: exposes the server beyond this machine', '127.0.0.1')
    .option('--watch', 'reload the model when its file is replaced (a file that fails to load leaves the old model serving)')
    .option('--log-level <level>', `JSON request logs on stdout: ${LOG_LEVELS.join(', ')}`, 'info')
    .option('--workers <n>', "server processes sharing the port, each with the model loaded ('auto': one per core)", '1')
    .option('--json', 'announce the URL as one JSON line on stdout (before the logs) instead of text on stderr')
    .addHelpText('after', ['', 'Examples:', '  $ alsrec serve --model runs/genre/model.alsrec', '  $ alsrec serve --model model.alsrec --port 3000 --host 0.0.0.0 --watch', '  $ alsrec serve --model model.alsrec --workers auto'].join('\n'))
    .action(async (o: ServeCliOptions) => runServe(o))
}

async function runServe(o: ServeCliOptions): Promise<void> {
  if (o.model === undefined) throw invalidArgument('serve needs --model <file> (train one with: alsrec train --out runs/x)')
  const port = wholeNumber('--port', o.port, 0)
  if (port > 65535) throw invalidArgument(`--port must be at most 65535 (got ${port})`)
  if (!LOG_LEVELS.includes(o.logLevel)) throw invalidArgument(`--log-level must be one of ${LOG_LEVELS.join(', ')} (got '${o.logLevel}')`)
  const workers = o.workers === 'auto' ? Math.min(availableParallelism(), MAX_WORKERS) : wholeNumber('--workers', o.workers, 1, MAX_WORKERS)
  const watch = o.watch === true
  let server: { url: string; close(): Promise<void> }
  let m: ServedSummary
  if (workers === 1) {
    const single = await serve({ model: o.model, port, host: o.host, watch, logger: { level: o.logLevel } })
    server = single
    m = { kind: single.model.kind, k: single.model.factors, users: single.model.numUsers, movies: single.model.numMovies }
  } else {
    const group = await serveCluster({ model: o.model, workers, port, host: o.host, watch, logLevel: o.logLevel })
    server = group
    m = group.model
  }
  const processes = workers > 1 ? `, ${workers} worker processes` : ''
  if (o.json === true) console.log(JSON.stringify({ url: server.url, docs: `${server.url}api/docs`, kind: m.kind, k: m.k, users: m.users, movies: m.movies, watch, workers }))
  else console.error(`alsrec serve: ${m.kind} model, ${m.users.toLocaleString('en-US')} users × ${m.movies.toLocaleString('en-US')} movies, k = ${m.k}${processes}${watch ? ', watching the file' : ''}`)
  if (o.json !== true) console.error(`alsrec serve: explorer at ${server.url}  API docs at ${server.url}api/docs  (Ctrl-C stops)`)
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      void server.close().then(resolve)
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
  process.exitCode = EXIT_OK
}
