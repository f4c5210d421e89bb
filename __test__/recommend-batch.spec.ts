// `alsrec recommend` filters and batch mode (issue 18, item 10), and the recommendMany API.
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

import { AlsrecError, loadMovieLensSync, loadModelSync, trainSync } from '../dist/index.js'
import { root, sampleDir } from './helpers.js'

const dir = mkdtempSync(path.join(tmpdir(), 'alsrec-batch-'))
const modelFile = path.join(dir, 'm.alsrec')
const data = loadMovieLensSync(sampleDir)
trainSync(data, { factors: 8, epochs: 3 }).saveSync(modelFile)
const model = loadModelSync(modelFile)
const users = Array.from(model.userIds())

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [path.join(root, 'bin', 'alsrec.js'), ...args], { encoding: 'utf8', timeout: 120_000 })
}

interface Rec {
  movieId: number
  year: number | null
  genres: string[]
}

function recs(...args: string[]): Rec[] {
  const r = cli('recommend', '--model', modelFile, '--json', ...args)
  if (r.status !== 0) throw new Error(r.stderr)
  return (JSON.parse(r.stdout) as { recommendations: Rec[] }).recommendations
}

test('recommendMany gives the rows of recommendAll for the users asked, in their order', async (t) => {
  const all = await model.recommendAll({ n: 5 })
  const ask = [users[3] ?? 0, users[0] ?? 0]
  const some = await model.recommendMany(ask, { n: 5 })
  t.deepEqual(Array.from(some.userIds), ask)
  for (const [row, id] of ask.entries()) {
    const r = users.indexOf(id)
    t.deepEqual(Array.from(some.movieIds.subarray(row * 5, row * 5 + 5)), Array.from(all.movieIds.subarray(r * 5, r * 5 + 5)))
  }
  t.deepEqual(model.recommendManySync(ask, { n: 5 }).movieIds, some.movieIds)
  const e = await t.throwsAsync(model.recommendMany([99999999]), { instanceOf: AlsrecError })
  t.is(e?.code, 'ALSREC_NOT_FOUND')
  t.throws(() => model.recommendManySync([1.5]), { instanceOf: AlsrecError })
})

test('--years, --min-ratings and --candidates filter the list', (t) => {
  const user = String(users[0])
  const nineties = recs('--user', user, '--years', '1990-1999', '--n', '8')
  t.is(nineties.length, 8)
  t.true(nineties.every((r) => r.year !== null && r.year >= 1990 && r.year <= 1999), JSON.stringify(nineties.map((r) => r.year)))
  t.true(recs('--user', user, '--years', '1995', '--n', '3', '--min-ratings', '0').every((r) => r.year === 1995))
  t.true(recs('--user', user, '--years', '2005-', '--n', '3').every((r) => (r.year ?? 0) >= 2005))
  // --min-ratings: every listed movie has at least that many training ratings.
  const counts = new Map<number, number>()
  for (const id of data.ratingTriplets().movieIds) counts.set(id, (counts.get(id) ?? 0) + 1)
  const popular = recs('--user', user, '--min-ratings', '120', '--n', '5')
  t.true(popular.length > 0 && popular.every((r) => (counts.get(r.movieId) ?? 0) >= 120))
  // --candidates: a comma list, or a file (one id per line, or a CSV with a movieId column).
  const pool = [...counts.keys()].slice(0, 12)
  const fromList = recs('--user', user, '--candidates', pool.join(','), '--n', '20', '--min-ratings', '0', '--include-seen')
  t.deepEqual(fromList.map((r) => r.movieId).sort((a, b) => a - b), [...pool].sort((a, b) => a - b))
  const file = path.join(dir, 'candidates.csv')
  writeFileSync(file, `movieId,title\n${pool.slice(0, 4).map((id) => `${id},"x, y"`).join('\n')}\n`)
  const fromFile = recs('--user', user, '--candidates', file, '--n', '20', '--min-ratings', '0', '--include-seen')
  t.deepEqual(fromFile.map((r) => r.movieId).sort((a, b) => a - b), pool.slice(0, 4).sort((a, b) => a - b))
  for (const [flag, value, message] of [
    ['--years', 'nineties', /--years takes a year range/],
    ['--years', '1999-1990', /empty/],
    ['--candidates', 'no-such-file', /--candidates takes a file of ids or comma-separated ids/],
    ['--diversity', '2', /--diversity must be a number from 0 to 1/],
  ] as const) {
    const r = cli('recommend', '--model', modelFile, '--user', user, flag, value)
    t.is(r.status, 2, `${flag} ${value}: ${r.stderr}`)
    t.regex(r.stderr, message)
  }
})

test('batch mode writes every user to CSV, atomically, and never replaces a file without --force', (t) => {
  const out = path.join(dir, 'recs.csv')
  const r = cli('recommend', '--model', modelFile, '--users', 'all', '--n', '4', '--years', '1980-2010', '--out', out, '--json')
  t.is(r.status, 0, r.stderr)
  const summary = JSON.parse(r.stdout) as { users: number; rows: number; format: string; shortLists: number }
  t.deepEqual([summary.users, summary.format], [users.length, 'csv'])
  const lines = readFileSync(out, 'utf8').trimEnd().split('\n')
  t.is(lines[0], 'userId,rank,movieId,title,year,genres,score,rating')
  t.is(lines.length - 1, summary.rows)
  const lengths = users.map((u) => model.recommend(u, { n: 4, years: [1980, 2010] }).length)
  t.is(summary.rows, lengths.reduce((a, b) => a + b, 0))
  t.is(summary.shortLists, lengths.filter((n) => n < 4).length)
  // The rows are the API's lists.
  const first = users[0] ?? 0
  const api = model.recommend(first, { n: 4, years: [1980, 2010] }).map((x) => x.movieId)
  const rows = lines.slice(1).filter((l) => l.startsWith(`${first},`))
  t.deepEqual(
    rows.map((l) => Number(l.split(',')[2])),
    api,
  )
  t.deepEqual(
    rows.map((l) => Number(l.split(',')[1])),
    [1, 2, 3, 4],
  )
  t.false(readdirSync(dir).some((f) => f.endsWith('.tmp')), 'no temp file is left')
  // An existing file stays as it is without --force.
  const before = readFileSync(out, 'utf8')
  const again = cli('recommend', '--model', modelFile, '--users', 'all', '--n', '2', '--out', out)
  t.is(again.status, 2)
  t.regex(again.stderr, /exists; add --force/)
  t.is(readFileSync(out, 'utf8'), before)
  const forced = cli('recommend', '--model', modelFile, '--users', 'all', '--n', '2', '--out', out, '--force')
  t.is(forced.status, 0, forced.stderr)
  t.regex(forced.stdout, new RegExp(`Wrote ${(users.length * 2).toLocaleString('en-US')} recommendations for ${users.length} users`))
})

test('batch mode reads users from a file and writes JSON Lines by extension or --format', (t) => {
  const list = path.join(dir, 'users.txt')
  const picked = [users[5] ?? 0, users[1] ?? 0, users[5] ?? 0]
  writeFileSync(list, `# users to refresh\n${picked.join('\n')}\n\n`)
  const out = path.join(dir, 'recs.jsonl')
  const r = cli('recommend', '--model', modelFile, '--users', list, '--n', '3', '--out', out, '--json')
  t.is(r.status, 0, r.stderr)
  const rows = readFileSync(out, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { userId: number; recommendations: Array<{ rank: number; movieId: number; title: string }> })
  t.deepEqual(
    rows.map((x) => x.userId),
    [picked[0], picked[1]],
    'in file order, a repeated user once',
  )
  t.deepEqual(
    rows[0]?.recommendations.map((x) => x.movieId),
    model.recommend(picked[0] ?? 0, { n: 3 }).map((x) => x.movieId),
  )
  t.is(typeof rows[0]?.recommendations[0]?.title, 'string')
  const forced = path.join(dir, 'recs.txt')
  const f = cli('recommend', '--model', modelFile, '--users', String(picked[1]), '--n', '2', '--out', forced, '--format', 'jsonl')
  t.is(f.status, 0, f.stderr)
  t.is(readFileSync(forced, 'utf8').trimEnd().split('\n').length, 1)
  // Unknown users, a missing --out, an unknown extension: errors, and nothing is written.
  const unknown = path.join(dir, 'unknown.csv')
  const bad = cli('recommend', '--model', modelFile, '--users', `${picked[0]},99999999`, '--out', unknown, '--json')
  t.is(bad.status, 1)
  t.regex(bad.stderr, /unknown user id 99999999/)
  t.false(existsSync(unknown))
  t.is(cli('recommend', '--model', modelFile, '--users', 'all').status, 2)
  t.regex(cli('recommend', '--model', modelFile, '--users', 'all', '--out', path.join(dir, 'x.parquet')).stderr, /give a \.csv or \.jsonl name/)
  t.regex(cli('recommend', '--model', modelFile, '--user', String(picked[0]), '--out', unknown).stderr, /go with --users/)
})

test('batch mode shows progress on a terminal only', (t) => {
  const quiet = cli('recommend', '--model', modelFile, '--users', 'all', '--n', '2', '--out', path.join(dir, 'quiet.csv'))
  t.is(quiet.status, 0, quiet.stderr)
  t.is(quiet.stderr, '', 'no bar when stderr is not a terminal')
  // script(1) runs the command on a pseudo-terminal.
  const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0
  if (!hasScript) return t.pass('skipped: script(1) is not installed, so no terminal to test on')
  const out = path.join(dir, 'tty.csv')
  const command = [process.execPath, path.join(root, 'bin', 'alsrec.js'), 'recommend', '--model', modelFile, '--users', 'all', '--n', '2', '--out', out].map((a) => `'${a}'`).join(' ')
  const r = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 120_000 })
  t.is(r.status, 0, r.stdout)
  t.regex(r.stdout, new RegExp(`recommend \\[#+\\] 100% ${users.length}/${users.length} users`))
  t.true(existsSync(out))
})
