// `node scripts/model-checksums.mjs [packageRoot]`: trains one model of every kind and option that
// changes the update (bias-only, biased, genre, implicit; plain and weighted regularization; the
// learned ranker) on generated data and, where present, ml-latest-small, and prints a SHA-256 of
// each model's exported factors and biases. A refactor that must not change training runs this
// against the old and the new build and diffs the output.
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pathToFileURL, fileURLToPath } from 'node:url'

const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'))
const alsrec = await import(pathToFileURL(path.join(root, 'dist', 'index.js')).href)
const work = mkdtempSync(path.join(tmpdir(), 'alsrec-checksums-'))

const sets = []
const generated = path.join(work, 'generated')
await alsrec.generate(generated, { users: 3000, movies: 1500, ratings: 120000, seed: 7 })
sets.push(['generated', await alsrec.loadMovieLens(generated)])
const small = path.resolve(root, '..', 'shared', 'data', 'ml-latest-small')
if (existsSync(small)) sets.push(['ml-latest-small', await alsrec.loadMovieLens(small)])
else console.error(`model-checksums: ${small} absent, generated data only`)

const configs = {
  bias: { model: 'bias' },
  biased: { model: 'biased', ranker: null },
  'biased weighted': { model: 'biased', weightedRegularization: true, ranker: null },
  genre: { model: 'genre', ranker: null },
  'genre weighted': { model: 'genre', weightedRegularization: true, ranker: null },
  'genre + ranker (default)': {},
  implicit: { model: 'implicit' },
  'implicit weighted': { model: 'implicit', weightedRegularization: true },
}
for (const [setName, data] of sets) {
  for (const [name, config] of Object.entries(configs)) {
    const model = await alsrec.train(data, { epochs: 4, seed: 3, tolerance: 0, factors: 16, ...config })
    const dir = path.join(work, `${setName}-${name}`.replace(/[^a-z0-9]+/gi, '-'))
    const files = model.exportFactors(dir, { format: 'npy' }).sort()
    const hash = createHash('sha256')
    for (const f of files) hash.update(readFileSync(path.join(dir, f)))
    // The lists cover what the factor files do not: the ranker's vectors and learned terms.
    // Scores are hashed apart from the order, so a last-bit change in scoring shows as such.
    const lists = await model.recommendAll({ n: 10 })
    const listHash = createHash('sha256').update(new Uint8Array(lists.movieIds.buffer))
    const scoreHash = createHash('sha256').update(new Uint8Array(lists.scores.buffer))
    // Fold-in: a new user from five ratings, and a partial fit of three ratings.
    const movies = Array.from(lists.movieIds.slice(0, 5))
    const newUser = model.recommendForNewUser({ ratings: movies.map((movie, i) => ({ movie, rating: 3 + (i % 3) })) }, { n: 10 })
    const refit = await model.partialFit({ userIds: [lists.userIds[0], lists.userIds[0], lists.userIds[1]], movieIds: [movies[1], movies[2], movies[3]], ratings: [5, 1, 4] })
    const foldHash = createHash('sha256').update(JSON.stringify(newUser)).update(JSON.stringify(refit.recommend(lists.userIds[0], { n: 10 })))
    const short = (h) => h.digest('hex').slice(0, 12)
    console.log(`${setName.padEnd(16)} ${name.padEnd(26)} factors ${short(hash)}  lists ${short(listHash)}  scores ${short(scoreHash)}  fold-in ${short(foldHash)}  rmse ${model.history.at(-1).trainRmse.toFixed(9)}`)
  }
}
rmSync(work, { recursive: true, force: true })
