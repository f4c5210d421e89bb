// The `alsrec` program: builds the commander program from the commands in ./commands (one
// module each, exporting a register function) and runs it. Helpers the commands share (option
// parsing, output, progress, exit codes, the model-source flags) live in ./shared.
import { Command, CommanderError } from 'commander'
import { readFileSync } from 'node:fs'
import path from 'node:path'

import { AlsrecError } from '../errors.js'
import { packageRoot } from '../paths.js'
import { registerDemo } from './commands/demo.js'
import { registerDownload } from './commands/download.js'
import { registerEvaluate } from './commands/evaluate.js'
import { registerExportWeb } from './commands/export-web.js'
import { registerExplain } from './commands/explain.js'
import { registerExport } from './commands/export.js'
import { registerExportData } from './commands/export-data.js'
import { registerGenerate } from './commands/generate.js'
import { registerGrid } from './commands/grid.js'
import { registerImport } from './commands/import.js'
import { registerInfo } from './commands/info.js'
import { registerPlot } from './commands/plot.js'
import { registerRecommend } from './commands/recommend.js'
import { registerServe } from './commands/serve.js'
import { registerSimilar } from './commands/similar.js'
import { registerTrain } from './commands/train.js'
import { registerTune } from './commands/tune.js'
import { registerUpdate } from './commands/update.js'
import { EXIT_OK, EXIT_RUNTIME, EXIT_USAGE } from './shared/exit-codes.js'
import { errorJson } from './shared/output.js'

/** Exit codes: 0 success, 1 runtime error, 2 usage error (130 interrupted). */
export { EXIT_INTERRUPTED, EXIT_OK, EXIT_RUNTIME, EXIT_USAGE } from './shared/exit-codes.js'

function version(): string {
  const pkg = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }
  return pkg.version
}

/** Commander's own codes that are not errors (help and version output). */
const COMMANDER_OUTPUT = new Set(['commander.help', 'commander.helpDisplayed', 'commander.version'])

/** `jsonErrors`: usage errors are left to the caller (main prints them as JSON) instead of a line of text. */
export function buildProgram(options: { jsonErrors?: boolean } = {}): Command {
  const program = new Command('alsrec')
    .description('Fast ALS matrix-factorization recommender: MovieLens in seconds')
    .version(version(), '-V, --version', 'print the version')
    .option('--verbose', 'print stack traces with errors')
    .addHelpText(
      'after',
      [
        '',
        'Every command has --help with an example and a --json output mode.',
        'Exit codes: 0 success, 1 runtime error, 2 usage error.',
        '',
        'Examples:',
        '  $ alsrec demo',
        '  $ alsrec demo --data "$(alsrec download ml-latest-small --quiet)"',
        '  $ alsrec info data/sample',
      ].join('\n'),
    )
    // Usage errors on one line, with the way to more help.
    .configureOutput({ outputError: (str, write) => (options.jsonErrors === true ? undefined : write(`alsrec: ${str.replace(/^error: /, '').trim()} (see --help)\n`)) })
    .exitOverride()

  // ---- Subcommands: one register line each (keep this block sorted; merges stay trivial). ----
  registerDemo(program)
  registerDownload(program)
  registerGenerate(program)
  registerTrain(program)
  registerTune(program)
  registerUpdate(program)
  registerEvaluate(program)
  registerGrid(program)
  registerPlot(program)
  registerRecommend(program)
  registerSimilar(program)
  registerExplain(program)
  registerInfo(program)
  registerExport(program)
  registerExportData(program)
  registerImport(program)
  registerServe(program)
  registerExportWeb(program)
  // ---- end of subcommands ----

  for (const cmd of program.commands) cmd.exitOverride()
  return program
}

/** The exit code for an error thrown by a command: 2 for bad arguments, 1 for the rest. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE
  if (err instanceof AlsrecError && err.code === 'ALSREC_INVALID_ARGUMENT') return EXIT_USAGE
  return EXIT_RUNTIME
}

export async function main(argv: string[]): Promise<void> {
  // `alsrec … | head` closes the pipe early: stop quietly instead of throwing EPIPE.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? EXIT_OK)
    throw err
  })
  // Under --json, errors are one JSON line on stderr too: { "error": { "code", "message" } }.
  const json = argv.slice(2).includes('--json')
  const program = buildProgram({ jsonErrors: json })
  try {
    await program.parseAsync(argv)
  } catch (err) {
    process.exitCode = exitCodeFor(err)
    if (json && !(err instanceof CommanderError && COMMANDER_OUTPUT.has(err.code))) {
      process.stderr.write(`${errorJson(err)}\n`)
      return
    }
    // Commander has printed its own message (or the help/version text) already.
    if (err instanceof CommanderError) return
    const verbose = argv.includes('--verbose')
    const message = err instanceof Error ? err.message : String(err)
    const code = err instanceof AlsrecError ? ` [${err.code}]` : ''
    console.error(`alsrec: ${message.split('\n')[0]}${code}`)
    if (verbose && err instanceof Error && err.stack) console.error(err.stack)
  }
}
