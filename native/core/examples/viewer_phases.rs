//! Builds and packs the viewer's payload of a folded file, timing each phase (CPU and wall).
//! `cargo run --release --example viewer_phases -- FILE [PALETTE]` (without a palette the page
//! knows, every fill is given) (a profiling aid, not a
//! benchmark against other tools: see benchmarks/bench_viewer.py).

use std::path::Path;
use std::time::Instant;

use foldkit_core::folded::file::read_file;
use foldkit_core::palette::Palette;
use foldkit_core::viewer::{build, prepare, write};

mod support;
use support::{cpu, faults, Counted};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: viewer_phases FILE [PALETTE]");
        std::process::exit(2);
    };
    let palette = args.next();
    let mut clock = (Instant::now(), cpu(), faults());
    let mut lap = |what: &str| {
        let (now, faulted) = (cpu(), faults());
        eprintln!(
            "{what:10} {:.3} s wall, {:.3} s CPU, {} minor faults",
            clock.0.elapsed().as_secs_f64(),
            now - clock.1,
            faulted - clock.2
        );
        clock = (Instant::now(), now, faulted);
    };
    let read = read_file(Path::new(&path), 2, 4 << 20, 1 << 30, 1 << 20)
        .expect("readable")
        .expect("a folded file");
    lap("read");
    let pairs: Vec<(&[u8], i64)> = read
        .stacks
        .iter()
        .map(|(s, w)| (s, i64::try_from(w).unwrap_or(i64::MAX)))
        .collect();
    lap("pairs");
    let tree = build(vec![pairs], b"all").expect("not too large");
    lap("build");
    let p = palette.as_deref().and_then(Palette::new);
    let prepared = prepare(&tree, p.as_ref(), |i| {
        Some((tree.name(i as usize).to_vec(), [0; 3]))
    })
    .expect("fills");
    lap("prepare");
    let mut out = Counted(0);
    write(&tree, &prepared, 1, &mut out).expect("written");
    lap("write");
    eprintln!(
        "{} nodes, {} names, {} raw bytes, {} base64 bytes",
        tree.len(),
        tree.name_count(),
        prepared.raw_bytes,
        out.0
    );
}
