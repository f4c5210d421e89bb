//! What untrusted inputs are put through, shared by the fuzz targets (`fuzz/`) and the seeded
//! mutation tests that CI runs: a parser either refuses an input with a coded error or accepts
//! it, and whatever it accepts answers every query with finite numbers. A panic is a finding too;
//! callers catch it (`cargo fuzz` reports it, the tests use `catch_unwind`).
#[cfg(test)]
mod tests;
use crate::error::ErrorKind;
use crate::foldin::new_user::NewUser;
use crate::query::options::{Filter, RecommendOptions};
use crate::query::stats::QueryStats;
use crate::query::topn::Scored;
use crate::runtime::cancel::CancelToken;
use crate::Model;

/// The outcome of one input: refused (with a coded error of the expected kind) or accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Refused,
    Accepted,
}

/// Decodes a model file and, when it loads, queries it the ways a user can. `Err` describes a
/// violation: an error of the wrong kind, or a non-finite answer.
pub fn exercise_model_file(bytes: &[u8]) -> Result<Verdict, String> {
    let model = match crate::model::file::decode(bytes) {
        Ok(model) => model,
        Err(e) if e.kind == ErrorKind::BadModelFile => return Ok(Verdict::Refused),
        Err(e) => return Err(format!("decode failed with {:?}: {}", e.kind, e.message)),
    };
    exercise_model(&model)?;
    Ok(Verdict::Accepted)
}

fn check_list(what: &str, list: &[Scored], model: &Model, ratings: bool) -> Result<(), String> {
    for s in list {
        if s.item as usize >= model.num_items() {
            return Err(format!("{what}: movie index {} past the end", s.item));
        }
        if !s.score.is_finite() {
            return Err(format!("{what}: score {} for movie {}", s.score, s.item));
        }
        if ratings && !s.rating.is_finite() {
            return Err(format!("{what}: rating {} for movie {}", s.rating, s.item));
        }
    }
    Ok(())
}

/// Queries a loaded model: known users (one by one and in a batch), a new user, similar movies
/// and users, explanations. Errors a query may rightly give (an empty model has no user 0) are
/// fine if coded as such; answers must be finite.
pub fn exercise_model(model: &Model) -> Result<(), String> {
    let index = QueryStats::new(model);
    let rated = model.config.model.predicts_ratings();
    let options = RecommendOptions::default();
    let wide = RecommendOptions {
        n: 25,
        diversity: 0.3,
        filter: Filter {
            min_ratings: Some(0),
            ..Filter::default()
        },
        ..RecommendOptions::default()
    };
    let allowed =
        |e: &crate::Error| matches!(e.kind, ErrorKind::InvalidArgument | ErrorKind::NotFound);
    let users: Vec<usize> = [
        0,
        model.num_users() / 2,
        model.num_users().saturating_sub(1),
    ]
    .into_iter()
    .filter(|&u| u < model.num_users())
    .collect();
    for &u in &users {
        for o in [&options, &wide] {
            match model.recommend(u, o, &index) {
                Ok(list) => check_list("recommend", &list, model, rated)?,
                Err(e) if allowed(&e) => {}
                Err(e) => return Err(format!("recommend: {:?} {}", e.kind, e.message)),
            }
        }
        match model.similar_users(u, 5, &index) {
            Ok(list) => {
                if let Some(s) = list
                    .iter()
                    .find(|s| s.item as usize >= model.num_users() || !s.score.is_finite())
                {
                    return Err(format!("similar users: user {}, score {}", s.item, s.score));
                }
            }
            Err(e) if allowed(&e) => {}
            Err(e) => return Err(format!("similar users: {:?} {}", e.kind, e.message)),
        }
    }
    let batch: Vec<u32> = (0..model.num_users().min(64) as u32).collect();
    match model.recommend_many(&batch, &options, &index, &CancelToken::new()) {
        Ok(lists) => {
            for (j, &item) in lists.items.iter().enumerate() {
                if item != u32::MAX
                    && (item as usize >= model.num_items() || !lists.scores[j].is_finite())
                {
                    return Err(format!(
                        "recommend_many: movie {item}, score {}",
                        lists.scores[j]
                    ));
                }
            }
        }
        Err(e) if allowed(&e) => {}
        Err(e) => return Err(format!("recommend_many: {:?} {}", e.kind, e.message)),
    }
    for item in [0, model.num_items().saturating_sub(1)] {
        if item >= model.num_items() {
            continue;
        }
        match model.similar_items(item, 10, &Filter::default(), &index) {
            Ok(list) => check_list("similar movies", &list, model, false)?,
            Err(e) if allowed(&e) => {}
            Err(e) => return Err(format!("similar movies: {:?} {}", e.kind, e.message)),
        }
        let top = index.rating_range.1;
        let visitor = NewUser {
            items: vec![item as u32],
            ratings: vec![top],
            genres: Vec::new(),
        };
        match model.recommend_for_new_user(&visitor, &options, &index) {
            Ok(list) => check_list("new user", &list, model, rated)?,
            Err(e) if allowed(&e) => {}
            Err(e) => return Err(format!("new user: {:?} {}", e.kind, e.message)),
        }
        if let Some(&u) = users.first() {
            match model.explain(u, item, 5, &index) {
                Ok(_) => {}
                Err(e) if allowed(&e) => {}
                Err(e) => return Err(format!("explain: {:?} {}", e.kind, e.message)),
            }
        }
    }
    Ok(())
}

/// A scratch file for parsers that read paths, unique per thread so fuzz workers and tests
/// running in parallel never share one.
fn scratch(name: &str, bytes: &[u8]) -> Result<std::path::PathBuf, String> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "alsrec-robustness-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
    Ok(path)
}

fn cleanup(path: &std::path::Path) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Errors an input file may rightly give: it is bad data, or asks for what is not there.
fn input_error(e: &crate::Error) -> bool {
    matches!(
        e.kind,
        ErrorKind::InvalidData | ErrorKind::InvalidArgument | ErrorKind::NotFound
    )
}

/// Parses bytes as a ratings file, by each MovieLens layout's file name (detected) and by a
/// column mapping; what loads must be a consistent data set with finite ratings.
pub fn exercise_ratings(bytes: &[u8]) -> Result<Verdict, String> {
    use crate::ingest::format::{Column, ColumnMapping};
    use crate::ingest::movielens::{load_ratings, LoadOptions};
    let mut verdict = Verdict::Refused;
    let mapping = ColumnMapping {
        delimiter: Some(",".into()),
        header: Some(false),
        user: Column::Index(0),
        item: Column::Index(1),
        rating: Column::Index(2),
        timestamp: None,
    };
    for (name, mapping) in [
        ("ratings.csv", None),
        ("ratings.dat", None),
        ("u.data", None),
        ("any.txt", Some(&mapping)),
    ] {
        let path = scratch(name, bytes)?;
        let loaded = load_ratings(&path, mapping, &LoadOptions::default());
        cleanup(&path);
        match loaded {
            Ok(d) => {
                verdict = Verdict::Accepted;
                let t = &d.triplets();
                if t.users.iter().any(|&u| u as usize >= d.users.len())
                    || t.items.iter().any(|&i| i as usize >= d.items.len())
                {
                    return Err(format!("{name}: an index past the id maps"));
                }
                if let Some(r) = t.ratings.iter().find(|r| !r.is_finite()) {
                    return Err(format!("{name}: rating {r} loaded"));
                }
                if d.by_user.nnz() != t.len() || d.by_item.nnz() != t.len() {
                    return Err(format!("{name}: the matrices disagree with the triplets"));
                }
            }
            Err(e) if input_error(&e) => {}
            Err(e) => return Err(format!("{name}: {:?} {}", e.kind, e.message)),
        }
    }
    Ok(verdict)
}

/// Parses bytes as each catalog layout (movies.csv, movies.dat, u.item, with links and tags).
pub fn exercise_catalog(bytes: &[u8]) -> Result<Verdict, String> {
    use crate::ingest::catalog_files::{read_movies_csv, read_movies_dat, read_u_item};
    let mut verdict = Verdict::Refused;
    type Reader = fn(&std::path::Path) -> crate::Result<crate::data::catalog::Catalog>;
    let readers: [(&str, Reader); 3] = [
        ("movies.csv", read_movies_csv),
        ("movies.dat", read_movies_dat),
        ("u.item", read_u_item),
    ];
    for (name, read) in readers {
        let path = scratch(name, bytes)?;
        let read = read(&path);
        cleanup(&path);
        match read {
            Ok(c) => {
                verdict = Verdict::Accepted;
                if let Some(m) = c
                    .movies
                    .iter()
                    .find(|m| m.genres.iter().any(|&g| g as usize >= c.genre_names.len()))
                {
                    return Err(format!("{name}: movie {} has a genre past the list", m.id));
                }
            }
            Err(e) if input_error(&e) => {}
            Err(e) => return Err(format!("{name}: {:?} {}", e.kind, e.message)),
        }
    }
    // links.csv and tags.csv beside a valid movies.csv.
    let dir = scratch("movies.csv", b"movieId,title,genres\n1,A (2000),Drama\n")?;
    let dir = dir.parent().map(|d| d.to_path_buf()).unwrap_or_default();
    for name in ["links.csv", "tags.csv"] {
        std::fs::write(dir.join(name), bytes).map_err(|e| e.to_string())?;
        let read = crate::ingest::catalog_files::read_catalog_in(&dir);
        let _ = std::fs::remove_file(dir.join(name));
        match read {
            Ok(_) => verdict = Verdict::Accepted,
            Err(e) if input_error(&e) => {}
            Err(e) => return Err(format!("{name}: {:?} {}", e.kind, e.message)),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(verdict)
}
