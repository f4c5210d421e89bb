// `serve --workers N` / serveCluster (serial: the last test counts this process's workers): N processes answer on one port, a worker that dies is
// replaced, a broken model file fails the start with its own error and leaves no process
// behind, and the CLI validates the flag.
import test from 'ava'
import { spawn, spawnSync } from 'node:child_process'
import cluster from 'node:cluster'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

import { loadMovieLensSync, serveCluster, trainSync } from '../dist/index.js'
import { sampleDir } from './helpers.js'

const dir = mkdtempSync(path.join(tmpdir(), 'alsrec-serve-cluster-'))
const modelFile = path.join(dir, 'sample.alsrec')
const data = loadMovieLensSync(sampleDir)
const model = trainSync(data, { factors: 8, epochs: 4, seed: 5 })
model.saveSync(modelFile)
const user = Array.from(data.userIds())[0] ?? 1

test.after.always(() => rmSync(dir, { recursive: true, force: true }))

async function json(url: string): Promise<{ status: number; body: unknown }> {
  const r = await fetch(url)
  return { status: r.status, body: await r.json() }
}

test.serial('serveCluster: two workers on one port answer as one server and a killed worker is replaced', async (t) => {
  const group = await serveCluster({ model: modelFile, workers: 2, port: 0, logLevel: 'silent' })
  t.teardown(() => group.close())
  t.regex(group.url, /^http:\/\/127\.0\.0\.1:\d+\/$/)
  t.deepEqual(group.model, { kind: model.kind, k: 8, users: model.numUsers, movies: model.numMovies })
  t.is(group.pids().length, 2)
  t.not(group.pids()[0], group.pids()[1])
  const expected = model.recommend(user, { n: 5 }).map((r) => r.movieId)
  // New connections are dealt to the workers in turn: both answer, with the same list.
  const answers = await Promise.all(Array.from({ length: 8 }, () => json(`${group.url}api/users/${user}/recommendations?n=5`)))
  for (const a of answers) {
    t.is(a.status, 200)
    t.deepEqual((a.body as { recommendations: Array<{ movieId: number }> }).recommendations.map((r) => r.movieId), expected)
  }
  const victim = group.pids()[0] as number
  const replaced = group.replaced()
  process.kill(victim, 'SIGKILL')
  await replaced
  t.is(group.pids().length, 2)
  t.false(group.pids().includes(victim))
  for (let i = 0; i < 4; i++) t.is((await json(`${group.url}health`)).status, 200)
  const pids = group.pids()
  await group.close()
  for (const pid of pids) t.throws(() => process.kill(pid, 0), undefined, `worker ${pid} has exited`)
})

test.serial('serveCluster refuses bad options and a damaged model file, leaving no worker behind', async (t) => {
  await t.throwsAsync(serveCluster({ model: modelFile, workers: 1 }), { code: 'ALSREC_INVALID_ARGUMENT', message: /workers/ })
  await t.throwsAsync(serveCluster({ model: modelFile, workers: 2.5 }), { code: 'ALSREC_INVALID_ARGUMENT' })
  await t.throwsAsync(serveCluster({ model: modelFile, workers: 2, port: 70000 }), { code: 'ALSREC_INVALID_ARGUMENT', message: /port/ })
  const bad = path.join(dir, 'bad.alsrec')
  writeFileSync(bad, 'not a model file at all')
  await t.throwsAsync(serveCluster({ model: bad, workers: 2, port: 0, logLevel: 'silent' }), { code: 'ALSREC_BAD_MODEL_FILE' })
  await t.throwsAsync(serveCluster({ model: path.join(dir, 'absent.alsrec'), workers: 2, port: 0, logLevel: 'silent' }), { code: 'ALSREC_NOT_FOUND' })
  t.deepEqual(Object.values(cluster.workers ?? {}).filter((w) => w !== undefined && !w.isDead()), [], 'no worker is left running')
})

test('alsrec serve --workers 2 announces the workers and stops them on Ctrl-C; a bad --workers is a usage error', async (t) => {
  for (const bad of ['0', 'two', '65', '1.5']) {
    const r = spawnSync(process.execPath, ['bin/alsrec.js', 'serve', '--model', modelFile, '--workers', bad], { encoding: 'utf8', timeout: 60_000 })
    t.is(r.status, 2, `--workers ${bad}: ${r.stderr}`)
    t.regex(r.stderr, /--workers/)
  }
  const child = spawn(process.execPath, ['bin/alsrec.js', 'serve', '--model', modelFile, '--port', '0', '--workers', '2', '--json', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => child.kill('SIGKILL'))
  const announced = await new Promise<{ url: string; workers: number }>((resolve, reject) => {
    let text = ''
    child.stdout.on('data', (b: Buffer) => {
      text += b.toString()
      const line = text.split('\n').find((l) => l.startsWith('{'))
      if (line !== undefined) resolve(JSON.parse(line) as { url: string; workers: number })
    })
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${text}`)))
    setTimeout(() => reject(new Error(`no URL printed: ${text}`)), 60_000)
  })
  t.is(announced.workers, 2)
  t.is((await json(`${announced.url}health`)).status, 200)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  child.kill('SIGINT')
  t.is(await exited, 0)
})
