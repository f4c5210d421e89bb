import { type Command } from 'commander'

import { generate } from '../../index.js'
import { printJson, thousands } from '../shared/output.js'

interface GenerateCliOptions {
  out: string
  users: string
  movies: string
  ratings: string
  seed: string
  factors: string
  noise: string
  catalog?: string
  threads?: string
  json?: boolean
}

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('write a synthetic MovieLens-format data set with a known noise floor')
    .requiredOption('--out <dir>', 'output folder (ratings.csv, movies.csv, truth.json)')
    .option('--users <n>', 'users', '600')
    .option('--movies <n>', 'movies', '2000')
    .option('--ratings <n>', 'ratings', '80000')
    .option('--seed <s>', 'random seed', '42')
    .option('--factors <k>', 'rank of the planted tastes', '8')
    .option('--noise <sigma>', 'rating noise standard deviation', '0.6')
    .option('--catalog <movies.csv>', 'copy the genre mix of a real MovieLens movies.csv')
    .option('--threads <n>', 'worker threads (default: all cores)')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', '\nExample:\n  $ alsrec generate --out /tmp/ml25m --users 162541 --movies 62423 --ratings 25000095 --seed 1 --catalog ml-25m/movies.csv')
    .action(async (o: GenerateCliOptions) => {
      const report = await generate(o.out, {
        users: Number(o.users),
        movies: Number(o.movies),
        ratings: Number(o.ratings),
        seed: Number(o.seed),
        factors: Number(o.factors),
        noise: Number(o.noise),
        ...(o.catalog !== undefined ? { catalog: o.catalog } : {}),
        ...(o.threads !== undefined ? { threads: Number(o.threads) } : {}),
      })
      if (o.json) printJson(report)
      else
        console.log(
          `Wrote ${thousands(report.ratings)} ratings of ${thousands(report.users)} users on ${thousands(report.movies)} movies to ${o.out} in ${report.seconds.toFixed(2)} s; noise floor RMSE ${report.noiseFloorRmse.toFixed(4)}`,
        )
    })
}
