//! Bounded fuzzing of the native entry points (run by `cargo test`): arbitrary bytes and mutated
//! perf text never panic the folder, the header matcher, the frame namer or the demanglers;
//! arbitrary and mutated folded text never panic the folded reader (in one chunk, or as a file
//! read in ranges by several threads) or the flame-graph and flame-chart layouts of what it read.
//! `PROPTEST_CASES=20000 cargo test --release --test fuzz` runs a longer campaign by hand.

use foldkit_core::demangle::{demangle_symbol, tidy_rust};
use foldkit_core::folded::file::RangeReads;
use foldkit_core::folded::FoldedReader;
use foldkit_core::layout::{chart_tree, flame_tree, layout};
use foldkit_core::perf::frames::{name_line, NameOptions};
use foldkit_core::perf::header::Header;
use foldkit_core::perf::sched::{pair, OnCpu, PairOptions};
use foldkit_core::perf::{FoldConfig, Worker};
use proptest::prelude::*;

const LINES: &[&str] = &[
    "bash 100/200 [000] 1.000001: 40 cycles:u: ",
    "FS Broker 5858 5858/5860 [011]  1954.705191:    2004008 cpu-clock:ppp: ",
    "perf 1 [000] 1.5: sched:sched_switch: prev_comm=a ==> b",
    "a b 10 [001] 2.000000001: sched:sched_switch: prev_comm=a b prev_pid=10 prev_prio=120 prev_state=S ==> next_comm=c next_pid=-1 next_prio=120",
    "c 0 [000] 2.5: sched:sched_wakeup: comm=a pid=10 prio=120 success=1 target_cpu=001",
    "\tffffffff815d6c20 mod_lruvec_state+0x20 ([kernel.kallsyms])",
    "\t    7f1e2215d0c0  (/lib/libc-2.15.so)",
    "\t          40a1b2 work::run<(anonymous namespace)::Shape>(int)+0x12 (/tmp/t)",
    "\t    7f LCounter;::countTo->LFoo;::bar+0x50 (/tmp/perf-1234.map)",
    "\t    55d0c1e2a3b4 _$LT$alloc..vec..Vec$LT$T$GT$$u20$as$u20$Drop$GT$::drop::h3ab4e1c5e3a0b2c1+0x1 (/r)",
    "\t          40a1b2 _ZN4work3runILi3EEEvRKSt6vectorIiSaIiEE+0x12 (/tmp/cw/tmpl)",
    "  tmpl.cpp:124",
    "PERF_RECORD_EXIT(1:1):(0:0)",
    "# comment",
    "",
    "\t(((((((",
    "\tf()::{lambda(int)#1}::operator()(int) const+0x9 (/x)",
];

fn config(bits: u8) -> FoldConfig {
    FoldConfig {
        names: NameOptions {
            kernel: bits & 1 != 0,
            jit: bits & 2 != 0,
            inline: bits & 4 != 0,
            addrs: bits & 8 != 0,
            demangle: bits & 16 != 0,
        },
        pid: bits & 32 != 0,
        tid: bits & 64 != 0,
        by_period: bits & 128 != 0,
        skip_after: if bits & 3 == 3 {
            vec![b"main".to_vec()]
        } else {
            Vec::new()
        },
        keep_time: bits & 5 == 5,
        sched: bits & 6 == 6,
    }
}

fn fold(data: &[u8], bits: u8) {
    let mut worker = Worker::new(config(bits));
    let mut namer = |_: &[u8], _: bool| Some(Some(b"named".to_vec()));
    let _ = worker.fold_chunk(0, data, &mut namer, &|| false);
    let _ = worker.fold_chunk(1, data, &mut namer, &|| false);
    let out = worker.finish();
    // what was kept for `--off-cpu` / `--wall`, paired both ways
    let kept: Vec<_> = out
        .chunks
        .iter()
        .map(|c| (c.index, c.sched.clone()))
        .collect();
    for (states, each) in [(None, None), (Some(&b"SD"[..]), Some(1_001_001))] {
        let opts = PairOptions {
            states,
            wakeups: states.is_none(),
            on_cpu: Some(OnCpu {
                name: b"cpu-clock",
                each,
            }),
        };
        let _ = pair(&kept, &out.event_names, &opts);
    }
}

const FOLDED: &[&str] = &[
    "a;b;c 3",
    "a;b 1",
    "a;b;c;d 18446744073709551615",
    "main;[unknown];x+0x1a 5",
    "# foldkit: unit=ns event=cpu-clock",
    "x;;y 2",
    ";leading 4",
    "trailing; 7",
    "before after 1 2",
    "dec 1.5",
    "",
    "   ",
    "neg -3",
    "a;b;c 999999999999999999",
];

/// Read `text` as folded text in one chunk, then as a file by three threads over many ranges,
/// and lay out what was read both ways.
fn read_folded(text: &[u8], case: u64) {
    let mut reader = FoldedReader::new();
    let mut deferred = Vec::new();
    let _ = reader.feed_all(text, &mut deferred, usize::MAX);
    let mut stacks: Vec<(&[u8], i64)> = Vec::new();
    for (stack, weight) in reader.items() {
        if let Ok(w) = i64::try_from(weight) {
            stacks.push((stack, w));
        }
    }
    for max_frames in [1, 7, 1 << 20] {
        let tree = flame_tree(&stacks, 1, max_frames);
        let _ = layout(&tree, case.is_multiple_of(2), max_frames);
        let tree = chart_tree(&stacks, 0, max_frames);
        let _ = layout(&tree, false, max_frames);
    }
    let mut path = std::env::temp_dir();
    let thread = format!("{:?}", std::thread::current().id());
    path.push(format!(
        "foldkit-fuzz-{}-{thread}-{case}",
        std::process::id()
    ));
    std::fs::write(&path, text).unwrap();
    if let Ok(Some(reads)) = RangeReads::open(&path, 1 + (case % 9) as usize, 1, 1 << 16, 1000) {
        std::thread::scope(|scope| {
            scope.spawn(|| reads.work());
            scope.spawn(|| reads.work());
            reads.work();
        });
        let _ = reads.finish();
    }
    std::fs::remove_file(&path).unwrap();
}

/// Lines of `table` picked by `picks` (line, byte, position), a third of them with the byte at
/// the position changed (NUL, invalid UTF-8, a newline, `;`, a digit...); with `crlf`, a fifth
/// end in `\r\n`.
fn mutated(table: &[&str], picks: &[(usize, u8, u16)], crlf: bool) -> Vec<u8> {
    let mut text = Vec::new();
    for &(i, byte, at) in picks {
        let mut line = table[i].as_bytes().to_vec();
        if !line.is_empty() && byte % 3 == 0 {
            let at = usize::from(at) % line.len();
            line[at] = byte;
        }
        text.extend_from_slice(&line);
        text.extend_from_slice(if crlf && byte % 5 == 0 {
            b"\r\n"
        } else {
            b"\n"
        });
    }
    text
}

/// Cases per property: 1,000, or `PROPTEST_CASES`.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn arbitrary_bytes(data in prop::collection::vec(any::<u8>(), 0..600), bits in any::<u8>()) {
        fold(&data, bits);
        let mut header = Header::new();
        let _ = header.parse(&data);
        let _ = name_line(&data, bits & 1 != 0, &config(bits).names);
        let _ = demangle_symbol(&data);
        let _ = tidy_rust(&data);
    }

    #[test]
    fn mutated_perf_text(
        picks in prop::collection::vec((0..LINES.len(), any::<u8>(), any::<u16>()), 1..40),
        bits in any::<u8>(),
    ) {
        fold(&mutated(LINES, &picks, false), bits);
    }

    #[test]
    fn arbitrary_folded_text(data in prop::collection::vec(any::<u8>(), 0..600), case in any::<u64>()) {
        read_folded(&data, case);
    }

    #[test]
    fn mutated_folded_text(
        picks in prop::collection::vec((0..FOLDED.len(), any::<u8>(), any::<u16>()), 1..60),
        case in any::<u64>(),
    ) {
        read_folded(&mutated(FOLDED, &picks, true), case);
    }

    #[test]
    fn mangled_names(s in "_Z[A-Za-z0-9_]{0,60}|_R[A-Za-z0-9_]{0,60}|[a-z_$:.0-9]{0,60}") {
        let _ = demangle_symbol(s.as_bytes());
        let _ = tidy_rust(s.as_bytes());
    }
}

#[test]
fn huge_inputs() {
    // a 10 MB line and a 100,000-frame stack
    let mut long = b"bash 1 1.0: 1 cycles: \n\t1234 ".to_vec();
    long.extend(std::iter::repeat_n(b'x', 10 << 20));
    long.extend_from_slice(b" (/x)\n\n");
    fold(&long, 0);
    let mut deep = b"bash 1 1.0: 1 cycles: \n".to_vec();
    for i in 0..100_000 {
        deep.extend_from_slice(format!("\t{i:x} f{i} (/x)\n").as_bytes());
    }
    fold(&deep, 0);
}
