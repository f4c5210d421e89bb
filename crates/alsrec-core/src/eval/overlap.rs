//! Which ratings of a dataset are the model's own training ratings. Scoring a model on ratings it
//! was trained on flatters it (an evaluation on another split of the same data, or on the
//! training set itself, looks like a test), so an evaluation first counts them, and refuses or
//! drops them.
use crate::data::dataset::Dataset;
use crate::model::Model;
use rayon::prelude::*;

/// Ratings per parallel chunk of the mask.
const CHUNK: usize = 1 << 14;

impl Model {
    /// For each rating of `data`, in its row order: whether the model was trained on that
    /// (user, movie) pair. Pairs are matched by raw ids, so `data` may come from another load;
    /// users and movies the model does not know are never seen.
    pub fn seen_mask(&self, data: &Dataset) -> Vec<bool> {
        // The id maps of a split are those of the set it came from, and a model trained on it
        // shares them; otherwise each index is looked up by raw id once.
        let users: Vec<Option<u32>> = (0..data.users.len() as u32)
            .map(|u| self.users.index(data.users.raw(u)))
            .collect();
        let items: Vec<Option<u32>> = (0..data.items.len() as u32)
            .map(|i| self.items.index(data.items.raw(i)))
            .collect();
        let t = &data.triplets();
        let mut mask = vec![false; t.len()];
        mask.par_chunks_mut(CHUNK).enumerate().for_each(|(c, out)| {
            let base = c * CHUNK;
            for (j, seen) in out.iter_mut().enumerate() {
                let (u, i) = (t.users[base + j] as usize, t.items[base + j] as usize);
                if let (Some(Some(mu)), Some(Some(mi))) = (users.get(u), items.get(i)) {
                    if (*mu as usize) < self.seen.nrows() {
                        // Rows of `seen` are sorted and distinct (the model file checks it).
                        *seen = self.seen.row(*mu as usize).0.binary_search(mi).is_ok();
                    }
                }
            }
        });
        mask
    }

    /// How many ratings of `data` are training ratings of the model.
    pub fn count_seen(&self, data: &Dataset) -> usize {
        self.seen_mask(data).iter().filter(|&&s| s).count()
    }

    /// `data` without the model's training ratings (same id maps and catalog), and how many
    /// ratings were dropped.
    pub fn without_seen(&self, data: &Dataset) -> (Dataset, usize) {
        let mask = self.seen_mask(data);
        let keep: Vec<usize> = (0..mask.len()).filter(|&j| !mask[j]).collect();
        let dropped = mask.len() - keep.len();
        (data.subset(&keep), dropped)
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::als::epochs::TrainHooks;
    use crate::als::train;
    use crate::data::split::random_split;
    use crate::ingest::movielens::{load_movielens, LoadOptions};
    use crate::model::config::{ModelKind, TrainConfig};

    #[test]
    fn the_training_set_is_all_seen_its_test_set_none_and_another_split_most() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/sample");
        let data = load_movielens(&dir, &LoadOptions::default()).unwrap();
        let parts = random_split(&data, 0.2, 42).unwrap();
        let config = TrainConfig {
            factors: 4,
            epochs: 2,
            ..TrainConfig::defaults_for(ModelKind::Biased)
        };
        let model = train(&parts.train, &config, TrainHooks::default()).unwrap();
        assert_eq!(model.count_seen(&parts.train), parts.train.num_ratings());
        assert_eq!(model.count_seen(&parts.test), 0);
        // Another seed: about 80 % of its test ratings were trained on.
        let other = random_split(&data, 0.2, 7).unwrap();
        let seen = model.count_seen(&other.test);
        let share = seen as f64 / other.test.num_ratings() as f64;
        assert!(
            (0.75..0.85).contains(&share),
            "{seen} of {}",
            other.test.num_ratings()
        );
        let (unseen, dropped) = model.without_seen(&other.test);
        assert_eq!(dropped, seen);
        assert_eq!(unseen.num_ratings() + dropped, other.test.num_ratings());
        assert_eq!(model.count_seen(&unseen), 0);
        // The whole set holds exactly the training ratings, whichever load it comes from.
        let again = load_movielens(&dir, &LoadOptions::default()).unwrap();
        assert_eq!(model.count_seen(&again), parts.train.num_ratings());
    }
}
