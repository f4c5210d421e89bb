// The flags of the query commands (recommend, similar, explain) that say where the model comes
// from: a model file, or a quick training run on a MovieLens folder.
import { type Command } from 'commander'

import { loadModel, loadMovieLens, samplePath, train, type Model } from '../../index.js'
import { wholeNumber } from './options.js'

export interface ModelSourceOptions {
  model?: string
  data: string
  factors: string
  epochs: string
  json?: boolean
}

export function addModelSource(cmd: Command): Command {
  return cmd
    .option('--model <file>', 'a model file written by model.save()')
    .option('--data <dir>', 'without --model: train on this MovieLens folder first', samplePath)
    .option('--factors <k>', 'latent factors when training', '16')
    .option('--epochs <n>', 'epochs when training', '10')
    .option('--json', 'print JSON instead of a table')
}

export async function modelFrom(o: ModelSourceOptions): Promise<Model> {
  if (o.model !== undefined) return loadModel(o.model)
  const data = await loadMovieLens(o.data)
  // The default model (genre, with its ranker): what a user gets who chooses none.
  return train(data, { factors: wholeNumber('--factors', o.factors, 1), epochs: wholeNumber('--epochs', o.epochs, 1), seed: 42 })
}
