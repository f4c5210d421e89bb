//! A seeded generator of MovieLens-shaped data with a known ground truth.
//!
//! Ratings follow μ + b_u + c_i + u·v with genre-structured tastes, Gaussian noise and half-star
//! rounding; popularity and activity are long-tailed like MovieLens. Because the planted ratings
//! are known, the RMSE between them and the written ratings (the noise floor) is the best test
//! RMSE any model can reach.
use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, LogNormal, Normal};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::runtime::cancel::CancelToken;

/// The 19 genres of MovieLens with their approximate share of ml-25m's genre labels.
pub const DEFAULT_GENRES: [(&str, f64); 19] = [
    ("Drama", 0.205),
    ("Comedy", 0.137),
    ("Thriller", 0.072),
    ("Romance", 0.063),
    ("Action", 0.063),
    ("Horror", 0.058),
    ("Documentary", 0.049),
    ("Crime", 0.044),
    ("Adventure", 0.036),
    ("Sci-Fi", 0.033),
    ("Children", 0.025),
    ("Animation", 0.025),
    ("Mystery", 0.023),
    ("Fantasy", 0.023),
    ("War", 0.013),
    ("Western", 0.010),
    ("Musical", 0.008),
    ("Film-Noir", 0.003),
    ("IMAX", 0.001),
];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct GenerateOptions {
    pub users: usize,
    pub movies: usize,
    pub ratings: usize,
    pub seed: u64,
    /// Rank of the planted tastes.
    pub factors: usize,
    /// Standard deviation of the Gaussian noise added before rounding.
    pub noise: f64,
    /// Every user rates at least this many movies (MovieLens keeps users with ≥ 20).
    pub min_user_ratings: usize,
    /// Genre names and weights to draw from, e.g. read from a real catalog.
    pub genres: Option<Vec<(String, f64)>>,
    /// A real `movies.csv` whose genre mix to copy (instead of `genres`).
    pub catalog: Option<String>,
    pub threads: Option<usize>,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            users: 600,
            movies: 2000,
            ratings: 80_000,
            seed: 42,
            factors: 8,
            noise: 0.6,
            min_user_ratings: 20,
            genres: None,
            catalog: None,
            threads: None,
        }
    }
}

/// What was written, and the best RMSE any model can reach on it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateReport {
    pub users: usize,
    pub movies: usize,
    pub ratings: usize,
    pub seed: u64,
    pub factors: usize,
    pub noise: f64,
    pub global_mean: f64,
    /// RMSE of the planted (noise-free, unrounded) ratings against the written ones.
    pub noise_floor_rmse: f64,
    pub seconds: f64,
}

impl GenerateOptions {
    /// Keys as the API takes them, in declaration order.
    pub fn keys() -> &'static [&'static str] {
        crate::schema::serde_names::<GenerateOptions>()
    }

    /// Writes the set into `out` ([`generate`]) on the pool `threads` asks for.
    pub fn write(&self, out: &Path, cancel: &CancelToken) -> Result<GenerateReport> {
        crate::runtime::pool::thread_pool(self.threads)?.install(|| generate(out, self, cancel))
    }

    pub fn validate(&self) -> Result<()> {
        if self.users == 0 || self.movies == 0 {
            return Err(Error::invalid_argument(
                "users and movies must be at least 1",
            ));
        }
        if self.factors == 0 || self.factors > 256 {
            return Err(Error::invalid_argument(format!(
                "factors must be from 1 to 256 (got {})",
                self.factors
            )));
        }
        if !(self.noise.is_finite() && self.noise >= 0.0) {
            return Err(Error::invalid_argument(format!(
                "noise must be a finite number ≥ 0 (got {})",
                self.noise
            )));
        }
        let per_user_cap = self.movies / 2;
        if self.min_user_ratings > per_user_cap.max(1) {
            return Err(Error::invalid_argument(format!(
                "minUserRatings ({}) must be at most half the movies ({})",
                self.min_user_ratings, per_user_cap
            )));
        }
        // Checked: a wrapped product could let an impossible request through validation and
        // on to allocating `users` rows (the binding caps each count at u32, the core does not).
        let too_many = || {
            Error::invalid_argument(format!(
                "users × movies is too large ({} × {})",
                self.users, self.movies
            ))
        };
        let least = self
            .users
            .checked_mul(self.min_user_ratings)
            .ok_or_else(too_many)?;
        let most = self.users.checked_mul(per_user_cap).ok_or_else(too_many)?;
        if self.ratings < least {
            return Err(Error::invalid_argument(format!(
                "ratings must be at least users × minUserRatings = {least} (got {})",
                self.ratings
            )));
        }
        if self.ratings > most {
            return Err(Error::invalid_argument(format!(
                "ratings must be at most users × movies / 2 = {most} (got {})",
                self.ratings
            )));
        }
        // Movie ids are written as u32 indices + 1.
        if u32::try_from(self.movies).is_err() {
            return Err(Error::invalid_argument(format!(
                "movies must be at most {} (got {})",
                u32::MAX,
                self.movies
            )));
        }
        Ok(())
    }
}

/// A stream of randomness per (seed, purpose, index): the output does not depend on threads.
fn rng_for(seed: u64, stream: u64, index: u64) -> Xoshiro256PlusPlus {
    let mix = seed
        ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03);
    Xoshiro256PlusPlus::seed_from_u64(mix)
}

const USER_BLOCK: usize = 16_384;
const CANCELLED: &str = "generation cancelled";

/// Draws `k` distinct indices with probability proportional to `weights` (Efraimidis and
/// Spirakis: the k largest of u^(1/w), here as the k smallest of -ln(u)/w). O(n) per draw.
fn weighted_without_replacement(weights: &[f64], k: usize, rng: &mut impl Rng) -> Vec<u32> {
    let mut keyed: Vec<(f64, u32)> = weights
        .iter()
        .enumerate()
        .map(|(i, &w)| (-(1.0 - rng.random::<f64>()).ln() / w, i as u32))
        .collect();
    keyed.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0));
    keyed.truncate(k);
    // Most likely first, like the order the alias draws give.
    keyed.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    keyed.into_iter().map(|x| x.1).collect()
}

/// One user's rated movies, written ratings, timestamps and squared noise.
type UserRows = (Vec<u32>, Vec<f32>, Vec<i64>, f64);

struct PlantedMovie {
    genres: Vec<usize>,
    vector: Vec<f32>,
    bias: f32,
    year: i32,
}

/// Walker's alias table: O(1) draws from a fixed discrete distribution.
struct Alias {
    prob: Vec<f64>,
    alias: Vec<usize>,
}

impl Alias {
    fn new(weights: &[f64]) -> Alias {
        let n = weights.len();
        let total: f64 = weights.iter().sum();
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
        let mut alias = vec![0; n];
        let (mut small, mut large): (Vec<usize>, Vec<usize>) =
            (0..n).partition(|&i| scaled[i] < 1.0);
        while let (Some(s), Some(&l)) = (small.pop(), large.last()) {
            alias[s] = l;
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        for i in small.into_iter().chain(large) {
            scaled[i] = 1.0;
        }
        Alias {
            prob: scaled,
            alias,
        }
    }

    fn draw(&self, rng: &mut impl Rng) -> usize {
        let i = rng.random_range(0..self.prob.len());
        if rng.random::<f64>() < self.prob[i] {
            i
        } else {
            self.alias[i]
        }
    }
}

const WORDS_A: [&str; 24] = [
    "Silent", "Crimson", "Last", "Hidden", "Broken", "Golden", "Midnight", "Lost", "Wild", "Iron",
    "Secret", "Frozen", "Electric", "Distant", "Burning", "Hollow", "Savage", "Gentle", "Endless",
    "Velvet", "Northern", "Paper", "Glass", "Bitter",
];
const WORDS_B: [&str; 24] = [
    "River",
    "Empire",
    "Garden",
    "Horizon",
    "Stranger",
    "Kingdom",
    "Letters",
    "Harbor",
    "Machine",
    "Summer",
    "Witness",
    "Voyage",
    "Orchard",
    "Signal",
    "Frontier",
    "Shadows",
    "Promise",
    "Island",
    "Circus",
    "Echo",
    "Crown",
    "Detective",
    "Winter",
    "Planet",
];

fn title_for(index: usize, rng: &mut impl Rng, year: i32) -> String {
    let a = WORDS_A[rng.random_range(0..WORDS_A.len())];
    let b = WORDS_B[rng.random_range(0..WORDS_B.len())];
    // Some titles in the MovieLens style: a trailing article after a comma, or quotes, so that
    // every parser path the real files need is exercised by the sample too.
    let base = match index % 7 {
        0 => format!("{a} {b}, The"),
        3 => format!("\"{a}\" {b}"),
        5 => format!("{a} {b} {}", index % 9 + 2),
        _ => format!("{a} {b}"),
    };
    format!("{base} ({year})")
}

/// Generates the data set and writes `ratings.csv`, `movies.csv` and `truth.json` into `out`.
pub fn generate(
    out: &Path,
    options: &GenerateOptions,
    cancel: &CancelToken,
) -> Result<GenerateReport> {
    options.validate()?;
    let start = std::time::Instant::now();
    let o = options;
    let from_catalog = match &o.catalog {
        Some(path) if o.genres.is_some() => {
            return Err(Error::invalid_argument(format!(
                "give genres or catalog, not both (catalog {path})"
            )))
        }
        Some(path) => Some(genre_mix(Path::new(path))?),
        None => None,
    };
    let genres: Vec<(String, f64)> =
        from_catalog
            .or_else(|| o.genres.clone())
            .unwrap_or_else(|| {
                DEFAULT_GENRES
                    .iter()
                    .map(|(g, w)| (g.to_string(), *w))
                    .collect()
            });
    if genres.is_empty() {
        return Err(Error::invalid_argument("genres must not be empty"));
    }
    let f = o.factors;
    let genre_alias = Alias::new(&genres.iter().map(|g| g.1).collect::<Vec<_>>());
    // Genre taste directions: movies of a genre share a direction, so genres carry signal.
    let genre_vectors: Vec<Vec<f32>> = (0..genres.len())
        .map(|g| {
            let mut rng = rng_for(o.seed, 1, g as u64);
            let n = Normal::new(0.0f32, 0.5).expect("valid");
            (0..f).map(|_| n.sample(&mut rng)).collect()
        })
        .collect();
    let scale = 1.0 / (f as f32).sqrt();
    let movies: Vec<PlantedMovie> = (0..o.movies)
        .into_par_iter()
        .map(|i| {
            let mut rng = rng_for(o.seed, 2, i as u64);
            let count = 1 + (rng.random::<f64>() * rng.random::<f64>() * 3.5) as usize;
            let mut gs: Vec<usize> = Vec::new();
            for _ in 0..count {
                let g = genre_alias.draw(&mut rng);
                if !gs.contains(&g) {
                    gs.push(g);
                }
            }
            gs.sort_unstable();
            let own = Normal::new(0.0f32, 0.6).expect("valid");
            let mut vector: Vec<f32> = (0..f).map(|_| own.sample(&mut rng)).collect();
            for &g in &gs {
                for (v, gv) in vector.iter_mut().zip(&genre_vectors[g]) {
                    *v += gv / (gs.len() as f32).sqrt();
                }
            }
            vector.iter_mut().for_each(|v| *v *= scale * 1.6);
            let bias = Normal::new(0.0f32, 0.45).expect("valid").sample(&mut rng);
            let year = 1930 + (rng.random::<f64>().powf(0.4) * 90.0) as i32;
            PlantedMovie {
                genres: gs,
                vector,
                bias,
                year,
            }
        })
        .collect();
    cancel.check()?;
    // Popularity: a Zipf-like long tail over a random order of the movies.
    let mut order: Vec<usize> = (0..o.movies).collect();
    {
        use rand::seq::SliceRandom;
        order.shuffle(&mut rng_for(o.seed, 3, 0));
    }
    let mut popularity = vec![0.0; o.movies];
    for (rank, &m) in order.iter().enumerate() {
        // Better movies are a little more popular, as in MovieLens.
        popularity[m] =
            (1.0 / (rank as f64 + 8.0).powf(1.05)) * (1.0 + 0.6 * movies[m].bias as f64).max(0.2);
    }
    let movie_alias = Alias::new(&popularity);
    // Activity: min + a log-normal tail, scaled so the total is exactly `ratings`.
    let counts = user_counts(o);
    let mu = 3.55f32;
    let noise = Normal::new(0.0f64, o.noise.max(1e-12)).expect("valid");
    let weights = popularity;
    let make_user = |u: usize| -> UserRows {
        let mut rng = rng_for(o.seed, 4, u as u64);
        let taste = Normal::new(0.0f32, 1.0).expect("valid");
        let vector: Vec<f32> = (0..f)
            .map(|_| taste.sample(&mut rng) * scale * 1.6)
            .collect();
        let bias = Normal::new(0.0f32, 0.4).expect("valid").sample(&mut rng);
        let want = counts[u];
        let items = if want * 8 > o.movies {
            // Heavy raters reach deep into the tail, where rejection sampling from the alias
            // table would mostly draw movies they already have.
            weighted_without_replacement(&weights, want, &mut rng)
        } else {
            let mut chosen: HashSet<u32> = HashSet::with_capacity(want * 2);
            let mut items = Vec::with_capacity(want);
            while items.len() < want {
                let m = movie_alias.draw(&mut rng) as u32;
                if chosen.insert(m) {
                    items.push(m);
                }
            }
            items
        };
        let t0: i64 = 820_000_000 + rng.random_range(0..750_000_000);
        let mut ratings = Vec::with_capacity(want);
        let mut stamps = Vec::with_capacity(want);
        let mut sq = 0.0;
        for (j, &m) in items.iter().enumerate() {
            let movie = &movies[m as usize];
            let planted =
                mu + bias + movie.bias + crate::kernels::dense::dot(&vector, &movie.vector);
            let noisy = planted as f64
                + if o.noise > 0.0 {
                    noise.sample(&mut rng)
                } else {
                    0.0
                };
            let written = ((noisy * 2.0).round() / 2.0).clamp(0.5, 5.0) as f32;
            // The floor is measured against what is written: rounding and clamping count too.
            sq += (written as f64 - planted as f64).powi(2);
            ratings.push(written);
            stamps.push(t0 + (j as i64) * rng.random_range(1..40_000));
        }
        (items, ratings, stamps, sq)
    };
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, &e))?;
    let mut total_sq = 0.0f64;
    let mut total_sum = 0.0f64;
    // Users are made, formatted and written a block at a time, so memory stays bounded by
    // the block whatever the size; blocks are written in order, so the bytes do not depend on
    // the thread count.
    write_atomic(&out.join("ratings.csv"), |w| {
        w.write_all(b"userId,movieId,rating,timestamp\n")?;
        for first in (0..o.users).step_by(USER_BLOCK) {
            if cancel.is_cancelled() {
                return Err(std::io::Error::other(CANCELLED));
            }
            let last = (first + USER_BLOCK).min(o.users);
            let chunks: Vec<(Vec<u8>, f64, f64)> = (first..last)
                .into_par_iter()
                .chunks(256)
                .map(|us| {
                    let mut buf = Vec::with_capacity(us.len() * 64 * 40);
                    let (mut sq, mut sum) = (0.0, 0.0);
                    for u in us {
                        let (items, ratings, stamps, user_sq) = make_user(u);
                        sq += user_sq;
                        for ((&m, &r), &t) in items.iter().zip(&ratings).zip(&stamps) {
                            let _ = writeln!(buf, "{},{},{},{t}", u + 1, m + 1, r);
                            sum += r as f64;
                        }
                    }
                    (buf, sq, sum)
                })
                .collect();
            for (buf, sq, sum) in chunks {
                w.write_all(&buf)?;
                total_sq += sq;
                total_sum += sum;
            }
        }
        Ok(())
    })
    .map_err(|e| {
        if e.message.ends_with(CANCELLED) {
            Error::aborted()
        } else {
            e
        }
    })?;
    write_atomic(&out.join("movies.csv"), |w| {
        w.write_all(b"movieId,title,genres\n")?;
        for (i, m) in movies.iter().enumerate() {
            let mut rng = rng_for(o.seed, 5, i as u64);
            let title = title_for(i, &mut rng, m.year);
            let names: Vec<&str> = m.genres.iter().map(|&g| genres[g].0.as_str()).collect();
            let genre_field = if names.is_empty() {
                crate::data::catalog::NO_GENRES.to_string()
            } else {
                names.join("|")
            };
            let mut rec = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(Vec::new());
            rec.write_record([(i + 1).to_string(), title, genre_field])
                .map_err(std::io::Error::other)?;
            w.write_all(
                &rec.into_inner()
                    .map_err(|e| std::io::Error::other(e.to_string()))?,
            )?;
        }
        Ok(())
    })?;
    let report = GenerateReport {
        users: o.users,
        movies: o.movies,
        ratings: o.ratings,
        seed: o.seed,
        factors: f,
        noise: o.noise,
        global_mean: total_sum / o.ratings as f64,
        noise_floor_rmse: (total_sq / o.ratings as f64).sqrt(),
        seconds: start.elapsed().as_secs_f64(),
    };
    let json = serde_json::to_vec_pretty(&report).map_err(|e| Error::internal(e.to_string()))?;
    write_atomic(&out.join("truth.json"), |w| w.write_all(&json))?;
    Ok(report)
}

/// Each genre's share of the genre labels in a real `movies.csv`.
pub fn genre_mix(movies_csv: &Path) -> Result<Vec<(String, f64)>> {
    let catalog = crate::ingest::catalog_files::read_movies_csv(movies_csv)?;
    let mut counts = vec![0usize; catalog.genre_names.len()];
    for m in &catalog.movies {
        for &g in &m.genres {
            counts[g as usize] += 1;
        }
    }
    let total: usize = counts.iter().sum();
    if total == 0 {
        return Err(Error::invalid_data(format!(
            "{}: no movie has a genre to copy",
            movies_csv.display()
        )));
    }
    Ok(catalog
        .genre_names
        .iter()
        .zip(counts)
        .map(|(g, n)| (g.clone(), n as f64 / total as f64))
        .collect())
}

fn user_counts(o: &GenerateOptions) -> Vec<usize> {
    let cap = (o.movies / 2).max(o.min_user_ratings);
    let spread = LogNormal::new(0.0, 1.1).expect("valid");
    let mut rng = rng_for(o.seed, 6, 0);
    let weights: Vec<f64> = (0..o.users).map(|_| spread.sample(&mut rng)).collect();
    let extra_total = (o.ratings - o.users * o.min_user_ratings) as f64;
    let wsum: f64 = weights.iter().sum();
    let mut counts: Vec<usize> = weights
        .iter()
        .map(|w| (o.min_user_ratings + (extra_total * w / wsum) as usize).min(cap))
        .collect();
    // Hand out what rounding and the cap left over, one at a time, to users below the cap.
    let mut left = o.ratings as i64 - counts.iter().sum::<usize>() as i64;
    let mut u = 0;
    while left > 0 {
        if counts[u] < cap {
            counts[u] += 1;
            left -= 1;
        }
        u = (u + 1) % o.users;
    }
    counts
}

pub use crate::io::files::write_atomic;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_sum_and_respect_minimum() {
        let o = GenerateOptions {
            users: 50,
            movies: 300,
            ratings: 3000,
            ..Default::default()
        };
        let c = user_counts(&o);
        assert_eq!(c.iter().sum::<usize>(), 3000);
        assert!(c.iter().all(|&n| (20..=150).contains(&n)));
    }

    #[test]
    fn counts_whose_products_overflow_are_rejected_not_wrapped() {
        // users × minUserRatings and users × movies/2 both wrap to 2 in 64 bits, so without
        // checked arithmetic this passed validation and went on to allocate 2^63 users.
        let o = GenerateOptions {
            users: (1usize << 63) + 1,
            movies: 4,
            ratings: 2,
            min_user_ratings: 2,
            ..Default::default()
        };
        let e = o.validate().unwrap_err();
        assert!(e.to_string().contains("too large"), "{e}");
        let o = GenerateOptions {
            users: 1,
            movies: u32::MAX as usize + 2,
            ratings: 20,
            ..Default::default()
        };
        assert!(o.validate().unwrap_err().to_string().contains("movies"));
    }

    #[test]
    fn same_seed_same_files_for_any_thread_count() {
        let dir = std::env::temp_dir().join(format!("alsrec-gen-{}", std::process::id()));
        let o = GenerateOptions {
            users: 40,
            movies: 200,
            ratings: 2000,
            ..Default::default()
        };
        let a = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| generate(&dir.join("a"), &o, &CancelToken::new()))
            .unwrap();
        let b = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap()
            .install(|| generate(&dir.join("b"), &o, &CancelToken::new()))
            .unwrap();
        assert_eq!(a.noise_floor_rmse, b.noise_floor_rmse);
        for f in ["ratings.csv", "movies.csv"] {
            assert_eq!(
                std::fs::read(dir.join("a").join(f)).unwrap(),
                std::fs::read(dir.join("b").join(f)).unwrap()
            );
        }
        assert!(
            a.noise_floor_rmse > 0.4 && a.noise_floor_rmse < 0.8,
            "{}",
            a.noise_floor_rmse
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn output_loads_with_exact_counts_and_the_catalogs_genre_mix() {
        let dir = std::env::temp_dir().join(format!("alsrec-gen-load-{}", std::process::id()));
        let catalog = dir.join("real");
        std::fs::create_dir_all(&catalog).unwrap();
        std::fs::write(
            catalog.join("movies.csv"),
            "movieId,title,genres\n1,A (1990),Noir|Drama\n2,B (1991),Noir\n",
        )
        .unwrap();
        let o = GenerateOptions {
            users: 300,
            movies: 3000,
            ratings: 30_000,
            catalog: Some(catalog.join("movies.csv").display().to_string()),
            ..Default::default()
        };
        let report = generate(&dir.join("out"), &o, &CancelToken::new()).unwrap();
        let data = crate::ingest::load_movielens(&dir.join("out"), &Default::default()).unwrap();
        assert_eq!(data.num_ratings(), 30_000);
        assert_eq!(data.report.duplicates, 0);
        assert_eq!(data.num_active_users(), 300);
        assert!((0..300).all(|u| data.by_user.row_len(u) >= 20));
        let mut genres = data.catalog.genre_names.clone();
        genres.sort();
        assert_eq!(genres, ["Drama", "Noir"]);
        assert!((data.mean_rating() - report.global_mean).abs() < 1e-9);
        std::fs::remove_dir_all(&dir).ok();
    }
}
