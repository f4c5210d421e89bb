// What the plots mark: the epoch an early-stopped model kept (learning curves), and each movie's
// most distinctive genre and the labels the movie map says it shows.
import test from 'ava'

import { loadMovieLensSync, train, type Movie } from '../dist/index.js'
import { distinctiveGenres, keptEpoch, learningCurvesSpec, movieMapSpec, toSvg, type CurveSeries } from '../dist/plots/index.js'
import { sampleDir } from './helpers.js'
import { distanceToBox, inkBox, layerItems, overlappingPairs, readSvg, within, type Box, type SvgItem } from './svg-layout.js'

const curve = (testRmse: Array<number | null>): CurveSeries['history'] => testRmse.map((t, i) => ({ epoch: i + 1, trainRmse: 1 - i * 0.05, testRmse: t }))

test('the kept epoch is the first epoch with the lowest test RMSE, only under patience', (t) => {
  t.is(keptEpoch(curve([0.95, 0.9, 0.88, 0.89, 0.9, 0.91]), 3), 3)
  // Equal bests: the earliest is kept (the core replaces the best only when strictly better).
  t.is(keptEpoch(curve([0.95, 0.88, 0.9, 0.88, 0.89]), 2), 2)
  // Still improving at the last epoch: the last is kept.
  t.is(keptEpoch(curve([0.95, 0.9, 0.88]), 2), 3)
  // Without patience, or without test RMSE, the model is the last epoch's: nothing to mark.
  t.is(keptEpoch(curve([0.95, 0.88, 0.9]), undefined), null)
  t.is(keptEpoch(curve([0.95, 0.88, 0.9]), null), null)
  t.is(keptEpoch(curve([null, null]), 2), null)
})

test('the kept epoch derived from the history is the epoch the trained model really is', async (t) => {
  const data = loadMovieLensSync(sampleDir)
  const parts = data.split({ testFraction: 0.2, seed: 5 })
  // Weak regularization overfits: the test RMSE turns up after a few epochs.
  const model = await train(parts.train, { model: 'biased', factors: 24, tau: 0.5, gamma: 0.5, epochs: 30, tolerance: 0, patience: 3 }, { testSet: parts.test })
  const history = model.history
  const kept = keptEpoch(history, 3)
  t.truthy(kept)
  const last = history.at(-1)
  t.true(kept !== null && last !== undefined && kept < last.epoch, `kept ${kept} of ${history.length}: the test RMSE never rose, so this test shows nothing`)
  const { userIds, movieIds, ratings } = parts.test.ratingTriplets()
  const predicted = model.predictMany(userIds, movieIds)
  let se = 0
  for (let i = 0; i < ratings.length; i++) se += ((predicted[i] ?? 0) - (ratings[i] ?? 0)) ** 2
  const rmse = Math.sqrt(se / ratings.length)
  const keptRmse = history.find((h) => h.epoch === kept)?.testRmse ?? Number.NaN
  t.true(Math.abs(rmse - keptRmse) < 1e-4, `model RMSE ${rmse} vs kept epoch ${kept}'s ${keptRmse}`)
  t.true(Math.abs(rmse - (last?.testRmse ?? 0)) > 1e-4, 'the last epoch has the same RMSE: the test cannot tell them apart')
})

/** The test-RMSE line of a series, as [x, y] vertices in absolute coordinates. */
function testLine(items: SvgItem[], name: string): Array<[number, number]> {
  const path = items.find((i) => i.tag === 'path' && i.attrs['aria-roledescription'] === 'line mark' && (i.attrs['aria-label'] ?? '').includes(`model: ${name}; `) && (i.attrs['aria-label'] ?? '').endsWith('set: test'))
  if (!path) throw new Error(`no test line for ${name}`)
  return [...(path.attrs.d ?? '').matchAll(/[ML]([-\d.]+),([-\d.]+)/g)].map((m) => [path.x + Number(m[1]), path.y + Number(m[2])])
}

test('the learning curve marks the kept epoch of an early-stopped run, on its test line, and only there', async (t) => {
  const stopped: CurveSeries = { label: 'biased, k = 16', kind: 'biased', patience: 3, history: curve([0.95, 0.9, 0.87, 0.86, 0.862, 0.865, 0.87]) }
  const plain: CurveSeries = { label: 'genre, k = 16', kind: 'genre', history: curve([0.94, 0.89, 0.86, 0.85, 0.849, 0.848, 0.8479]) }
  const layout = readSvg(await toSvg(learningCurvesSpec([stopped, plain], 'test data')))
  const markers = layerItems(layout, 'kept_epoch', 'path')
  const rules = layerItems(layout, 'kept_epoch_rules', 'line')
  t.is(markers.length, 1)
  t.is(rules.length, 1)
  const marker = markers[0] as SvgItem
  const vertices = testLine(layout.items, 'biased, k = 16, kept epoch 4 of 7')
  t.is(vertices.length, 7)
  const [x4, y4] = vertices[3] ?? [0, 0]
  t.true(Math.abs(marker.x - x4) < 0.01 && Math.abs(marker.y - y4) < 0.01, `marker at (${marker.x}, ${marker.y}), epoch 4 at (${x4}, ${y4})`)
  t.true(Math.abs((rules[0]?.x ?? 0) - x4) < 0.01)
  // Not at the last epoch, where the run stopped.
  t.true(Math.abs(marker.x - (vertices[6]?.[0] ?? 0)) > 10)
  t.is(marker.title, 'biased, k = 16: kept epoch 4, test RMSE 0.8600; early stopping (patience 3) keeps the best test RMSE')
  // The marker has the run's colour; the legend and subtitle say what it means.
  t.is(marker.attrs.fill, '#4c78a8')
  const svg = await toSvg(learningCurvesSpec([stopped, plain], 'test data'))
  t.true(svg.includes('biased, k = 16, kept epoch 4 of 7'))
  t.true(svg.includes('diamond and dotted line: the epoch the model kept'))

  // Without patience nothing is marked; an explicit kept epoch wins over the derivation.
  const none = readSvg(await toSvg(learningCurvesSpec([plain], 'test data')))
  t.is(layerItems(none, 'kept_epoch', 'path').length, 0)
  t.false((await toSvg(learningCurvesSpec([plain], 'x'))).includes('the epoch the model kept'))
  const explicit = readSvg(await toSvg(learningCurvesSpec([{ ...stopped, keptEpoch: 5 }], 'x')))
  const m5 = layerItems(explicit, 'kept_epoch', 'path')[0]
  t.true(Math.abs((m5?.x ?? 0) - (testLine(explicit.items, 'biased, k = 16, kept epoch 5 of 7')[4]?.[0] ?? -1)) < 0.01)
})

// --- movie map ---

interface FakeMovie {
  id: number
  title: string
  genres: string[]
}

function fakeCatalog(movies: FakeMovie[]): { describe: (id: number) => Movie } {
  const byId = new Map(movies.map((m) => [m.id, { movieId: m.id, title: m.title, year: null, genres: m.genres }]))
  return { describe: (id) => byId.get(id) ?? { movieId: id, title: `movie ${id}`, year: null, genres: [] } }
}

test('the most distinctive genre is the rarest of a movie\'s genres; ties alphabetical; IMAX only alone', (t) => {
  const lists = [
    ['Action', 'Western'], // Action ×6 on this list, Western ×2
    ['Action'],
    ['Comedy', 'Action'], // Action ×6, Comedy ×6: tie → Action
    ['Comedy'],
    ['Comedy', 'Western'],
    ['Action', 'Comedy', 'Sci-Fi', 'IMAX'], // IMAX is rarest but a format: Sci-Fi
    ['IMAX'],
    ['(no genres listed)'],
    [],
    ['Action', 'Comedy'],
    ['Comedy', 'Action'],
  ]
  t.deepEqual(distinctiveGenres(lists), ['Western', 'Action', 'Action', 'Comedy', 'Western', 'Sci-Fi', 'IMAX', '(no genres listed)', '(no genres listed)', 'Action', 'Action'])
})

test('movie map dots take the colour of their most distinctive genre, and the legend says so', async (t) => {
  const movies: FakeMovie[] = [
    { id: 1, title: 'Lone Rider (1950)', genres: ['Action', 'Western'] },
    { id: 2, title: 'High Noon Again (1952)', genres: ['Western'] },
    ...Array.from({ length: 20 }, (_, i) => ({ id: 10 + i, title: `Explosions ${i} (2001)`, genres: ['Action', 'Adventure'].slice(0, 1 + (i % 2)) })),
    ...Array.from({ length: 12 }, (_, i) => ({ id: 40 + i, title: `Voyage ${i} (1999)`, genres: ['Adventure'] })),
  ]
  const ids = movies.map((m) => m.id)
  const spec = movieMapSpec({ movieIds: ids, x: ids.map((_, i) => Math.cos(i)), y: ids.map((_, i) => Math.sin(i * 1.3)) }, fakeCatalog(movies), { labels: 3 })
  const layout = readSvg(await toSvg(spec))
  const dots = new Map(layerItems(layout, 'hover_movies', 'path').map((d) => [/^(.*?):/.exec(d.title ?? '')?.[1], d]))
  t.is(dots.size, movies.length)
  const fill = (title: string): string | undefined => dots.get(title)?.attrs.fill
  // Western (2 movies) is rarer than Action (21): the Action|Western movie is a Western.
  t.is(fill('Lone Rider (1950)'), fill('High Noon Again (1952)'))
  t.not(fill('Lone Rider (1950)'), fill('Explosions 0 (2001)'))
  t.regex(dots.get('Lone Rider (1950)')?.title ?? '', /Action, Western \(coloured as Western\)/)
  // Action|Adventure: Adventure (22 movies) is commoner than Action (21): Action.
  t.is(fill('Explosions 1 (2001)'), fill('Explosions 0 (2001)'))
  t.not(fill('Voyage 0 (1999)'), fill('Explosions 1 (2001)'))
  const svg = await toSvg(spec)
  t.true(svg.includes('most distinctive genre'))
  t.true(svg.includes('coloured by its most distinctive genre: of its genres, the one the fewest movies on this map list'))
  t.false(svg.includes('first genre'))
})

function mapLabels(layout: ReturnType<typeof readSvg>): { labels: SvgItem[]; boxes: Box[]; dots: SvgItem[] } {
  const labels = layerItems(layout, 'titles', 'text').filter((l) => !l.layer.includes('halo'))
  return { labels, boxes: labels.map(inkBox), dots: layerItems(layout, 'labelled_movies', 'path') }
}

test('movie map labels never overlap, and the subtitle counts exactly the labels drawn', async (t) => {
  const data = loadMovieLensSync(sampleDir)
  const movies = data.catalog.movies.slice(0, 400)
  const movieIds = movies.map((m) => m.movieId)
  const popularity = new Map(movieIds.map((id, i) => [id, 1000 - i]))
  // Spread out: every one of the 12 most-rated gets its label.
  const spread = readSvg(await toSvg(movieMapSpec({ movieIds, x: movieIds.map((_, i) => Math.cos(i * 2.1) * (1 + (i % 7))), y: movieIds.map((_, i) => Math.sin(i * 1.7) * (1 + (i % 5))) }, data.catalog, { popularity })))
  // Crowded: the 12 most-rated sit within a few pixels of each other.
  const tight = (i: number, s: number): number => (i < 12 ? 0.001 * Math.cos(i * s) : Math.cos(i * s) * 3)
  const crowded = readSvg(await toSvg(movieMapSpec({ movieIds, x: movieIds.map((_, i) => tight(i, 2.1)), y: movieIds.map((_, i) => tight(i, 1.7)) }, data.catalog, { popularity })))

  for (const [name, layout] of [['spread', spread], ['crowded', crowded]] as const) {
    const { labels, boxes, dots } = mapLabels(layout)
    t.is(dots.length, 12, name)
    t.true(labels.length > 0, name)
    for (const [i, b] of boxes.entries()) t.true(within(b, layout.plot), `${name}: ${labels[i]?.text} leaves the plot`)
    t.deepEqual(overlappingPairs(boxes).map(([i, j]) => `${labels[i]?.text} / ${labels[j]?.text}`), [], name)
    // No label covers a labelled dot; each sits by its own dot or is joined to it.
    const leaders = layerItems(layout, 'title_leaders', 'line')
    for (const [i, b] of boxes.entries()) {
      for (const d of dots) t.true(distanceToBox(d.x, d.y, b) > 3, `${name}: ${labels[i]?.text} covers a dot`)
      const own = dots.find((d) => d.title === labels[i]?.title)
      t.truthy(own, `${name}: no dot for ${labels[i]?.text}`)
      if (!own) continue
      const joined = leaders.some((l) => Math.hypot(l.x - own.x, l.y - own.y) < 0.5 && distanceToBox(l.x + Number(l.attrs.x2 ?? 0), l.y + Number(l.attrs.y2 ?? 0), b) < 4)
      t.true(distanceToBox(own.x, own.y, b) <= 12 || joined, `${name}: ${labels[i]?.text} is far from its dot`)
    }
    // Only the 12 most-rated are ever labelled, and the most-rated of all always is.
    const top = movies.slice(0, 12).map((m) => `${m.title}: `)
    for (const l of labels) t.true(top.some((p) => (l.title ?? '').startsWith(p)), `${name}: ${l.title} is not among the 12 most-rated`)
    t.true(labels.some((l) => (l.title ?? '').startsWith(top[0] ?? '?')), `${name}: the most-rated movie has no label`)
  }

  const subtitle = (layout: ReturnType<typeof readSvg>): string => layout.items.filter((i) => (i.tag === 'text' || i.tag === 'tspan') && i.text.startsWith('labels: ')).map((i) => i.text)[0] ?? ''
  t.is(mapLabels(spread).labels.length, 12)
  t.is(subtitle(spread), 'labels: the 12 most-rated movies')
  const shown = mapLabels(crowded).labels.length
  t.true(shown < 12, 'twelve labels around one spot cannot all fit')
  t.is(subtitle(crowded), `labels: ${shown} of the 12 most-rated movies (${12 - shown} left out: no room without overlap; hover a dot for its title)`)
})

test('degenerate inputs still render: no movies, positions that are not finite, no runs', async (t) => {
  const catalog = fakeCatalog([{ id: 1, title: 'One (2000)', genres: ['Drama'] }, { id: 2, title: 'Two (2001)', genres: [] }, { id: 3, title: 'Three (2002)', genres: ['IMAX'] }])
  const popularity = new Map([[1, 5], [2, 9], [3, 1]])
  const empty = await toSvg(movieMapSpec({ movieIds: [], x: [], y: [] }, catalog, { popularity }))
  t.true(empty.includes('no labels'))
  // Movie 2 (the most rated) has no finite position: it is neither drawn nor labelled.
  const odd = readSvg(await toSvg(movieMapSpec({ movieIds: [1, 2, 3], x: [0, Number.NaN, 1], y: [0, 1, Number.POSITIVE_INFINITY] }, catalog, { popularity })))
  t.deepEqual(mapLabels(odd).labels.map((l) => l.text), ['One (2000)'])
  t.true(odd.items.some((i) => i.text === 'labels: the most-rated movie'))
  t.true((await toSvg(learningCurvesSpec([{ label: 'a', history: [], patience: 2 }], 'x'))).includes('Learning curves'))
})
