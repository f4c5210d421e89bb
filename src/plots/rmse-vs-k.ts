import { PLOT_CONFIG, type PlotSpec } from './render.js'

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
  const flat = [...best.values()].filter((p) => p.factors === null).map((p) => ({ model: `${p.model} (no factors)`, testRmse: p.testRmse }))
  const ks = lines.map((p) => p.factors ?? 1)
  const kMin = Math.min(...ks, 1)
  const kMax = Math.max(...ks, 2)
  // Factors usually double from run to run; a log2 axis spaces them evenly.
  const logScale = kMax / Math.max(kMin, 1) >= 8
  const models = [...new Set([...lines.map((p) => p.model), ...flat.map((p) => p.model)])]
  const color = { field: 'model', type: 'nominal' as const, title: 'model', sort: models, scale: { domain: models } }
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
            scale: logScale ? { type: 'log', base: 2, domain: [kMin, kMax] } : { domain: [kMin, kMax], nice: false },
            axis: { values: [...new Set(ks)], format: 'd' },
          },
          y: { field: 'testRmse', type: 'quantitative', title: 'test RMSE (stars, lower is better)', scale: { zero: false } },
          color,
        },
      },
      {
        data: { values: flat },
        mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 2 },
        encoding: { y: { field: 'testRmse', type: 'quantitative' }, color },
      },
    ],
  }
}
