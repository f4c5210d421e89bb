// Regenerates the bundled sample in data/sample/ with our seeded generator. The sample is the
// only data set committed to the repository; running this again gives the same bytes.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const { generateSync } = createRequire(import.meta.url)(path.join(root, 'dist', 'index.js'))

const report = generateSync(path.join(root, 'data', 'sample'), {
  users: 600,
  movies: 2000,
  ratings: 80000,
  seed: 20261123,
  factors: 8,
  noise: 0.6,
})
console.log(JSON.stringify(report, null, 2))
