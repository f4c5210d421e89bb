//! Rating errors of a model on a dataset (RMSE, MAE), summed in fixed chunks of users so the
//! result is the same for any thread count.
use crate::data::dataset::Dataset;
use crate::kernels::isa::Isa;
use crate::model::config::ModelKind;
use crate::model::Model;
use rayon::prelude::*;

/// Rows per reduction chunk: fixed, so float sums are added in the same order for any number of
/// threads and the reported metrics are bit-identical too.
pub(crate) const REDUCE_CHUNK: usize = 1024;

pub(crate) fn sum_over_rows<const N: usize, F>(rows: usize, f: F) -> [f64; N]
where
    F: Fn(usize) -> [f64; N] + Sync,
{
    let partial: Vec<[f64; N]> = (0..rows.div_ceil(REDUCE_CHUNK))
        .into_par_iter()
        .map(|c| {
            let mut acc = [0.0; N];
            for r in c * REDUCE_CHUNK..((c + 1) * REDUCE_CHUNK).min(rows) {
                for (a, v) in acc.iter_mut().zip(f(r)) {
                    *a += v;
                }
            }
            acc
        })
        .collect();
    partial.iter().fold([0.0; N], |mut a, s| {
        for (x, v) in a.iter_mut().zip(s) {
            *x += v;
        }
        a
    })
}

/// (RMSE, MAE) of the model on `data`. Explicit models: of the predicted ratings. Implicit
/// model: of the predicted preference x·y against 1 on the observed pairs.
pub fn errors(model: &Model, data: &Dataset) -> (f64, f64) {
    rmse_mae(error_sums(model, data), data)
}

pub(crate) fn rmse_mae([se, ae, _]: [f64; 3], data: &Dataset) -> (f64, f64) {
    let n = data.num_ratings().max(1) as f64;
    ((se / n).sqrt(), ae / n)
}

/// (Σ e², Σ |e|, and for the implicit model Σ c (1 − s)² − s²) over `data`: one pass, shared by
/// the metrics and the loss.
pub(crate) fn error_sums(model: &Model, data: &Dataset) -> [f64; 3] {
    let implicit = model.config.model == ModelKind::Implicit;
    let isa = Isa::detected();
    sum_over_rows(data.by_user.nrows(), |u| {
        isa.run(
            #[inline(always)]
            || row_error_sums(model, data, u, implicit),
        )
    })
}

#[inline(always)]
pub(crate) fn row_error_sums(model: &Model, data: &Dataset, u: usize, implicit: bool) -> [f64; 3] {
    let (cols, vals) = data.by_user.row(u);
    let mut acc = [0.0; 3];
    for (j, (&i, r)) in cols.iter().zip(vals).enumerate() {
        // The movie vectors are scattered: fetch a few ahead so the misses overlap.
        if let Some(&ahead) = cols.get(j + 8) {
            crate::kernels::dense::prefetch_vector(&model.item_factors, ahead as usize, model.k);
        }
        let s = model.predict(u, i as usize);
        let target = if implicit { 1.0 } else { r };
        let e = (target - s) as f64;
        acc[0] += e * e;
        acc[1] += e.abs();
        if implicit {
            let conf = 1.0 + model.config.alpha as f64 * r as f64;
            acc[2] += conf * e * e - s as f64 * s as f64;
        }
    }
    acc
}
