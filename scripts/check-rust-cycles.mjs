// `node scripts/check-rust-cycles.mjs [--json] [crateSrcRoot...]`: proves that no two Rust modules
// import each other, directly or through others. It stands in for `cargo modules dependencies
// --acyclic`, which needs a rust-analyzer build on every fresh CI machine. It reads the sources
// only: a lexer that skips comments, strings and char literals, and a path resolver that knows the
// module tree, `use` imports (groups, aliases, `self`, globs) and the crate root's re-exports.
//
// Crate roots default to crates/alsrec-core/src and crates/alsrec-node/src. For each crate:
//   - modules: `lib.rs` (or `main.rs`) is the root; `mod x;` loads `x.rs` or `x/mod.rs` (or
//     `#[path = "…"]`); inline `mod x { … }` blocks belong to the module of their file. The root is
//     not a node of the graph: it only declares modules and re-exports the public API, and paths
//     through its re-exports (`crate::Model`) resolve to where the item lives (`model`).
//   - edges: module A → module B when A's code names a path that resolves into B (`use crate::…`,
//     `super::…`, `self::…`, `child::…`, an imported name, in `use` lines or anywhere in the code),
//     resolved to the deepest module (`crate::query::topn::Scored` → `query::topn`). Declaring a
//     child (`mod x;`) is not an edge, but using it is, and so is a child using its parent's
//     items: parent ⇄ child mutual use is a cycle (shared types go to their own leaf module).
//     Self-references are ignored. Paths into other crates of the run (`alsrec_core::…` from
//     alsrec-node) are external: listed by `--json`, never edges.
//   - test code: modules declared under `#[cfg(test)]`, items under `#[cfg(test)]` (inline
//     `mod tests { … }`) and `#[test]` functions. The check runs twice: the library graph without
//     test code, whose cycles fail the check (exit 1), and the graph with test code, whose extra
//     cycles are printed as warnings.
// Exit codes: 0 no library cycle, 1 library cycle, 2 usage error or unreadable crate.
// `--json` prints the graph (modules, edges with file:line, external references, cycles) instead
// of the report, with the same exit code.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const DEFAULT_ROOTS = ['crates/alsrec-core/src', 'crates/alsrec-node/src'].map((p) => path.join(REPO, p))
/** Locations listed per edge in the text report; `--json` has them all. */
const SHOWN_LOCATIONS = 3

class UsageError extends Error {}

// ---------------------------------------------------------------------------------------------
// Lexer: identifiers, `::`, punctuation, literals. Comments vanish; string, char and number
// literals become opaque tokens, so nothing inside them can look like a path.

const ID_START = /[\p{XID_Start}_]/u
const ID_CONTINUE = /\p{XID_Continue}/u

/**
 * @typedef {{ t: 'id' | 'p' | 'str' | 'char' | 'lt' | 'num', v: string, line: number, raw?: boolean }} Token
 * @param {string} src
 * @returns {Token[]}
 */
export function lex(src) {
  /** @type {Token[]} */
  const toks = []
  const n = src.length
  let i = 0
  let line = 1
  const countLines = (from, to) => {
    for (let j = from; j < to; j++) if (src.charCodeAt(j) === 10) line++
  }
  const identEnd = (from) => {
    let j = from
    while (j < n) {
      const cp = src.codePointAt(j)
      const c = String.fromCodePoint(cp)
      if (!ID_CONTINUE.test(c)) break
      j += c.length
    }
    return j
  }
  /** Index just past the closing quote of an escaped string whose body starts at `from`. */
  const stringEnd = (from) => {
    let j = from
    while (j < n && src[j] !== '"') j += src[j] === '\\' ? 2 : 1
    return Math.min(j + 1, n)
  }
  /** Index just past `"###` closing a raw string with `hashes` hashes whose body starts at `from`. */
  const rawStringEnd = (from, hashes) => {
    const close = '"' + '#'.repeat(hashes)
    const j = src.indexOf(close, from)
    return j < 0 ? n : j + close.length
  }
  /** Index just past a char literal whose opening quote is at `at`, or -1 if it is a lifetime. */
  const charEnd = (at) => {
    if (src[at + 1] === '\\') {
      let j = at + 3
      while (j < n && src[j] !== "'" && src[j] !== '\n') j++
      return j + 1
    }
    const cp = src.codePointAt(at + 1)
    if (cp === undefined) return -1
    const len = cp > 0xffff ? 2 : 1
    return src[at + 1 + len] === "'" ? at + 2 + len : -1
  }

  while (i < n) {
    const ch = src[i]
    if (ch === '\n') {
      line++
      i++
    } else if (/\s/.test(ch)) {
      i++
    } else if (ch === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') i++
    } else if (ch === '/' && src[i + 1] === '*') {
      // Block comments nest in Rust.
      let depth = 1
      let j = i + 2
      while (j < n && depth > 0) {
        if (src[j] === '/' && src[j + 1] === '*') {
          depth++
          j += 2
        } else if (src[j] === '*' && src[j + 1] === '/') {
          depth--
          j += 2
        } else j++
      }
      countLines(i, j)
      i = j
    } else if (ch === '"') {
      const j = stringEnd(i + 1)
      toks.push({ t: 'str', v: src.slice(i + 1, j - 1), line })
      countLines(i, j)
      i = j
    } else if (ch === "'") {
      const j = charEnd(i)
      if (j > 0) {
        toks.push({ t: 'char', v: src.slice(i, j), line })
        i = j
      } else {
        const j2 = identEnd(i + 1)
        toks.push({ t: 'lt', v: src.slice(i, j2), line })
        i = Math.max(j2, i + 1)
      }
    } else if (ID_START.test(String.fromCodePoint(src.codePointAt(i)))) {
      const j = identEnd(i)
      const word = src.slice(i, j)
      const next = src[j]
      if ((word === 'b' || word === 'c') && next === '"') {
        const e = stringEnd(j + 1)
        toks.push({ t: 'str', v: src.slice(j + 1, e - 1), line })
        countLines(i, e)
        i = e
      } else if (word === 'b' && next === "'" && charEnd(j) > 0) {
        const e = charEnd(j)
        toks.push({ t: 'char', v: src.slice(i, e), line })
        i = e
      } else if ((word === 'r' || word === 'br' || word === 'cr') && (next === '"' || (next === '#' && /^#+"/.test(src.slice(j, j + 256))))) {
        let h = 0
        while (src[j + h] === '#') h++
        const body = j + h + 1
        const e = rawStringEnd(body, h)
        toks.push({ t: 'str', v: src.slice(body, e - 1 - h), line })
        countLines(i, e)
        i = e
      } else if (word === 'r' && next === '#' && j + 1 < n && ID_START.test(String.fromCodePoint(src.codePointAt(j + 1)))) {
        const e = identEnd(j + 1)
        toks.push({ t: 'id', v: src.slice(j + 1, e), line, raw: true })
        i = e
      } else {
        toks.push({ t: 'id', v: word, line })
        i = j
      }
    } else if (ch >= '0' && ch <= '9') {
      let j = i
      for (;;) {
        while (j < n && /[0-9A-Za-z_]/.test(src[j])) j++
        if (src[j] === '.' && /[0-9]/.test(src[j + 1] ?? '')) j++
        else break
      }
      toks.push({ t: 'num', v: src.slice(i, j), line })
      i = j
    } else if (ch === ':' && src[i + 1] === ':') {
      toks.push({ t: 'p', v: '::', line })
      i += 2
    } else {
      const c = String.fromCodePoint(src.codePointAt(i))
      toks.push({ t: 'p', v: c, line })
      i += c.length
    }
  }
  return toks
}

// ---------------------------------------------------------------------------------------------
// File parser: module declarations, inline modules, `use` trees and paths, each with the inline
// module it sits in (its scope), its line, and whether it is test code.

const isP = (tok, v) => tok !== undefined && tok.t === 'p' && tok.v === v
const isKw = (tok, v) => tok !== undefined && tok.t === 'id' && !tok.raw && tok.v === v

/** Index of the bracket closing each opening bracket (and vice versa); unmatched ones point past the end. */
function matchBrackets(toks) {
  const match = new Array(toks.length).fill(-1)
  const open = { '(': ')', '[': ']', '{': '}' }
  const st = []
  for (let k = 0; k < toks.length; k++) {
    const tok = toks[k]
    if (tok.t !== 'p') continue
    if (open[tok.v]) st.push(k)
    else if (tok.v === ')' || tok.v === ']' || tok.v === '}') {
      let s = st.length - 1
      while (s >= 0 && open[toks[st[s]].v] !== tok.v) s--
      if (s < 0) continue
      const o = st[s]
      for (const lost of st.splice(s)) match[lost] = toks.length
      match[o] = k
      match[k] = o
    }
  }
  for (const lost of st) match[lost] = toks.length
  return match
}

/** Does a `cfg(…)` predicate (tokens from after `cfg(` to before its `)`) hold only under test? */
function cfgNeedsTest(toks, from, to, match) {
  const args = [] // [start, end) of each comma-separated argument
  let start = from
  for (let k = from; k < to; k++) {
    if (isP(toks[k], '(') || isP(toks[k], '[')) k = match[k]
    else if (isP(toks[k], ',')) {
      args.push([start, k])
      start = k + 1
    }
  }
  if (start < to) args.push([start, to])
  const one = ([s, e]) => {
    const head = toks[s]
    if (head?.t !== 'id') return false
    if (head.v === 'test' && e === s + 1) return true
    if (!isP(toks[s + 1], '(')) return false
    const close = match[s + 1]
    if (head.v === 'all') return cfgNeedsTest(toks, s + 2, close, match).some
    if (head.v === 'any') return cfgNeedsTest(toks, s + 2, close, match).every
    return false // not(…) and anything else
  }
  const results = args.map(one)
  return { some: results.some(Boolean), every: results.length > 0 && results.every(Boolean) }
}

/** Item keywords whose item ends at a `;` even after a `{ … }` block (`const X: T = T { … };`). */
const SEMI_ITEMS = new Set(['use', 'const', 'static', 'type', 'let', 'extern'])

/** Index of the last token of the item starting at `k`. */
function itemEnd(toks, k, match) {
  let j = k
  // Skip visibility and qualifiers to find the item keyword.
  for (;;) {
    const tok = toks[j]
    if (isKw(tok, 'pub')) {
      j++
      if (isP(toks[j], '(')) j = match[j] + 1
    } else if (isKw(tok, 'unsafe') || isKw(tok, 'async') || isKw(tok, 'default')) j++
    else if (isKw(tok, 'extern') && toks[j + 1]?.t === 'str') j += 2
    else if (isKw(tok, 'const') && (isKw(toks[j + 1], 'fn') || isKw(toks[j + 1], 'unsafe') || isKw(toks[j + 1], 'async'))) j++
    else break
  }
  const semiOnly = toks[j]?.t === 'id' && SEMI_ITEMS.has(toks[j].v) && !(toks[j].v === 'extern' && isP(toks[j + 1], '{'))
  for (; j < toks.length; j++) {
    const tok = toks[j]
    if (tok.t !== 'p') continue
    if (tok.v === ';') return j
    if (tok.v === '{') {
      if (!semiOnly) return Math.min(match[j], toks.length - 1)
      j = match[j]
    } else if (tok.v === '(' || tok.v === '[') j = match[j]
    else if (tok.v === '}' || tok.v === ')' || tok.v === ']') return j - 1
  }
  return toks.length - 1
}

/**
 * @typedef {{ scope: string[], segs: string[], line: number, test: boolean, text: string, inUse: boolean, glob?: boolean, name?: string | null }} PathUse
 * @typedef {{ name: string, line: number, test: boolean, pathAttr: string | null, scope: string[] }} ModDecl
 * @typedef {{ decls: ModDecl[], inline: { scope: string[], test: boolean }[], paths: PathUse[], fileTest: boolean }} ParsedFile
 * @param {string} src
 * @returns {ParsedFile}
 */
export function parseRust(src) {
  const toks = lex(src)
  const match = matchBrackets(toks)
  /** @type {ModDecl[]} */
  const decls = []
  const inline = []
  /** @type {PathUse[]} */
  const paths = []
  let fileTest = false
  /** Brace frames: inline module frames carry the module's name. */
  const frames = []
  let testEnd = -1 // last token index of the innermost enclosing test-only item
  let pending = { test: false, path: /** @type {string | null} */ (null), any: false }

  const scope = () => frames.filter((f) => f.mod !== null).map((f) => f.mod)
  const inTest = (k) => fileTest || k <= testEnd || frames.some((f) => f.test)

  /** Parses a use tree at `k`; pushes leaves; returns the index after it. */
  const useTree = (k, prefix, test, sc) => {
    const segs = [...prefix]
    for (;;) {
      const tok = toks[k]
      if (tok === undefined) return k
      if (isP(tok, '::')) {
        if (segs.length === 0) segs.push('') // leading `::`: an external crate
        k++
      } else if (isP(tok, '{')) {
        const close = match[k] < toks.length ? match[k] : toks.length
        k++
        while (k < close) {
          const before = k
          k = useTree(k, segs, test, sc)
          if (isP(toks[k], ',')) k++
          if (k === before) k++ // unparsable: move on
        }
        return close + 1
      } else if (isP(tok, '*')) {
        paths.push({ scope: sc, segs, line: tok.line, test, text: [...segs, '*'].join('::'), inUse: true, glob: true, name: null })
        return k + 1
      } else if (tok.t === 'id') {
        segs.push(tok.v)
        k++
        if (isP(toks[k], '::')) {
          k++
          continue
        }
        let name = segs.at(-1)
        let text = segs.join('::')
        let target = segs
        if (name === 'self') {
          target = segs.slice(0, -1)
          name = target.at(-1)
          text = `${target.join('::')}::{self}`
        }
        if (isKw(toks[k], 'as') && toks[k + 1]?.t === 'id') {
          name = toks[k + 1].v === '_' ? null : toks[k + 1].v
          k += 2
        }
        paths.push({ scope: sc, segs: target, line: tok.line, test, text, inUse: true, glob: false, name })
        return k
      } else return k
    }
  }

  for (let k = 0; k < toks.length; k++) {
    const tok = toks[k]
    // Attributes: `#[…]` applies to the next item, `#![…]` to the enclosing module.
    if (isP(tok, '#') && (isP(toks[k + 1], '[') || (isP(toks[k + 1], '!') && isP(toks[k + 2], '[')))) {
      const innerAttr = isP(toks[k + 1], '!')
      const open = innerAttr ? k + 2 : k + 1
      const close = Math.min(match[open], toks.length - 1)
      const head = toks[open + 1]
      let test = false
      if (isKw(head, 'cfg') && isP(toks[open + 2], '(')) test = cfgNeedsTest(toks, open + 3, match[open + 2], match).some
      else if ((isKw(head, 'test') || isKw(head, 'bench')) && close === open + 2) test = true
      if (innerAttr) {
        if (test) {
          const f = frames.findLast((fr) => fr.mod !== null)
          if (f) f.test = true
          else fileTest = true
        }
      } else {
        pending.any = true
        pending.test ||= test
        if (isKw(head, 'path') && isP(toks[open + 2], '=') && toks[open + 3]?.t === 'str') pending.path = toks[open + 3].v
      }
      k = close
      continue
    }
    let pathAttr = null
    if (pending.any) {
      if (pending.test) testEnd = Math.max(testEnd, itemEnd(toks, k, match))
      pathAttr = pending.path
      pending = { test: false, path: null, any: false }
    }
    if (isP(tok, '{')) {
      frames.push({ mod: null, test: false })
      continue
    }
    if (isP(tok, '}')) {
      frames.pop()
      continue
    }
    if (isKw(tok, 'mod') && toks[k + 1]?.t === 'id') {
      const name = toks[k + 1].v
      if (isP(toks[k + 2], ';')) {
        decls.push({ name, line: tok.line, test: inTest(k), pathAttr, scope: scope() })
        k += 2
        continue
      }
      if (isP(toks[k + 2], '{')) {
        const test = inTest(k)
        frames.push({ mod: name, test })
        inline.push({ scope: scope(), test })
        k += 2
        continue
      }
    }
    if (isKw(tok, 'use')) {
      const end = useTree(k + 1, [], inTest(k), scope())
      k = end - 1
      while (k + 1 < toks.length && !isP(toks[k + 1], ';') && !isP(toks[k + 1], '{') && !isP(toks[k + 1], '}')) k++
      continue
    }
    // A path: `a::b::c`, `crate::…`, `::ext::…`, not in the middle of another one.
    const prev = toks[k - 1]
    const leadingColons = isP(tok, '::') && toks[k + 1]?.t === 'id' && !(prev && (prev.t === 'id' || isP(prev, '>') || isP(prev, ')') || isP(prev, ']')))
    if ((tok.t === 'id' && !isP(prev, '::')) || leadingColons) {
      const segs = leadingColons ? [''] : [tok.v]
      let j = k + 1
      if (leadingColons) {
        segs.push(toks[j].v)
        j++
      }
      while (isP(toks[j], '::') && toks[j + 1]?.t === 'id') {
        segs.push(toks[j + 1].v)
        j += 2
      }
      // `pub(in crate::a)` names a visibility scope, not a dependency.
      const visibility = isKw(prev, 'in') && isP(toks[k - 2], '(') && isKw(toks[k - 3], 'pub')
      if (segs.length >= 2 && !visibility) {
        paths.push({ scope: scope(), segs, line: tok.line, test: inTest(k), text: segs.join('::'), inUse: false })
      }
      k = j - 1
    }
  }
  return { decls, inline, paths, fileTest }
}

// ---------------------------------------------------------------------------------------------
// Crates: the module tree from the files, then every path resolved to a module.

function crateName(srcRoot) {
  const manifest = path.join(srcRoot, '..', 'Cargo.toml')
  if (existsSync(manifest)) {
    const text = readFileSync(manifest, 'utf8')
    const pkg = text.split(/^\s*\[/m).find((s) => s.startsWith('package]'))
    const m = pkg?.match(/^\s*name\s*=\s*"([^"]+)"/m)
    if (m) return m[1]
  }
  return path.basename(path.resolve(srcRoot, '..'))
}

const key = (segs) => segs.join('::')

/**
 * @typedef {{ key: string, segs: string[], file: string, inline: boolean, test: boolean, fileModule: string,
 *   children: Map<string, string>, imports: Map<string, PathUse>, globs: PathUse[], parsed?: ParsedFile }} Module
 */
function loadCrate(srcRoot) {
  const root = path.resolve(srcRoot)
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new UsageError(`${srcRoot}: not a directory`)
  const rootFile = ['lib.rs', 'main.rs'].map((f) => path.join(root, f)).find((f) => existsSync(f))
  if (!rootFile) throw new UsageError(`${srcRoot}: neither lib.rs nor main.rs`)
  const name = crateName(root)
  /** @type {Map<string, Module>} */
  const modules = new Map()
  const files = new Set()
  const problems = []

  const node = (segs, file, inline, test, fileModule) => {
    const m = { key: key(segs), segs, file, inline, test, fileModule, children: new Map(), imports: new Map(), globs: [] }
    modules.set(m.key, m)
    if (segs.length > 0) modules.get(key(segs.slice(0, -1)))?.children.set(segs.at(-1), m.key)
    return m
  }

  const addFile = (segs, file, childDir, test) => {
    files.add(file)
    const parsed = parseRust(readFileSync(file, 'utf8'))
    const m = node(segs, file, false, test || parsed.fileTest, key(segs))
    m.parsed = parsed
    // Inline modules come in source order, so a parent before its children.
    for (const im of parsed.inline) node([...segs, ...im.scope], file, true, m.test || im.test, m.key)
    for (const d of parsed.decls) {
      const dir = path.join(childDir, ...d.scope)
      let target
      let dirOfChild
      if (d.pathAttr !== null) {
        target = path.resolve(d.scope.length === 0 ? path.dirname(file) : dir, d.pathAttr)
        dirOfChild = path.dirname(target)
        if (!existsSync(target)) {
          problems.push(`${rel(file)}:${d.line}: #[path = "${d.pathAttr}"] mod ${d.name}: ${rel(target)} does not exist`)
          continue
        }
      } else {
        const flat = path.join(dir, `${d.name}.rs`)
        const nested = path.join(dir, d.name, 'mod.rs')
        if (existsSync(flat) && existsSync(nested)) {
          problems.push(`${rel(file)}:${d.line}: mod ${d.name}: both ${rel(flat)} and ${rel(nested)} exist`)
          continue
        }
        target = existsSync(flat) ? flat : nested
        if (!existsSync(target)) {
          problems.push(`${rel(file)}:${d.line}: mod ${d.name}: neither ${rel(flat)} nor ${rel(nested)} exists`)
          continue
        }
        dirOfChild = target === flat ? path.join(dir, d.name) : path.dirname(nested)
      }
      if (files.has(target)) {
        problems.push(`${rel(file)}:${d.line}: mod ${d.name}: ${rel(target)} is already a module`)
        continue
      }
      const scopeTest = d.scope.length === 0 ? m.test : modules.get(key([...segs, ...d.scope]))?.test
      addFile([...segs, ...d.scope, d.name], target, dirOfChild, Boolean(scopeTest) || d.test)
    }
  }
  addFile([], rootFile, root, false)

  // Imports per scope (a file's module or an inline module in it).
  for (const m of modules.values()) {
    if (m.inline) continue
    for (const p of m.parsed.paths) {
      if (!p.inUse) continue
      const scope = modules.get(key([...m.segs, ...p.scope])) ?? m
      if (p.glob) scope.globs.push(p)
      else if (p.name) scope.imports.set(p.name, p)
    }
  }
  const unreachable = listRs(root).filter((f) => !files.has(f))
  return { name, rustName: name.replace(/-/g, '_'), root, modules, problems, unreachable }
}

function listRs(dir) {
  const out = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...listRs(p))
    else if (e.name.endsWith('.rs')) out.push(p)
  }
  return out.sort()
}

/** A path for the report: relative to the working directory, absolute outside it. */
const rel = (file) => {
  const r = path.relative(process.cwd(), file)
  return r === '' || r.startsWith('..') || path.isAbsolute(r) ? path.resolve(file) : r
}

/**
 * Resolves paths against one crate's tree. Results: `{ mod, rest }` (the deepest module and the
 * segments past it), `{ external, segs }` (another crate of the run), or null (std, a local item…).
 */
function resolver(crate, externs) {
  const { modules } = crate
  const walk = (start, segs, depth) => {
    let k = start
    let i = 0
    while (i < segs.length) {
      const m = modules.get(k)
      const s = segs[i]
      if (m.children.has(s)) {
        k = m.children.get(s)
        i++
        continue
      }
      // The root is no node of the graph: follow its re-exports to where the item lives.
      if (k === '' && m.imports.has(s) && depth < 16) {
        const r = resolve('', m.imports.get(s).segs, depth + 1)
        if (r?.mod !== undefined && r.rest.length === 0) {
          k = r.mod
          i++
          continue
        }
        if (r?.mod !== undefined) return { mod: r.mod, rest: [...r.rest, ...segs.slice(i + 1)] }
        if (r?.external) return { external: r.external, segs: [...r.segs, ...segs.slice(i + 1)] }
      }
      break
    }
    return { mod: k, rest: segs.slice(i) }
  }
  /** The first segment of a relative path, looked up in a scope: children, imports, globs, crates. */
  const active = new Set() // (scope, name) lookups under way: a glob cannot supply its own path
  const memo = new Map()
  const lookup = (scopeKey, name, depth) => {
    const scope = modules.get(scopeKey)
    const id = `${scopeKey}\u0000${name}`
    if (!scope || depth > 16 || active.has(id)) return null
    if (memo.has(id)) return memo.get(id)
    active.add(id)
    let found = null
    if (scope.children.has(name)) found = { mod: scope.children.get(name), rest: [] }
    else if (scope.imports.has(name)) found = resolve(scopeKey, scope.imports.get(name).segs, depth + 1)
    else {
      for (const g of scope.globs) {
        const r = resolve(scopeKey, g.segs, depth + 1)
        if (r?.mod === undefined || r.rest.length > 0 || r.mod === scopeKey) continue
        const target = modules.get(r.mod)
        if (target.children.has(name) || target.imports.has(name)) {
          found = lookup(r.mod, name, depth + 1)
          if (found) break
        }
      }
      if (!found && externs.has(name)) found = { external: name, segs: [name] }
    }
    active.delete(id)
    if (active.size === 0) memo.set(id, found)
    return found
  }
  const resolve = (scopeKey, segs, depth = 0) => {
    if (segs.length === 0) return { mod: scopeKey, rest: [] }
    const [first, ...rest] = segs
    if (first === 'crate') return walk('', rest, depth)
    if (first === 'self') return walk(scopeKey, rest, depth)
    if (first === 'super') {
      let up = modules.get(scopeKey).segs
      let i = 0
      while (segs[i] === 'super') {
        if (up.length === 0) return null
        up = up.slice(0, -1)
        i++
      }
      return walk(key(up), segs.slice(i), depth)
    }
    if (first === '') return externs.has(rest[0]) ? { external: rest[0], segs: rest } : null
    if (first === 'Self') return null
    const r = lookup(scopeKey, first, depth)
    if (!r) return null
    if (r.external) return { external: r.external, segs: [...r.segs, ...rest] }
    if (r.rest.length > 0) return { mod: r.mod, rest: [...r.rest, ...rest] }
    return walk(r.mod, rest, depth)
  }
  return resolve
}

/**
 * @typedef {{ file: string, line: number, test: boolean, text: string }} Loc
 * @typedef {{ from: string, to: string, locations: Loc[] }} Edge
 */
function buildGraph(crate, crates) {
  const externs = new Map(crates.filter((c) => c !== crate).map((c) => [c.rustName, c]))
  const resolve = resolver(crate, new Set(externs.keys()))
  const externalResolvers = new Map([...externs].map(([n, c]) => [n, resolver(c, new Set())]))
  const mods = [...crate.modules.values()].filter((m) => !m.inline && m.key !== '')
  const fileModuleOf = (k) => crate.modules.get(k).fileModule
  /** @type {Map<string, Edge>} */
  const edges = new Map()
  /** @type {Map<string, Edge>} */
  const external = new Map()
  const add = (map, from, to, loc) => {
    const id = `${from}\u0000${to}`
    if (!map.has(id)) map.set(id, { from, to, locations: [] })
    const e = map.get(id)
    // One location per line: a grouped `use a::{B, C}` is one import. A library use beats a test one.
    const same = e.locations.find((l) => l.file === loc.file && l.line === loc.line)
    if (!same) e.locations.push(loc)
    else if (same.test && !loc.test) Object.assign(same, loc)
  }
  for (const m of mods) {
    for (const p of m.parsed.paths) {
      const scopeKey = key([...m.segs, ...p.scope])
      if (!crate.modules.has(scopeKey)) continue
      const r = resolve(scopeKey, p.segs)
      if (!r) continue
      const loc = { file: rel(m.file), line: p.line, test: p.test || m.test, text: p.inUse ? `use ${p.text}` : p.text }
      if (r.external) {
        const er = externalResolvers.get(r.external)('', r.segs.slice(1))
        const to = er?.mod ? `${r.external}::${er.mod}` : r.external
        add(external, m.key, to, loc)
        continue
      }
      const to = fileModuleOf(r.mod)
      if (to === '' || to === m.key) continue
      add(edges, m.key, to, loc)
    }
  }
  const sortLocs = (e) => e.locations.sort((a, b) => Number(a.test) - Number(b.test) || a.file.localeCompare(b.file) || a.line - b.line)
  const list = (map) => [...map.values()].map((e) => (sortLocs(e), e)).sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to))
  return { modules: mods.sort((a, b) => a.key.localeCompare(b.key)), edges: list(edges), external: list(external) }
}

// ---------------------------------------------------------------------------------------------
// Cycles.

/** Tarjan's strongly connected components (iterative); returns the components of size > 1. */
export function tarjan(nodes, adjacency) {
  let next = 0
  const index = new Map()
  const low = new Map()
  const onStack = new Set()
  const stack = []
  const sccs = []
  for (const start of nodes) {
    if (index.has(start)) continue
    const work = [[start, 0]]
    index.set(start, next)
    low.set(start, next++)
    stack.push(start)
    onStack.add(start)
    while (work.length > 0) {
      const top = work.at(-1)
      const [v, i] = top
      const out = adjacency.get(v) ?? []
      if (i < out.length) {
        top[1]++
        const w = out[i]
        if (!index.has(w)) {
          index.set(w, next)
          low.set(w, next++)
          stack.push(w)
          onStack.add(w)
          work.push([w, 0])
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)))
        continue
      }
      work.pop()
      if (work.length > 0) {
        const parent = work.at(-1)[0]
        low.set(parent, Math.min(low.get(parent), low.get(v)))
      }
      if (low.get(v) === index.get(v)) {
        const scc = []
        let w
        do {
          w = stack.pop()
          onStack.delete(w)
          scc.push(w)
        } while (w !== v)
        if (scc.length > 1) sccs.push(scc.sort())
      }
    }
  }
  return sccs.sort((a, b) => a[0].localeCompare(b[0]))
}

/** A shortest cycle through the component's first module, as a list of modules (first = last). */
function exampleCycle(scc, adjacency) {
  const inside = new Set(scc)
  const start = scc[0]
  const prev = new Map()
  const queue = [start]
  while (queue.length > 0) {
    const v = queue.shift()
    for (const w of adjacency.get(v) ?? []) {
      if (!inside.has(w)) continue
      if (w === start) {
        const pathBack = [v]
        while (pathBack[0] !== start) pathBack.unshift(prev.get(pathBack[0]))
        return [...pathBack, start]
      }
      if (!prev.has(w)) {
        prev.set(w, v)
        queue.push(w)
      }
    }
  }
  return [start]
}

function analyse(nodes, edges) {
  const adjacency = new Map(nodes.map((n) => [n, []]))
  for (const e of edges) adjacency.get(e.from)?.push(e.to)
  return tarjan(nodes, adjacency).map((scc) => {
    const inside = new Set(scc)
    return { modules: scc, example: exampleCycle(scc, adjacency), edges: edges.filter((e) => inside.has(e.from) && inside.has(e.to)) }
  })
}

function checkCrate(crate, crates) {
  const graph = buildGraph(crate, crates)
  const libModules = graph.modules.filter((m) => !m.test).map((m) => m.key)
  const libSet = new Set(libModules)
  const libEdges = graph.edges
    .filter((e) => libSet.has(e.from) && libSet.has(e.to) && e.locations.some((l) => !l.test))
    .map((e) => ({ ...e, locations: e.locations.filter((l) => !l.test) }))
  const allModules = graph.modules.map((m) => m.key)
  const library = analyse(libModules, libEdges)
  const libraryKeys = new Set(library.map((c) => c.modules.join('\n')))
  const withTests = analyse(allModules, graph.edges).filter((c) => !libraryKeys.has(c.modules.join('\n')))
  // The folders must layer too: collapse every module to its top-level domain (`query::topn` →
  // `query`), so that two files of different folders cannot lean on each other's folder through
  // a third file (query::a → model, model::b → query::c is a cycle of `query` and `model`).
  const domain = (m) => m.split('::')[0]
  const domainEdges = new Map()
  for (const e of libEdges) {
    const [from, to] = [domain(e.from), domain(e.to)]
    if (from === to) continue
    const k = `${from}\n${to}`
    if (!domainEdges.has(k)) domainEdges.set(k, { from, to, locations: [] })
    domainEdges.get(k).locations.push(...e.locations)
  }
  const domains = [...new Set(libModules.map(domain))]
  const domainCycles = analyse(domains, [...domainEdges.values()])
  return { crate, graph, libModules, libEdges, library, withTests, domains, domainCycles }
}

// ---------------------------------------------------------------------------------------------
// Report.

function formatLoc(l) {
  return `${l.file}:${l.line}  ${l.text}${l.test ? '  [test]' : ''}`
}

function formatCycle(c, label) {
  const lines = [`${label} (${c.modules.length} modules): ${c.modules.join(', ')}`, `  e.g. ${c.example.join(' → ')}`]
  for (const e of c.edges) {
    lines.push(`  ${e.from} → ${e.to}`)
    for (const l of e.locations.slice(0, SHOWN_LOCATIONS)) lines.push(`      ${formatLoc(l)}`)
    if (e.locations.length > SHOWN_LOCATIONS) lines.push(`      (+${e.locations.length - SHOWN_LOCATIONS} more)`)
  }
  return lines.join('\n')
}

function report(results) {
  const out = []
  let failures = 0
  for (const r of results) {
    const name = r.crate.name
    const count = `${r.libModules.length} modules (${r.libEdges.length} edges)`
    if (r.library.length === 0) out.push(`${name}: no cycles among ${count}`)
    else {
      failures += r.library.length
      out.push(`${name}: ${r.library.length} ${r.library.length === 1 ? 'cycle' : 'cycles'} among ${count}`)
      r.library.forEach((c, i) => out.push(formatCycle(c, `error: ${name}: cycle ${i + 1}`)))
    }
    if (r.domainCycles.length === 0) out.push(`${name}: no cycles among its ${r.domains.length} top-level folders`)
    else {
      failures += r.domainCycles.length
      r.domainCycles.forEach((c, i) => out.push(formatCycle(c, `error: ${name}: folder cycle ${i + 1}`)))
    }
    const all = `${r.graph.modules.length} modules (${r.graph.edges.length} edges)`
    if (r.withTests.length === 0) out.push(`${name} with test code: no further cycles among ${all}`)
    else {
      out.push(`${name} with test code: ${r.withTests.length} test-code ${r.withTests.length === 1 ? 'cycle' : 'cycles'} among ${all} (warning only)`)
      r.withTests.forEach((c, i) => out.push(formatCycle(c, `warning: ${name}: test-code cycle ${i + 1}`)))
    }
  }
  if (failures > 0) {
    out.push('')
    out.push(`check-rust-cycles: ${failures} library ${failures === 1 ? 'cycle' : 'cycles'}. Break each by moving what both sides need into a module of its own`)
    out.push('that imports neither (a child using its parent and the parent using that child is a cycle too).')
  }
  return { text: out.join('\n'), failures }
}

function toJson(results) {
  const testModule = (r, k) => r.graph.modules.find((m) => m.key === k)?.test ?? false
  const cycle = (c) => ({ modules: c.modules, example: c.example, edges: c.edges.map((e) => ({ from: e.from, to: e.to, locations: e.locations })) })
  return {
    crates: results.map((r) => ({
      crate: r.crate.name,
      root: rel(r.crate.root),
      modules: r.graph.modules.map((m) => ({ name: m.key, file: rel(m.file), test: m.test })),
      edges: r.graph.edges.map((e) => ({ from: e.from, to: e.to, test: !e.locations.some((l) => !l.test) || testModule(r, e.from) || testModule(r, e.to), locations: e.locations })),
      external: r.graph.external.map((e) => ({ from: e.from, to: e.to, locations: e.locations })),
      cycles: r.library.map(cycle),
      domainCycles: r.domainCycles.map(cycle),
      testCycles: r.withTests.map(cycle),
      unreachableFiles: r.crate.unreachable.map(rel),
    })),
  }
}

const USAGE = `usage: node scripts/check-rust-cycles.mjs [--json] [crateSrcRoot...]
Fails (exit 1) when Rust modules of a crate import each other in a cycle.
Default crate roots: ${DEFAULT_ROOTS.map(rel).join(', ')}`

function main(argv) {
  const json = argv.includes('--json')
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE)
    return 0
  }
  const unknown = argv.find((a) => a.startsWith('-') && a !== '--json')
  if (unknown) throw new UsageError(`unknown option ${unknown}\n${USAGE}`)
  const roots = argv.filter((a) => !a.startsWith('-'))
  const crates = (roots.length > 0 ? roots : DEFAULT_ROOTS).map(loadCrate)
  const problems = crates.flatMap((c) => c.problems)
  if (problems.length > 0) throw new UsageError(`cannot build the module tree:\n  ${problems.join('\n  ')}`)
  for (const c of crates) if (c.unreachable.length > 0 && !json) console.error(`note: ${c.name}: not in the module tree: ${c.unreachable.map(rel).join(', ')}`)
  const results = crates.map((c) => checkCrate(c, crates))
  const { text, failures } = report(results)
  console.log(json ? JSON.stringify(toJson(results), null, 2) : text)
  return failures > 0 ? 1 : 0
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2))
  } catch (e) {
    if (!(e instanceof UsageError)) throw e
    console.error(`check-rust-cycles: ${e.message}`)
    process.exitCode = 2
  }
}
