// Movies named on the command line (--rate, --movie): ids as given, titles resolved by
// catalog.resolve, with --pick-first taking the best of several matches (the most rated of the
// equally good ones). What each title became is part of the output, so no title resolves
// silently.
import type { Model, TitleMatchKind } from '../../index.js'
import { movieRef } from './options.js'

export interface ResolvedTitle {
  query: string
  movieId: number
  title: string
  year: number | null
  match: TitleMatchKind
  /** How many movies the title matched. */
  matches: number
}

export class TitleResolver {
  readonly resolved: ResolvedTitle[] = []
  constructor(
    private readonly model: Model,
    private readonly pickFirst: boolean,
  ) {}

  /** The movie id a command-line reference names: digits are an id, anything else a title. */
  id(text: string): number {
    const ref = movieRef(text)
    if (typeof ref === 'number') return ref
    const r = this.model.catalog.resolve(ref, { pickFirst: this.pickFirst, ratingCounts: this.model.ratingCounts() })
    this.resolved.push({ query: ref, movieId: r.movie.movieId, title: r.movie.title, year: r.movie.year, match: r.match, matches: r.matches })
    return r.movie.movieId
  }

  /** Lines for the text output: one per title --pick-first chose among several. */
  notes(): string[] {
    return this.resolved
      .filter((r) => r.match === 'picked-first')
      .map((r) => `Note: "${r.query}" matches ${r.matches} movies; --pick-first took "${r.title}" (id ${r.movieId}).`)
  }
}
