import { Command, CommanderError } from 'commander'
import { readFileSync } from 'node:fs'
import path from 'node:path'

import { AlsrecError } from '../errors.js'
import { packageRoot } from '../paths.js'
import { registerDemo } from './demo.js'
import { registerExplain } from './explain.js'
import { registerGenerate } from './generate.js'
import { registerRecommend } from './recommend.js'
import { registerSimilar } from './similar.js'

/** Exit codes: 0 success, 1 runtime error, 2 usage error. */
const EXIT_RUNTIME = 1
const EXIT_USAGE = 2

function version(): string {
  const pkg = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }
  return pkg.version
}

export function buildProgram(): Command {
  const program = new Command('alsrec')
    .description('Fast ALS matrix-factorization recommender: MovieLens in seconds')
    .version(version(), '-V, --version')
    .option('--verbose', 'print stack traces with errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
  registerDemo(program)
  registerGenerate(program)
  registerRecommend(program)
  registerSimilar(program)
  registerExplain(program)
  for (const cmd of program.commands) cmd.exitOverride()
  return program
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram()
  try {
    await program.parseAsync(argv)
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version arrive here too, with exit code 0.
      process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE
      return
    }
    const verbose = program.opts<{ verbose?: boolean }>().verbose === true || argv.includes('--verbose')
    const message = err instanceof Error ? err.message : String(err)
    const code = err instanceof AlsrecError ? ` [${err.code}]` : ''
    console.error(`alsrec: ${message.split('\n')[0]}${code}`)
    if (verbose && err instanceof Error && err.stack) console.error(err.stack)
    process.exitCode = err instanceof AlsrecError && err.code === 'ALSREC_INVALID_ARGUMENT' ? EXIT_USAGE : EXIT_RUNTIME
  }
}
