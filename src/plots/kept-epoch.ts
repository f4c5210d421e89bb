/** What the kept-epoch rule reads of an epoch record. */
export interface EpochTestRmse {
  epoch: number
  testRmse?: number | null | undefined
}

/**
 * The epoch whose parameters a model trained with `patience` keeps, derived from its history the
 * way the core decides it (`run_epochs` in crates/alsrec-core/src/als/epochs.rs): among the
 * epochs with a test RMSE, the first one with the lowest (a later epoch replaces the best only
 * when strictly better, so of equal bests the earliest wins). Null without `patience` or
 * without any test RMSE: then the model is simply the last epoch's.
 *
 * The history does not record the kept epoch itself; this is the one place that derives it for
 * the plots, so an explicit field can replace it here.
 */
export function keptEpoch(history: readonly EpochTestRmse[], patience: number | null | undefined): number | null {
  if (patience === undefined || patience === null) return null
  let best: { epoch: number; rmse: number } | null = null
  for (const h of history) {
    if (h.testRmse === undefined || h.testRmse === null) continue
    if (best === null || h.testRmse < best.rmse) best = { epoch: h.epoch, rmse: h.testRmse }
  }
  return best?.epoch ?? null
}
