import test from 'ava'
import { spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

import { loadMovieLensSync, trainSync } from '../dist/index.js'
import { root, sampleDir } from './helpers.js'

const dir = mkdtempSync(path.join(tmpdir(), 'alsrec-query-cli-'))
const modelFile = path.join(dir, 'm.alsrec')
const data = loadMovieLensSync(sampleDir)
trainSync(data, { factors: 8, epochs: 3 }).saveSync(modelFile)
const user = data.userIds()[0] ?? 1
const movie = data.catalog.movies[0]

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [path.join(root, 'bin', 'alsrec.js'), ...args], { encoding: 'utf8' })
}

test('recommend, similar and explain print JSON from a model file', (t) => {
  const r = cli('recommend', '--model', modelFile, '--user', String(user), '--n', '4', '--json')
  t.is(r.status, 0, r.stderr)
  t.is((JSON.parse(r.stdout) as { recommendations: unknown[] }).recommendations.length, 4)
  const s = cli('similar', '--model', modelFile, '--movie', String(movie?.movieId), '--n', '3', '--json')
  t.is(s.status, 0, s.stderr)
  t.is((JSON.parse(s.stdout) as { similar: unknown[] }).similar.length, 3)
  const e = cli('explain', '--model', modelFile, '--user', String(user), '--movie', movie?.title ?? '', '--json')
  t.is(e.status, 0, e.stderr)
  t.is((JSON.parse(e.stdout) as { movie: { movieId: number } }).movie.movieId, movie?.movieId ?? -1)
  const n = cli('recommend', '--model', modelFile, '--rate', `${movie?.title}=5`, '--like', 'Comedy', '--n', '3')
  t.is(n.status, 0, n.stderr)
  t.regex(n.stdout, /predicted/)
})

test('errors are one line with the code; --help has an example', (t) => {
  const r = cli('recommend', '--model', modelFile, '--user', '99999999')
  t.is(r.status, 1)
  t.regex(r.stderr.trim(), /^alsrec: unknown user id 99999999 \[ALSREC_NOT_FOUND\]$/)
  const bad = cli('similar', '--model', path.join(dir, 'absent.alsrec'), '--movie', '1')
  t.regex(bad.stderr, /ALSREC_NOT_FOUND/)
  const usage = cli('recommend', '--model', modelFile)
  t.is(usage.status, 2)
  for (const cmd of ['recommend', 'similar', 'explain']) t.regex(cli(cmd, '--help').stdout, /Examples:\n\s+\$ alsrec/)
})
