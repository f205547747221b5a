//! Folds a perf script file on one thread, in memory, several times; prints the best time.
//! `cargo run --release --example fold_file -- FILE [RUNS]` (a profiling aid, not a benchmark
//! against other tools: see benchmarks/bench_fold.py).

use std::time::Instant;

use foldkit_core::perf::{FoldConfig, Worker};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: fold_file FILE [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    let chunks = cut(&data, 8 << 20);
    let mut best = f64::INFINITY;
    for _ in 0..runs {
        let start = Instant::now();
        let mut worker = Worker::new(FoldConfig::default());
        let mut namer = |_: &[u8], _: bool| None;
        let mut fallbacks = 0;
        for (index, chunk) in chunks.iter().enumerate() {
            if worker
                .fold_chunk(index, chunk, &mut namer, &|| false)
                .is_err()
            {
                fallbacks += 1;
            }
        }
        let out = worker.finish();
        let secs = start.elapsed().as_secs_f64();
        best = best.min(secs);
        eprintln!(
            "{secs:.3} s, {} stacks, {fallbacks} chunks left to the line path",
            out.stacks.len()
        );
    }
    println!(
        "best {best:.3} s: {:.0} MB/s",
        data.len() as f64 / 1e6 / best
    );
}

/// `data` cut into record-aligned chunks of about `size` bytes.
fn cut(data: &[u8], size: usize) -> Vec<&[u8]> {
    let mut chunks = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let target = (pos + size).min(data.len());
        let end = match memchr::memmem::find(&data[target..], b"\n\n") {
            Some(i) if target < data.len() => target + i + 2,
            _ => data.len(),
        };
        chunks.push(&data[pos..end]);
        pos = end;
    }
    chunks
}
