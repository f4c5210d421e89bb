// Label placement of the plots, checked on the rendered SVG: every label's box is measured with
// the real font (resvg) and must stay inside the plot, clear of every other label and marker.
import test from 'ava'

import { rmseVsKSpec, type RmseAtK } from '../dist/index.js'
import { toSvg } from '../dist/plots/index.js'
import { distanceToBox, inkBox, intersects, layerItems, overlappingPairs, readSvg, within, type Box } from './svg-layout.js'

const series = (model: string, values: Record<number, number>): RmseAtK[] => Object.entries(values).map(([k, testRmse]) => ({ model, factors: Number(k), testRmse }))

const SCENARIOS: Record<string, RmseAtK[]> = {
  // The ml-latest-small grid of the README (random 80/20 split, seed 42).
  'ml-latest-small grid': [
    ...series('biased', { 8: 0.847, 16: 0.8446, 32: 0.8439, 64: 0.8436 }),
    ...series('genre', { 8: 0.835, 16: 0.8329, 32: 0.8325, 64: 0.8321 }),
    { model: 'bias', factors: null, testRmse: 0.8604 },
  ],
  // Two series 0.012 apart over many k, a small k that stretches the axis (so they sit ~11 px
  // apart, about a label's height) and the bias-only line among them.
  'two close series and a bias-only line': [
    ...series('biased', { 1: 1.102, 2: 0.933, 4: 0.8622, 8: 0.847, 16: 0.8446, 32: 0.8439, 64: 0.8436, 128: 0.8437 }),
    ...series('genre', { 1: 1.09, 2: 0.921, 4: 0.8502, 8: 0.835, 16: 0.8326, 32: 0.8319, 64: 0.8316, 128: 0.8317 }),
    { model: 'bias', factors: null, testRmse: 0.8604 },
  ],
  // Three series within 0.001 and a reference line through them, on an axis stretched by k = 2:
  // labels must stack, and need 4 decimals to differ.
  'three nearly equal series': [
    ...series('biased', { 2: 0.88, 4: 0.845, 8: 0.844, 16: 0.843, 32: 0.8425 }),
    ...series('genre', { 2: 0.882, 4: 0.846, 8: 0.8445, 16: 0.8438, 32: 0.843 }),
    ...series('implicit-like', { 2: 0.881, 4: 0.8455, 8: 0.8442, 16: 0.8434, 32: 0.8428 }),
    { model: 'bias', factors: null, testRmse: 0.8441 },
  ],
  // Only a few runs on a linear k axis.
  'two values of k': [...series('biased', { 10: 0.85, 20: 0.849 }), ...series('genre', { 10: 0.8495, 20: 0.8488 }), { model: 'bias', factors: null, testRmse: 0.8492 }],
}

for (const [name, points] of Object.entries(SCENARIOS)) {
  test(`rmse-vs-k labels do not overlap: ${name}`, async (t) => {
    const layout = readSvg(await toSvg(rmseVsKSpec(points, 'test data')))
    const markers = layerItems(layout, 'rmse_points', 'path')
    const rules = layerItems(layout, 'reference_lines', 'line')
    const labels = layerItems(layout, 'value_labels', 'text').filter((l) => !l.layer.includes('halo'))
    const leaders = layerItems(layout, 'label_leaders', 'line')
    const nFlat = points.filter((p) => p.factors === null).length
    t.is(markers.length, points.length - nFlat)
    t.is(rules.length, nFlat)
    // Every point and every reference line has a label (none hidden) …
    t.is(labels.length, points.length)
    const boxes = labels.map(inkBox)
    // … inside the plot area, clear of each other and of every point marker.
    for (const [i, b] of boxes.entries()) t.true(within(b, layout.plot), `label ${labels[i]?.text} at ${JSON.stringify(b)} leaves the plot ${JSON.stringify(layout.plot)}`)
    t.deepEqual(overlappingPairs(boxes).map(([i, j]) => `${labels[i]?.text} / ${labels[j]?.text}`), [])
    const markerBoxes: Box[] = markers.map((m) => ({ x0: m.x - 3.9, y0: m.y - 3.9, x1: m.x + 3.9, y1: m.y + 3.9 }))
    for (const [i, b] of boxes.entries()) for (const m of markerBoxes) t.false(intersects(b, m), `label ${labels[i]?.text} covers a point`)

    // Each value label sits next to its own point, or a leader line joins them; both carry the
    // exact value as hover text.
    for (const m of markers) {
      t.regex(m.title ?? '', /^[\w-]+, k = \d+: test RMSE \d\.\d{4}$/)
      const i = labels.findIndex((l) => l.title === m.title)
      t.true(i >= 0, `no label for ${m.title}`)
      const box = boxes[i] as Box
      const text = labels[i]?.text ?? ''
      t.is(text, Number(/RMSE (\d\.\d{4})/.exec(m.title ?? '')?.[1]).toFixed(text.split('.')[1]?.length ?? 0))
      const near = distanceToBox(m.x, m.y, box) <= 14
      const joined = leaders.some((l) => Math.hypot(l.x - m.x, l.y - m.y) < 0.5 && distanceToBox(l.x + Number(l.attrs.x2 ?? 0), l.y + Number(l.attrs.y2 ?? 0), box) < 4)
      t.true(near || joined, `label of ${m.title} is ${distanceToBox(m.x, m.y, box).toFixed(1)} px away with no leader line`)
    }
    // Values that differ at the same k never read the same.
    const digits = new Set(labels.map((l) => /\d\.(\d+)$/.exec(l.text)?.[1]?.length))
    t.is(digits.size, 1)
    t.true(digits.has(3) || digits.has(4))
    const valueOf = (title: string | null): number => Number(/RMSE (\d\.\d{4})/.exec(title ?? '')?.[1])
    const kOf = (title: string | null): string => /k = (\d+)/.exec(title ?? '')?.[1] ?? 'line'
    for (const a of labels) for (const b of labels) {
      const sameK = kOf(a.title) === kOf(b.title) || kOf(a.title) === 'line' || kOf(b.title) === 'line'
      if (a !== b && sameK && valueOf(a.title) !== valueOf(b.title)) t.not(a.text.replace(/^.*: /, ''), b.text.replace(/^.*: /, ''), `${a.title} and ${b.title} read the same`)
    }
    // A reference line's label sits on its line.
    for (const r of rules) {
      t.regex(r.title ?? '', /only \(no factors\): test RMSE \d\.\d{4}$/)
      const i = labels.findIndex((l) => l.title === r.title)
      t.true(i >= 0)
      const box = boxes[i] as Box
      t.true(box.y1 >= r.y - 16 && box.y0 <= r.y + 16, 'reference label is off its line')
    }
    // Leader lines cross no label but their own.
    for (const l of leaders) {
      const x2 = l.x + Number(l.attrs.x2 ?? 0)
      const y2 = l.y + Number(l.attrs.y2 ?? 0)
      const hit = boxes.filter((b) => distanceToBox(x2, y2, b) > 4 && crosses({ x: l.x, y: l.y, x2, y2 }, b))
      t.is(hit.length, 0)
    }
  })
}

/** Whether a segment passes through the interior of a box (sampled finely). */
function crosses(s: { x: number; y: number; x2: number; y2: number }, b: Box): boolean {
  for (let i = 0; i <= 200; i++) {
    const x = s.x + ((s.x2 - s.x) * i) / 200
    const y = s.y + ((s.y2 - s.y) * i) / 200
    if (x > b.x0 + 0.5 && x < b.x1 - 0.5 && y > b.y0 + 0.5 && y < b.y1 - 0.5) return true
  }
  return false
}

test('rmse-vs-k keeps the best run at each k and says how many runs it chose from', async (t) => {
  const layout = readSvg(await toSvg(rmseVsKSpec([...series('biased', { 8: 0.85 }), { model: 'biased', factors: 8, testRmse: 0.8412 }, { model: 'biased', factors: 8, testRmse: Number.NaN }, ...series('biased', { 16: 0.84 })], 'x')))
  const titles = layerItems(layout, 'rmse_points', 'path').map((m) => m.title)
  t.deepEqual(titles, ['biased, k = 8: test RMSE 0.8412 (best of 2 runs at this k)', 'biased, k = 16: test RMSE 0.8400'])
})
