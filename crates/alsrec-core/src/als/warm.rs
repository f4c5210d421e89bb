//! Warm start: copies a trained model's parameters into a fresh one, matching users, movies and
//! genres by their raw ids and names, so a model can be refit on new data or trained further.
//! Rows the old model does not know keep their seeded random start.
use crate::data::ids::IdMap;
use crate::error::{Error, Result};
use crate::model::Model;

pub fn copy_parameters(from: &Model, to: &mut Model) -> Result<()> {
    if from.config.model != to.config.model {
        return Err(Error::invalid_argument(format!(
            "initialModel is a '{}' model but the config trains '{}'",
            from.config.model.name(),
            to.config.model.name()
        )));
    }
    if from.k != to.k {
        return Err(Error::invalid_argument(format!(
            "initialModel has factors = {} but the config asks for {}",
            from.k, to.k
        )));
    }
    let k = to.k;
    copy_rows(
        &from.users,
        &to.users,
        k,
        &from.user_factors,
        &mut to.user_factors,
    );
    copy_rows(
        &from.users,
        &to.users,
        1,
        &from.user_bias,
        &mut to.user_bias,
    );
    copy_rows(
        &from.items,
        &to.items,
        k,
        &from.item_factors,
        &mut to.item_factors,
    );
    copy_rows(
        &from.items,
        &to.items,
        1,
        &from.item_bias,
        &mut to.item_bias,
    );
    if !to.genre_factors.is_empty() && !from.genre_factors.is_empty() {
        for (g, name) in to.catalog.genre_names.iter().enumerate() {
            if let Some(h) = from.catalog.genre_names.iter().position(|n| n == name) {
                to.genre_factors[g * k..(g + 1) * k]
                    .copy_from_slice(&from.genre_factors[h * k..(h + 1) * k]);
            }
        }
    }
    Ok(())
}

fn copy_rows(from_ids: &IdMap, to_ids: &IdMap, width: usize, from: &[f32], to: &mut [f32]) {
    if width == 0 {
        return;
    }
    for (row, &raw) in to_ids.raw_ids().iter().enumerate() {
        if let Some(old) = from_ids.index(raw) {
            let old = old as usize;
            to[row * width..(row + 1) * width]
                .copy_from_slice(&from[old * width..(old + 1) * width]);
        }
    }
}
