//! Movies and users like a given one, by vector cosine (and genre overlap).
use crate::error::{Error, Result};
use crate::kernels::dense::dot;
use crate::model::Model;
use crate::query::options::{check_n, Filter};
use crate::query::stats::QueryStats;
use crate::query::topn::{top_n, Scored};

impl Model {
    pub(crate) fn require_vectors(&self) -> Result<()> {
        if self.k == 0 {
            Err(Error::invalid_argument(
                "the bias-only model has no latent vectors to compare",
            ))
        } else {
            Ok(())
        }
    }

    /// Movies nearest to a movie by cosine similarity of their vectors, itself excluded.
    pub fn similar_items(
        &self,
        item: usize,
        n: usize,
        filter: &Filter,
        index: &QueryStats,
    ) -> Result<Vec<Scored>> {
        check_n(n)?;
        self.require_vectors()?;
        // The ranker's vectors where there is one: they are fitted to who watches what, and
        // place a film beside its sequels more reliably than rating residuals do.
        let vectors = self.ranker.as_deref().unwrap_or(self);
        let norms = &index.similar_norms;
        let q = vectors.item_vector(item);
        let qn = norms[item];
        if qn == 0.0 {
            return Ok(Vec::new());
        }
        let score =
            |i: usize| Scored::new(i as u32, dot(q, vectors.item_vector(i)) / (qn * norms[i]));
        let keep = |i: usize| i != item && norms[i] > 0.0;
        // A short candidate list (the explorer's "nearest film you rated") is scored alone,
        // not by a pass over the catalog.
        if let Some(candidates) = &filter.candidates {
            let mut candidates = candidates.clone();
            candidates.sort_unstable();
            candidates.dedup();
            let others = Filter {
                candidates: None,
                ..filter.clone()
            };
            let admission = self.admission(&[], &others, index);
            let scores = candidates
                .iter()
                .filter(|&&i| admission.admits(i) && keep(i as usize))
                .map(|&i| score(i as usize));
            return Ok(top_n(scores, n));
        }
        let mask = self.allowed_items(filter, index);
        let scores = (0..self.num_items())
            .filter(|&i| keep(i) && mask.as_ref().is_none_or(|m| m[i]))
            .map(score);
        Ok(top_n(scores, n))
    }

    /// Users nearest to a user by cosine similarity of their vectors, itself excluded.
    pub fn similar_users(&self, user: usize, n: usize, index: &QueryStats) -> Result<Vec<Scored>> {
        check_n(n)?;
        self.require_vectors()?;
        let q = self.user_vector(user);
        let qn = index.user_norms[user];
        if qn == 0.0 {
            return Ok(Vec::new());
        }
        let scores = (0..self.num_users())
            .filter(|&u| u != user && index.user_norms[u] > 0.0)
            .map(|u| {
                Scored::new(
                    u as u32,
                    dot(q, self.user_vector(u)) / (qn * index.user_norms[u]),
                )
            });
        Ok(top_n(scores, n))
    }
}

pub(crate) fn jaccard(a: &[u16], b: &[u16]) -> f32 {
    if a.is_empty() && b.is_empty() {
        return 0.0;
    }
    let common = a.iter().filter(|g| b.contains(g)).count();
    common as f32 / (a.len() + b.len() - common) as f32
}
