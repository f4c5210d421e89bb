//! What untrusted inputs are put through, shared by the fuzz targets (`fuzz/`) and the seeded
//! mutation tests that CI runs: a parser either refuses an input with a coded error or accepts
//! it, and whatever it accepts answers every query with finite numbers. A panic is a finding too;
//! callers catch it (`cargo fuzz` reports it, the tests use `catch_unwind`).
use crate::cancel::CancelToken;
use crate::error::ErrorKind;
use crate::newuser::NewUser;
use crate::query::{Filter, QueryIndex, RecommendOptions, Scored};
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
    let model = match crate::modelfile::decode(bytes) {
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
    let index = QueryIndex::new(model);
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
