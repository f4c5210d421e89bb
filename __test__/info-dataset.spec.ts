// `alsrec info` on a dataset (issue 18, item 12): every count of the load report, and a warning
// for ratings of movies the catalog does not list.
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

import { hasMlSmall, MISSING_ML_SMALL, mlSmallDir, root, sampleDir } from './helpers.js'

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [path.join(root, 'bin', 'alsrec.js'), ...args], { encoding: 'utf8', timeout: 120_000 })
}

interface Info {
  ratingsNotInCatalog: number
  moviesNotInCatalog: Array<{ movieId: number; ratings: number; users: number[] }>
  report: Record<string, unknown>
  warnings: string[]
}

const REPORT_KEYS = ['rowsRead', 'rowsKept', 'rowsSkipped', 'blankLines', 'duplicates', 'filteredRatings', 'filteredUsers', 'filteredMovies', 'ratingsNotInCatalog', 'users', 'movies', 'catalogMovies']
const LABELS = ['rows read', 'rows kept', 'rows skipped', 'blank lines', 'duplicates', 'filtered out', 'not in catalog', 'ratings', 'users', 'movies rated', 'movies in catalog', 'rating scale', 'density', 'timestamps']

test('info shows every count of the load report; a clean set has no warning', (t) => {
  const r = cli('info', sampleDir, '--json')
  t.is(r.status, 0, r.stderr)
  const s = JSON.parse(r.stdout) as Info
  for (const key of REPORT_KEYS) t.is(typeof s.report[key], 'number', key)
  t.is(s.ratingsNotInCatalog, 0)
  t.deepEqual(s.warnings, [])
  const text = cli('info', sampleDir)
  t.is(text.status, 0)
  t.is(text.stderr, '')
  for (const label of LABELS) t.regex(text.stdout, new RegExp(`^  ${label}\\s{2,}\\S`, 'm'), label)
})

test('a rating of a movie the catalog lacks is counted and warned about', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'alsrec-info-'))
  copyFileSync(path.join(sampleDir, 'movies.csv'), path.join(dir, 'movies.csv'))
  writeFileSync(path.join(dir, 'ratings.csv'), `${readFileSync(path.join(sampleDir, 'ratings.csv'), 'utf8').trimEnd()}\n999,999999,5.0,1493846415\n`)
  const r = cli('info', dir, '--json')
  t.is(r.status, 0, r.stderr)
  const s = JSON.parse(r.stdout) as Info
  t.is(s.ratingsNotInCatalog, 1)
  t.deepEqual(s.moviesNotInCatalog, [{ movieId: 999999, ratings: 1, users: [999] }])
  t.is(s.warnings.length, 1)
  t.regex(s.warnings[0] ?? '', /^1 rating\(s\) of 1 movie\(s\) the catalog does not list \(movie 999999: 1 rating\(s\), by user 999\)/)
  const text = cli('info', dir)
  t.regex(text.stdout, /not in catalog\s+1 ratings of 1 movies/)
  t.regex(text.stderr, /^alsrec: warning: 1 rating\(s\) of 1 movie\(s\) the catalog does not list/)
})

test('ml-latest-small: the bogus last line (999,999999) is seen and warned about', (t) => {
  if (!hasMlSmall) return t.pass(MISSING_ML_SMALL)
  const r = cli('info', mlSmallDir, '--json', '--genres', '0')
  t.is(r.status, 0, r.stderr)
  const s = JSON.parse(r.stdout) as Info
  t.is(s.ratingsNotInCatalog, 1)
  t.deepEqual(s.moviesNotInCatalog, [{ movieId: 999999, ratings: 1, users: [999] }])
  t.regex(s.warnings.join('\n'), /movie 999999: 1 rating\(s\), by user 999/)
  const text = cli('info', mlSmallDir, '--genres', '0')
  t.regex(text.stderr, /warning: 1 rating\(s\) of 1 movie\(s\) the catalog does not list/)
})
