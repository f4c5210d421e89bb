//! Genre diversity: maximal-marginal-relevance re-ranking of a pool.
use crate::model::Model;
use crate::query::options::RecommendOptions;
use crate::query::similar::jaccard;
use crate::query::topn::Scored;

impl Model {
    /// Maximal-marginal-relevance re-ranking of a pool (best first) for genre diversity:
    /// repeatedly take the movie maximizing (1 − w)·relevance − w·(max genre overlap with the
    /// movies already taken), relevance being the score scaled to [0, 1] within the pool.
    pub fn diversify(&self, pool: Vec<Scored>, options: &RecommendOptions) -> Vec<Scored> {
        let w = options.diversity;
        if w <= 0.0 || pool.len() <= 1 {
            let mut pool = pool;
            pool.truncate(options.n);
            return pool;
        }
        let genres: Vec<&[u16]> = pool
            .iter()
            .map(|s| self.item_genres(s.item as usize))
            .collect();
        let (lo, hi) = pool
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |a, s| {
                (a.0.min(s.score), a.1.max(s.score))
            });
        let span = if hi > lo { hi - lo } else { 1.0 };
        let mut taken: Vec<usize> = Vec::with_capacity(options.n);
        let mut max_overlap = vec![0f32; pool.len()];
        let mut used = vec![false; pool.len()];
        while taken.len() < options.n.min(pool.len()) {
            let mut best: Option<(usize, f32)> = None;
            for c in 0..pool.len() {
                if used[c] {
                    continue;
                }
                let relevance = (pool[c].score - lo) / span;
                let value = (1.0 - w) * relevance - w * max_overlap[c];
                if best.is_none_or(|(_, b)| value > b) {
                    best = Some((c, value));
                }
            }
            let Some((pick, _)) = best else { break };
            used[pick] = true;
            taken.push(pick);
            for c in 0..pool.len() {
                if !used[c] {
                    max_overlap[c] = max_overlap[c].max(jaccard(genres[c], genres[pick]));
                }
            }
        }
        taken.into_iter().map(|c| pool[c]).collect()
    }
}
