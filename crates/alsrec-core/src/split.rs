//! Train/test splits. Every split is a pure function of the data and the seed, so it is the
//! same for any thread count and on any machine.
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::dataset::Dataset;
use crate::error::{Error, Result};

pub struct Split {
    pub train: Dataset,
    pub test: Dataset,
}

fn check_fraction(test_fraction: f64) -> Result<()> {
    if test_fraction.is_finite() && test_fraction > 0.0 && test_fraction < 1.0 {
        Ok(())
    } else {
        Err(Error::invalid_argument(format!(
            "testFraction must be between 0 and 1, exclusive (got {test_fraction})"
        )))
    }
}

/// Puts a uniformly random `test_fraction` of all ratings in the test set.
pub fn random_split(data: &Dataset, test_fraction: f64, seed: u64) -> Result<Split> {
    check_fraction(test_fraction)?;
    let n = data.num_ratings();
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut Xoshiro256PlusPlus::seed_from_u64(seed));
    let n_test = ((n as f64) * test_fraction).round() as usize;
    let (test_rows, train_rows) = order.split_at_mut(n_test);
    test_rows.sort_unstable();
    train_rows.sort_unstable();
    Ok(Split {
        train: data.subset(train_rows),
        test: data.subset(test_rows),
    })
}
