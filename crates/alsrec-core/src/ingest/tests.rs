//! Ingest tests: every MovieLens layout, every bad-input case, duplicates, filters, and
//! thread-count independence.
use std::path::{Path, PathBuf};

use super::*;
use crate::error::ErrorKind;

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("alsrec-ingest-{name}-{}", std::process::id()));
        std::fs::remove_dir_all(&p).ok();
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

const HEADER: &str = "userId,movieId,rating,timestamp\n";

fn load_csv(body: &str, options: &LoadOptions) -> crate::Result<crate::Dataset> {
    let dir = TempDir::new(&format!("csv{}", body.len()));
    dir.write("ratings.csv", format!("{HEADER}{body}").as_bytes());
    load_movielens(&dir.0, options)
}

fn err(body: &[u8]) -> String {
    let dir = TempDir::new(&format!("err{}", body.len()));
    dir.write("ratings.csv", body);
    let e = load_movielens(&dir.0, &LoadOptions::default()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidData, "{}", e.message);
    e.message
}

fn skip() -> LoadOptions {
    LoadOptions {
        on_bad_row: OnBadRow::Skip,
        ..Default::default()
    }
}

#[test]
fn reads_movielens_csv_with_ids_in_first_appearance_order() {
    let d = load_csv(
        "10,5,4.0,100\n3,5,3.5,101\n10,7,0.5,102\n",
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(d.num_ratings(), 3);
    assert_eq!(d.users.raw_ids(), &[10, 3]);
    assert_eq!(d.items.raw_ids(), &[5, 7]);
    assert_eq!(d.triplets().timestamps, vec![100, 101, 102]);
    assert_eq!(d.by_user.row(0).0, [0u32, 1]);
    assert_eq!(d.by_user.row(0).1.to_vec(), [4.0f32, 0.5]);
    assert_eq!(d.by_item.row(0).0, [0u32, 1]);
    assert_eq!(d.by_item.row(0).1.to_vec(), [4.0f32, 3.5]);
    assert_eq!(d.report.format, "movielens-csv");
    assert_eq!((d.report.min_rating, d.report.max_rating), (0.5, 4.0));
    assert!((d.report.density - 0.75).abs() < 1e-12);
}

#[test]
fn reads_dat_and_100k_layouts_and_their_catalogs() {
    let dir = TempDir::new("dat");
    dir.write(
        "ratings.dat",
        b"1::1193::5::978300760\n1::661::3::978302109\r\n2::1193::4::978300000\n",
    );
    dir.write("movies.dat", b"1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n661::James and the Giant Peach (1996)::Animation|Children's|Musical\n");
    let d = load_movielens(&dir.0, &LoadOptions::default()).unwrap();
    assert_eq!((d.num_ratings(), d.users.len()), (3, 2));
    assert_eq!(d.report.format, "movielens-dat");
    assert_eq!(d.catalog.get(661).unwrap().year, Some(1996));
    let k = TempDir::new("100k");
    k.write(
        "u.data",
        b"196\t242\t3\t881250949\n186\t302\t3\t891717742\n",
    );
    k.write(
        "u1.base",
        b"196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t242\t1\t878887116\n",
    );
    k.write(
        "u1.test",
        b"196\t302\t4\t881250950\n99\t242\t2\t881250951\n196\t1\t5\t881250952\n",
    );
    let d = load_movielens(&k.0, &LoadOptions::default()).unwrap();
    assert_eq!(d.report.format, "movielens-100k");
    assert_eq!(d.num_ratings(), 2);
    let (train, test, cold) = load_split(
        &k.0.join("u1.base"),
        &k.0.join("u1.test"),
        None,
        &LoadOptions::default(),
    )
    .unwrap();
    assert!(std::sync::Arc::ptr_eq(&train.users, &test.users));
    assert_eq!((train.num_ratings(), test.num_ratings()), (3, 3));
    assert_eq!(
        (cold.cold_user_rows, cold.cold_movie_rows, cold.cold_rows),
        (1, 1, 2)
    );
    let dropping = LoadOptions {
        drop_cold_start: true,
        ..Default::default()
    };
    let (_, test, cold) =
        load_split(&k.0.join("u1.base"), &k.0.join("u1.test"), None, &dropping).unwrap();
    assert_eq!((test.num_ratings(), cold.dropped), (1, 2));
}

#[test]
fn reads_a_mapped_file_by_column_names_or_positions() {
    let dir = TempDir::new("mapped");
    let f = dir.write("plays.tsv", b"when;who;score;what;note\n5;u1;;;\n");
    let mapping: ColumnMapping =
        serde_json::from_str(r#"{"delimiter":";","user":"who","item":"what","rating":"score"}"#)
            .unwrap();
    // Non-numeric user ids are refused with the line.
    let e = load_ratings(&f, Some(&mapping), &LoadOptions::default()).unwrap_err();
    assert!(e.message.contains("line 2"), "{}", e.message);
    let f = dir.write(
        "plays.txt",
        b"7 ; 8 ; 2.5 ; caf\xc3\xa9 ; 99\n7;9;10;x;100\n",
    );
    let mapping: ColumnMapping = serde_json::from_str(
        r#"{"delimiter":";","header":false,"user":0,"item":1,"rating":2,"timestamp":4}"#,
    )
    .unwrap();
    let d = load_ratings(&f, Some(&mapping), &LoadOptions::default()).unwrap();
    assert_eq!(d.num_ratings(), 2);
    assert_eq!(d.triplets().ratings, vec![2.5, 10.0]);
    assert_eq!(d.triplets().timestamps, vec![99, 100]);
    let by_name_without_header: ColumnMapping =
        serde_json::from_str(r#"{"header":false,"user":"a","item":1,"rating":2}"#).unwrap();
    assert_eq!(
        load_ratings(&f, Some(&by_name_without_header), &LoadOptions::default())
            .unwrap_err()
            .kind,
        ErrorKind::InvalidArgument
    );
}

#[test]
fn every_bad_row_names_file_line_and_text() {
    let wrong_columns = err(format!("{HEADER}1,2,3.5,100\n1,3,4\n").as_bytes());
    assert!(
        wrong_columns.contains("ratings.csv line 3: expected 4 fields, found 3: \"1,3,4\""),
        "{wrong_columns}"
    );
    let not_number = err(format!("{HEADER}1,2,good,100\n").as_bytes());
    assert!(
        not_number.contains("line 2: rating is not a number"),
        "{not_number}"
    );
    let nan = err(format!("{HEADER}1,2,NaN,100\n").as_bytes());
    assert!(
        nan.contains("line 2: rating is not a finite number"),
        "{nan}"
    );
    let scale = err(format!("{HEADER}1,2,7,100\n").as_bytes());
    assert!(
        scale.contains("rating 7 is outside the scale 0.5 to 5"),
        "{scale}"
    );
    let negative = err(format!("{HEADER}-4,2,3,100\n").as_bytes());
    assert!(
        negative.contains("line 2: user id negative id"),
        "{negative}"
    );
    let fractional = err(format!("{HEADER}4,2.5,3,100\n").as_bytes());
    assert!(
        fractional.contains("movie id id is not a whole number"),
        "{fractional}"
    );
    let empty = err(b"");
    assert!(empty.contains("the file is empty"), "{empty}");
    let header_only = err(HEADER.as_bytes());
    assert!(
        header_only.contains("no ratings were read"),
        "{header_only}"
    );
    let no_header = err(b"1,2,3.5,100\n");
    assert!(
        no_header.contains("line 1: expected the header userId,movieId,rating"),
        "{no_header}"
    );
    let truncated = err(format!("{HEADER}1,2,3.5,100\n1,3,4.").as_bytes());
    assert!(
        truncated.contains("line 3") && truncated.contains("may be truncated"),
        "{truncated}"
    );
    let mut latin1 = format!("{HEADER}1,2,3.5,100\n1,").into_bytes();
    latin1.extend_from_slice(b"\xe93,4,100\n");
    let latin1 = err(&latin1);
    assert!(
        latin1.contains("line 3: text is not valid UTF-8"),
        "{latin1}"
    );
    let dir = TempDir::new("none");
    dir.write("movies.csv", b"movieId,title,genres\n");
    let e = load_movielens(&dir.0, &LoadOptions::default()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(
        e.message
            .contains("no ratings file found (expected one of ratings.csv, ratings.dat, u.data)"),
        "{}",
        e.message
    );
}

#[test]
fn skipping_counts_each_bad_row_by_reason() {
    let body = "1,2,3.5,100\n1,3,4\n2,2,x,100\n2,2,9,100\n-1,2,3,100\n\n3,4,5,100\n";
    let d = load_csv(body, &skip()).unwrap();
    let r = &d.report;
    assert_eq!(
        (r.rows_read, r.rows_kept, r.rows_skipped, r.blank_lines),
        (6, 2, 4, 1)
    );
    let reasons: Vec<(&str, usize)> = r
        .skipped_reasons
        .iter()
        .map(|(s, n)| (s.as_str(), *n))
        .collect();
    assert_eq!(
        reasons,
        [
            ("wrong number of fields", 1),
            ("rating is not a number", 1),
            ("rating outside the scale", 1),
            ("user id: negative id", 1)
        ]
    );
    let wide = LoadOptions {
        rating_scale: Some((0.0, 10.0)),
        ..skip()
    };
    assert_eq!(load_csv(body, &wide).unwrap().num_ratings(), 3);
    let all_bad = load_csv("1,2,x,1\n", &skip()).unwrap_err();
    assert!(
        all_bad
            .message
            .contains("no ratings were read (1 rows skipped: rating is not a number × 1)"),
        "{}",
        all_bad.message
    );
}

#[test]
fn duplicates_keep_the_latest_rating() {
    let d = load_csv(
        "1,2,1.0,300\n1,3,2.0,100\n1,2,5.0,200\n2,2,3.0,100\n1,2,4.0,250\n",
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(d.report.duplicates, 2);
    assert_eq!(d.num_ratings(), 3);
    assert_eq!(d.by_user.get(0, 0), Some(1.0));
    // File order survives among the kept rows.
    assert_eq!(d.triplets().ratings, vec![1.0, 2.0, 3.0]);
}

#[test]
fn min_rating_filters_apply_until_stable() {
    // User 1 has 3 ratings, user 2 has 2, user 3 has 1. Movie 30 is rated once (by user 2), so
    // dropping it leaves user 2 with one rating, below the minimum of 2.
    let body = "1,10,4,1\n1,20,4,1\n1,40,4,1\n2,10,3,1\n2,30,3,1\n3,20,2,1\n3,40,2,1\n";
    let o = LoadOptions {
        min_user_ratings: 2,
        min_movie_ratings: 2,
        ..Default::default()
    };
    let d = load_csv(body, &o).unwrap();
    assert_eq!(d.users.raw_ids(), &[1, 3]);
    assert_eq!(d.items.raw_ids(), &[20, 40]);
    assert_eq!(d.num_ratings(), 4);
    assert_eq!(
        (
            d.report.filtered_ratings,
            d.report.filtered_users,
            d.report.filtered_movies
        ),
        (3, 1, 2)
    );
}

fn big_file(dir: &Path) -> PathBuf {
    let mut body = String::from(HEADER);
    let mut x: u64 = 12345;
    for _ in 0..300_000 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let (u, m, r) = (
            (x >> 33) % 5000,
            (x >> 17) % 3000,
            ((x >> 5) % 10 + 1) as f32 / 2.0,
        );
        body.push_str(&format!("{},{},{},{}\n", u * 7, m * 3, r, x % 1_000_000));
    }
    let p = dir.join("ratings.csv");
    std::fs::write(&p, body).unwrap();
    p
}

#[test]
fn the_result_does_not_depend_on_the_thread_count() {
    let dir = TempDir::new("threads");
    big_file(&dir.0);
    let load = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| load_movielens(&dir.0, &LoadOptions::default()).unwrap())
    };
    let (a, b) = (load(1), load(4));
    assert_eq!(a.users.raw_ids(), b.users.raw_ids());
    assert_eq!(a.items.raw_ids(), b.items.raw_ids());
    assert_eq!(a.triplets().ratings, b.triplets().ratings);
    assert_eq!(a.by_item.indices, b.by_item.indices);
    assert_eq!(a.report.duplicates, b.report.duplicates);
    assert!(a.report.duplicates > 0);
    assert_eq!(a.num_ratings() + a.report.duplicates, 300_000);
}

#[test]
fn ratings_of_uncataloged_movies_are_counted_and_dropped_on_request() {
    let dir = TempDir::new("catalog-only");
    dir.write(
        "ratings.csv",
        format!("{HEADER}1,10,4,1\n1,20,3,2\n2,99,5,3\n").as_bytes(),
    );
    dir.write(
        "movies.csv",
        b"movieId,title,genres\n10,A (1990),Drama\n20,B (1991),Comedy\n30,C (1992),Comedy\n",
    );
    let all = load_movielens(&dir.0, &LoadOptions::default()).unwrap();
    assert_eq!(
        (all.num_ratings(), all.report.ratings_not_in_catalog),
        (3, 1)
    );
    // Rated movies first, then the catalog-only one.
    assert_eq!(all.items.raw_ids(), &[10, 20, 99, 30]);
    let listed = load_movielens(
        &dir.0,
        &LoadOptions {
            catalog_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(listed.num_ratings(), 2);
    assert_eq!(listed.users.raw_ids(), &[1]);
    assert_eq!(listed.items.raw_ids(), &[10, 20, 30]);
    assert_eq!(
        (listed.report.filtered_ratings, listed.report.filtered_users),
        (1, 1)
    );
}

#[test]
fn mapped_files_refuse_columns_past_the_64th_and_implausible_ratings() {
    let dir = TempDir::new("wide");
    let header: Vec<String> = (0..80).map(|i| format!("c{i}")).collect();
    let row: Vec<String> = (0..80).map(|i| (i % 5 + 1).to_string()).collect();
    let f = dir.write(
        "wide.csv",
        format!(
            "{}\n{}\n{}\n",
            header.join(","),
            row.join(","),
            row.join(",")
        )
        .as_bytes(),
    );
    for json in [
        r#"{"user": 0, "item": 1, "rating": 70}"#,
        r#"{"user": 0, "item": 1, "rating": 2, "timestamp": 70}"#,
    ] {
        let mapping: ColumnMapping = serde_json::from_str(json).unwrap();
        let e = load_ratings(&f, Some(&mapping), &LoadOptions::default()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument, "{}", e.message);
        assert!(e.message.contains("past the 64th"), "{}", e.message);
    }
    let by_name: ColumnMapping =
        serde_json::from_str(r#"{"user": "c0", "item": "c1", "rating": "c70"}"#).unwrap();
    let e = load_ratings(&f, Some(&by_name), &LoadOptions::default()).unwrap_err();
    assert!(
        e.message.contains("among its first 64 columns"),
        "{}",
        e.message
    );
    // No scale: an absurd rating is refused with its line, unless a scale allows it.
    let f = dir.write("absurd.csv", b"u,m,r\n1,1,4\n1,2,1e30\n");
    let mapping: ColumnMapping =
        serde_json::from_str(r#"{"user": 0, "item": 1, "rating": 2}"#).unwrap();
    let e = load_ratings(&f, Some(&mapping), &LoadOptions::default()).unwrap_err();
    assert!(e.message.contains("line 3"), "{}", e.message);
    assert!(e.message.contains("implausible"), "{}", e.message);
    // The same on the fast path of plain integer rows.
    let f = dir.write("plain.csv", b"1,1,4,1\n1,2,1234567,2\n");
    let plain: ColumnMapping = serde_json::from_str(
        r#"{"user": 0, "item": 1, "rating": 2, "timestamp": 3, "header": false}"#,
    )
    .unwrap();
    let e = load_ratings(&f, Some(&plain), &LoadOptions::default()).unwrap_err();
    assert!(
        e.message.contains("line 2") && e.message.contains("implausible"),
        "{}",
        e.message
    );
    let f = dir.write("large.csv", b"u,m,r\n1,1,40000\n1,2,90000\n");
    let wide = LoadOptions {
        rating_scale: Some((0.0, 100_000.0)),
        ..LoadOptions::default()
    };
    assert_eq!(
        load_ratings(&f, Some(&mapping), &wide)
            .unwrap()
            .num_ratings(),
        2
    );
}
