//! Decompresses and chunks a zstd or gzip file without folding; prints the time taken.
//! `cargo run --release --example chunk_stream -- FILE zstd|gzip [CHUNK_BYTES]` (a profiling aid).

use std::time::Instant;

use foldkit_core::perf::stream::{open, Chunker};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: chunk_stream FILE zstd|gzip [CHUNK_BYTES]");
        std::process::exit(2);
    }
    let size = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2 << 20);
    let start = Instant::now();
    let stream = match open(&args[0], &args[1]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}: {e}", args[0]);
            std::process::exit(1);
        }
    };
    let mut chunker = Chunker::new(stream, size, 64 << 20);
    let (mut bytes, mut chunks) = (0usize, 0usize);
    loop {
        match chunker.next_chunk() {
            Ok(Some(chunk)) => {
                bytes += chunk.len();
                chunks += 1;
                chunker.recycle(chunk);
            }
            Ok(None) => break,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{bytes} bytes in {chunks} chunks, {secs:.3} s: {:.0} MB/s",
        bytes as f64 / 1e6 / secs
    );
}
