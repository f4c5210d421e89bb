import test from 'ava'
import { mkdtempSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { writePlot } from '../dist/index.js'
import { linearFit, scalePlotSpec, type ScalePoint } from '../dist/plots/scale.js'

test('linearFit recovers a line, its R² and the worst relative residual', (t) => {
  const x = [10e6, 25e6, 50e6, 100e6]
  const exact = linearFit(x, x.map((r) => 0.2 + 48e-9 * r))
  t.true(Math.abs(exact.a - 0.2) < 1e-9)
  t.true(Math.abs(exact.b - 48e-9) < 1e-18)
  t.true(Math.abs(exact.r2 - 1) < 1e-12)
  t.true(exact.maxRelativeResidual < 1e-9)

  // By hand: x̄ = ȳ = 2.5, Sxx = 5, Sxy = 4, Syy = 5 → b = 0.8, a = 0.5; fitted 1.3, 2.1, 2.9,
  // 3.7; residuals ∓0.3, ±0.9 → SSE = 1.8, R² = 1 − 1.8/5 = 0.64.
  const noisy = linearFit([1, 2, 3, 4], [1, 3, 2, 4])
  t.true(Math.abs(noisy.b - 0.8) < 1e-12)
  t.true(Math.abs(noisy.a - 0.5) < 1e-12)
  t.true(Math.abs(noisy.r2 - 0.64) < 1e-12)
  // The worst point is x = 2: fitted 2.1, measured 3.
  t.true(Math.abs(noisy.maxRelativeResidual - 0.9 / 2.1) < 1e-12)

  t.throws(() => linearFit([1], [1]), { instanceOf: RangeError })
  t.throws(() => linearFit([3, 3], [1, 2]), { instanceOf: RangeError })
})

test('the scale plot draws both panels, the fits, the target and a label per set', async (t) => {
  const family = [10e6, 25e6, 50e6, 100e6].map((ratings, i) => ({
    name: `${ratings / 1e6}M`,
    family: true,
    ratings,
    users: Math.round(ratings / 208),
    movies: 17770,
    updateSeconds: 0.1 + 50e-9 * ratings,
    wallSeconds: 0.15 + 60e-9 * ratings,
    peakRssMb: 200 + 80e-6 * ratings + i,
  }))
  const points: ScalePoint[] = [...family, { name: '100M-1Mu', family: false, ratings: 100e6, users: 1e6, movies: 17770, updateSeconds: 6.1, wallSeconds: 7, peakRssMb: 8400 }]
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alsrec-plot-scale-'))
  const out = await writePlot(scalePlotSpec(points, { factors: 32, rssTargetMb: 6e9 / 2 ** 20, context: 'test data' }), path.join(dir, 'scale'))
  const svg = readFileSync(out.svg, 'utf8')
  for (const text of ['seconds per epoch', 'peak RSS (GB = 10⁹ bytes)', 'ratings (millions)', 'target 6 GB', 'test data', // The 1M-user set (1 s above the line) is not fitted: the slope is the family's alone.
    'update 50.0 ns/rating (R² 1.000)', 'wall 60.0 ns/rating', '10M: 0.60 s', '100M: 5.10 s', '100M, 1M users: 6.10 s', '100M, 1M users: 8.8 GB', 'not fitted'])
    t.true(svg.includes(text), text)
  t.deepEqual(readFileSync(out.png).subarray(0, 4), Buffer.from([0x89, 0x50, 0x4e, 0x47]))
})
