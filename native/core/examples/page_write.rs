//! Writes the viewer's payload of one folded file (or of two, as `diff BIG SMALL -o d.html`
//! does) several times, timing the sides' sort and tree build once and each write (CPU and
//! wall). `cargo run --release --example page_write -- BIG [SMALL] [--level N] [--runs N]`
//! (a profiling aid for the page writer, not a benchmark against other tools).

use std::path::Path;
use std::time::Instant;

use foldkit_core::folded::file::{read_file, FileStacks};
use foldkit_core::palette::Palette;
use foldkit_core::viewer::{build, prepare, write};

mod support;
use support::{cpu, Counted};

fn main() {
    let mut files = Vec::new();
    let (mut level, mut runs) = (1u32, 3usize);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--level" => level = args.next().and_then(|v| v.parse().ok()).unwrap_or(1),
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).unwrap_or(3),
            _ => files.push(arg),
        }
    }
    if files.is_empty() {
        eprintln!("usage: page_write BIG [SMALL] [--level N] [--runs N]");
        std::process::exit(2);
    }
    let mut clock = (Instant::now(), cpu());
    let mut lap = |what: &str| {
        let now = cpu();
        eprintln!(
            "{what:10} {:.3} s wall, {:.3} s CPU",
            clock.0.elapsed().as_secs_f64(),
            now - clock.1
        );
        clock = (Instant::now(), now);
    };
    let read: Vec<FileStacks> = files
        .iter()
        .map(|f| {
            read_file(Path::new(f), 2, 4 << 20, 1 << 30, 1 << 20)
                .expect("readable")
                .expect("a folded file")
        })
        .collect();
    lap("read");
    // the diff's sides: AFTER (the second file) first, then BEFORE
    let sides: Vec<Vec<(&[u8], i64)>> = read
        .iter()
        .rev()
        .map(|r| {
            r.stacks
                .iter()
                .map(|(s, w)| (s, i64::try_from(w).unwrap_or(i64::MAX)))
                .collect()
        })
        .collect();
    lap("pairs");
    let tree = build(sides, b"all").expect("not too large");
    lap("build");
    let palette = Palette::new("default");
    let prepared = prepare(&tree, palette.as_ref(), |i| {
        Some((tree.name(i as usize).to_vec(), [0; 3]))
    })
    .expect("fills");
    lap("prepare");
    for _ in 0..runs {
        let mut out = Counted(0);
        write(&tree, &prepared, level, &mut out).expect("written");
        lap("write");
        eprintln!(
            "  {} nodes, {} raw bytes, {} base64 bytes",
            tree.len(),
            prepared.raw_bytes,
            out.0
        );
    }
}
