// Every option of the API's split (`dataset.split`) and loaders (`loadMovieLens`, `loadRatings`)
// is reachable from the experiment config and from `alsrec train` (issue 18, item 8). The API's
// keys are read from the generated index.d.ts, so an option added to the binding fails here
// until the config schema and the CLI take it too.
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { Command } from 'commander'
import { mkdtempSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { registerEvaluate } from '../dist/cli/commands/evaluate.js'
import { registerTrain } from '../dist/cli/commands/train.js'
import { LOAD_FLAGS, SPLIT_FLAGS } from '../dist/cli/shared/data-flags.js'
import { resolveConfig } from '../dist/experiment/config.js'
import { loadMovieLens } from '../dist/index.js'
import { root, sampleDir } from './helpers.js'

const bin = path.join(root, 'bin', 'alsrec.js')

/** The field names of an interface in index.d.ts. */
function apiKeys(name: string): string[] {
  const dts = readFileSync(path.join(root, 'index.d.ts'), 'utf8')
  const body = new RegExp(`export interface ${name} \\{\\n([\\s\\S]*?)\\n\\}`).exec(dts)?.[1] ?? ''
  return [...body.replace(/\/\*\*[\s\S]*?\*\//g, '').matchAll(/^\s*(\w+)\??:/gm)].map((m) => m[1] ?? '')
}

/** The keys the experiment schema allows in a section, read from its unknown-key message. */
function configKeys(section: 'split' | 'data'): string[] {
  const probe = 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'
  const input = { data: { movielens: 'x', ...(section === 'data' ? { [probe]: 1 } : {}) }, ...(section === 'split' ? { split: { [probe]: 1 } } : {}), output: { dir: 'x' } }
  try {
    resolveConfig(input)
  } catch (err) {
    const listed = new RegExp(`${section}\\.${probe}: unknown key \\(allowed: ([^)]*)\\)`).exec((err as Error).message)?.[1]
    if (listed) return listed.split(', ')
    throw err
  }
  throw new Error(`the experiment schema took an unknown key in ${section}`)
}

function flags(register: (program: Command) => void, name: string): string[] {
  const program = new Command()
  register(program)
  return program.commands.find((c) => c.name() === name)?.options.map((o) => o.attributeName()) ?? []
}

/** Config keys that are not API split/load options, and why. */
const CONFIG_ONLY = { split: { folds: 'k-fold cross-validation of a grid (dataset.folds)' }, data: { movielens: 'a source', generate: 'a source', ratings: 'a source' } }

const sorted = (xs: Iterable<string>): string[] => [...xs].sort()

test('the API option lists are what the generated types say', (t) => {
  t.deepEqual(apiKeys('SplitOptions'), ['kind', 'testFraction', 'seed', 'minRatings', 'cutoff', 'coldStart'])
  t.true(apiKeys('LoadOptions').includes('catalogOnly'))
})

test('the experiment config takes every split and loader option of the API, by the same names', (t) => {
  t.deepEqual(sorted(configKeys('split').filter((k) => !(k in CONFIG_ONLY.split))), sorted(apiKeys('SplitOptions')))
  t.deepEqual(sorted(configKeys('data').filter((k) => !(k in CONFIG_ONLY.data))), sorted(apiKeys('LoadOptions')))
})

test('alsrec train and alsrec evaluate have a flag for every split and loader option of the API', (t) => {
  t.deepEqual(sorted(Object.keys(SPLIT_FLAGS)), sorted(apiKeys('SplitOptions')), 'SPLIT_FLAGS')
  t.deepEqual(sorted(Object.keys(LOAD_FLAGS)), sorted(apiKeys('LoadOptions')), 'LOAD_FLAGS')
  const train = flags(registerTrain, 'train')
  for (const flag of [...Object.values(SPLIT_FLAGS), ...Object.values(LOAD_FLAGS)]) t.true(train.includes(flag), `alsrec train --${flag}`)
  const evaluate = flags(registerEvaluate, 'evaluate')
  // evaluate's split seed is --seed (it trains no model, so no model seed to confuse it with).
  for (const flag of [...Object.values(SPLIT_FLAGS).map((f) => (f === 'splitSeed' ? 'seed' : f)), ...Object.values(LOAD_FLAGS)]) t.true(evaluate.includes(flag), `alsrec evaluate --${flag}`)
})

test('config and flags reach the split: a temporal cutoff with cold-start rows dropped, as the API splits it', async (t) => {
  const cutoff = '2014-01-01'
  const cutoffSeconds = Date.parse(`${cutoff}T00:00:00Z`) / 1000
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'alsrec-split-')), 'run')
  const r = spawnSync(process.execPath, [bin, 'train', '--data', sampleDir, '--model', 'bias', '--epochs', '2', '--cutoff', cutoff, '--cold-start', 'drop', '--split-min-ratings', '3', '--catalog-only', '--rating-scale', '0.5,5', '--no-plots', '--out', out, '--json'], { encoding: 'utf8' })
  t.is(r.status, 0, r.stderr)
  const config = JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8')) as { split: Record<string, unknown>; data: Record<string, unknown> }
  t.like(config.split, { kind: 'temporal', cutoff: cutoffSeconds, coldStart: 'drop', minRatings: 3 })
  t.like(config.data, { catalogOnly: true, ratingScale: [0.5, 5] })
  const data = await loadMovieLens(sampleDir, { catalogOnly: true, ratingScale: [0.5, 5] })
  const api = data.split({ kind: 'temporal', cutoff: cutoffSeconds, coldStart: 'drop', minRatings: 3 })
  const log = readFileSync(path.join(out, 'log.txt'), 'utf8')
  t.true(log.includes(`split: temporal split at 2014-01-01T00:00:00Z (ratings from then on are test ratings; users with fewer than 3 ratings stay in train; cold-start test ratings dropped); ${api.train.numRatings} train, ${api.test.numRatings} test ratings`), log)
  t.true(api.test.numRatings > 0 && api.report.dropped > 0, 'the sample has cold-start rows to drop')
  // A cutoff on a random split is a mistake, named by its key.
  const bad = spawnSync(process.execPath, [bin, 'train', '--data', sampleDir, '--split', 'random', '--cutoff', cutoff, '--out', out], { encoding: 'utf8' })
  t.is(bad.status, 2)
  t.regex(bad.stderr, /split\.cutoff: applies to kind 'temporal' only/)
  t.is(spawnSync(process.execPath, [bin, 'train', '--data', sampleDir, '--cutoff', 'soon', '--out', out], { encoding: 'utf8' }).status, 2)
})
