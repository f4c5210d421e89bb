import { type Command } from 'commander'

import { replot } from '../../plots/replot.js'
import { printJson } from '../shared/output.js'

export function registerPlot(program: Command): void {
  program
    .command('plot')
    .description('redraw the plots (SVG + PNG) of an experiment or grid folder from its saved metrics')
    .argument('<folder>', 'a folder written by alsrec train or alsrec grid')
    .option('--json', 'print the written files as JSON')
    .addHelpText('after', '\nExamples:\n  $ alsrec plot runs/grid\n  $ alsrec plot runs/k16')
    .action(async (folder: string, o: { json?: boolean }) => {
      const r = await replot(folder)
      if (o.json) printJson(r)
      else console.log(`Redrew the ${r.kind} plots: ${r.files.join(', ')}`)
    })
}
