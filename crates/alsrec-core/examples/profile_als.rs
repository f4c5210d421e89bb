//! Times each ALS half-step on a ratings directory, for profiling the kernels:
//! `cargo run -p alsrec-core --release --example profile_als -- <dir> <model> <k> [epochs] [threads]`
use std::path::Path;
use std::time::Instant;

use alsrec_core::als::epochs::{apply_step, epoch_steps};
use alsrec_core::als::init::initial_model;
use alsrec_core::als::metrics::train_metrics;
use alsrec_core::ingest::movielens::{load_movielens, LoadOptions};
use alsrec_core::model::config::{ModelKind, TrainConfig};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(1).expect("data dir");
    let model_kind = match args.get(2).map(String::as_str).unwrap_or("biased") {
        "implicit" => ModelKind::Implicit,
        "genre" => ModelKind::Genre,
        "bias" => ModelKind::Bias,
        _ => ModelKind::Biased,
    };
    let k: usize = args.get(3).map_or(32, |s| s.parse().unwrap());
    let epochs: usize = args.get(4).map_or(2, |s| s.parse().unwrap());
    let threads: Option<usize> = args.get(5).map(|s| s.parse().unwrap());
    let t = Instant::now();
    let data = load_movielens(Path::new(dir), &LoadOptions::default()).expect("load");
    eprintln!(
        "load {:.2}s, {} ratings",
        t.elapsed().as_secs_f64(),
        data.num_ratings()
    );
    let config = TrainConfig {
        model: model_kind,
        factors: k,
        threads,
        // The defaults the API trains with.
        ..TrainConfig::defaults_for(model_kind)
    };
    let pool = alsrec_core::runtime::pool::thread_pool(threads).unwrap();
    pool.install(|| {
        let mut model = initial_model(&data, &config, None).unwrap();
        for epoch in 0..epochs {
            for &step in epoch_steps(model_kind) {
                let t = Instant::now();
                apply_step(step, &data, &mut model, None);
                eprintln!("epoch {epoch} {step:?}: {:.3}s", t.elapsed().as_secs_f64());
            }
            let t = Instant::now();
            let (rmse, _, l) = train_metrics(&model, &data);
            eprintln!(
                "  metrics {:.3}s rmse {rmse:.4} loss {l:.1}",
                t.elapsed().as_secs_f64()
            );
        }
    });
}
