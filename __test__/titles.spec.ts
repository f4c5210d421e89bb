// Title resolution (issue 18, item 3): a bare title is an exact match or an error listing the
// candidates, in the API and the CLI alike; --pick-first takes the first and says so.
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

import { AlsrecError, loadMovieLensSync, titleKey, trainSync } from '../dist/index.js'
import { hasMlSmall, MISSING_ML_SMALL, mlSmallDir, root } from './helpers.js'

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [path.join(root, 'bin', 'alsrec.js'), ...args], { encoding: 'utf8', timeout: 120_000 })
}

const real = hasMlSmall ? loadMovieLensSync(mlSmallDir) : undefined

test('an exact title wins; a bare "Lord of the Rings" is ambiguous like "Star Wars"', (t) => {
  if (!real) return t.pass(MISSING_ML_SMALL)
  const catalog = real.catalog
  t.is(titleKey('Lord of the Rings, The (1978)'), titleKey('The Lord of the Rings'))
  t.not(titleKey('Lord of the Rings, The (1978)'), titleKey('Lord of the Rings'))
  const exact = catalog.resolve('The Lord of the Rings')
  t.deepEqual([exact.movie.movieId, exact.match], [2116, 'exact'])
  t.is(catalog.resolve('Lord of the Rings, The (1978)').match, 'exact')
  t.is(catalog.resolve('Lord of the Rings (1978)').movie.movieId, 2116, 'a year pins a title that differs by its article')
  t.is(catalog.resolve('Star Wars: Episode IV - A New Hope (1977)').movie.movieId, 260)
  // The only title containing the query is not ambiguous.
  const only = catalog.resolve('lord of the rings the two towers')
  t.deepEqual([only.movie.movieId, only.match], [5952, 'only-match'])
  for (const [query, ids] of [
    ['Lord of the Rings', [2116, 4993, 5952, 7153]],
    ['Star Wars', [260, 1196]],
  ] as const) {
    const err = t.throws(() => catalog.findOne(query), { instanceOf: AlsrecError })
    t.is(err?.code, 'ALSREC_NOT_FOUND')
    t.regex(err?.message ?? '', /matches several movies/)
    for (const id of ids) t.regex(err?.message ?? '', new RegExp(`\\(\\d{4}\\)" \\(id ${id}\\)`), `${query} lists ${id} with its year`)
  }
  // The API takes titles through the same rule.
  const model = trainSync(real, { factors: 4, epochs: 1, ranker: null })
  t.throws(() => model.recommendForNewUser({ ratings: [{ movie: 'Lord of the Rings', rating: 5 }] }), { message: /matches several movies/ })
  const picked = catalog.resolve('Lord of the Rings', { pickFirst: true })
  t.deepEqual([picked.movie.movieId, picked.match], [2116, 'picked-first'])
  t.true(picked.matches >= 4)
  // The first is the first candidate the error lists: a same title first, then the shortest.
  const star = catalog.resolve('Star Wars', { pickFirst: true })
  t.is(star.movie.movieId, star.candidates[0]?.movieId ?? -1)
  t.regex(star.movie.title, /^Star Wars/)
  t.throws(() => catalog.resolve('Zzyzx Qwerty', { pickFirst: true }), { message: /no movie matches/ })
})

test('the CLI rejects an ambiguous --rate title with its candidates, and --pick-first says what it took', (t) => {
  if (!real) return t.pass(MISSING_ML_SMALL)
  const dir = mkdtempSync(path.join(tmpdir(), 'alsrec-titles-'))
  const file = path.join(dir, 'm.alsrec')
  trainSync(real, { factors: 4, epochs: 2 }).saveSync(file)
  const bad = cli('recommend', '--model', file, '--rate', 'Lord of the Rings=5', '--json')
  t.is(bad.status, 1, bad.stderr)
  const err = JSON.parse(bad.stderr) as { error: { code: string; message: string } }
  t.is(err.error.code, 'ALSREC_NOT_FOUND')
  t.regex(err.error.message, /"Lord of the Rings, The \(1978\)" \(id 2116\)/)
  t.regex(err.error.message, /id 4993/)
  const star = cli('recommend', '--model', file, '--rate', 'Star Wars=5')
  t.is(star.status, 1)
  t.regex(star.stderr, /matches several movies/)

  const ok = cli('recommend', '--model', file, '--rate', 'Lord of the Rings=5', '--rate', 'The Lord of the Rings: The Two Towers=4', '--pick-first', '--n', '3', '--json')
  t.is(ok.status, 0, ok.stderr)
  const out = JSON.parse(ok.stdout) as { resolved: Array<{ query: string; movieId: number; match: string; matches: number }>; recommendations: unknown[] }
  t.deepEqual(
    out.resolved.map((r) => [r.query, r.movieId, r.match]),
    [
      ['Lord of the Rings', 2116, 'picked-first'],
      ['The Lord of the Rings: The Two Towers', 5952, 'exact'],
    ],
  )
  t.is(out.recommendations.length, 3)
  const text = cli('similar', '--model', file, '--movie', 'Star Wars', '--pick-first', '--n', '2')
  t.is(text.status, 0, text.stderr)
  // Of the equally good matches (titles starting with "Star Wars") the most rated is taken.
  t.regex(text.stdout, /^Note: "Star Wars" matches \d+ movies; --pick-first took "Star Wars: Episode IV - A New Hope \(1977\)" \(id 260\)\./m)
  const explained = cli('explain', '--model', file, '--user', '1', '--movie', 'The Lord of the Rings', '--json')
  t.is(explained.status, 0, explained.stderr)
  t.is((JSON.parse(explained.stdout) as { movie: { movieId: number } }).movie.movieId, 2116)
})
