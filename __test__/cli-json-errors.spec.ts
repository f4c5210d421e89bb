// Errors under --json (issue 18, item 13): one JSON line on stderr, the exit codes unchanged.
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

import { loadMovieLensSync, trainSync } from '../dist/index.js'
import { root, sampleDir } from './helpers.js'

const dir = mkdtempSync(path.join(tmpdir(), 'alsrec-json-errors-'))
const modelFile = path.join(dir, 'm.alsrec')
const data = loadMovieLensSync(sampleDir)
trainSync(data, { factors: 4, epochs: 2 }).saveSync(modelFile)
const user = String(data.userIds()[0] ?? 1)

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [path.join(root, 'bin', 'alsrec.js'), ...args], { encoding: 'utf8', timeout: 120_000 })
}

function jsonError(stderr: string): { code: string; message: string } {
  const lines = stderr.trim().split('\n')
  if (lines.length !== 1) throw new Error(`expected one line on stderr, got: ${stderr}`)
  const parsed = JSON.parse(lines[0] ?? '') as { error: { code: string; message: string } }
  return parsed.error
}

const cases: Array<{ name: string; args: string[]; status: number; code: string; message: RegExp }> = [
  { name: 'an unknown option', args: ['demo', '--no-such-option', '--json'], status: 2, code: 'ALSREC_INVALID_ARGUMENT', message: /unknown option '--no-such-option'/ },
  { name: 'a bad number', args: ['demo', '--epochs', 'many', '--json'], status: 2, code: 'ALSREC_INVALID_ARGUMENT', message: /--epochs/ },
  { name: 'a missing required option', args: ['similar', '--model', modelFile, '--json'], status: 2, code: 'ALSREC_INVALID_ARGUMENT', message: /--movie/ },
  { name: 'an unknown user', args: ['recommend', '--model', modelFile, '--user', '99999999', '--json'], status: 1, code: 'ALSREC_NOT_FOUND', message: /unknown user id 99999999/ },
  { name: 'an unknown genre (usage)', args: ['recommend', '--model', modelFile, '--user', user, '--genres', 'Polka', '--json'], status: 2, code: 'ALSREC_INVALID_ARGUMENT', message: /unknown genre 'Polka'; the genres are .*Comedy/ },
  { name: 'an unknown liked genre (usage)', args: ['recommend', '--model', modelFile, '--like', 'Polka', '--json'], status: 2, code: 'ALSREC_INVALID_ARGUMENT', message: /unknown genre 'Polka'/ },
  { name: 'a missing model file', args: ['explain', '--model', path.join(dir, 'absent.alsrec'), '--user', user, '--movie', '1', '--json'], status: 1, code: 'ALSREC_NOT_FOUND', message: /absent\.alsrec/ },
  { name: 'a missing folder', args: ['info', 'no/such/place', '--json'], status: 1, code: 'ALSREC_NOT_FOUND', message: /no such file or folder/ },
  { name: 'a CSV read as a model', args: ['info', path.join(sampleDir, 'ratings.csv'), '--json'], status: 1, code: 'ALSREC_BAD_MODEL_FILE', message: /./ },
  { name: 'a bad --years', args: ['recommend', '--model', modelFile, '--user', user, '--years', '1999-1990', '--json'], status: 2, code: 'ALSREC_INVALID_ARGUMENT', message: /--years/ },
  { name: 'update onto an existing file', args: ['update', '--model', modelFile, '--ratings', path.join(sampleDir, 'ratings.csv'), '--out', modelFile, '--json'], status: 2, code: 'ALSREC_INVALID_ARGUMENT', message: /exists; add --force/ },
  { name: 'a missing data folder', args: ['demo', '--data', path.join(dir, 'nope'), '--json'], status: 1, code: 'ALSREC_NOT_FOUND', message: /nope/ },
]

for (const c of cases) {
  test(`--json: ${c.name} is one JSON line on stderr, exit ${c.status}`, (t) => {
    const r = cli(...c.args)
    t.is(r.status, c.status, r.stderr)
    t.is(r.stdout, '')
    const e = jsonError(r.stderr)
    t.is(e.code, c.code)
    t.regex(e.message, c.message)
  })
}

test('without --json errors stay one line of text; an unknown genre exits 2', (t) => {
  const r = cli('recommend', '--model', modelFile, '--user', user, '--genres', 'Polka')
  t.is(r.status, 2)
  t.regex(r.stderr.trim(), /^alsrec: unknown genre 'Polka'.* \[ALSREC_INVALID_ARGUMENT\]$/)
  t.throws(() => JSON.parse(r.stderr) as unknown)
  // --help and --version under --json print their text and exit 0.
  const help = cli('recommend', '--help', '--json')
  t.is(help.status, 0)
  t.regex(help.stdout, /Examples:/)
})
