import test from 'ava'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { root } from './helpers.js'

const script = path.join(root, 'scripts', 'check-rust-cycles.mjs')
const tmp = mkdtempSync(path.join(os.tmpdir(), 'alsrec-rust-cycles-'))
test.after.always(() => rmSync(tmp, { recursive: true, force: true }))

interface Loc { file: string; line: number; test: boolean; text: string }
interface Edge { from: string; to: string; test: boolean; locations: Loc[] }
interface Cycle { modules: string[]; edges: Array<{ from: string; to: string; locations: Loc[] }> }
interface Graph {
  crates: Array<{ crate: string; modules: Array<{ name: string; test: boolean }>; edges: Edge[]; cycles: Cycle[]; testCycles: Cycle[] }>
}

const run = (...args: string[]) => spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', cwd: root })

let crateNo = 0
/** A fake crate `<tmp>/<name>/src` holding the given files; returns its src directory. */
function fakeCrate(name: string, files: Record<string, string>): string {
  const src = path.join(tmp, `${crateNo++}`, name, 'src')
  for (const [file, body] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(src, file)), { recursive: true })
    writeFileSync(path.join(src, file), body)
  }
  return src
}

function graphOf(src: string) {
  const r = run('--json', src)
  const g = JSON.parse(r.stdout) as Graph
  const only = g.crates[0]
  if (!only) throw new Error(`no crate in ${r.stdout}`)
  return { status: r.status, crate: only, edges: only.edges.map((e) => `${e.from} -> ${e.to}${e.test ? ' [test]' : ''}`).sort() }
}

test('the real crates have no circular imports between modules', (t) => {
  const r = run()
  t.is(r.status, 0, `${r.stdout}\n${r.stderr}`)
  t.regex(r.stdout, /^alsrec-core: no cycles among \d+ modules \(\d+ edges\)$/m)
  t.regex(r.stdout, /^alsrec-node: no cycles among \d+ modules \(\d+ edges\)$/m)
})

test('sibling and parent ⇄ child cycles fail with file:line; a test-only cycle is a warning', (t) => {
  const src = fakeCrate('fake', {
    'lib.rs': '//! Declares and re-exports: no edges.\npub mod a;\npub mod b;\npub mod c;\npub mod e;\n#[cfg(test)]\nmod t;\npub use a::f;\n',
    'a.rs': 'use crate::b::X;\n\npub fn f() -> X {\n    X\n}\n',
    'b.rs': 'pub struct X;\n\npub fn g() {\n    let _ = crate::a::f();\n}\n',
    'c/mod.rs': 'pub mod d;\n\npub struct Shared;\n\npub fn run() {\n    d::helper();\n}\n',
    'c/d.rs': 'use super::Shared;\n\npub fn helper() -> Option<Shared> {\n    None\n}\n',
    'e.rs': 'pub fn thing() {}\n\n#[cfg(test)]\nmod tests {\n    use crate::t::helper;\n\n    #[test]\n    fn works() {\n        helper();\n    }\n}\n',
    't.rs': 'pub fn helper() {\n    crate::e::thing();\n}\n',
  })

  const r = run(src)
  t.is(r.status, 1, r.stdout + r.stderr)
  const out = r.stdout
  t.regex(out, /^fake: 2 cycles among 5 modules \(4 edges\)$/m)
  t.regex(out, /^error: fake: cycle 1 \(2 modules\): a, b$/m)
  t.regex(out, /^error: fake: cycle 2 \(2 modules\): c, c::d$/m)
  t.regex(out, /^warning: fake: test-code cycle 1 \(2 modules\): e, t$/m)
  t.notRegex(out, /^error:.*\b[et]\b/m, 'the test-only cycle is no error')
  // Each edge of a cycle names the line that creates it.
  const file = (f: string) => path.join(src, f) // outside the working directory: absolute
  for (const where of [`${file('a.rs')}:1  use crate::b::X`, `${file('b.rs')}:4  crate::a::f`, `${file('c/mod.rs')}:6  d::helper`, `${file('c/d.rs')}:1  use super::Shared`]) {
    t.true(out.includes(where), `${where} in\n${out}`)
  }
  t.true(out.includes(`${file('e.rs')}:5  use crate::t::helper  [test]`), out)

  const g = graphOf(src)
  t.is(g.status, 1)
  t.deepEqual(g.edges, ['a -> b', 'b -> a', 'c -> c::d', 'c::d -> c', 'e -> t [test]', 't -> e [test]'])
  t.deepEqual(g.crate.cycles.map((c) => c.modules), [['a', 'b'], ['c', 'c::d']])
  t.deepEqual(g.crate.testCycles.map((c) => c.modules), [['e', 't']])
  t.like(g.crate.modules.find((m) => m.name === 't'), { name: 't', test: true }, 'declared under #[cfg(test)]')
})

test('paths in comments, strings and char literals create no edge', (t) => {
  const src = fakeCrate('quiet', {
    'lib.rs': 'mod a;\nmod b;\nmod c;\n',
    'a.rs': [
      '// A comment naming crate::c::helper does not count,',
      '/* nor a block /* nested */ crate::c::helper */',
      '/// nor a doc link [`crate::c::helper`].',
      '//! nor an inner doc comment: super::c::helper',
      'pub fn quote() -> char {',
      "    let _s = \"use crate::c::helper; \\\" crate::c::helper\";",
      "    let _r = r#\"crate::c::helper \"# ;",
      "    let _b = b\"super::c::helper\";",
      "    '\"' // a quote char: the string after it must stay a string",
      '}',
      "pub fn apostrophe<'a>(x: &'a str) -> &'a str {",
      "    let _q = '\\'';",
      '    let _s = "crate::c::helper";',
      '    x',
      '}',
      'pub fn real() {',
      '    crate::b::used();',
      '}',
      '',
    ].join('\n'),
    'b.rs': 'pub fn used() {}\n',
    'c.rs': 'pub fn helper() {}\n',
  })
  const g = graphOf(src)
  t.is(g.status, 0)
  t.deepEqual(g.edges, ['a -> b'])
  const r = run(src)
  t.is(r.status, 0, r.stdout + r.stderr)
  t.regex(r.stdout, /^quiet: no cycles among 3 modules \(1 edges\)$/m)
})

test('grouped imports, aliases, root re-exports and super:: in an inline module resolve to the deepest module', (t) => {
  const src = fakeCrate('paths', {
    'lib.rs': 'pub mod a;\npub mod p;\npub mod r;\n\npub use r::t::Item;\n',
    'a.rs': [
      'use crate::{p::q, r::{s, t as tee}};',
      '',
      'pub fn f() {',
      '    let _ = tee::Item;',
      '    let _ = crate::Item;',
      '    self::g();',
      '    crate::a::g();',
      '    q::h();',
      '    s::k();',
      '}',
      '',
      'fn g() {}',
      '',
    ].join('\n'),
    'p.rs': 'pub mod q;\n',
    'p/q.rs': 'pub fn h() {}\n',
    'r/mod.rs': 'pub mod s;\npub mod t;\n',
    'r/s.rs': 'pub fn k() {}\n\n#[cfg(test)]\nmod tests {\n    use super::super::t::Item;\n}\n',
    'r/t.rs': 'pub struct Item;\n',
  })
  const g = graphOf(src)
  t.is(g.status, 0)
  t.deepEqual(g.edges, ['a -> p::q', 'a -> r::s', 'a -> r::t', 'r::s -> r::t [test]'])
  const tee = g.crate.edges.find((e) => e.from === 'a' && e.to === 'r::t')
  t.deepEqual(tee?.locations.map((l) => l.line), [1, 4, 5], 'the import, the alias and the crate-root re-export')
})
