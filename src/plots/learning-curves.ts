import { modelColors, PLOT_CONFIG, type PlotSpec } from './render.js'

export interface CurveSeries {
  /** Legend label, e.g. "biased, k = 16". */
  label: string
  /** The model kind ('bias', 'biased', …), which picks the line colour. */
  kind?: string
  history: Array<{ epoch: number; trainRmse: number; testRmse?: number | null | undefined }>
}

/** Train (dashed) and test (solid) RMSE per epoch, one colour per model. */
export function learningCurvesSpec(series: CurveSeries[], context: string): PlotSpec {
  const values = series.flatMap((s) =>
    s.history.flatMap((h) => [
      { model: s.label, epoch: h.epoch, set: 'train', rmse: h.trainRmse },
      ...(h.testRmse === undefined || h.testRmse === null ? [] : [{ model: s.label, epoch: h.epoch, set: 'test', rmse: h.testRmse }]),
    ]),
  )
  const maxEpoch = Math.max(1, ...values.map((v) => v.epoch))
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: PLOT_CONFIG,
    width: 520,
    height: 320,
    title: {
      text: 'Learning curves: RMSE after each training epoch',
      subtitle: [context, 'solid line = held-out test ratings, dashed = training ratings; lower is better'],
    },
    data: { values },
    mark: { type: 'line', strokeWidth: 2 },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch (one full ALS sweep over users and movies)', scale: { domain: [1, maxEpoch] }, axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'rmse', type: 'quantitative', title: 'RMSE (rating stars, lower is better)', scale: { zero: false } },
      color: { field: 'model', type: 'nominal', title: 'model', sort: series.map((s) => s.label), scale: { domain: series.map((s) => s.label), range: modelColors(series.map((s) => s.kind)) }, legend: { symbolType: 'stroke', symbolStrokeWidth: 3 } },
      strokeDash: { field: 'set', type: 'nominal', title: 'RMSE on', legend: { symbolType: 'stroke', symbolStrokeWidth: 2, symbolSize: 400, labelExpr: "datum.label === 'test' ? 'test ratings (held out)' : 'training ratings'" }, sort: ['test', 'train'], scale: { domain: ['test', 'train'], range: [[1, 0], [5, 4]] } },
      detail: { field: 'set' },
    },
  }
}
