// Output folders of train and grid: which folders alsrec writes into, what --force replaces,
// that failed runs leave nothing behind, and that atomic writes never tear or leave temp files.
import test from 'ava'
import { spawn, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { AlsrecError, runExperiment, runGrid } from '../dist/index.js'
import { writeAtomicAsync, writeFileAtomic, writeFileAtomicAsync } from '../dist/experiment/atomic.js'
import { root, sampleDir } from './helpers.js'

const bin = path.join(root, 'bin', 'alsrec.js')
const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'alsrec-folder-'))
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' })
/** A quick experiment: few factors and epochs, no ranker, no plots. */
const quick = (dir: string, output: Record<string, unknown> = {}) => ({ data: { movielens: sampleDir }, model: { factors: 4, epochs: 2, ranker: null }, output: { dir, plots: false, ...output } })
const quickGrid = (dir: string, factors: number[], output: Record<string, unknown> = {}) => ({ data: { movielens: sampleDir }, model: { factors, epochs: 2, ranker: null }, output: { dir, plots: false, ...output } })
const TRAIN = ['--data', sampleDir, '--factors', '4', '--epochs', '2', '--no-plots']

/** Every file under `dir` with its content, for "nothing changed" checks. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue
    const full = path.join(e.parentPath, e.name)
    out[path.relative(dir, full)] = readFileSync(full, 'utf8')
  }
  return out
}

function userFolder(): string {
  const dir = tmp()
  writeFileSync(path.join(dir, 'summary.md'), 'my own summary\n')
  writeFileSync(path.join(dir, 'metrics.csv'), 'my,own\n1,2\n')
  writeFileSync(path.join(dir, 'log.txt'), 'my own log\n')
  writeFileSync(path.join(dir, 'notes.txt'), 'keep me\n')
  return dir
}

/** A pid that no process has: a child that has exited. */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid ?? 999_999_999

test('a non-empty folder that is not an alsrec run is refused and left untouched (API and CLI, train and grid)', async (t) => {
  const dir = userFolder()
  const before = snapshot(dir)
  const e = await t.throwsAsync(runExperiment(quick(dir)), { instanceOf: AlsrecError })
  t.is(e?.code, 'ALSREC_INVALID_ARGUMENT')
  t.regex(e?.message ?? '', /is not empty and is not an alsrec run folder \(no alsrec-run\.json\).*--force/)
  const g = await t.throwsAsync(runGrid(quickGrid(dir, [2, 4])), { instanceOf: AlsrecError })
  t.regex(g?.message ?? '', /not an alsrec run folder/)
  t.deepEqual(snapshot(dir), before)

  const cli = run('train', ...TRAIN, '--out', dir)
  t.not(cli.status, 0)
  t.regex(cli.stderr, /not an alsrec run folder.*\[ALSREC_INVALID_ARGUMENT\]/)
  const cfg = path.join(tmp(), 'grid.json')
  writeFileSync(cfg, JSON.stringify(quickGrid(dir, [2, 4])))
  const cliGrid = run('grid', cfg)
  t.not(cliGrid.status, 0)
  t.regex(cliGrid.stderr, /not an alsrec run folder/)
  t.deepEqual(snapshot(dir), before, 'no file added, changed or removed')

  // An empty folder is fine, and a second run into it is an alsrec run that needs --force.
  const empty = tmp()
  await runExperiment(quick(empty))
  t.true(existsSync(path.join(empty, 'alsrec-run.json')))
  t.regex((await t.throwsAsync(runExperiment(quick(empty))))?.message ?? '', /already holds an experiment: an alsrec experiment/)
})

test('--force into a foreign folder keeps the user files and replaces only files of alsrec names', async (t) => {
  const dir = userFolder()
  writeFileSync(path.join(dir, 'ratings-backup.csv'), 'u,m,r\n')
  const r = run('train', ...TRAIN, '--out', dir, '--force', '--json')
  t.is(r.status, 0, r.stderr)
  t.is(readFileSync(path.join(dir, 'notes.txt'), 'utf8'), 'keep me\n')
  t.is(readFileSync(path.join(dir, 'ratings-backup.csv'), 'utf8'), 'u,m,r\n')
  t.regex(readFileSync(path.join(dir, 'summary.md'), 'utf8'), /^# Experiment/)
  t.regex(readFileSync(path.join(dir, 'metrics.csv'), 'utf8'), /^epoch,train_rmse/)
  const marker = JSON.parse(readFileSync(path.join(dir, 'alsrec-run.json'), 'utf8'))
  t.is(marker.status, 'done')
  t.false(marker.files.includes('notes.txt'))
  t.deepEqual(JSON.parse(r.stdout).files.filter((f: string) => !existsSync(path.join(dir, f))), [])

  // The config file the run reads is never overwritten by the run's config.json.
  const own = userFolder()
  writeFileSync(path.join(own, 'config.json'), JSON.stringify(quick('.')))
  const before = readFileSync(path.join(own, 'config.json'), 'utf8')
  const self = run('train', path.join(own, 'config.json'), '--force')
  t.not(self.status, 0)
  t.regex(self.stderr, /is the config\.json the run would write/)
  t.is(readFileSync(path.join(own, 'config.json'), 'utf8'), before)
})

test('a forced re-run into an alsrec run removes the previous run\'s files it does not write, and keeps user files', async (t) => {
  const dir = path.join(tmp(), 'run')
  await runExperiment({ ...quick(dir, { plots: true }), model: { factors: 4, epochs: 2, ranker: null } })
  t.true(existsSync(path.join(dir, 'learning-curve.png')))
  t.true(existsSync(path.join(dir, 'model.alsrec')))
  writeFileSync(path.join(dir, 'notes.txt'), 'keep me\n')
  const r = await runExperiment(quick(dir, { saveModel: false }), { force: true })
  t.false(existsSync(path.join(dir, 'learning-curve.png')), 'no plot of the previous run')
  t.false(existsSync(path.join(dir, 'learning-curve.svg')))
  t.false(existsSync(path.join(dir, 'movie-map.png')))
  t.false(existsSync(path.join(dir, 'model.alsrec')), 'no model of the previous run')
  t.is(readFileSync(path.join(dir, 'notes.txt'), 'utf8'), 'keep me\n')
  t.deepEqual(readdirSync(dir).sort(), [...r.files, 'notes.txt'].sort())

  // Grids: run folders of the previous grid go, user files in them stay.
  const grid = path.join(tmp(), 'grid')
  await runGrid(quickGrid(grid, [2, 3]))
  t.true(existsSync(path.join(grid, 'runs', '02-genre-k3', 'metrics.json')))
  writeFileSync(path.join(grid, 'runs', '01-genre-k2', 'mine.txt'), 'mine\n')
  writeFileSync(path.join(grid, 'mine.txt'), 'mine\n')
  t.regex((await t.throwsAsync(runGrid(quickGrid(grid, [4]))))?.message ?? '', /already holds an experiment: an alsrec grid/)
  const g = await runGrid(quickGrid(grid, [4]), { force: true })
  t.is(g.rows.length, 1)
  t.deepEqual(readdirSync(path.join(grid, 'runs')).sort(), ['01-genre', '01-genre-k2'])
  t.deepEqual(readdirSync(path.join(grid, 'runs', '01-genre-k2')), ['mine.txt'])
  t.is(readFileSync(path.join(grid, 'mine.txt'), 'utf8'), 'mine\n')
  const results = JSON.parse(readFileSync(path.join(grid, 'results.json'), 'utf8'))
  t.deepEqual(results.rows.map((row: { run: string }) => row.run), ['01-genre'])
})

test('--force --no-save leaves no stale model, and evaluate does not report an old one', (t) => {
  const dir = path.join(tmp(), 'run')
  t.is(run('train', ...TRAIN, '--out', dir).status, 0)
  t.true(existsSync(path.join(dir, 'model.alsrec')))
  const old = path.join(tmp(), 'old.alsrec')
  copyFileSync(path.join(dir, 'model.alsrec'), old)
  const r = run('train', ...TRAIN, '--factors', '2', '--out', dir, '--force', '--no-save')
  t.is(r.status, 0, r.stderr)
  t.false(existsSync(path.join(dir, 'model.alsrec')))
  const e = run('evaluate', dir, '--json')
  t.is(e.status, 0, e.stderr)
  const ev = JSON.parse(e.stdout)
  t.is(ev.source, 'retrained from config.json')
  t.is(ev.factors, 2, 'the model of this run, not of the previous one')

  // A model file the run did not write is not reported as the run's.
  copyFileSync(old, path.join(dir, 'model.alsrec'))
  const planted = run('evaluate', dir)
  t.not(planted.status, 0)
  t.regex(planted.stderr, /was not written by the run/)

  // A foreign folder's model.alsrec is neither deleted nor left to pass for a --no-save run's.
  const foreign = userFolder()
  copyFileSync(old, path.join(foreign, 'model.alsrec'))
  const before = snapshot(foreign)
  const refused = run('train', ...TRAIN, '--out', foreign, '--force', '--no-save')
  t.not(refused.status, 0)
  t.regex(refused.stderr, /model\.alsrec is not from an alsrec run/)
  t.deepEqual(snapshot(foreign), before)
})

test('a failed train or grid leaves no folder, and never removes a folder it did not create', async (t) => {
  const base = tmp()
  const out = path.join(base, 'a', 'b', 'run')
  const bad = { ...quick(out), data: { movielens: path.join(base, 'no-such-data') } }
  await t.throwsAsync(runExperiment(bad))
  await t.throwsAsync(runGrid({ ...bad, model: { factors: [2, 4], epochs: 2, ranker: null } }))
  await t.throwsAsync(runExperiment(quick(out), { signal: AbortSignal.abort() }))
  t.false(existsSync(path.join(base, 'a')))
  const cli = run('train', '--data', path.join(base, 'no-such-data'), '--out', out)
  t.is(cli.status, 1)
  t.is(run('train', ...TRAIN, '--factors', '0', '--out', out).status, 2)
  t.false(existsSync(path.join(base, 'a')), 'CLI: no folder either')
  t.deepEqual(readdirSync(base), [])

  // A folder the user made stays, empty; an earlier run stays whole.
  const empty = path.join(base, 'empty')
  mkdirSync(empty)
  await t.throwsAsync(runExperiment({ ...bad, output: { dir: empty } }))
  t.deepEqual(readdirSync(empty), [])
  const done = path.join(base, 'done')
  await runExperiment(quick(done))
  const before = snapshot(done)
  await t.throwsAsync(runExperiment({ ...bad, output: { dir: done } }, { force: true }))
  t.deepEqual(snapshot(done), before)
})

test('temp files of killed writes (.*.tmp) are removed by the next write; live writers\' temps stay', async (t) => {
  const dir = tmp()
  const file = path.join(dir, 'summary.md')
  const dead = deadPid()
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'])
  t.teardown(() => sleeper.kill())
  const stale = [`.summary.md.${dead}.0-0123456789abcdef.tmp`, `.summary.md.${dead}.k3j2.tmp`, `.summary.md.tmp-${dead}`, `.summary.md.${dead}-3.tmp`, `.summary.md.${process.pid}.0-feedfeedfeedfeed.tmp`]
  const kept = [`.summary.md.${sleeper.pid}.0-0123456789abcdef.tmp`, `.other.md.${dead}.0-0123456789abcdef.tmp`, '.notes.tmp', 'summary.md.bak', `.summary.md.${process.pid}-7.tmp`]
  for (const f of [...stale, ...kept]) writeFileSync(path.join(dir, f), 'partial')
  writeFileAtomic(file, 'whole\n')
  t.is(readFileSync(file, 'utf8'), 'whole\n')
  t.deepEqual(readdirSync(dir).sort(), [...kept, 'summary.md'].sort())
  await writeFileAtomicAsync(path.join(dir, 'other.md'), 'x')
  t.false(existsSync(path.join(dir, kept[1] ?? '')), 'the leftover of other.md goes with its next write')

  // In a run folder: the next (forced) run clears what a killed run's writes left.
  const runDir = path.join(tmp(), 'run')
  await runExperiment(quick(runDir))
  const leftovers = [`.metrics.csv.${dead}.0-0123456789abcdef.tmp`, `.model.alsrec.${dead}-0.tmp`, `.model.alsrec.tmp-${dead}`, `.alsrec-run.json.${dead}.0-0123456789abcdef.tmp`]
  for (const f of leftovers) writeFileSync(path.join(runDir, f), 'partial')
  writeFileSync(path.join(runDir, '.mine.tmp'), 'mine')
  await runExperiment(quick(runDir), { force: true })
  const tmps = readdirSync(runDir).filter((f) => f.endsWith('.tmp') || f.includes('.tmp-'))
  t.deepEqual(tmps, ['.mine.tmp'])
})

test('concurrent atomic writes of one path always leave one whole content', async (t) => {
  const dir = tmp()
  const file = path.join(dir, 'metrics.json')
  const contents = Array.from({ length: 40 }, (_, i) => `${String(i).padStart(2, '0')}:`.repeat(64 * 1024))
  for (let round = 0; round < 3; round++) {
    await Promise.all(contents.map((c, i) => (i % 4 === 0 ? Promise.resolve().then(() => writeFileAtomic(file, c)) : writeFileAtomicAsync(file, c))))
    const final = readFileSync(file, 'utf8')
    t.true(contents.includes(final), `round ${round}: the file is one of the written contents, whole`)
    t.deepEqual(readdirSync(dir), ['metrics.json'], 'no temp file left')
  }

  // Several processes writing the same path: every read sees one whole content.
  const atomic = path.join(root, 'dist', 'experiment', 'atomic.js')
  const writer = `const { writeFileAtomic } = require(${JSON.stringify(atomic)}); for (let i = 0; i < 30; i++) writeFileAtomic(${JSON.stringify(file)}, (process.argv[1] + ':').repeat(20000))`
  const children = ['a', 'b', 'c'].map((id) => spawn(process.execPath, ['-e', writer, id]))
  const exited = Promise.all(children.map((c) => new Promise((resolve) => c.on('exit', resolve))))
  let running = true
  void exited.then(() => (running = false))
  while (running) {
    const s = readFileSync(file, 'utf8')
    t.true(/^(?:(?:a:){20000}|(?:b:){20000}|(?:c:){20000}|(?:\d\d:){65536})$/.test(s), 'a whole content')
    await new Promise((r) => setTimeout(r, 1))
  }
  t.deepEqual(await exited, [0, 0, 0])
  t.deepEqual(readdirSync(dir), ['metrics.json'])
})

test('a streamed atomic write lands whole, and one whose producer fails leaves the old file and no temp', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alsrec-stream-'))
  const file = path.join(dir, 'recs.csv')
  const pieces = Array.from({ length: 200 }, (_, i) => `${i},${'x'.repeat(1000)}\n`)
  await writeAtomicAsync(file, async (write) => {
    for (const p of pieces) await write(p)
  })
  t.is(readFileSync(file, 'utf8'), pieces.join(''))
  const failed = await t.throwsAsync(
    writeAtomicAsync(file, async (write) => {
      await write('partial\n')
      throw new Error('cancelled midway')
    }),
  )
  t.is(failed?.message, 'cancelled midway')
  t.is(readFileSync(file, 'utf8'), pieces.join(''), 'the old content stays')
  t.deepEqual(readdirSync(dir), ['recs.csv'], 'no temp file is left')
})
