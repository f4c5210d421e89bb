//! The parallel ratings parser. The file is read in blocks cut at newlines; each block is split
//! into pieces (again at newlines) that the pool parses at once, and the pieces' rows are then
//! interned in file order, so ids get the same dense indices for any thread count.
use super::numbers::MAX_FIELDS;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use rayon::prelude::*;

use super::format::{HeaderRule, RatingsFormat, Resolved};
use super::numbers;
use crate::data::dataset::Triplets;
use crate::data::ids::IdMap;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnBadRow {
    #[default]
    Error,
    Skip,
}

/// What one file's parse saw, before duplicates and filters.
#[derive(Debug, Clone, Default)]
pub struct ParseStats {
    /// Data rows (not the header, not blank lines), good or bad.
    pub rows_read: usize,
    pub blank_lines: usize,
    /// Skipped rows by reason, in first-seen order.
    pub skipped: Vec<(String, usize)>,
    pub has_timestamps: bool,
    pub bytes: u64,
}

impl ParseStats {
    pub fn rows_skipped(&self) -> usize {
        self.skipped.iter().map(|s| s.1).sum()
    }
    fn add_skipped(&mut self, reason: &str, n: usize) {
        match self.skipped.iter_mut().find(|s| s.0 == reason) {
            Some(s) => s.1 += n,
            None => self.skipped.push((reason.to_string(), n)),
        }
    }
}

/// Raw id → dense index, first come first served. Small ids (every MovieLens id) go through a
/// flat table, which is several times faster than hashing 25 million lookups.
#[derive(Debug, Default)]
pub struct Interner {
    dense: Vec<u32>,
    sparse: HashMap<u64, u32>,
    raw: Vec<i64>,
}

const DENSE_LIMIT: u64 = 1 << 22;
const EMPTY: u32 = u32::MAX;

impl Interner {
    pub fn new() -> Self {
        Self::default()
    }

    #[inline]
    pub fn intern(&mut self, id: u64) -> u32 {
        let next = self.raw.len() as u32;
        if id < DENSE_LIMIT {
            let i = id as usize;
            if i >= self.dense.len() {
                let len = (i + 1).max(self.dense.len() * 2).min(DENSE_LIMIT as usize);
                self.dense.resize(len, EMPTY);
            }
            let slot = &mut self.dense[i];
            if *slot == EMPTY {
                *slot = next;
                self.raw.push(id as i64);
            }
            *slot
        } else {
            *self.sparse.entry(id).or_insert_with(|| {
                self.raw.push(id as i64);
                next
            })
        }
    }

    pub fn len(&self) -> usize {
        self.raw.len()
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    pub fn raw_ids(&self) -> &[i64] {
        &self.raw
    }

    pub fn into_idmap(self) -> IdMap {
        IdMap::from_raw(self.raw)
    }
}

pub struct ParseOptions<'a> {
    pub format: &'a RatingsFormat,
    pub on_bad_row: OnBadRow,
    /// Ratings outside [min, max] are bad rows.
    pub scale: Option<(f32, f32)>,
}

#[cfg(not(test))]
const BLOCK: usize = 32 << 20;
/// Small blocks in tests, so that block boundaries and the overlap of parsing and interning
/// are exercised by small files.
#[cfg(test)]
const BLOCK: usize = 64 << 10;

/// The largest |rating| accepted from a file without a rating scale (`ratingScale` lifts it).
pub const PLAUSIBLE_RATING: f32 = 10_000.0;
const TEXT_LIMIT: usize = 120;

/// Parses one ratings file, appending its rows to `out` with ids interned into `users`/`items`.
pub fn read_ratings(
    path: &Path,
    opts: &ParseOptions,
    users: &mut Interner,
    items: &mut Interner,
    out: &mut Triplets,
) -> Result<ParseStats> {
    let mut file = crate::io::files::open_regular(path)?;
    let file_len = file.metadata().map_err(|e| Error::io(path, &e))?.len();
    let mut stats = ParseStats {
        bytes: file_len,
        ..Default::default()
    };
    // No bigger than the file: a 100-byte file must not zero a 32 MB buffer (a file that grows
    // while read still is, block by doubling block).
    let block = BLOCK.min(
        usize::try_from(file_len)
            .unwrap_or(BLOCK)
            .saturating_add(1)
            .max(4096),
    );
    let mut buf: Vec<u8> = Vec::with_capacity(block + (1 << 16));
    let mut eof = fill(&mut file, &mut buf, block, path)?;
    let (resolved, mut pos, line_no) = read_header(path, opts.format, &buf, eof)?;
    stats.has_timestamps = resolved.timestamp.is_some();
    let plain = resolved.user == 0
        && resolved.item == 1
        && resolved.rating == 2
        && match resolved.timestamp {
            Some(t) => t == 3 && resolved.fields == 4,
            None => resolved.fields == 3,
        };
    let ctx = PieceContext {
        delim: &opts.format.delimiter,
        plain_layout: match opts.format.delimiter.as_slice() {
            [d] if plain && !d.is_ascii_digit() && *d != b'.' && *d != b'\n' => Some(*d),
            _ => None,
        },
        cols: resolved,
        scale: opts.scale,
        stop_at_bad: opts.on_bad_row == OnBadRow::Error,
        check_utf8: resolved.fields > 3 + resolved.timestamp.is_some() as usize,
    };
    let timestamps = ctx.cols.timestamp.is_some();
    let mut merged = Merged {
        users,
        items,
        out,
        stats: &mut stats,
        line_no,
        reserved: false,
    };
    // Two sets of pieces, reused from block to block so their buffers are allocated once:
    // while the pool parses one block, the previous one is interned in file order.
    let mut pieces: Vec<Piece> = Vec::new();
    let mut previous: Vec<Piece> = Vec::new();
    let (mut previous_used, mut previous_bytes) = (0usize, 0usize);
    loop {
        // Parse up to the last complete line; the rest moves to the front for the next block.
        let end = if eof {
            buf.len()
        } else {
            match memchr::memrchr(b'\n', &buf[pos..]) {
                Some(i) => pos + i + 1,
                None => pos,
            }
        };
        let (used, done) = rayon::join(
            || parse_block(&buf[pos..end], &ctx, &mut pieces),
            || {
                merged.take(
                    &previous[..previous_used],
                    previous_bytes,
                    file_len,
                    opts,
                    path,
                    timestamps,
                )
            },
        );
        done?;
        std::mem::swap(&mut pieces, &mut previous);
        (previous_used, previous_bytes) = (used, end - pos);
        if eof {
            break;
        }
        buf.drain(..end);
        pos = 0;
        let want = block.max(buf.len() * 2);
        eof = fill(&mut file, &mut buf, want, path)?;
    }
    merged.take(
        &previous[..previous_used],
        previous_bytes,
        file_len,
        opts,
        path,
        timestamps,
    )?;
    Ok(stats)
}

/// Where parsed pieces go, in file order.
struct Merged<'a> {
    users: &'a mut Interner,
    items: &'a mut Interner,
    out: &'a mut Triplets,
    stats: &'a mut ParseStats,
    /// Lines consumed so far, header included.
    line_no: u64,
    reserved: bool,
}

impl Merged<'_> {
    fn take(
        &mut self,
        pieces: &[Piece],
        bytes: usize,
        file_len: u64,
        opts: &ParseOptions,
        path: &Path,
        timestamps: bool,
    ) -> Result<()> {
        let before = self.out.len();
        for piece in pieces {
            if let Some(bad) = &piece.first_bad {
                if opts.on_bad_row == OnBadRow::Error {
                    return Err(bad_row_error(path, self.line_no + bad.line, bad));
                }
            }
            self.line_no += piece.lines;
            self.stats.rows_read += piece.rows;
            self.stats.blank_lines += piece.blank;
            for (reason, n) in &piece.skipped {
                self.stats.add_skipped(reason, *n);
            }
            append(piece, self.users, self.items, self.out, timestamps);
        }
        if !self.reserved && bytes > 0 {
            // Size the arrays once from the first block's row density, instead of doubling
            // them (and briefly holding two copies) all the way up to 25 million rows.
            let per_byte = (self.out.len() - before) as f64 / bytes as f64;
            let estimate = (per_byte * file_len as f64 * 1.02) as usize;
            self.out
                .reserve(estimate.saturating_sub(self.out.len()), timestamps);
            self.reserved = true;
        }
        Ok(())
    }
}

/// Reads until `buf` holds `target` bytes or the file ends; true at the end.
fn fill(file: &mut std::fs::File, buf: &mut Vec<u8>, target: usize, path: &Path) -> Result<bool> {
    while buf.len() < target {
        let start = buf.len();
        buf.resize(target, 0);
        match file.read(&mut buf[start..]) {
            Ok(0) => {
                buf.truncate(start);
                return Ok(true);
            }
            Ok(n) => buf.truncate(start + n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => buf.truncate(start),
            Err(e) => return Err(Error::io(path, &e)),
        }
    }
    Ok(false)
}

fn first_line(buf: &[u8]) -> (&[u8], usize) {
    let end = memchr::memchr(b'\n', buf)
        .map(|i| i + 1)
        .unwrap_or(buf.len());
    (strip_eol(&buf[..end]), end)
}

fn strip_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Checks the header (or, without one, counts the first line's fields). Returns the columns,
/// where data starts in `buf`, and the number of lines consumed.
fn read_header(
    path: &Path,
    format: &RatingsFormat,
    buf: &[u8],
    eof: bool,
) -> Result<(Resolved, usize, u64)> {
    let body = buf.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(buf);
    let bom = buf.len() - body.len();
    if body.trim_ascii().is_empty() && eof {
        return Err(Error::invalid_data(format!(
            "{}: the file is empty",
            path.display()
        )));
    }
    let (line, end) = first_line(body);
    let mut fields = [&b""[..]; MAX_FIELDS];
    let n = split_fields(line, &format.delimiter, &mut fields);
    let text = || String::from_utf8_lossy(&line[..line.len().min(TEXT_LIMIT)]).into_owned();
    match &format.header {
        HeaderRule::None => Ok((format.resolve(None, n, path)?, bom, 0)),
        HeaderRule::Expect(names) => {
            let ok = n >= names.len()
                && names
                    .iter()
                    .zip(&fields)
                    .all(|(e, f)| f.trim_ascii().eq_ignore_ascii_case(e.as_bytes()));
            if !ok {
                return Err(Error::invalid_data(format!(
                    "{} line 1: expected the header {} (MovieLens ratings.csv), found {:?}",
                    path.display(),
                    names.join(","),
                    text()
                )));
            }
            Ok((format.resolve(None, n.min(MAX_FIELDS), path)?, bom + end, 1))
        }
        HeaderRule::Named => {
            let names: Vec<String> = fields[..n.min(MAX_FIELDS)]
                .iter()
                .map(|f| String::from_utf8_lossy(f.trim_ascii()).into_owned())
                .collect();
            Ok((format.resolve(Some(&names), n, path)?, bom + end, 1))
        }
    }
}

/// Splits `line` into `out`; returns the field count (which may exceed `out.len()`).
#[inline]
fn split_fields<'a>(line: &'a [u8], delim: &[u8], out: &mut [&'a [u8]; MAX_FIELDS]) -> usize {
    let mut n = 0;
    let mut start = 0;
    if let [d] = delim {
        for i in memchr::memchr_iter(*d, line) {
            if n < MAX_FIELDS {
                out[n] = &line[start..i];
            }
            n += 1;
            start = i + 1;
        }
    } else {
        let finder = memchr::memmem::Finder::new(delim);
        for i in finder.find_iter(line) {
            // Non-overlapping matches only ("a:::b" splits once, as a plain split would).
            if i < start {
                continue;
            }
            if n < MAX_FIELDS {
                out[n] = &line[start..i];
            }
            n += 1;
            start = i + delim.len();
        }
    }
    if n < MAX_FIELDS {
        out[n] = &line[start..];
    }
    n + 1
}

struct PieceContext<'a> {
    delim: &'a [u8],
    /// The delimiter when the columns are user, item, rating[, timestamp] in that order: such
    /// lines take the one-pass fast path.
    plain_layout: Option<u8>,
    cols: Resolved,
    scale: Option<(f32, f32)>,
    stop_at_bad: bool,
    check_utf8: bool,
}

struct BadRow {
    /// 1-based line within the piece.
    line: u64,
    why: String,
    text: String,
    no_newline: bool,
}

#[derive(Default)]
struct Piece {
    users: Vec<u64>,
    items: Vec<u64>,
    ratings: Vec<f32>,
    timestamps: Vec<i64>,
    lines: u64,
    rows: usize,
    blank: usize,
    skipped: Vec<(String, usize)>,
    first_bad: Option<BadRow>,
}

/// Parses `data` into the first pieces of `pieces` (grown as needed); returns how many.
fn parse_block(data: &[u8], ctx: &PieceContext, pieces: &mut Vec<Piece>) -> usize {
    if data.is_empty() {
        return 0;
    }
    // Many more pieces than threads, so that an uneven piece does not leave a core idle.
    let want = (rayon::current_num_threads() * 8).max(1);
    let size = (data.len() / want).max(1 << 16);
    let mut bounds = vec![0usize];
    let mut at = 0;
    while at < data.len() {
        let target = (at + size).min(data.len());
        let end = if target == data.len() {
            target
        } else {
            memchr::memchr(b'\n', &data[target..])
                .map(|i| target + i + 1)
                .unwrap_or(data.len())
        };
        bounds.push(end);
        at = end;
    }
    let used = bounds.len() - 1;
    if pieces.len() < used {
        pieces.resize_with(used, Piece::default);
    }
    pieces[..used]
        .par_iter_mut()
        .zip(bounds.par_windows(2))
        .for_each(|(p, w)| parse_piece(&data[w[0]..w[1]], ctx, p));
    used
}

fn parse_piece(data: &[u8], ctx: &PieceContext, p: &mut Piece) {
    p.users.clear();
    p.items.clear();
    p.ratings.clear();
    p.timestamps.clear();
    p.skipped.clear();
    (p.lines, p.rows, p.blank, p.first_bad) = (0, 0, 0, None);
    let estimate = data.len() / 24 + 16;
    p.users.reserve(estimate);
    p.items.reserve(estimate);
    p.ratings.reserve(estimate);
    if ctx.cols.timestamp.is_some() {
        p.timestamps.reserve(estimate);
    }
    let mut fields = [&b""[..]; MAX_FIELDS];
    let mut start = 0;
    let with_timestamp = ctx.cols.timestamp.is_some();
    while start < data.len() {
        if let Some(delim) = ctx.plain_layout {
            if let Some((row, used)) = fast_row(&data[start..], delim, with_timestamp) {
                if match ctx.scale {
                    Some((lo, hi)) => (lo..=hi).contains(&row.2),
                    None => row.2.abs() <= PLAUSIBLE_RATING,
                } {
                    p.users.push(row.0);
                    p.items.push(row.1);
                    p.ratings.push(row.2);
                    if let Some(t) = row.3 {
                        p.timestamps.push(t);
                    }
                    p.lines += 1;
                    p.rows += 1;
                    start += used;
                    continue;
                }
            }
        }
        let (raw_end, next) = match memchr::memchr(b'\n', &data[start..]) {
            Some(i) => (start + i, start + i + 1),
            None => (data.len(), data.len()),
        };
        let no_newline = raw_end == data.len();
        let line = strip_eol(&data[start..raw_end]);
        start = next;
        p.lines += 1;
        if line.trim_ascii().is_empty() {
            p.blank += 1;
            continue;
        }
        p.rows += 1;
        match parse_row(line, ctx, &mut fields) {
            Ok((u, i, r, t)) => {
                p.users.push(u);
                p.items.push(i);
                p.ratings.push(r);
                if let Some(t) = t {
                    p.timestamps.push(t);
                }
            }
            Err((category, detail)) => {
                let (category, detail) = if std::str::from_utf8(line).is_err() {
                    (
                        "text is not valid UTF-8".to_string(),
                        "text is not valid UTF-8".to_string(),
                    )
                } else {
                    (category, detail)
                };
                match p.skipped.iter_mut().find(|s| s.0 == category) {
                    Some(s) => s.1 += 1,
                    None => p.skipped.push((category, 1)),
                }
                if p.first_bad.is_none() {
                    p.first_bad = Some(BadRow {
                        line: p.lines,
                        why: detail,
                        text: String::from_utf8_lossy(&line[..line.len().min(TEXT_LIMIT)])
                            .into_owned(),
                        no_newline,
                    });
                }
                if ctx.stop_at_bad {
                    break;
                }
            }
        }
    }
}

type Row = (u64, u64, f32, Option<i64>);

/// The plain digits at `data[*at..]` (value, count), advancing `at` past them. Callers bound the
/// count (≤ 18), so the value cannot overflow.
#[inline(always)]
fn leading_digits(data: &[u8], at: &mut usize) -> (u64, usize) {
    let first = *at;
    let mut v = 0u64;
    while let Some(&b) = data.get(*at) {
        if !b.is_ascii_digit() {
            break;
        }
        v = v.wrapping_mul(10).wrapping_add((b - b'0') as u64);
        *at += 1;
    }
    (v, *at - first)
}

/// The common line, read in one pass: `id,id,D[.D][,timestamp]` with plain digits and a `\n`,
/// `\r\n` or end of data after it. Returns the row and the bytes consumed, or None for anything
/// else (spaces, signs, exponents, long numbers, blank or bad lines), which the general parser
/// then reads with its full checks and messages. Accepted lines get exactly the values the
/// general parser would give.
#[inline(always)]
fn fast_row(data: &[u8], delim: u8, with_timestamp: bool) -> Option<(Row, usize)> {
    let mut at = 0;
    // Up to `max` digits, then `end`; returns the value.
    let mut digits = |max: usize, end: u8| -> Option<u64> {
        let (v, n) = leading_digits(data, &mut at);
        if n == 0 || n > max || data.get(at) != Some(&end) {
            return None;
        }
        at += 1;
        Some(v)
    };
    let user = digits(15, delim)?;
    let item = digits(15, delim)?;
    // The rating: D or D.D, at most 7 digits (as `numbers::parse_rating`'s exact path).
    const POW10: [f32; 8] = [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6, 1e7];
    let (mut mantissa, mut count, mut frac) = (0u32, 0usize, None::<usize>);
    while let Some(&b) = data.get(at) {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa.wrapping_mul(10).wrapping_add((b - b'0') as u32);
                count += 1;
                if let Some(f) = frac.as_mut() {
                    *f += 1;
                }
            }
            b'.' if frac.is_none() => frac = Some(0),
            _ => break,
        }
        at += 1;
    }
    if count == 0 || count > 7 {
        return None;
    }
    let rating = mantissa as f32 / POW10[frac.unwrap_or(0)];
    let timestamp = if with_timestamp {
        if data.get(at) != Some(&delim) {
            return None;
        }
        at += 1;
        let (v, n) = leading_digits(data, &mut at);
        if n == 0 || n > 18 {
            return None;
        }
        Some(v as i64)
    } else {
        None
    };
    match data.get(at) {
        None => Some(((user, item, rating, timestamp), at)),
        Some(b'\n') => Some(((user, item, rating, timestamp), at + 1)),
        Some(b'\r') if data.get(at + 1) == Some(&b'\n') => {
            Some(((user, item, rating, timestamp), at + 2))
        }
        _ => None,
    }
}

/// One data line; on failure a (category, detail) pair for the report and the error message.
#[inline]
fn parse_row<'a>(
    line: &'a [u8],
    ctx: &PieceContext,
    fields: &mut [&'a [u8]; MAX_FIELDS],
) -> std::result::Result<Row, (String, String)> {
    let c = &ctx.cols;
    let n = split_fields(line, ctx.delim, fields);
    if n != c.fields {
        return Err((
            "wrong number of fields".into(),
            format!("expected {} fields, found {n}", c.fields),
        ));
    }
    if ctx.check_utf8 && std::str::from_utf8(line).is_err() {
        return Err((
            "text is not valid UTF-8".into(),
            "text is not valid UTF-8".into(),
        ));
    }
    let field_err = |what: &str, why: &str| (format!("{what}: {why}"), format!("{what} {why}"));
    let user = numbers::parse_id(fields[c.user]).map_err(|e| field_err("user id", e))?;
    let item = numbers::parse_id(fields[c.item]).map_err(|e| field_err("movie id", e))?;
    let rating = numbers::parse_rating(fields[c.rating]).map_err(|e| {
        let shown = String::from_utf8_lossy(fields[c.rating]).into_owned();
        (e.to_string(), format!("{e} ({shown:?})"))
    })?;
    match ctx.scale {
        Some((lo, hi)) if !(lo..=hi).contains(&rating) => {
            return Err((
                "rating outside the scale".into(),
                format!("rating {rating} is outside the scale {lo} to {hi}"),
            ));
        }
        // A file read by a column mapping has no known scale: the data's own range becomes the
        // model's, so one absurd value (1e30) would silently ruin training.
        None if rating.abs() > PLAUSIBLE_RATING => {
            return Err((
                "implausible rating".into(),
                format!(
                    "rating {rating} is beyond ±{PLAUSIBLE_RATING}, implausible for a rating; pass ratingScale [min, max] to allow it"
                ),
            ));
        }
        _ => {}
    }
    let timestamp = match c.timestamp {
        Some(t) => {
            Some(numbers::parse_timestamp(fields[t]).map_err(|e| (e.to_string(), e.to_string()))?)
        }
        None => None,
    };
    Ok((user, item, rating, timestamp))
}

fn append(
    p: &Piece,
    users: &mut Interner,
    items: &mut Interner,
    out: &mut Triplets,
    timestamps: bool,
) {
    out.users.extend(p.users.iter().map(|&u| users.intern(u)));
    out.items.extend(p.items.iter().map(|&i| items.intern(i)));
    out.ratings.extend_from_slice(&p.ratings);
    if timestamps {
        out.timestamps.extend_from_slice(&p.timestamps);
    }
}

fn bad_row_error(path: &Path, line: u64, bad: &BadRow) -> Error {
    let hint = if bad.no_newline {
        " (the last line has no newline: the file may be truncated)"
    } else {
        ""
    };
    Error::invalid_data(format!(
        "{} line {line}: {}{hint}: {:?}",
        path.display(),
        bad.why,
        bad.text
    ))
}

#[cfg(test)]
mod fast_path_tests {
    use super::*;

    /// Every line the fast path accepts gets exactly the general parser's values; everything
    /// unusual is left to the general parser.
    #[test]
    fn fast_rows_agree_with_the_general_parser() {
        let ctx = |ts: bool| PieceContext {
            delim: b",",
            plain_layout: Some(b','),
            cols: Resolved {
                fields: 3 + ts as usize,
                user: 0,
                item: 1,
                rating: 2,
                timestamp: ts.then_some(3),
            },
            // Wide enough for every accepted line: this compares parsers, not scales.
            scale: Some((f32::MIN, f32::MAX)),
            stop_at_bad: false,
            check_utf8: false,
        };
        let accepted = [
            "1,2,3.5,964982703\n",
            "007,12,5,0\r\n",
            "1,2,.5,1",
            "1,2,5.,1\n",
            "999999999999999,3,4.25,123456789012345678\n",
            "1,2,1234567,1\n",
        ];
        let refused = [
            "1,2,3.5\n",
            " 1,2,3.5,1\n",
            "1,2,3.5,1,9\n",
            "1,2,3.5.1,1\n",
            "1,2,12345678,1\n",
            "1,2,3e1,1\n",
            "-1,2,3,1\n",
            "1,2,3,-5\n",
            "1,,3,1\n",
            "1234567890123456,2,3,1\n",
            "\n",
            "1,2,3,1\rx\n",
        ];
        let mut fields = [&b""[..]; MAX_FIELDS];
        for line in accepted {
            let (row, used) = fast_row(line.as_bytes(), b',', true).expect(line);
            assert_eq!(used, line.len(), "{line:?}");
            let general = parse_row(strip_eol(line.as_bytes()), &ctx(true), &mut fields).unwrap();
            assert_eq!(row.0, general.0);
            assert_eq!(row.1, general.1);
            assert_eq!(row.2.to_bits(), general.2.to_bits(), "{line:?}");
            assert_eq!(row.3, general.3);
        }
        for line in refused {
            assert!(fast_row(line.as_bytes(), b',', true).is_none(), "{line:?}");
        }
        let (row, _) = fast_row(b"5,6,4.5\n", b',', false).unwrap();
        assert_eq!(row, (5, 6, 4.5, None));
        assert!(fast_row(b"5,6,4.5,1\n", b',', false).is_none());
    }
}
