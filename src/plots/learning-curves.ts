import { keptEpoch } from './kept-epoch.js'
import { HOVER_LAYER, modelColors, PLOT_CONFIG, type PlotSpec } from './render.js'

export interface CurveSeries {
  /** Legend label, e.g. "biased, k = 16". */
  label: string
  /** The model kind ('bias', 'biased', …), which picks the line colour. */
  kind?: string
  history: Array<{ epoch: number; trainRmse: number; testRmse?: number | null | undefined }>
  /**
   * The run's `patience`, if it had one: early stopping then keeps the best epoch's parameters,
   * not the last epoch's, and the curve marks that epoch.
   */
  patience?: number | null
  /** The kept epoch when the caller knows it; overrides what `patience` and the history imply. */
  keptEpoch?: number | null
}

/**
 * The epoch to mark on a series' curve: the one its model kept under early stopping (null without
 * `patience`, when the model is simply the last epoch's).
 */
export function markedEpoch(s: CurveSeries): number | null {
  const kept = s.keptEpoch ?? keptEpoch(s.history, s.patience)
  return kept !== null && s.history.some((h) => h.epoch === kept) ? kept : null
}

/**
 * Train (dashed) and test (solid) RMSE per epoch, one colour per model. A run trained with
 * `patience` stops after that many epochs without a better test RMSE and keeps its best epoch:
 * a diamond and a dotted vertical line in the run's colour mark that epoch, and its legend entry
 * names it.
 */
export function learningCurvesSpec(series: CurveSeries[], context: string): PlotSpec {
  const named = series.map((s) => {
    const kept = markedEpoch(s)
    const last = Math.max(0, ...s.history.map((h) => h.epoch))
    return { ...s, kept, name: kept === null ? s.label : `${s.label}, kept epoch ${kept} of ${last}` }
  })
  const values = named.flatMap((s) =>
    s.history.flatMap((h) => [
      { model: s.name, epoch: h.epoch, set: 'train', rmse: h.trainRmse },
      ...(h.testRmse === undefined || h.testRmse === null ? [] : [{ model: s.name, epoch: h.epoch, set: 'test', rmse: h.testRmse }]),
    ]),
  )
  const marks = named.flatMap((s) => {
    const h = s.history.find((r) => r.epoch === s.kept)
    if (!h) return []
    const onTest = h.testRmse !== undefined && h.testRmse !== null
    const rmse = onTest ? (h.testRmse ?? h.trainRmse) : h.trainRmse
    const why = s.patience !== undefined && s.patience !== null ? `early stopping (patience ${s.patience}) keeps the best test RMSE` : 'the epoch the model kept'
    return [{ model: s.name, epoch: h.epoch, rmse, hover: `${s.label}: kept epoch ${h.epoch}, ${onTest ? 'test' : 'train'} RMSE ${rmse.toFixed(4)}; ${why}` }]
  })
  const maxEpoch = Math.max(1, ...values.map((v) => v.epoch))
  const domain = named.map((s) => s.name)
  const color = { field: 'model', type: 'nominal' as const, title: 'model', sort: domain, scale: { domain, range: modelColors(series.map((s) => s.kind)) }, legend: { symbolType: 'stroke', symbolStrokeWidth: 3, labelLimit: 480 } }
  const x = { field: 'epoch', type: 'quantitative' as const }
  const y = { field: 'rmse', type: 'quantitative' as const }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: PLOT_CONFIG,
    width: 520,
    height: 320,
    title: {
      text: 'Learning curves: RMSE after each training epoch',
      subtitle: [
        context,
        'solid line = held-out test ratings, dashed = training ratings; lower is better',
        ...(marks.length > 0 ? ['diamond and dotted line: the epoch the model kept (early stopping keeps the best test RMSE, not the last epoch)'] : []),
      ],
    },
    layer: [
      {
        data: { values },
        mark: { type: 'line', strokeWidth: 2 },
        encoding: {
          x: { ...x, title: 'epoch (one full ALS sweep over users and movies)', scale: { domain: [1, maxEpoch], nice: false }, axis: { tickMinStep: 1, format: 'd' } },
          y: { ...y, title: 'RMSE (rating stars, lower is better)', scale: { zero: false } },
          color,
          strokeDash: { field: 'set', type: 'nominal', title: 'RMSE on', legend: { symbolType: 'stroke', symbolStrokeWidth: 2, symbolSize: 400, labelExpr: "datum.label === 'test' ? 'test ratings (held out)' : 'training ratings'" }, sort: ['test', 'train'], scale: { domain: ['test', 'train'], range: [[1, 0], [5, 4]] } },
          detail: { field: 'set' },
        },
      },
      ...(marks.length > 0
        ? [
            {
              name: 'kept_epoch_rules',
              data: { values: marks },
              mark: { type: 'rule' as const, strokeDash: [2, 3], strokeWidth: 1.5, opacity: 0.8 },
              encoding: { x, color },
            },
            {
              name: `${HOVER_LAYER}kept_epoch`,
              data: { values: marks },
              mark: { type: 'point' as const, shape: 'diamond', size: 130, filled: true, opacity: 1, stroke: 'white', strokeWidth: 1.5 },
              encoding: { x, y, color, description: { field: 'hover' } },
            },
          ]
        : []),
    ],
  }
}
