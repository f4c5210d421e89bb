import { type Command } from 'commander'

import { invalidArgument } from '../../errors.js'
import { serve } from '../../serve/index.js'
import { EXIT_OK } from '../shared/exit-codes.js'
import { wholeNumber } from '../shared/options.js'

interface ServeCliOptions {
  model?: string
  port: string
  host: string
  watch?: boolean
  logLevel: string
  json?: boolean
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
    .option('--json', 'announce the URL as one JSON line on stdout (before the logs) instead of text on stderr')
    .addHelpText('after', ['', 'Examples:', '  $ alsrec serve --model runs/genre/model.alsrec', '  $ alsrec serve --model model.alsrec --port 3000 --host 0.0.0.0 --watch'].join('\n'))
    .action(async (o: ServeCliOptions) => runServe(o))
}

async function runServe(o: ServeCliOptions): Promise<void> {
  if (o.model === undefined) throw invalidArgument('serve needs --model <file> (train one with: alsrec train --out runs/x)')
  const port = wholeNumber('--port', o.port, 0)
  if (port > 65535) throw invalidArgument(`--port must be at most 65535 (got ${port})`)
  if (!LOG_LEVELS.includes(o.logLevel)) throw invalidArgument(`--log-level must be one of ${LOG_LEVELS.join(', ')} (got '${o.logLevel}')`)
  const server = await serve({ model: o.model, port, host: o.host, watch: o.watch === true, logger: { level: o.logLevel } })
  const m = server.model
  if (o.json === true) console.log(JSON.stringify({ url: server.url, docs: `${server.url}api/docs`, kind: m.kind, k: m.factors, users: m.numUsers, movies: m.numMovies, watch: o.watch === true }))
  else console.error(`alsrec serve: ${m.kind} model, ${m.numUsers.toLocaleString('en-US')} users × ${m.numMovies.toLocaleString('en-US')} movies, k = ${m.factors}${o.watch === true ? ', watching the file' : ''}`)
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
