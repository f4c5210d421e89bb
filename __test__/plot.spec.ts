import test from 'ava'
import { mkdtempSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { learningCurvesSpec, loadMovieLensSync, movieMapSpec, rmseVsKSpec, writePlot } from '../dist/index.js'
import { sampleDir } from './helpers.js'

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47])

test('learning curves and RMSE-vs-k render to SVG and PNG with titles, axis labels and legends', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alsrec-plot-'))
  const history = [1, 2, 3].map((epoch) => ({ epoch, trainRmse: 1 / epoch, testRmse: 1.1 / epoch }))
  const lc = await writePlot(learningCurvesSpec([{ label: 'biased, k = 8', history }], 'test data'), path.join(dir, 'lc'))
  const svg = readFileSync(lc.svg, 'utf8')
  for (const text of ['Learning curves', 'epoch', 'RMSE', 'biased, k = 8', 'test data', 'training ratings']) t.true(svg.includes(text), text)
  t.deepEqual(readFileSync(lc.png).subarray(0, 4), PNG_MAGIC)

  const points = [
    { model: 'biased', factors: 2, testRmse: 0.8 },
    { model: 'biased', factors: 8, testRmse: 0.75 },
    { model: 'biased', factors: 8, testRmse: 0.7 },
    { model: 'bias', factors: null, testRmse: 0.9 },
  ]
  const rk = await writePlot(rmseVsKSpec(points, 'test data'), path.join(dir, 'rk'))
  const svg2 = readFileSync(rk.svg, 'utf8')
  for (const text of ['Test RMSE versus number of latent factors k', 'k, number of latent factors', 'bias only: 0.900', '0.700']) t.true(svg2.includes(text), text)
  // Only the best run at k = 8 is drawn.
  t.false(svg2.includes('0.750'))
})

test('the movie map colours by most distinctive genre and labels the most-rated movies', async (t) => {
  const data = loadMovieLensSync(sampleDir)
  const movies = data.catalog.movies.slice(0, 300)
  const movieIds = movies.map((m) => m.movieId)
  const x = movieIds.map((_, i) => Math.cos(i))
  const y = movieIds.map((_, i) => Math.sin(i * 1.7))
  const popularity = new Map(movieIds.map((id, i) => [id, 1000 - i]))
  const spec = movieMapSpec({ movieIds, x, y }, data.catalog, { popularity, labels: 5 })
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alsrec-plot-'))
  const files = await writePlot(spec, path.join(dir, 'map'))
  const svg = readFileSync(files.svg, 'utf8')
  t.true(svg.includes('Movie map'))
  t.true(svg.includes('most distinctive genre'))
  // The most popular movie is always labelled (escaped as the SVG writes it).
  const first = movies[0]?.title ?? ''
  t.true(svg.includes(first.replace(/&/g, '&amp;').replace(/'/g, '&#39;').slice(0, 20)) || svg.includes(first.slice(0, 10)), first)
  t.deepEqual(readFileSync(files.png).subarray(0, 4), PNG_MAGIC)
})
