//! Questions asked of a trained model: top-N recommendations and predictions.
use crate::error::{Error, Result};
use crate::model::{dot, Model};

#[derive(Debug, Clone)]
pub struct RecommendOptions {
    pub n: usize,
    pub exclude_seen: bool,
}

impl Default for RecommendOptions {
    fn default() -> Self {
        RecommendOptions {
            n: 10,
            exclude_seen: true,
        }
    }
}

/// One recommended movie: its dense index and predicted rating.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub item: u32,
    pub score: f32,
}

impl Model {
    /// The dense index of a raw user id, or an error that names it.
    pub fn user_index(&self, user_id: i64) -> Result<usize> {
        self.users
            .index(user_id)
            .map(|u| u as usize)
            .ok_or_else(|| Error::not_found(format!("unknown user id {user_id}")))
    }

    pub fn item_index(&self, movie_id: i64) -> Result<usize> {
        self.items
            .index(movie_id)
            .map(|i| i as usize)
            .ok_or_else(|| Error::not_found(format!("unknown movie id {movie_id}")))
    }

    /// The top `n` movies for a known user, best first.
    pub fn recommend(&self, user: usize, options: &RecommendOptions) -> Result<Vec<Scored>> {
        if options.n == 0 {
            return Err(Error::invalid_argument("n must be at least 1 (got 0)"));
        }
        let u = self.user_vector(user);
        let base = self.mu + self.user_bias[user];
        let seen = if options.exclude_seen {
            self.seen.row(user).0
        } else {
            &[][..]
        };
        let scores = (0..self.num_items())
            .filter(|i| seen.binary_search(&(*i as u32)).is_err())
            .map(|i| Scored {
                item: i as u32,
                score: base + self.item_bias[i] + dot(u, self.item_vector(i)),
            });
        Ok(top_n(scores, options.n))
    }
}

/// The `n` best by score (ties by index), by partial selection: O(items), not a full sort.
pub fn top_n(scores: impl Iterator<Item = Scored>, n: usize) -> Vec<Scored> {
    let mut all: Vec<Scored> = scores.collect();
    let better = |a: &Scored, b: &Scored| b.score.total_cmp(&a.score).then(a.item.cmp(&b.item));
    if all.len() > n {
        all.select_nth_unstable_by(n - 1, better);
        all.truncate(n);
    }
    all.sort_unstable_by(better);
    all
}
