//! Times each ALS half-step on a ratings directory, for profiling the kernels:
//! `cargo run -p alsrec-core --release --example profile_als -- <dir> <model> <k> [epochs] [threads]`
//! The half-steps leave the metrics' sums as training's do; `ALS_PROFILE_PLAIN=1` times them
//! without, and `ALS_PROFILE_SEPARATE=1` adds the separate metrics pass beside the fused one.
use std::path::Path;
use std::time::Instant;

use alsrec_core::als::epochs::{epoch_steps, step_with_sums};
use alsrec_core::als::init::initial_model;
use alsrec_core::als::metrics::{fused_train_metrics, train_metrics, EpochSums};
use alsrec_core::ingest::movielens::{load_movielens, LoadOptions};
use alsrec_core::model::config::{ModelKind, TrainConfig};

/// CPU seconds run by all of this process's threads so far (Linux schedstat; 0 elsewhere): on a
/// shared machine a step's CPU time moves less than its wall time when other work preempts it.
fn cpu_seconds() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    let mut ns = 0u64;
    for t in tasks.flatten() {
        if let Ok(s) = std::fs::read_to_string(t.path().join("schedstat")) {
            ns += s
                .split(' ')
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
        }
    }
    ns as f64 / 1e9
}

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
    let plain = std::env::var_os("ALS_PROFILE_PLAIN").is_some();
    let separate = std::env::var_os("ALS_PROFILE_SEPARATE").is_some();
    pool.install(|| {
        let mut model = initial_model(&data, &config, None).unwrap();
        let mut sums = EpochSums::new(&data, k);
        for epoch in 0..epochs {
            let start = Instant::now();
            for &step in epoch_steps(model_kind) {
                let (t, cpu) = (Instant::now(), cpu_seconds());
                let sums = (!plain).then_some(&mut sums);
                step_with_sums(step, &data, &mut model, None, sums);
                eprintln!(
                    "epoch {epoch} {step:?}: {:.3}s cpu {:.3}s",
                    t.elapsed().as_secs_f64(),
                    cpu_seconds() - cpu
                );
            }
            let updates = start.elapsed().as_secs_f64();
            let (t, cpu) = (Instant::now(), cpu_seconds());
            let (rmse, _, l) = match plain {
                true => train_metrics(&model, &data),
                false => fused_train_metrics(&model, &data, &sums),
            };
            let metrics = t.elapsed().as_secs_f64();
            eprintln!(
                "  updates {updates:.3}s metrics {metrics:.3}s cpu {:.3}s epoch {:.3}s rmse {rmse:.9} loss {l:.6}",
                cpu_seconds() - cpu,
                updates + metrics
            );
            if separate {
                let t = Instant::now();
                let (rmse, _, l) = train_metrics(&model, &data);
                eprintln!(
                    "  separate metrics {:.3}s rmse {rmse:.9} loss {l:.6}",
                    t.elapsed().as_secs_f64()
                );
            }
        }
    });
}
