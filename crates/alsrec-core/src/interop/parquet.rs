//! Parquet files, written and read with the low-level column API of the `parquet` crate
//! (arrow-rs) and snappy, the codec Spark writes by default.
//!
//! Written: ratings (`userId`, `movieId`, `rating`, `timestamp`), the catalog (`movieId`,
//! `title`, `genres`) and factor tables (`id: int`, `features: array<float>`, the layout of a
//! Spark `ALSModel`). Read: factor tables, and two-column tables of an id and a float (the
//! biases the bundled Spark job writes), from files that may be hostile: the reader checks the
//! schema and the row and value counts against what the caller expects before it keeps
//! anything, stops as soon as a file holds more than it announced, and turns a panic of the
//! decoder into an error, so a crafted file is an `ALSREC_INVALID_DATA` error.
use std::fs::File;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;

use parquet::basic::{Compression, Type as PhysicalType};
use parquet::column::reader::ColumnReader;
use parquet::data_type::{ByteArray, ByteArrayType, FloatType, Int32Type, Int64Type};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{WriterProperties, WriterVersion};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use crate::data::dataset::Dataset;
use crate::error::{Error, Result};
use crate::io::files::open_regular;

/// Rows per row group of the files written: 1M ratings make ~5 MB groups, which readers
/// (Spark, DuckDB, Polars) split across threads.
const ROW_GROUP: usize = 1 << 20;
/// The Spark SQL schema of a factor table, stored as Spark stores it so that Spark reads the
/// columns with exactly the types of a table it wrote itself.
const SPARK_FACTOR_SCHEMA: &str = r#"{"type":"struct","fields":[{"name":"id","type":"integer","nullable":false,"metadata":{}},{"name":"features","type":{"type":"array","elementType":"float","containsNull":false},"nullable":true,"metadata":{}}]}"#;
const SPARK_SCHEMA_KEY: &str = "org.apache.spark.sql.parquet.row.metadata";

fn pq_err<'a>(path: &'a Path, what: &str) -> impl Fn(parquet::errors::ParquetError) -> Error + 'a {
    let what = what.to_string();
    move |e| Error::invalid_data(format!("{}: {what}: {e}", path.display()))
}

fn write_err(path: &Path) -> impl Fn(parquet::errors::ParquetError) -> std::io::Error + '_ {
    move |e| std::io::Error::other(format!("{}: {e}", path.display()))
}

fn properties() -> Arc<WriterProperties> {
    Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_writer_version(WriterVersion::PARQUET_1_0)
            .set_max_row_group_row_count(Some(ROW_GROUP))
            .set_created_by(format!("alsrec {}", env!("CARGO_PKG_VERSION")))
            .build(),
    )
}

/// Whether every id fits a Parquet INT32 (then the column is `int`, as Spark's ALS wants).
fn fits_i32(ids: &[i64]) -> bool {
    ids.iter().all(|&x| i32::try_from(x).is_ok())
}

/// Writes a Parquet file through `write` into `w`: the schema, then row groups of `rows`
/// rows, each filled column by column by `column(index, rows range, writer)`.
fn write_file<W: Write + Send>(
    w: W,
    schema: &str,
    kv: Vec<KeyValue>,
    rows: usize,
    mut column: impl FnMut(
        usize,
        std::ops::Range<usize>,
        &mut parquet::file::writer::SerializedColumnWriter<'_>,
    ) -> parquet::errors::Result<()>,
) -> parquet::errors::Result<()> {
    let schema = Arc::new(parse_message_type(schema)?);
    let mut writer = SerializedFileWriter::new(w, schema, properties())?;
    for kv in kv {
        writer.append_key_value_metadata(kv);
    }
    let mut start = 0;
    while start < rows || (rows == 0 && start == 0) {
        let end = (start + ROW_GROUP).min(rows);
        let mut group = writer.next_row_group()?;
        let mut c = 0;
        while let Some(mut col) = group.next_column()? {
            column(c, start..end, &mut col)?;
            col.close()?;
            c += 1;
        }
        group.close()?;
        if rows == 0 {
            break;
        }
        start = end;
    }
    writer.close()?;
    Ok(())
}

fn write_ids(
    col: &mut parquet::file::writer::SerializedColumnWriter<'_>,
    ids: impl Iterator<Item = i64>,
    as_i32: bool,
) -> parquet::errors::Result<()> {
    if as_i32 {
        let v: Vec<i32> = ids.map(|x| x as i32).collect();
        col.typed::<Int32Type>().write_batch(&v, None, None)?;
    } else {
        let v: Vec<i64> = ids.collect();
        col.typed::<Int64Type>().write_batch(&v, None, None)?;
    }
    Ok(())
}

/// The ratings of `data` as a Parquet file: `userId`, `movieId` (int, or bigint when an id
/// does not fit 32 bits), `rating` (float) and, when the data has them, `timestamp` (bigint,
/// Unix seconds), in the data's order. Written atomically.
pub fn write_ratings(data: &Dataset, path: &Path) -> Result<()> {
    let t = &data.triplets();
    let (users, items) = (data.users.raw_ids(), data.items.raw_ids());
    let (u32ok, i32ok) = (fits_i32(users), fits_i32(items));
    let has_ts = !t.timestamps.is_empty();
    let int = |ok: bool| if ok { "int32" } else { "int64" };
    let schema =
        format!(
        "message ratings {{ required {} userId; required {} movieId; required float rating; {} }}",
        int(u32ok),
        int(i32ok),
        if has_ts { "required int64 timestamp;" } else { "" }
    );
    crate::io::files::write_atomic(path, |w| {
        write_file(w, &schema, Vec::new(), t.len(), |c, r, col| match c {
            0 => write_ids(col, t.users[r].iter().map(|&u| users[u as usize]), u32ok),
            1 => write_ids(col, t.items[r].iter().map(|&i| items[i as usize]), i32ok),
            2 => col
                .typed::<FloatType>()
                .write_batch(&t.ratings[r], None, None)
                .map(drop),
            _ => col
                .typed::<Int64Type>()
                .write_batch(&t.timestamps[r], None, None)
                .map(drop),
        })
        .map_err(write_err(path))
    })
}

/// The catalog of `data` as a Parquet file: `movieId`, `title`, `genres` (names joined by
/// `|`, as in MovieLens' movies.csv; empty for none). Written atomically.
pub fn write_catalog(data: &Dataset, path: &Path) -> Result<()> {
    let c = &data.catalog;
    let ids: Vec<i64> = c.movies.iter().map(|m| m.id).collect();
    let ok = fits_i32(&ids);
    let schema = format!(
        "message movies {{ required {} movieId; required binary title (UTF8); required binary genres (UTF8); }}",
        if ok { "int32" } else { "int64" }
    );
    crate::io::files::write_atomic(path, |w| {
        write_file(w, &schema, Vec::new(), ids.len(), |col_index, r, col| {
            let movies = &c.movies[r.clone()];
            match col_index {
                0 => write_ids(col, ids[r].iter().copied(), ok),
                1 => {
                    let v: Vec<ByteArray> =
                        movies.iter().map(|m| m.title.as_str().into()).collect();
                    col.typed::<ByteArrayType>()
                        .write_batch(&v, None, None)
                        .map(drop)
                }
                _ => {
                    let v: Vec<ByteArray> = movies
                        .iter()
                        .map(|m| {
                            m.genres
                                .iter()
                                .map(|&g| c.genre_names[g as usize].as_str())
                                .collect::<Vec<_>>()
                                .join("|")
                                .into_bytes()
                                .into()
                        })
                        .collect();
                    col.typed::<ByteArrayType>()
                        .write_batch(&v, None, None)
                        .map(drop)
                }
            }
        })
        .map_err(write_err(path))
    })
}

/// A factor table as Spark's `ALSModel` stores one: `id: int` and `features: array<float>`
/// (a standard three-level Parquet LIST), `rows` rows with row `r` = (`ids[r]`, `row(r)`),
/// each of length `rank` ≥ 1. Written into `w` (the caller makes the file atomic).
pub fn write_factors<W: Write + Send>(
    w: W,
    ids: &[i32],
    rank: usize,
    row: impl Fn(usize, &mut Vec<f32>),
) -> parquet::errors::Result<()> {
    let schema = "message spark_schema { required int32 id; optional group features (LIST) { repeated group list { required float element; } } }";
    let kv = vec![KeyValue::new(
        SPARK_SCHEMA_KEY.to_string(),
        SPARK_FACTOR_SCHEMA.to_string(),
    )];
    write_file(w, schema, kv, ids.len(), |c, r, col| {
        if c == 0 {
            return col
                .typed::<Int32Type>()
                .write_batch(&ids[r], None, None)
                .map(drop);
        }
        let n = r.len() * rank;
        let (mut values, def, mut rep) = (Vec::with_capacity(n), vec![2i16; n], vec![1i16; n]);
        for (j, row_index) in r.enumerate() {
            row(row_index, &mut values);
            rep[j * rank] = 0;
        }
        if values.len() != n {
            return Err(parquet::errors::ParquetError::General(format!(
                "{} values for {} rows of rank {rank}",
                values.len(),
                n / rank.max(1)
            )));
        }
        col.typed::<FloatType>()
            .write_batch(&values, Some(&def), Some(&rep))
            .map(drop)
    })
}

/// What a factor table read back holds: `ids[r]` and `values[r·rank..(r+1)·rank]`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FactorTable {
    pub ids: Vec<i32>,
    pub values: Vec<f32>,
}

/// Limits of a read: the table's rank, and the most rows all its files may hold together.
#[derive(Debug, Clone, Copy)]
pub struct Expect {
    pub rank: usize,
    pub max_rows: usize,
}

/// The most a factor file may expand when decoded (real ones: about 1×).
const MAX_EXPANSION: usize = 64;
/// Records per decoding batch: memory beyond the output is this many rows.
const BATCH: usize = 4096;

/// Appends the factor table in `path` (columns `id`: INT32 and `features`: a LIST of FLOAT,
/// in any order, other columns ignored) to `out`, checking that every vector has
/// `expect.rank` values and that `out` stays within `expect.max_rows` rows.
pub fn read_factors(path: &Path, expect: Expect, out: &mut FactorTable) -> Result<()> {
    guarded(path, || read_factors_inner(path, expect, out))
}

/// A panic of the decoder on a crafted file becomes an error naming the file.
fn guarded<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => Err(Error::invalid_data(format!(
            "{}: not a readable Parquet file (the decoder failed on its contents)",
            path.display()
        ))),
    }
}

fn open(path: &Path) -> Result<SerializedFileReader<File>> {
    let file = open_regular(path)?;
    SerializedFileReader::new(file).map_err(pq_err(path, "not a Parquet file"))
}

/// The leaf column named `name` (its path's first part): index, physical type, levels.
fn find_column(
    reader: &SerializedFileReader<File>,
    path: &Path,
    name: &str,
) -> Result<(usize, PhysicalType, i16, i16)> {
    let schema = reader.metadata().file_metadata().schema_descr();
    let found: Vec<usize> = (0..schema.num_columns())
        .filter(|&i| schema.column(i).path().parts().first().map(String::as_str) == Some(name))
        .collect();
    match found.as_slice() {
        [i] => {
            let c = schema.column(*i);
            Ok((*i, c.physical_type(), c.max_def_level(), c.max_rep_level()))
        }
        [] => Err(Error::invalid_data(format!(
            "{}: no column `{name}`",
            path.display()
        ))),
        _ => Err(Error::invalid_data(format!(
            "{}: column `{name}` is nested, not a list of numbers",
            path.display()
        ))),
    }
}

fn read_factors_inner(path: &Path, expect: Expect, out: &mut FactorTable) -> Result<()> {
    let reader = open(path)?;
    let (id_col, id_type, _, id_rep) = find_column(&reader, path, "id")?;
    let (f_col, f_type, f_def, f_rep) = find_column(&reader, path, "features")?;
    if id_type != PhysicalType::INT32 || id_rep != 0 {
        return Err(Error::invalid_data(format!(
            "{}: column `id` is {id_type}, not int (Spark ALS ids are 32-bit)",
            path.display()
        )));
    }
    if f_type != PhysicalType::FLOAT || f_rep != 1 || !(1..=3).contains(&f_def) {
        return Err(Error::invalid_data(format!(
            "{}: column `features` is not an array<float> (found {f_type}, {f_rep} repetition levels)",
            path.display()
        )));
    }
    let rank = expect.rank;
    if rank == 0 {
        return Err(Error::invalid_argument(
            "a factor table has rank at least 1",
        ));
    }
    let bad = |msg: String| Error::invalid_data(format!("{}: {msg}", path.display()));
    // The counts the file announces, checked before anything is decoded.
    let mut announced = 0usize;
    for g in reader.metadata().row_groups() {
        let rows = usize::try_from(g.num_rows())
            .map_err(|_| bad(format!("a row group claims {} rows", g.num_rows())))?;
        announced = announced
            .checked_add(rows)
            .filter(|&n| n <= expect.max_rows.saturating_sub(out.ids.len()))
            .ok_or_else(|| {
                bad(format!(
                    "more rows than expected (at most {} in all)",
                    expect.max_rows
                ))
            })?;
        let values = g.column(f_col).num_values();
        let want = rows.saturating_mul(rank.max(1));
        if usize::try_from(values).ok() != Some(want) {
            return Err(bad(format!(
                "a row group of {rows} rows holds {values} feature values, not {want} (rank {rank})"
            )));
        }
    }
    // Factor values are incompressible floats: a file announcing far more than its bytes can
    // hold is crafted (a decompression bomb), and is refused before anything is decoded.
    let file_len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) as usize;
    let decoded = announced.saturating_mul(rank + 1).saturating_mul(4);
    if decoded
        > file_len
            .saturating_mul(MAX_EXPANSION)
            .saturating_add(1 << 20)
    {
        return Err(bad(format!(
            "announces {announced} vectors of rank {rank}, more than its {file_len} bytes can hold"
        )));
    }
    out.ids.reserve(announced);
    out.values.reserve(announced.saturating_mul(rank));
    let start_rows = out.ids.len();
    for g in 0..reader.num_row_groups() {
        let group = reader.get_row_group(g).map_err(pq_err(path, "row group"))?;
        let rows = usize::try_from(group.metadata().num_rows()).unwrap_or(0);
        // ids
        let ColumnReader::Int32ColumnReader(mut ids) = group
            .get_column_reader(id_col)
            .map_err(pq_err(path, "column id"))?
        else {
            return Err(bad("column `id` is not int".into()));
        };
        let before = out.ids.len();
        let mut def = Vec::new();
        loop {
            let mut chunk = Vec::with_capacity(BATCH);
            def.clear();
            let (records, _, levels) = ids
                .read_records(BATCH, Some(&mut def), None, &mut chunk)
                .map_err(pq_err(path, "column id"))?;
            if records == 0 {
                break;
            }
            if chunk.len() != records || (levels != 0 && def.contains(&0)) {
                return Err(bad("a row has no id".into()));
            }
            out.ids.extend_from_slice(&chunk);
            if out.ids.len() - before > rows {
                return Err(bad("a row group holds more ids than it announced".into()));
            }
        }
        if out.ids.len() - before != rows {
            return Err(bad(format!(
                "a row group announced {rows} rows and holds {} ids",
                out.ids.len() - before
            )));
        }
        // features
        let ColumnReader::FloatColumnReader(mut feats) = group
            .get_column_reader(f_col)
            .map_err(pq_err(path, "column features"))?
        else {
            return Err(bad("column `features` is not float".into()));
        };
        let mut rep = Vec::new();
        let mut seen_rows = 0usize;
        let first_value = out.values.len();
        loop {
            let mut chunk = Vec::with_capacity(BATCH * rank.max(1));
            def.clear();
            rep.clear();
            let (records, _, levels) = feats
                .read_records(BATCH, Some(&mut def), Some(&mut rep), &mut chunk)
                .map_err(pq_err(path, "column features"))?;
            if records == 0 {
                break;
            }
            // Each row is a run of levels starting at repetition 0; each of its levels must
            // be a present value (definition = max): no null list, null element or empty list.
            let mut len = 0usize;
            for (j, (&d, &r)) in def.iter().zip(&rep).take(levels).enumerate() {
                if r == 0 && j > 0 {
                    if len != rank {
                        return Err(bad(format!(
                            "the vector of id {} has {len} values, not the rank {rank}",
                            out.ids.get(before + seen_rows).copied().unwrap_or(0)
                        )));
                    }
                    seen_rows += 1;
                    len = 0;
                }
                if d != f_def {
                    return Err(bad(format!(
                        "the vector of id {} is null or has a null value",
                        out.ids.get(before + seen_rows).copied().unwrap_or(0)
                    )));
                }
                len += 1;
            }
            if levels > 0 {
                if len != rank {
                    return Err(bad(format!(
                        "the vector of id {} has {len} values, not the rank {rank}",
                        out.ids.get(before + seen_rows).copied().unwrap_or(0)
                    )));
                }
                seen_rows += 1;
            }
            if seen_rows > rows || out.values.len() - first_value + chunk.len() > rows * rank {
                return Err(bad(
                    "a row group holds more vectors than it announced".into()
                ));
            }
            out.values.extend_from_slice(&chunk);
        }
        if seen_rows != rows || out.values.len() - first_value != rows * rank {
            return Err(bad(format!(
                "a row group announced {rows} vectors and holds {seen_rows}"
            )));
        }
    }
    debug_assert_eq!(out.ids.len() - start_rows, announced);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("alsrec-parquet-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    fn write(path: &Path, ids: &[i32], rank: usize, values: &[f32]) {
        let f = std::fs::File::create(path).unwrap();
        write_factors(f, ids, rank, |r, out| {
            out.extend_from_slice(&values[r * rank..(r + 1) * rank])
        })
        .unwrap();
    }

    #[test]
    fn factor_tables_round_trip_with_their_exact_values() {
        let path = tmp("factors.parquet");
        let ids = [5, -3, 2_000_000_000, 7];
        let values: Vec<f32> = (0..12).map(|i| i as f32 * 0.37 - 1.1).collect();
        write(&path, &ids, 3, &values);
        let mut t = FactorTable::default();
        let expect = Expect {
            rank: 3,
            max_rows: 10,
        };
        read_factors(&path, expect, &mut t).unwrap();
        assert_eq!(t.ids, ids);
        assert_eq!(t.values, values);
        // Appends: a second part file adds its rows.
        read_factors(&path, expect, &mut t).unwrap();
        assert_eq!(t.ids.len(), 8);
        // More rows than allowed in all.
        let e = read_factors(&path, expect, &mut t).unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::InvalidData);
        assert!(e.message.contains("more rows than expected"), "{e}");
    }

    #[test]
    fn a_wrong_rank_or_a_non_parquet_file_is_invalid_data() {
        let path = tmp("rank.parquet");
        write(&path, &[1, 2], 4, &[0.5; 8]);
        let mut t = FactorTable::default();
        let e = read_factors(
            &path,
            Expect {
                rank: 3,
                max_rows: 10,
            },
            &mut t,
        )
        .unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::InvalidData);
        assert!(e.message.contains("feature values"), "{e}");
        let junk = tmp("junk.parquet");
        std::fs::write(&junk, b"PAR1 this is not parquet PAR1").unwrap();
        let e = read_factors(
            &junk,
            Expect {
                rank: 4,
                max_rows: 10,
            },
            &mut t,
        )
        .unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::InvalidData, "{e}");
    }

    #[test]
    fn every_truncation_and_byte_flip_of_a_file_is_an_error_or_a_checked_table() {
        let path = tmp("flip.parquet");
        let values: Vec<f32> = (0..40).map(|i| i as f32).collect();
        write(&path, &(0..10).collect::<Vec<_>>(), 4, &values);
        let good = std::fs::read(&path).unwrap();
        let expect = Expect {
            rank: 4,
            max_rows: 10,
        };
        let case = tmp("case.parquet");
        let check = |bytes: &[u8]| {
            std::fs::write(&case, bytes).unwrap();
            let mut t = FactorTable::default();
            if read_factors(&case, expect, &mut t).is_ok() {
                assert!(t.ids.len() <= 10);
                assert_eq!(t.values.len(), t.ids.len() * 4);
            }
        };
        for cut in 0..good.len() {
            check(&good[..cut]);
        }
        for at in 0..good.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut b = good.clone();
                b[at] ^= flip;
                check(&b);
            }
        }
    }
}
