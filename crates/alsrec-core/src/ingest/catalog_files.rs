//! Movie metadata: `movies.csv` (quoted CSV, UTF-8), `movies.dat` (`::`, ISO-8859-1 in ml-1m),
//! `u.item` (`|`, ISO-8859-1, 19 genre flags), plus `links.csv` and `tags.csv`.
use std::collections::HashMap;
use std::path::Path;

use super::numbers;
use crate::data::catalog::{Catalog, Links};
use crate::error::{Error, Result};

/// The catalog files found beside a ratings file, read into one catalog.
pub fn read_catalog_in(dir: &Path) -> Result<Catalog> {
    let mut catalog = if dir.join("movies.csv").exists() {
        read_movies_csv(&dir.join("movies.csv"))?
    } else if dir.join("movies.dat").exists() {
        read_movies_dat(&dir.join("movies.dat"))?
    } else if dir.join("u.item").exists() {
        read_u_item(&dir.join("u.item"))?
    } else {
        Catalog::new()
    };
    if dir.join("links.csv").exists() {
        read_links_csv(&dir.join("links.csv"), &mut catalog)?;
    }
    if dir.join("tags.csv").exists() {
        read_tags_csv(&dir.join("tags.csv"), &mut catalog)?;
    }
    Ok(catalog)
}

/// One catalog file, its layout told by its name (`movies.dat` → `::`, `u.item` → ml-100k, any
/// other → `movies.csv`), or a folder holding one (with its links and tags, as
/// [`read_catalog_in`]). A folder without a catalog file is `NotFound`.
pub fn read_catalog_file(path: &Path) -> Result<Catalog> {
    if path.is_dir() {
        if ["movies.csv", "movies.dat", "u.item"]
            .iter()
            .all(|f| !path.join(f).exists())
        {
            return Err(Error::not_found(format!(
                "{}: no movies.csv, movies.dat or u.item in this folder",
                path.display()
            )));
        }
        return read_catalog_in(path);
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.ends_with(".dat") {
        read_movies_dat(path)
    } else if name == "u.item" {
        read_u_item(path)
    } else {
        read_movies_csv(path)
    }
}

fn open_csv(path: &Path, expected: &[&str]) -> Result<csv::Reader<std::fs::File>> {
    let file = crate::io::files::open_regular(path)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(file);
    let header = reader
        .byte_headers()
        .map_err(|e| csv_error(path, e))?
        .clone();
    let found: Vec<String> = header
        .iter()
        .map(|f| {
            String::from_utf8_lossy(f)
                .trim()
                .trim_start_matches('\u{feff}')
                .to_string()
        })
        .collect();
    let ok = found.len() >= expected.len()
        && expected
            .iter()
            .zip(&found)
            .all(|(e, f)| f.eq_ignore_ascii_case(e));
    if !ok {
        let what = if found.is_empty() {
            "the file is empty".to_string()
        } else {
            format!("found {:?}", found.join(","))
        };
        return Err(Error::invalid_data(format!(
            "{} line 1: expected the header {}; {what}",
            path.display(),
            expected.join(",")
        )));
    }
    Ok(reader)
}

fn csv_error(path: &Path, err: csv::Error) -> Error {
    let line = err.position().map(|p| p.line()).unwrap_or(0);
    match err.kind() {
        csv::ErrorKind::Io(e) => Error::io(path, e),
        csv::ErrorKind::Utf8 { .. } => Error::invalid_data(format!(
            "{} line {line}: text is not valid UTF-8",
            path.display()
        )),
        _ => Error::invalid_data(format!("{} line {line}: {err}", path.display())),
    }
}

fn bad_row(path: &Path, line: u64, why: &str, text: &str) -> Error {
    let text: String = text.chars().take(120).collect();
    Error::invalid_data(format!("{} line {line}: {why}: {text:?}", path.display()))
}

fn movie_id(path: &Path, line: u64, field: &str) -> Result<i64> {
    numbers::parse_id(field.as_bytes())
        .map(|v| v as i64)
        .map_err(|why| bad_row(path, line, &format!("movieId: {why}"), field))
}

/// ml-latest and ml-20m+ `movies.csv`: `movieId,title,genres`, titles quoted when they hold
/// commas or quotes.
pub fn read_movies_csv(path: &Path) -> Result<Catalog> {
    let mut reader = open_csv(path, &["movieId", "title", "genres"])?;
    let mut catalog = Catalog::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, e))?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.len() != 3 {
            return Err(bad_row(
                path,
                line,
                &format!(
                    "expected 3 fields (movieId,title,genres), found {}",
                    record.len()
                ),
                &record.iter().collect::<Vec<_>>().join(","),
            ));
        }
        let id = movie_id(path, line, &record[0])?;
        let genres: Vec<&str> = record[2].split('|').collect();
        catalog.push(id, record[1].to_string(), &genres);
    }
    Ok(catalog)
}

/// UTF-8 when it is valid, else ISO-8859-1 (where every byte is the code point of that value),
/// which is what ml-1m's and ml-100k's files are.
fn decode_line(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    }
}

fn lines_of(path: &Path) -> Result<Vec<(u64, String)>> {
    let bytes = crate::io::files::read_regular(path)?;
    Ok(bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, l)| {
            (
                i as u64 + 1,
                decode_line(l.strip_suffix(b"\r").unwrap_or(l)),
            )
        })
        .filter(|(_, l)| !l.trim().is_empty())
        .collect())
}

/// Older MovieLens spells one genre differently; one vocabulary keeps the genre model portable.
fn genre_name(g: &str) -> &str {
    match g {
        "Children's" => "Children",
        other => other,
    }
}

/// ml-1m and ml-10m `movies.dat`: `MovieID::Title::Genres`.
pub fn read_movies_dat(path: &Path) -> Result<Catalog> {
    let mut catalog = Catalog::new();
    for (line, text) in lines_of(path)? {
        let fields: Vec<&str> = text.split("::").collect();
        if fields.len() != 3 {
            return Err(bad_row(
                path,
                line,
                &format!(
                    "expected 3 fields (MovieID::Title::Genres), found {}",
                    fields.len()
                ),
                &text,
            ));
        }
        let id = movie_id(path, line, fields[0])?;
        let genres: Vec<&str> = fields[2].split('|').map(genre_name).collect();
        catalog.push(id, fields[1].to_string(), &genres);
    }
    Ok(catalog)
}

/// ml-100k's genres, in the order of `u.item`'s 19 flags; "unknown" is no genre.
const U_ITEM_GENRES: [&str; 19] = [
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
];

/// ml-100k `u.item`: `id|title|release date|video release date|IMDb URL|` + 19 genre flags.
pub fn read_u_item(path: &Path) -> Result<Catalog> {
    let mut catalog = Catalog::new();
    for (line, text) in lines_of(path)? {
        let fields: Vec<&str> = text.split('|').collect();
        if fields.len() != 5 + U_ITEM_GENRES.len() {
            return Err(bad_row(
                path,
                line,
                &format!(
                    "expected 24 fields (id|title|dates|url|19 genre flags), found {}",
                    fields.len()
                ),
                &text,
            ));
        }
        let id = movie_id(path, line, fields[0])?;
        let mut genres = Vec::new();
        for (flag, name) in fields[5..].iter().zip(U_ITEM_GENRES) {
            match flag.trim() {
                "1" if name != "unknown" => genres.push(name),
                "0" | "1" => {}
                other => {
                    return Err(bad_row(
                        path,
                        line,
                        &format!("genre flag {name} must be 0 or 1, found {other:?}"),
                        &text,
                    ))
                }
            }
        }
        catalog.push(id, fields[1].to_string(), &genres);
    }
    Ok(catalog)
}

/// `links.csv`: `movieId,imdbId,tmdbId`; either id may be empty.
pub fn read_links_csv(path: &Path, catalog: &mut Catalog) -> Result<()> {
    let mut reader = open_csv(path, &["movieId", "imdbId", "tmdbId"])?;
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, e))?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let field = |i: usize| -> Result<Option<i64>> {
            match record.get(i).map(str::trim) {
                None | Some("") => Ok(None),
                Some(f) => movie_id(path, line, f).map(Some),
            }
        };
        let id = field(0)?.ok_or_else(|| bad_row(path, line, "movieId is empty", ""))?;
        catalog.links.insert(
            id,
            Links {
                imdb_id: field(1)?,
                tmdb_id: field(2)?,
            },
        );
    }
    Ok(())
}

/// `tags.csv`: `userId,movieId,tag,timestamp`; kept as each movie's distinct tags with counts.
pub fn read_tags_csv(path: &Path, catalog: &mut Catalog) -> Result<()> {
    let mut reader = open_csv(path, &["userId", "movieId", "tag"])?;
    let mut counts: HashMap<i64, HashMap<String, u32>> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, e))?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let (Some(movie), Some(tag)) = (record.get(1), record.get(2)) else {
            return Err(bad_row(
                path,
                line,
                "expected userId,movieId,tag,timestamp",
                &record.iter().collect::<Vec<_>>().join(","),
            ));
        };
        let id = movie_id(path, line, movie)?;
        let tag = tag.trim();
        if !tag.is_empty() {
            *counts
                .entry(id)
                .or_default()
                .entry(tag.to_string())
                .or_default() += 1;
        }
    }
    for (id, tags) in counts {
        let mut tags: Vec<(String, u32)> = tags.into_iter().collect();
        tags.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        catalog.tags.insert(id, tags);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn reads_every_catalog_format() {
        let dir = std::env::temp_dir().join(format!("alsrec-cat-{}", std::process::id()));
        let csv = write(
            &dir,
            "movies.csv",
            b"movieId,title,genres\n1,\"Lord of the Rings, The (1978)\",Adventure|Animation\n2,\"\"\"Great\"\" Performances (1971)\",(no genres listed)\n",
        );
        let c = read_movies_csv(&csv).unwrap();
        assert_eq!(c.get(1).unwrap().title, "Lord of the Rings, The (1978)");
        assert_eq!(c.get(2).unwrap().title, "\"Great\" Performances (1971)");
        assert!(c.get(2).unwrap().genres.is_empty());
        // ml-1m: ISO-8859-1 ("é" is the single byte 0xE9).
        let dat = write(
            &dir,
            "movies.dat",
            b"1::Am\xe9lie (2001)::Comedy|Romance\n2::Babe (1995)::Children's|Comedy\n",
        );
        let c = read_movies_dat(&dat).unwrap();
        assert_eq!(c.get(1).unwrap().title, "Amélie (2001)");
        assert_eq!(c.get(1).unwrap().year, Some(2001));
        assert!(c.genre_names.contains(&"Children".to_string()));
        let item = write(
            &dir,
            "u.item",
            b"1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n",
        );
        let c = read_u_item(&item).unwrap();
        let names: Vec<&str> = c
            .get(1)
            .unwrap()
            .genres
            .iter()
            .map(|&g| c.genre_names[g as usize].as_str())
            .collect();
        assert_eq!(names, ["Animation", "Children", "Comedy"]);
        let bad = write(&dir, "bad.item", b"1|Toy Story (1995)|x\n");
        assert!(read_u_item(&bad).unwrap_err().message.contains("line 1"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
