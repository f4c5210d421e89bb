// Re-draws the plots of an experiment or grid folder from its JSON files (no training).
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'

import { readMetrics } from '../experiment/folder.js'
import { writeGridPlots, type GridRow } from '../experiment/grid.js'
import { modelLabel } from '../experiment/runner.js'
import { learningCurvesSpec } from './learning-curves.js'
import { writePlot } from './render.js'
import { AlsrecError } from '../errors.js'

export interface ReplotResult {
  kind: 'grid' | 'experiment'
  files: string[]
}

export async function replot(dir: string): Promise<ReplotResult> {
  const gridFile = path.join(dir, 'results.json')
  if (existsSync(gridFile)) {
    const grid = JSON.parse(readFileSync(gridFile, 'utf8')) as { context: string; rows: GridRow[] }
    const rows = grid.rows.filter((r) => r.error === undefined)
    if (rows.length === 0) throw new AlsrecError('ALSREC_INVALID_DATA', `${gridFile} lists no finished runs to plot`)
    return { kind: 'grid', files: (await writeGridPlots(dir, rows, grid.context)).map((f) => path.join(dir, f)) }
  }
  if (!existsSync(path.join(dir, 'metrics.json'))) throw new AlsrecError('ALSREC_NOT_FOUND', `${dir} is neither an experiment folder (metrics.json) nor a grid folder (results.json)`)
  const metrics = readMetrics(dir)
  const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as { data?: Record<string, unknown>; split?: { kind?: string; seed?: number; testFraction?: number }; model?: { patience?: unknown } }
  const dataName = Object.values(config.data ?? {}).find((v) => typeof v === 'string')
  const split = config.split
  const context = `${dataName ? path.basename(String(dataName)) : 'data'}, ${split?.kind ?? 'random'} split (test fraction ${split?.testFraction ?? 0.2}, seed ${split?.seed ?? 42})`
  const label = modelLabel({ model: metrics.model, factors: metrics.factors ?? undefined })
  const patience = typeof config.model?.patience === 'number' ? config.model.patience : null
  const files = await writePlot(learningCurvesSpec([{ label, kind: metrics.model, history: metrics.history, patience }], context), path.join(dir, 'learning-curve'))
  return { kind: 'experiment', files: [files.svg, files.png] }
}
