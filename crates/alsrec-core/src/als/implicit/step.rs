//! The fixed side and the options of one implicit half-step.
use crate::data::sparse::Csr;
use crate::runtime::cancel::CancelToken;

pub struct ImplicitStep<'a> {
    pub ratings: &'a Csr,
    /// The fixed side's vectors (rows × k).
    pub other_factors: &'a [f32],
    pub k: usize,
    pub lambda: f32,
    pub tau: f32,
    pub alpha: f32,
    /// Conjugate-gradient steps per row, warm-started from the current vector; `None` solves
    /// each row exactly by Cholesky.
    pub cg_steps: Option<usize>,
    /// CG on rows whose gathered neighbours exceed this many bytes forms their system first
    /// ([`DENSE_ROW_BYTES`] in training; tests move it to exercise both paths).
    pub dense_row_bytes: usize,
    /// CG solves rows with at least this many ratings in lockstep ([`lockstep::MIN_DEGREE`] in
    /// training; tests lower it).
    pub lockstep_min_degree: usize,
    pub cancel: Option<&'a CancelToken>,
}
