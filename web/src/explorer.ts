// The explorer page: search and rate, recommendations with their reason, genre filter and
// diversity, a movie's details with similar movies, and the map. Ratings live in the URL hash
// (#r=id:stars,…, so a link shares them) and in localStorage (so a reload keeps them).
import type { Backend, Movie, Recommendation } from './backend.js'
import { MovieMap, PALETTE } from './map.js'

const STORAGE_KEY = 'alsrec-explorer'
const MAX_STARS = 5

interface State {
  ratings: Map<number, { rating: number; title: string }>
  liked: Set<string>
  genre: string
  diversity: number
}

function $(id: string): HTMLElement {
  const el = document.getElementById(id)
  if (!el) throw new Error(`#${id} is missing`)
  return el
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & { className?: string } = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  Object.assign(e, props)
  for (const c of children) e.append(c)
  return e
}

function debounce(fn: () => void, ms: number): () => void {
  let t: ReturnType<typeof setTimeout> | undefined
  return () => {
    clearTimeout(t)
    t = setTimeout(fn, ms)
  }
}

function readState(): State {
  const state: State = { ratings: new Map(), liked: new Set(), genre: '', diversity: 0 }
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}') as { ratings?: Array<[number, number, string]>; liked?: string[]; genre?: string; diversity?: number }
    for (const [id, rating, title] of saved.ratings ?? []) if (Number.isSafeInteger(id) && rating >= 1 && rating <= MAX_STARS) state.ratings.set(id, { rating, title: String(title) })
    for (const g of saved.liked ?? []) state.liked.add(String(g))
    if (typeof saved.genre === 'string') state.genre = saved.genre
    if (typeof saved.diversity === 'number' && saved.diversity >= 0 && saved.diversity <= 1) state.diversity = saved.diversity
  } catch {
    // A damaged entry is dropped: the page starts empty.
  }
  // The URL wins: a shared link shows its ratings.
  const hash = new URLSearchParams(location.hash.slice(1))
  const r = hash.get('r')
  if (r !== null) {
    const known = state.ratings
    state.ratings = new Map()
    for (const pair of r.split(',')) {
      const [id, stars] = pair.split(':').map(Number)
      if (id !== undefined && stars !== undefined && Number.isSafeInteger(id) && stars >= 1 && stars <= MAX_STARS) state.ratings.set(id, { rating: stars, title: known.get(id)?.title ?? '' })
    }
  }
  return state
}

function saveState(state: State): void {
  const ratings = [...state.ratings].map(([id, r]) => [id, r.rating, r.title])
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify({ ratings, liked: [...state.liked], genre: state.genre, diversity: state.diversity }))
  } catch {
    // Private windows may refuse storage; the URL still holds the ratings.
  }
  const hash = ratings.length > 0 ? `#r=${[...state.ratings].map(([id, r]) => `${id}:${r.rating}`).join(',')}` : ''
  history.replaceState(null, '', `${location.pathname}${location.search}${hash}`)
}

function label(m: Movie): string {
  return m.year === null || m.title.endsWith(`(${m.year})`) ? m.title : `${m.title} (${m.year})`
}

export async function startExplorer(backend: Backend): Promise<void> {
  const state = readState()
  const info = await backend.info()
  const [lo, hi] = info.ratingRange
  // Stars 1–5 map onto the model's scale (0.5–5 for MovieLens: 1★ = 1, 5★ = 5).
  const toScale = (stars: number): number => Math.min(hi, Math.max(lo, lo + ((stars - 1) / (MAX_STARS - 1)) * (hi - lo)))
  $('model-info').textContent = `${info.kind} model · k = ${info.k} · ${info.users.toLocaleString('en-US')} users · ${info.movies.toLocaleString('en-US')} movies`

  const titles = new Map<number, string>()
  const remember = (m: Movie): void => void titles.set(m.movieId, label(m))
  for (const [id, r] of state.ratings) if (r.title !== '') titles.set(id, r.title)
  let recommended: Recommendation[] = []
  let selected: number | null = null

  const asked = new Set<number>()
  const titleOf = (id: number): string => {
    const known = titles.get(id)
    if (known !== undefined) return known
    // Hover titles come one movie at a time, once each: no 62k-title download up front.
    if (!asked.has(id)) {
      asked.add(id)
      void backend.movie(id).then((m) => {
        remember(m)
        map.titleArrived(id)
      })
    }
    return '…'
  }
  const map: MovieMap = new MovieMap($('map') as HTMLCanvasElement, $('map-tooltip'), titleOf, (id) => void openMovie(id))
  const updateMap = (): void => map.setHighlights({ rated: new Set(state.ratings.keys()), recommended: new Set(recommended.map((r) => r.movieId)), selected })

  const stars = (movie: Movie): HTMLElement => {
    const current = state.ratings.get(movie.movieId)?.rating ?? 0
    const box = el('span', { className: 'stars', role: 'group' } as Partial<HTMLSpanElement>)
    box.setAttribute('aria-label', `Rate ${label(movie)}`)
    for (let s = 1; s <= MAX_STARS; s++) {
      const b = el('button', { type: 'button', className: s <= current ? 'on' : '', textContent: '★' })
      b.setAttribute('aria-label', `${s} star${s > 1 ? 's' : ''}`)
      b.setAttribute('aria-pressed', String(s === current))
      b.dataset.stars = String(s)
      b.addEventListener('click', (e) => {
        e.stopPropagation()
        rate(movie, s)
      })
      box.append(b)
    }
    return box
  }

  const titleButton = (m: Movie): HTMLButtonElement => {
    const b = el('button', { type: 'button', className: 'title', textContent: m.title })
    b.addEventListener('click', () => void openMovie(m.movieId))
    return b
  }

  const rate = (movie: Movie, s: number): void => {
    remember(movie)
    state.ratings.set(movie.movieId, { rating: s, title: label(movie) })
    changed()
    renderSearchStars()
  }

  // ---- ratings list ----
  const renderRatings = (): void => {
    const list = $('ratings')
    list.replaceChildren()
    for (const [id, r] of state.ratings) {
      const m: Movie = { movieId: id, title: r.title || titles.get(id) || `movie ${id}`, year: null, genres: [] }
      const remove = el('button', { type: 'button', className: 'remove', textContent: '✕' })
      remove.setAttribute('aria-label', `Remove the rating of ${m.title}`)
      remove.addEventListener('click', () => {
        state.ratings.delete(id)
        changed()
      })
      list.append(el('li', {}, titleButton(m), stars(m), remove))
    }
  }

  // ---- recommendations ----
  let requestId = 0
  const refresh = async (): Promise<void> => {
    const id = ++requestId
    const status = $('recs-status')
    const list = $('recommendations')
    if (state.ratings.size === 0 && state.liked.size === 0) {
      recommended = []
      list.replaceChildren()
      status.textContent = 'Rate a few films, or pick genres you like, to get recommendations.'
      status.hidden = false
      updateMap()
      return
    }
    status.textContent = 'Updating…'
    try {
      const recs = await backend.recommend({
        ratings: [...state.ratings].map(([movieId, r]) => ({ movieId, rating: toScale(r.rating) })),
        likedGenres: [...state.liked],
        ...(state.genre === '' ? {} : { genres: [state.genre] }),
        diversity: state.diversity,
        n: 10,
      })
      // A later request has started: its answer is the one to show.
      if (id !== requestId) return
      recommended = recs
      list.replaceChildren(
        ...recs.map((r) => {
          remember(r)
          const b = r.because
          const why = b?.title !== undefined ? `Because you rated ${b.title}` : b?.genres !== undefined ? `Because you like ${b.genres.join(', ')}` : ''
          const predicted = r.rating === undefined ? '' : `${r.rating.toFixed(1)}★ predicted`
          return el('li', {}, titleButton(r), el('span', { className: 'genres', textContent: r.genres.join(' · ') }), el('span', { className: 'predicted', textContent: predicted }), stars(r), el('span', { className: 'because', textContent: why }))
        }),
      )
      status.hidden = recs.length > 0
      status.textContent = recs.length > 0 ? '' : 'Nothing matches these filters.'
      updateMap()
    } catch (err) {
      if (id !== requestId) return
      status.hidden = false
      status.textContent = `Could not recommend: ${err instanceof Error ? err.message : String(err)}`
    }
  }
  const refreshSoon = debounce(() => void refresh(), 120)

  const changed = (): void => {
    saveState(state)
    renderRatings()
    refreshSoon()
    updateMap()
  }

  // ---- search (typeahead, keyboard: arrows move, Enter opens, 1–5 rate) ----
  const search = $('search') as HTMLInputElement
  const results = $('search-results')
  let found: Movie[] = []
  let active = -1
  let searchId = 0
  const renderSearchStars = (): void => {
    results.querySelectorAll('li').forEach((li, i) => {
      const m = found[i]
      if (m) li.querySelector('.stars')?.replaceWith(stars(m))
    })
  }
  const setActive = (i: number): void => {
    active = i
    results.querySelectorAll('li').forEach((li, j) => li.setAttribute('aria-selected', String(j === i)))
    const li = results.querySelectorAll('li')[i]
    if (li) {
      search.setAttribute('aria-activedescendant', li.id)
      li.scrollIntoView({ block: 'nearest' })
    }
  }
  const runSearch = async (): Promise<void> => {
    const q = search.value.trim()
    const id = ++searchId
    if (q === '') {
      found = []
      results.replaceChildren()
      search.setAttribute('aria-expanded', 'false')
      return
    }
    const movies = await backend.search(q, 8)
    if (id !== searchId) return
    found = movies
    results.replaceChildren(
      ...movies.map((m, i) => {
        remember(m)
        const li = el('li', { id: `result-${i}` }, titleButton(m), el('span', { className: 'genres', textContent: m.genres.join(' · ') }), stars(m))
        li.setAttribute('role', 'option')
        return li
      }),
    )
    search.setAttribute('aria-expanded', String(movies.length > 0))
    // Which query the list answers (typeahead answers can trail the typing).
    results.dataset.query = q
    active = -1
  }
  search.addEventListener('input', debounce(() => void runSearch(), 100))
  search.addEventListener('keydown', (e) => {
    const current = found[active]
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault()
      if (found.length > 0) setActive((active + (e.key === 'ArrowDown' ? 1 : found.length - 1)) % found.length)
    } else if (e.key === 'Enter' && current !== undefined) {
      e.preventDefault()
      void openMovie(current.movieId)
    } else if (/^[1-5]$/.test(e.key) && e.altKey && current !== undefined) {
      // Alt+1…5 rates the highlighted result (plain digits belong to the search: "2001").
      e.preventDefault()
      rate(current, Number(e.key))
    } else if (e.key === 'Escape') {
      search.value = ''
      void runSearch()
    }
  })

  // ---- a movie: details and similar movies ----
  const openMovie = async (movieId: number): Promise<void> => {
    selected = movieId
    const panel = $('detail-panel')
    panel.hidden = false
    updateMap()
    map.focus(movieId)
    const [m, similar] = await Promise.all([backend.movie(movieId), backend.similar(movieId, 10).catch(() => [] as Recommendation[])])
    if (selected !== movieId) return
    remember(m)
    $('detail-title').textContent = label(m)
    const mean = m.meanRating === null ? '' : ` · mean ${m.meanRating.toFixed(2)}★`
    const meta = $('detail-meta')
    meta.replaceChildren(`${m.genres.join(' · ') || 'no genres'} · ${(m.ratingCount ?? 0).toLocaleString('en-US')} ratings${mean} `)
    for (const [name, href] of Object.entries(m.links)) meta.append(' ', el('a', { href, textContent: name, target: '_blank', rel: 'noopener' }))
    $('detail-rate').replaceChildren(stars(m))
    $('similar').replaceChildren(
      ...similar.map((s) => {
        remember(s)
        return el('li', {}, titleButton(s), el('span', { className: 'genres', textContent: s.genres.join(' · ') }), el('span', { className: 'predicted', textContent: `cos ${s.score.toFixed(2)}` }), stars(s))
      }),
    )
    panel.scrollIntoView({ block: 'nearest', behavior: 'smooth' })
  }

  // ---- controls ----
  const genreFilter = $('genre-filter') as HTMLSelectElement
  for (const g of info.genres) genreFilter.append(el('option', { value: g, textContent: g }))
  genreFilter.value = info.genres.includes(state.genre) ? state.genre : ''
  genreFilter.addEventListener('change', () => {
    state.genre = genreFilter.value
    changed()
  })
  const diversity = $('diversity') as HTMLInputElement
  diversity.value = String(state.diversity)
  $('diversity-value').textContent = diversity.value
  diversity.addEventListener('input', () => {
    state.diversity = Number(diversity.value)
    $('diversity-value').textContent = diversity.value
    changed()
  })
  const liked = $('liked-genres')
  for (const g of info.genres) {
    const b = el('button', { type: 'button', textContent: g })
    b.setAttribute('aria-pressed', String(state.liked.has(g)))
    b.addEventListener('click', () => {
      if (state.liked.has(g)) state.liked.delete(g)
      else state.liked.add(g)
      b.setAttribute('aria-pressed', String(state.liked.has(g)))
      changed()
    })
    liked.append(b)
  }
  $('clear-ratings').addEventListener('click', () => {
    state.ratings.clear()
    changed()
    renderSearchStars()
  })
  $('legend').replaceChildren(
    ...info.genres.map((g, i) => {
      const dot = el('span')
      // Through the CSSOM: the page's CSP refuses inline style attributes.
      dot.style.background = PALETTE[i % PALETTE.length] ?? '#888'
      return el('li', {}, dot, g)
    }),
  )

  renderRatings()
  void refresh()
  // Titles of ratings that came from a shared link.
  for (const [id, r] of state.ratings) {
    if (r.title === '')
      void backend.movie(id).then((m) => {
        remember(m)
        r.title = label(m)
        renderRatings()
      })
  }
  const data = await backend.map()
  map.setData(data)
  updateMap()
  document.body.dataset.ready = 'true'
}
