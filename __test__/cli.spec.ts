import test from 'ava'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'

import { sampleDir } from './helpers.js'

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/alsrec.js', ...args], { encoding: 'utf8', timeout: 120_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

test('demo trains on the sample, shows falling test RMSE and five users with titles', (t) => {
  const r = run('demo', '--epochs', '8')
  t.is(r.code, 0, r.stderr)
  const rmse = [...r.stdout.matchAll(/^\s+(\d+)\s+([\d.]+)\s+([\d.]+)/gm)].map((m) => Number(m[3]))
  t.is(rmse.length, 8)
  t.true((rmse.at(-1) ?? 1) < (rmse[0] ?? 0) - 0.05, `test RMSE should fall: ${rmse.join(' ')}`)
  t.is(r.stdout.match(/^User \d+/gm)?.length, 5)
  t.regex(r.stdout, /\(\d{4}\)/, 'recommendations carry titles with years')
})

test('demo --json prints one parsable object', (t) => {
  const r = run('demo', '--json', '--epochs', '3', '--users', '2')
  t.is(r.code, 0, r.stderr)
  const out = JSON.parse(r.stdout) as { ratings: number; history: Array<{ testRmse: number }>; recommendations: Array<{ recommendations: Array<{ title: string }> }> }
  t.is(out.ratings, 80_000)
  t.is(out.history.length, 3)
  t.is(out.recommendations.length, 2)
  t.is(out.recommendations[0]?.recommendations.length, 5)
  t.is(typeof out.recommendations[0]?.recommendations[0]?.title, 'string')
})

test('a missing --data folder is a one-line runtime error naming the path (exit 1)', (t) => {
  const missing = path.join(sampleDir, 'no-such-folder')
  const r = run('demo', '--data', missing)
  t.is(r.code, 1)
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr)
  t.true(r.stderr.includes(missing))
  t.notRegex(r.stderr, /\n\s+at /, 'no stack trace without --verbose')
  const verbose = run('demo', '--data', missing, '--verbose')
  t.is(verbose.code, 1)
  t.regex(verbose.stderr, /\n\s+at /, '--verbose adds the stack')
})

test('usage errors exit with 2: unknown option, bad number, unknown command', (t) => {
  for (const args of [['demo', '--no-such-option'], ['demo', '--factors', 'many'], ['frobnicate']]) {
    const r = run(...args)
    t.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr)
    t.is(r.stdout, '')
  }
})

test('--version prints the package version', (t) => {
  const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }
  const r = run('--version')
  t.is(r.code, 0)
  t.is(r.stdout.trim(), version)
})

test('every command has --help with an example', (t) => {
  const top = run('--help')
  t.is(top.code, 0)
  const commands = [...top.stdout.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1] ?? '').filter((c) => c !== 'help')
  t.true(commands.includes('demo') && commands.includes('download') && commands.includes('info'), commands.join(' '))
  for (const command of commands) {
    const r = run(command, '--help')
    t.is(r.code, 0, command)
    t.regex(r.stdout, new RegExp(`\\$ alsrec ${command}\\b`), `${command} --help shows an example`)
    t.regex(r.stdout, /--json/, `${command} has --json`)
  }
})

test('info summarizes the bundled sample as text', (t) => {
  const r = run('info', 'data/sample')
  t.is(r.code, 0, r.stderr)
  t.regex(r.stdout, /ratings\s+80,000/)
  t.regex(r.stdout, /users\s+600/)
  t.regex(r.stdout, /movies in catalog\s+2,000/)
  t.regex(r.stdout, /rating scale\s+0\.5 – 5/)
  t.regex(r.stdout, /Top \d+ genres by ratings/)
})

test('info --json gives the load report and top genres', (t) => {
  const r = run('info', 'data/sample', '--json', '--genres', '3')
  t.is(r.code, 0, r.stderr)
  const s = JSON.parse(r.stdout) as {
    kind: string
    ratings: number
    users: number
    catalogMovies: number
    density: number
    rowsSkipped: number
    duplicates: number
    topGenres: Array<{ genre: string; ratings: number; movies: number }>
  }
  t.is(s.kind, 'dataset')
  t.is(s.ratings, 80_000)
  t.is(s.users, 600)
  t.is(s.catalogMovies, 2_000)
  t.true(Math.abs(s.density - 80_000 / (600 * s.catalogMovies)) < 0.01)
  t.is(s.rowsSkipped, 0)
  t.is(s.topGenres.length, 3)
  const counts = s.topGenres.map((g) => g.ratings)
  t.deepEqual(counts, [...counts].sort((a, b) => b - a))
  // A movie may have several genres, so the top genre alone covers at most all ratings.
  t.true((counts[0] ?? 0) > 0 && (counts[0] ?? 0) <= s.ratings)
})

test('info on a missing path is a one-line error (exit 1)', (t) => {
  const r = run('info', 'no/such/place')
  t.is(r.code, 1)
  t.regex(r.stderr, /^alsrec: no\/such\/place: no such file or folder/)
})

test('info on a file reads it as a model; a CSV is refused as no model file', (t) => {
  const r = run('info', 'data/sample/ratings.csv')
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr)
  // A runtime error from the model reader, not a crash.
  t.is(r.code, 1, r.stderr)
  t.regex(r.stderr, /ALSREC_BAD_MODEL_FILE/)
})
