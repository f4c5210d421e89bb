// `npm run bench quality`: top-N quality of every model at its defaults, of the baselines, and of
// the reference implicit-ALS library (`implicit`, when its venv can be made; skipped with a
// message otherwise), all on one seeded split in one run, so the ratios are fair.
//
// Protocol (docs/ranking.md): seeded random 80/20 split of the ratings (and, on
// ml-latest-small, a per-user holdout of 20 % of each user's ratings); a test user counts when
// at least one test rating is ≥ 4 (relevant); candidates are every movie the user did not rate
// in training; binary relevance, k = 10. Lists are each model's defaults, floor included — what
// a user sees. The metrics of alsrec's own models are computed here from their lists and
// checked against `model.rankingMetrics`, so peers and alsrec are scored by the same code.
//
//   node scripts/bench/quality.mjs out.json      (ml-latest-small from ../shared, random and
//                                                  per-user splits, and the sample)
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

import { alsrec, machine, root } from './_common.mjs'

const out = process.argv[2] ?? path.join(root, 'bench-results', 'quality.json')
const K = 10
const THRESHOLD = 4
const mlSmall = path.resolve(root, '..', 'shared', 'data', 'ml-latest-small')
// The random split of all ratings, and the per-user holdout (20 % of each user's ratings).
const datasets = [
  { name: 'ml-latest-small', dir: mlSmall, split: 'random' },
  { name: 'ml-latest-small', dir: mlSmall, split: 'user' },
  { name: 'sample (generated)', dir: path.join(root, 'data', 'sample'), split: 'random' },
]

const MODELS = [
  ['default (genre + ranker)', {}],
  ['genre, ranker: null', { ranker: null }],
  ['biased (+ ranker)', { model: 'biased' }],
  ['biased, ranker: null', { model: 'biased', ranker: null }],
  ['bayesian (+ ranker)', { model: 'bayesian' }],
  ['bayesian, ranker: null', { model: 'bayesian', ranker: null }],
  ['bias', { model: 'bias' }],
  ['implicit', { model: 'implicit' }],
  ['most rated (popular)', { model: 'popular' }],
  ['most rated lately (popular, half-life 365 d)', { model: 'popular', recencyHalfLife: 365 }],
  ['damped mean rating (toprated, γ/λ = 10)', { model: 'toprated' }],
]

/** Relevant test movies (dense indices) per evaluated user index. */
function relevantOf(test) {
  const relevant = new Map()
  for (const u of test.userIds()) {
    const r = test.userRatings(u)
    const rel = new Set()
    r.movieIds.forEach((m, i) => {
      if (r.ratings[i] >= THRESHOLD) rel.add(test.movieIndex(m))
    })
    if (rel.size > 0) relevant.set(test.userIndex(u), rel)
  }
  return relevant
}

/** The metrics of `rankingMetrics`, plus novelty: the mean popularity rank of listed movies. */
function score(lists, relevant, numMovies, popularityRank) {
  const discount = Array.from({ length: K }, (_, r) => 1 / Math.log2(r + 2))
  let p = 0, rec = 0, ndcg = 0, map = 0, hits = 0, rankSum = 0, listed = 0
  const distinct = new Set()
  for (const [u, rel] of relevant) {
    const top = lists.get(u) ?? []
    let h = 0, dcg = 0, ap = 0
    top.slice(0, K).forEach((i, r) => {
      distinct.add(i)
      rankSum += popularityRank[i]
      listed++
      if (rel.has(i)) {
        h++
        dcg += discount[r]
        ap += h / (r + 1)
      }
    })
    const ideal = discount.slice(0, Math.min(K, rel.size)).reduce((a, b) => a + b, 0)
    p += h / K
    rec += h / rel.size
    ndcg += dcg / ideal
    map += ap / Math.min(K, rel.size)
    hits += h > 0 ? 1 : 0
  }
  const n = relevant.size
  return { users: n, precision: p / n, recall: rec / n, ndcg: ndcg / n, map: map / n, hitRate: hits / n, coverage: distinct.size / numMovies, novelty: rankSum / Math.max(1, listed) }
}

/** Series: films whose titles share a name before a sequel number, a colon or a subtitle. */
function seriesOf(catalog, index, counts, floor) {
  const groups = new Map()
  for (const m of catalog.movies) {
    const i = index(m.movieId)
    if (i === undefined || (counts[i] ?? 0) < floor) continue
    let t = m.title.replace(/\s*\(\d{4}\)\s*$/, '').replace(/, (The|A|An)$/, '')
    t = t.replace(/^(The|A|An) /, '')
    const key = t.split(/:| - |\s+(?:\d+|II|III|IV|V|VI|Part\b)/)[0].trim().toLowerCase()
    if (key.length < 3) continue
    if (!groups.has(key)) groups.set(key, [])
    groups.get(key).push(i)
  }
  return [...groups.entries()].filter(([, members]) => members.length >= 2 && members.length <= 12)
}

/** The share of each series member's fellow members found in its top 10 similar, averaged. */
function seriesRecall(series, similarOf) {
  let sum = 0, n = 0
  for (const [, members] of series) {
    for (const i of members) {
      const near = new Set(similarOf(i) ?? [])
      const others = members.filter((j) => j !== i)
      sum += others.filter((j) => near.has(j)).length / others.length
      n++
    }
  }
  return { series: series.length, members: n, recall: sum / Math.max(1, n) }
}

function runPeer(trainSet, numItems, relevant, similarQueries, tmp) {
  const venv = spawnSync('bash', [path.join(root, 'scripts', 'bench', 'peer-venv.sh')], { encoding: 'utf8' })
  if (venv.status !== 0) return { skipped: (venv.stderr || 'peer venv unavailable').trim() }
  const python = venv.stdout.trim().split('\n').at(-1)
  const lines = ['user,item,rating']
  for (const u of trainSet.userIds()) {
    const r = trainSet.userRatings(u)
    const ui = trainSet.userIndex(u)
    r.movieIds.forEach((m, i) => lines.push(`${ui},${trainSet.movieIndex(m)},${r.ratings[i]}`))
  }
  writeFileSync(path.join(tmp, 'train.csv'), lines.join('\n') + '\n')
  writeFileSync(path.join(tmp, 'users.txt'), [...relevant.keys()].join('\n') + '\n')
  writeFileSync(path.join(tmp, 'items.txt'), similarQueries.join('\n') + '\n')
  const args = [path.join(root, 'scripts', 'bench', 'implicit_quality.py'), '--train', path.join(tmp, 'train.csv'), '--test-users', path.join(tmp, 'users.txt'),
    '--n', String(K), '--out', path.join(tmp, 'peer.json'), '--num-users', String(trainSet.numUsers), '--num-items', String(numItems),
    '--similar', path.join(tmp, 'items.txt'), '--factors', '64', '--threads', '2']
  const r = spawnSync(python, args, { encoding: 'utf8' })
  if (r.status !== 0) return { skipped: `the implicit library failed: ${(r.stderr || '').trim().split('\n').at(-1)}` }
  return JSON.parse(spawnSync('cat', [path.join(tmp, 'peer.json')], { encoding: 'utf8' }).stdout)
}

const results = []
for (const ds of datasets) {
  if (!existsSync(path.join(ds.dir, 'ratings.csv'))) {
    console.log(`quality: skipped ${ds.name}: ${ds.dir} is absent`)
    results.push({ data: ds.name, skipped: `${ds.dir} is absent` })
    continue
  }
  const data = await alsrec.loadMovieLens(ds.dir)
  const { train: trainSet, test } = data.split({ kind: ds.split, testFraction: 0.2, seed: 42 })
  const relevant = relevantOf(test)
  // Coverage counts over the model's movies: every movie of the dataset (as rankingMetrics).
  const n = trainSet.movieIds().length
  const counts = new Array(n).fill(0)
  for (const u of trainSet.userIds()) {
    const r = trainSet.userRatings(u)
    r.movieIds.forEach((m) => {
      const j = trainSet.movieIndex(m)
      counts[j]++
    })
  }
  const byPopularity = [...counts.keys()].sort((a, b) => counts[b] - counts[a] || a - b)
  const popularityRank = new Array(n)
  byPopularity.forEach((i, r) => (popularityRank[i] = r + 1))
  const rows = []
  const listsOf = (model) => {
    const lists = new Map()
    for (const u of relevant.keys()) {
      const userId = trainSet.userIds()[u]
      lists.set(u, model.recommend(userId, { n: K }).map((r) => trainSet.movieIndex(r.movieId)))
    }
    return lists
  }
  let floor = 0
  let defaultModel
  for (const [label, config] of MODELS) {
    const t0 = performance.now()
    const model = await alsrec.train(trainSet, config, { testSet: test })
    const seconds = (performance.now() - t0) / 1000
    if (!defaultModel) {
      defaultModel = model
      floor = model.popularityFloor
    }
    const m = score(listsOf(model), relevant, n, popularityRank)
    const native = await model.rankingMetrics(test, { k: K, threshold: THRESHOLD })
    for (const key of ['precision', 'recall', 'ndcg', 'map', 'hitRate', 'coverage', 'novelty'])
      if (Math.abs(native[key] - m[key]) > 1e-9) throw new Error(`${label}: ${key} ${m[key]} here, ${native[key]} from rankingMetrics`)
    const rmse = model.kind === 'implicit' || model.kind === 'popular' ? null : (model.history.at(-1)?.testRmse ?? null)
    rows.push({ model: label, config: model.config, testRmse: rmse, trainSeconds: seconds, ...m })
  }
  // Similar movies: series members in each other's top 10.
  const series = seriesOf(trainSet.catalog, (id) => trainSet.movieIndex(id), counts, floor)
  const queries = [...new Set(series.flatMap(([, members]) => members))]
  const oursSimilar = new Map(queries.map((i) => [i, defaultModel.similarMovies(trainSet.movieIds()[i], { n: K }).map((r) => trainSet.movieIndex(r.movieId))]))
  const similar = { alsrec: seriesRecall(series, (i) => oursSimilar.get(i)) }

  const tmp = mkdtempSync(path.join(tmpdir(), 'alsrec-quality-'))
  let peer
  try {
    peer = runPeer(trainSet, n, relevant, queries, tmp)
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
  if (peer.skipped) {
    console.log(`quality: reference library skipped on ${ds.name}: ${peer.skipped}`)
    rows.push({ model: 'implicit library (k = 64, its defaults, binary)', skipped: peer.skipped })
  } else {
    const lists = new Map(peer.users.map((u, r) => [u, peer.items[r]]))
    rows.push({ model: 'implicit library (k = 64, its defaults, binary)', version: peer.version, params: peer.params, trainSeconds: peer.fitSeconds, ...score(lists, relevant, n, popularityRank) })
    const peerSimilar = new Map(peer.similarQueries.map((q, r) => [q, peer.similar[r]]))
    similar.implicitLibrary = seriesRecall(series, (i) => peerSimilar.get(i))
  }
  const reference = rows.find((r) => r.model.startsWith('implicit library') && r.ndcg !== undefined)
  for (const r of rows) if (reference && r.ndcg !== undefined) r.ndcgVsReference = r.ndcg / reference.ndcg
  console.log(`\n${ds.name}, ${ds.split} 80/20 split: ${relevant.size} test users, popularity floor ${floor}`)
  console.log('model'.padEnd(48) + 'RMSE    P@10   R@10   NDCG@10  MAP    cover  novelty')
  for (const r of rows) {
    if (r.skipped) { console.log(`${r.model.padEnd(48)}skipped`); continue }
    const f = (x, d = 4) => (x === undefined || x === null ? '-'.padEnd(d + 2) : x.toFixed(d))
    console.log(`${r.model.padEnd(48)}${f(r.testRmse)}  ${f(r.precision, 3)}  ${f(r.recall, 3)}  ${f(r.ndcg, 3)}    ${f(r.map, 3)}  ${f(r.coverage, 3)}  ${r.novelty.toFixed(0)}`)
  }
  console.log(`similar movies, series members in each other's top 10: alsrec ${similar.alsrec.recall.toFixed(3)}${similar.implicitLibrary ? `, implicit library ${similar.implicitLibrary.recall.toFixed(3)}` : ''} (${similar.alsrec.series} series, ${similar.alsrec.members} films)`)
  results.push({ data: ds.name, split: { kind: ds.split, testFraction: 0.2, seed: 42 }, k: K, threshold: THRESHOLD, popularityFloor: floor, rows, similar })
}
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine: machine(), results }, null, 2))
console.log(`\nwrote ${out}`)
