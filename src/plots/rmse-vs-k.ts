import { modelColors, PLOT_CONFIG, type PlotSpec } from './render.js'

export interface RmseAtK {
  model: string
  /** Number of latent factors; null for the bias-only model, which has none. */
  factors: number | null
  testRmse: number
}

/**
 * Test RMSE against the number of latent factors, one line per model. Where a grid varied other
 * hyperparameters too, each point is the best run at that k. The bias-only model has no k and
 * is drawn as a dashed horizontal reference line.
 */
export function rmseVsKSpec(points: RmseAtK[], context: string): PlotSpec {
  const best = new Map<string, RmseAtK>()
  for (const p of points) {
    if (!Number.isFinite(p.testRmse)) continue
    const key = `${p.model}\u0000${p.factors ?? ''}`
    const prev = best.get(key)
    if (!prev || p.testRmse < prev.testRmse) best.set(key, p)
  }
  const lines = [...best.values()].filter((p) => p.factors !== null).sort((a, b) => (a.factors ?? 0) - (b.factors ?? 0))
  const flat = [...best.values()].filter((p) => p.factors === null).map((p) => ({ kind: p.model, model: `${p.model} (no factors)`, testRmse: p.testRmse, label: `${p.model} only: ${p.testRmse.toFixed(3)}` }))
  const ks = lines.map((p) => p.factors ?? 1)
  const kMin = ks.length > 0 ? Math.min(...ks) : 1
  const kMax = ks.length > 0 ? Math.max(...ks) : 2
  // Factors usually double from run to run; a log2 axis spaces them evenly.
  const logScale = kMax / kMin >= 8
  const xDomain = logScale ? [kMin / 1.25, kMax * 1.25] : [Math.max(0, kMin - (kMax - kMin) * 0.06 - 0.5), kMax + (kMax - kMin) * 0.06 + 0.5]
  const kinds = [...new Set([...lines.map((p) => p.model), ...flat.map((p) => p.kind)])]
  const models = [...new Set([...lines.map((p) => p.model), ...flat.map((p) => p.model)])]
  const color = { field: 'model', type: 'nominal' as const, title: 'model', sort: models, scale: { domain: models, range: modelColors(kinds) } }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: PLOT_CONFIG,
    width: 520,
    height: 320,
    title: {
      text: 'Test RMSE versus number of latent factors k',
      subtitle: [context, 'each point: best run at that k; dashed line: bias-only model (uses no factors); lower is better'],
    },
    layer: [
      {
        data: { values: lines },
        mark: { type: 'line', point: { size: 60, filled: true }, strokeWidth: 2 },
        encoding: {
          x: {
            field: 'factors',
            type: 'quantitative',
            title: 'k, number of latent factors',
            scale: logScale ? { type: 'log', base: 2, domain: xDomain } : { domain: xDomain, nice: false },
            axis: { values: [...new Set(ks)], format: 'd' },
          },
          y: { field: 'testRmse', type: 'quantitative', title: 'test RMSE (stars, lower is better)', scale: { zero: false, padding: 24 } },
          color,
        },
      },
      {
        data: { values: lines },
        mark: { type: 'text', dy: -10, fontSize: 10, color: '#333' },
        encoding: { x: { field: 'factors', type: 'quantitative' }, y: { field: 'testRmse', type: 'quantitative' }, text: { field: 'testRmse', format: '.3f' } },
      },
      {
        data: { values: flat },
        mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 2 },
        encoding: { y: { field: 'testRmse', type: 'quantitative' }, color },
      },
      {
        data: { values: flat },
        mark: { type: 'text', align: 'right', dy: -7, fontSize: 10, color: '#333' },
        encoding: { x: { value: 516 }, y: { field: 'testRmse', type: 'quantitative' }, text: { field: 'label' } },
      },
    ],
  }
}
