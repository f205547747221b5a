//! Scheduler events of a perf capture for `fold --off-cpu` and `--wall` (its twin, and the
//! reference: `foldkit/ingest/perf_sched.py`).
//!
//! While the chunks are folded in parallel (the on-CPU fold's blocks and line path, unchanged:
//! same headers, same call chains, same stacks), each timed sample is also kept as an [`Event`]:
//! a switch (`sched:sched_switch`: the thread leaving, its state letter, the thread coming on), a
//! wakeup (`sched:sched_wakeup`, `sched_waking`: the thread woken) or an on-CPU sample (any other
//! event: its thread and period), with its stack id. [`pair`] then walks the switches and wakeups
//! of every chunk in time order (file order among equal times) and charges each thread's
//! off-CPU intervals to the stack it left the CPU with, and the chosen on-CPU samples in file
//! order, as the twin does.

use std::collections::HashMap;

use regex::bytes::{CaptureLocations, Regex};
use rustc_hash::FxBuildHasher;

use super::header::Fields;
use super::{parse_u64, ChunkInfo, Interner, Stop, Worker};

/// A `sched:sched_switch` event's text after its name (the twin's `_SWITCH`, matched whole).
const SWITCH: &str = r"(?-u)^\s*prev_comm=.*? prev_pid=(-?\d+) prev_prio=-?\d+ prev_state=(\S+) ==> next_comm=.*? next_pid=(-?\d+) next_prio=-?\d+\s*$";
/// A `sched:sched_wakeup` / `sched_waking` event's text after its name (the twin's `_WAKEUP`).
const WAKEUP: &str =
    r"(?-u)^\s*comm=.*? pid=(-?\d+) prio=-?\d+(?: success=\d+)?(?: target_cpu=\d+)?\s*$";

/// The state letter of a thread whose `prev_state` does not start with an ASCII character (the
/// twin decodes it with `errors="replace"`: U+FFFD).
pub const NOT_ASCII: u8 = 0xFF;
/// States of a thread that has exited (zombie, dead): it never comes back.
const DEAD: &[u8] = b"XZ";

/// What one sample is to the pairing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `prev` left the CPU in `state` (its first letter, upper case), `next` came on
    Switch { prev: i64, next: i64, state: u8 },
    /// `target` was woken (by the sample's thread, whose stack the event has)
    Wakeup { target: i64 },
    /// an on-CPU sample of `event` (an event id) on `thread`, its period (0 when none printed)
    Sample {
        event: u32,
        thread: i64,
        period: u64,
    },
}

/// One timed sample: its time in ns, its stack id, what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub time: u64,
    pub stack: u32,
    pub kind: Kind,
}

/// What one chunk holds for the pairing: its events in file order, its samples without a
/// timestamp, its latest time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchedChunk {
    pub events: Vec<Event>,
    pub untimed: usize,
    /// the latest timestamp of any timed sample (0 when none)
    pub last: u64,
}

/// Where a [`SchedChunk`] stood, to go back to when a block is read again by the line path.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mark(usize, usize, u64);

impl SchedChunk {
    /// True when the chunk holds nothing for the pairing.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.untimed == 0 && self.last == 0
    }

    pub(crate) fn mark(&self) -> Mark {
        Mark(self.events.len(), self.untimed, self.last)
    }

    pub(crate) fn rewind(&mut self, mark: Mark) {
        self.events.truncate(mark.0);
        (self.untimed, self.last) = (mark.1, mark.2);
    }

    /// Stack and event ids made global: `stacks[local stack]`, `events[local event]`.
    pub fn remap(&mut self, stacks: &[u32], events: &[usize]) {
        for e in &mut self.events {
            e.stack = stacks[e.stack as usize];
            if let Kind::Sample { event, .. } = &mut e.kind {
                *event = events[*event as usize] as u32;
            }
        }
    }
}

/// What an event is to the pairing, by its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Switch,
    Wakeup,
    Sample,
}

/// A pattern compiled when first needed, with its capture slots.
struct Pattern {
    source: &'static str,
    compiled: Option<(Regex, CaptureLocations)>,
}

impl Pattern {
    fn new(source: &'static str) -> Self {
        Pattern {
            source,
            compiled: None,
        }
    }

    /// The groups 1..=N of `text` when the pattern matches it.
    fn groups<'t, const N: usize>(&mut self, text: &'t [u8]) -> Option<[Option<&'t [u8]>; N]> {
        let (regex, locs) = self.compiled.get_or_insert_with(|| {
            let regex = Regex::new(self.source).expect("the pattern compiles");
            let locs = regex.capture_locations();
            (regex, locs)
        });
        regex.captures_read(locs, text)?;
        Some(std::array::from_fn(|i| {
            locs.get(i + 1).map(|(s, e)| &text[s..e])
        }))
    }
}

/// A worker's reader of scheduler events (the twin's patterns, read by hand in the usual case;
/// roles by event id).
pub(crate) struct Reader {
    switch: Pattern,
    wakeup: Pattern,
    roles: Vec<Option<Role>>,
}

impl Reader {
    pub(crate) fn new() -> Self {
        Reader {
            switch: Pattern::new(SWITCH),
            wakeup: Pattern::new(WAKEUP),
            roles: Vec::new(),
        }
    }

    fn role(&mut self, event: u32, names: &Interner) -> Role {
        let i = event as usize;
        if self.roles.len() <= i {
            self.roles.resize(i + 1, None);
        }
        *self.roles[i].get_or_insert_with(|| match names.get(event) {
            b"sched:sched_switch" => Role::Switch,
            b"sched:sched_wakeup" | b"sched:sched_waking" => Role::Wakeup,
            _ => Role::Sample,
        })
    }

    /// The switch in `rest`: Ok(None) when it is not one (the twin skips it), Err when a thread
    /// id does not fit.
    fn switch(&mut self, rest: &[u8]) -> Result<Option<Kind>, Stop> {
        let [prev, state, next] = match usual_switch(rest) {
            Some((prev, state, next)) => [Some(prev), Some(state), Some(next)],
            None => match self.switch.groups(rest) {
                Some(groups) => groups,
                None => return Ok(None),
            },
        };
        let state = match state.and_then(|s| s.first()) {
            Some(&b) if b.is_ascii() => b.to_ascii_uppercase(),
            _ => NOT_ASCII,
        };
        Ok(Some(Kind::Switch {
            prev: prev.and_then(parse_i64).ok_or(Stop::Fallback)?,
            next: next.and_then(parse_i64).ok_or(Stop::Fallback)?,
            state,
        }))
    }

    /// The wakeup in `rest`, as [`Reader::switch`].
    fn wakeup(&mut self, rest: &[u8]) -> Result<Option<Kind>, Stop> {
        let target = match usual_wakeup(rest) {
            Some(target) => Some(target),
            None => match self.wakeup.groups::<1>(rest) {
                Some([target]) => target,
                None => return Ok(None),
            },
        };
        Ok(Some(Kind::Wakeup {
            target: target.and_then(parse_i64).ok_or(Stop::Fallback)?,
        }))
    }
}

/// `\s` of the patterns (ASCII whitespace, as Python's bytes patterns and `(?-u)` read it).
fn is_space(b: &u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// `-?\d+` at the start of `s`: the number and what follows it.
fn signed_digits(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let sign = usize::from(s.first() == Some(&b'-'));
    let n = sign + s[sign..].iter().take_while(|b| b.is_ascii_digit()).count();
    (n > sign).then(|| s.split_at(n))
}

/// What follows the first `key` in `s` (a `.*?` then `key`, where the lazy part ends first).
fn after_first<'a>(s: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    memchr::memmem::find(s, key).map(|i| &s[i + key.len()..])
}

/// [`SWITCH`] read by hand: (prev_pid, prev_state, next_pid) when each `.*?` ends at the first
/// place it can and the rest follows (the pattern's match is then this one: it tries those
/// places first); None leaves the text to the pattern.
fn usual_switch(rest: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let s = &rest[rest.iter().take_while(|b| is_space(b)).count()..];
    let s = after_first(s.strip_prefix(b"prev_comm=")?, b" prev_pid=")?;
    let (prev, s) = signed_digits(s)?;
    let (_, s) = signed_digits(s.strip_prefix(b" prev_prio=")?)?;
    let s = s.strip_prefix(b" prev_state=")?;
    let (state, s) = s.split_at(s.iter().position(is_space).unwrap_or(s.len()));
    let s = after_first(s.strip_prefix(b" ==> next_comm=")?, b" next_pid=")?;
    let (next, s) = signed_digits(s)?;
    let (_, s) = signed_digits(s.strip_prefix(b" next_prio=")?)?;
    (!state.is_empty() && s.iter().all(is_space)).then_some((prev, state, next))
}

/// [`WAKEUP`] read by hand as [`usual_switch`]: the woken thread's pid.
fn usual_wakeup(rest: &[u8]) -> Option<&[u8]> {
    let s = &rest[rest.iter().take_while(|b| is_space(b)).count()..];
    let s = after_first(s.strip_prefix(b"comm=")?, b" pid=")?;
    let (target, s) = signed_digits(s)?;
    let (_, mut s) = signed_digits(s.strip_prefix(b" prio=")?)?;
    for key in [&b" success="[..], b" target_cpu="] {
        if let Some(after) = s.strip_prefix(key) {
            let n = after.iter().take_while(|b| b.is_ascii_digit()).count();
            if n > 0 {
                s = &after[n..];
            }
        }
    }
    s.iter().all(is_space).then_some(target)
}

/// A perf timestamp (`1760.612827`, or `1760.612827123` with `--ns`) in integer nanoseconds
/// (digits past the ninth dropped, as the twin's `parse_ns`); None when it does not fit.
pub fn parse_ns(text: &[u8]) -> Option<u64> {
    let dot = memchr::memchr(b'.', text)?;
    let (whole, frac) = (&text[..dot], &text[dot + 1..]);
    if whole.is_empty() || !whole.iter().chain(frac).all(u8::is_ascii_digit) {
        return None;
    }
    let mut ns = 0u64;
    for i in 0..9 {
        ns = ns * 10 + frac.get(i).map_or(0, |d| u64::from(d - b'0'));
    }
    parse_u64(whole)?
        .checked_mul(1_000_000_000)?
        .checked_add(ns)
}

/// A decimal thread id (`-?\d+`); None when it does not fit 64 bits.
fn parse_i64(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', digits)) => (true, digits),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = i64::try_from(parse_u64(digits)?).ok()?;
    Some(if negative { -v } else { v })
}

impl Worker {
    /// Keep a sample for the pairing (when folding for it): its time, stack and what it is.
    /// Err(Stop::Fallback), with nothing kept, when a number does not fit.
    pub(super) fn note_sched(
        &mut self,
        f: &Fields<'_>,
        event: u32,
        stack: u32,
        info: &mut ChunkInfo,
    ) -> Result<(), Stop> {
        let Some(reader) = self.sched.as_deref_mut() else {
            return Ok(());
        };
        let Some(raw) = f.time else {
            info.sched.untimed += 1;
            return Ok(());
        };
        let time = parse_ns(raw).ok_or(Stop::Fallback)?;
        let rest = f.rest.unwrap_or(b"");
        let kind = match reader.role(event, &self.event_names) {
            Role::Switch => reader.switch(rest)?,
            Role::Wakeup => reader.wakeup(rest)?,
            Role::Sample => Some(Kind::Sample {
                event,
                thread: f.tid.or(f.pid).and_then(parse_i64).ok_or(Stop::Fallback)?,
                period: match f.period {
                    Some(p) => parse_u64(p).ok_or(Stop::Fallback)?,
                    None => 0,
                },
            }),
        };
        let chunk = &mut info.sched;
        chunk.last = chunk.last.max(time);
        if let Some(kind) = kind {
            chunk.events.push(Event { time, stack, kind });
        }
        Ok(())
    }
}

/// Which on-CPU samples `--wall` charges: those of the events with this name (the event's base
/// name before any `/`), each for its period (ns) or for a fixed `each` ns.
pub struct OnCpu<'a> {
    pub name: &'a [u8],
    pub each: Option<u64>,
}

/// How to pair.
pub struct PairOptions<'a> {
    /// the state letters charged (None: all)
    pub states: Option<&'a [u8]>,
    /// append the waker's stack (the last wakeup of the thread while it was off-CPU)
    pub wakeups: bool,
    /// the on-CPU samples charged (`--wall`), if any
    pub on_cpu: Option<OnCpu<'a>>,
}

/// Off-CPU time of `stack` left in `state`, woken by `waker` (a stack id) if known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OffCpu {
    pub state: u8,
    pub waker: Option<u32>,
}

/// The time charged to one stack (off-CPU, or on-CPU when `off` is None): its sum in ns and the
/// intervals or samples in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Charge {
    pub stack: u32,
    pub off: Option<OffCpu>,
    pub weight: u128,
    pub count: u64,
}

/// What [`pair`] charged, in the order each charge was first made (off-CPU intervals in time
/// order, then those cut at the capture's end, then on-CPU samples in file order).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Paired {
    pub charges: Vec<Charge>,
    /// threads still off-CPU when the capture ended (charged up to its last timestamp)
    pub still_off: usize,
    /// off-CPU intervals of a charged state left out: the thread left the CPU again (or exited)
    /// with no switch-in seen in between, so when the interval ended is not in the capture
    pub missing: usize,
}

/// A thread off the CPU: since when, the file order of its switch-out, its stack and state.
#[derive(Clone, Copy)]
struct Away {
    since: u64,
    order: u64,
    stack: u32,
    state: u8,
}

/// Charges summed per (stack, off-CPU key), kept in first-charge order.
#[derive(Default)]
struct Charges {
    index: HashMap<(u32, Option<OffCpu>), usize, FxBuildHasher>,
    out: Vec<Charge>,
}

impl Charges {
    fn charge(&mut self, stack: u32, off: Option<OffCpu>, ns: u64) {
        if ns == 0 {
            return;
        }
        let out = &mut self.out;
        let at = *self.index.entry((stack, off)).or_insert_with(|| {
            out.push(Charge {
                stack,
                off,
                weight: 0,
                count: 0,
            });
            out.len() - 1
        });
        let c = &mut self.out[at];
        c.weight += u128::from(ns);
        c.count += 1;
    }
}

/// The base name of an event as `--wall` groups on-CPU events: before any `/`
/// (`cpu-clock/freq=999/` is `cpu-clock`).
pub fn on_cpu_name(event: &[u8]) -> &[u8] {
    event.split(|&b| b == b'/').next().unwrap_or(event)
}

/// Pair the switches and wakeups of `chunks` (by chunk index; event ids index `events`, the
/// event names) in time order and charge off-CPU intervals, then the on-CPU samples asked for.
pub fn pair(chunks: &[(usize, SchedChunk)], events: &[Vec<u8>], opts: &PairOptions<'_>) -> Paired {
    let mut order: Vec<&(usize, SchedChunk)> = chunks.iter().collect();
    order.sort_unstable_by_key(|c| c.0);
    let last = order.iter().map(|c| c.1.last).max().unwrap_or(0);
    // (time, file order, stack, kind) of every switch and wakeup
    let mut timeline: Vec<(u64, u64, u32, Kind)> = Vec::new();
    let mut seq = 0u64;
    for (_, chunk) in &order {
        for e in &chunk.events {
            if !matches!(e.kind, Kind::Sample { .. }) {
                timeline.push((e.time, seq, e.stack, e.kind));
            }
            seq += 1;
        }
    }
    timeline.sort_unstable_by_key(|e| (e.0, e.1));
    let counted = |state: u8| opts.states.is_none_or(|s| s.contains(&state));
    let mut charges = Charges::default();
    let mut away: HashMap<i64, Away, FxBuildHasher> = HashMap::default();
    let mut woken_by: HashMap<i64, u32, FxBuildHasher> = HashMap::default();
    let mut missing = 0;
    for &(time, seq, stack, kind) in &timeline {
        match kind {
            Kind::Wakeup { target } => {
                if opts.wakeups && away.contains_key(&target) {
                    woken_by.insert(target, stack);
                }
            }
            Kind::Switch { prev, next, state } => {
                if prev != 0 {
                    if let Some(stale) = away.remove(&prev) {
                        missing += usize::from(counted(stale.state));
                    }
                    woken_by.remove(&prev);
                    if !DEAD.contains(&state) {
                        let a = Away {
                            since: time,
                            order: seq,
                            stack,
                            state,
                        };
                        away.insert(prev, a);
                    }
                }
                if next != 0 {
                    if let Some(a) = away.remove(&next) {
                        let waker = woken_by.remove(&next);
                        if counted(a.state) {
                            let off = OffCpu {
                                state: a.state,
                                waker,
                            };
                            charges.charge(a.stack, Some(off), time - a.since);
                        }
                    }
                }
            }
            Kind::Sample { .. } => {}
        }
    }
    let still_off = away.len();
    let mut left: Vec<Away> = away.into_values().collect();
    left.sort_unstable_by_key(|a| (a.since, a.order));
    for a in left {
        if counted(a.state) {
            let off = OffCpu {
                state: a.state,
                waker: None,
            };
            charges.charge(a.stack, Some(off), last - a.since);
        }
    }
    if let Some(on_cpu) = &opts.on_cpu {
        let chosen: Vec<bool> = events
            .iter()
            .map(|e| on_cpu_name(e) == on_cpu.name)
            .collect();
        for (_, chunk) in &order {
            for e in &chunk.events {
                if let Kind::Sample {
                    event,
                    thread,
                    period,
                } = e.kind
                {
                    if thread != 0 && chosen.get(event as usize) == Some(&true) {
                        charges.charge(e.stack, None, on_cpu.each.unwrap_or(period));
                    }
                }
            }
        }
    }
    Paired {
        charges: charges.out,
        still_off,
        missing,
    }
}

/// Switches in `chunks` (the twin refuses a capture without any).
pub fn switches(chunks: &[(usize, SchedChunk)]) -> usize {
    chunks
        .iter()
        .flat_map(|c| &c.1.events)
        .filter(|e| matches!(e.kind, Kind::Switch { .. }))
        .count()
}

/// The on-CPU event names (see [`on_cpu_name`]) of the samples in `chunks`, each once, in
/// first-seen order of event id.
pub fn on_cpu_names(chunks: &[(usize, SchedChunk)], events: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut seen = vec![false; events.len()];
    for e in chunks.iter().flat_map(|c| &c.1.events) {
        if let Kind::Sample { event, .. } = e.kind {
            if let Some(s) = seen.get_mut(event as usize) {
                *s = true;
            }
        }
    }
    let mut names: Vec<Vec<u8>> = Vec::new();
    for (name, _) in events.iter().zip(&seen).filter(|(_, &s)| s) {
        let name = on_cpu_name(name).to_vec();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::perf::FoldConfig;

    fn switch(t: &str, prev: i64, state: &str, next: i64, frame: &str) -> String {
        format!(
            "a {prev} [000] {t}: sched:sched_switch: prev_comm=a b prev_pid={prev} prev_prio=120 prev_state={state} ==> next_comm=c next_pid={next} next_prio=120\n\tffffffff81000000 {frame}+0x1 ([kernel.kallsyms])\n\n"
        )
    }

    /// (chunk index, its samples), event names, stacks.
    type Read = (Vec<(usize, SchedChunk)>, Vec<Vec<u8>>, Vec<Vec<u8>>);

    /// `text` read as one chunk for the pairing.
    fn read(text: &str) -> Read {
        let mut w = Worker::new(FoldConfig {
            sched: true,
            ..FoldConfig::default()
        });
        let mut namer = |_: &[u8], _: bool| None;
        w.fold_chunk(0, text.as_bytes(), &mut namer, &|| false)
            .unwrap();
        let mut out = w.finish();
        let chunk = std::mem::take(&mut out.chunks[0].sched);
        (vec![(0, chunk)], out.event_names, out.stacks)
    }

    #[test]
    fn the_hand_reading_is_the_patterns_where_it_answers() {
        let switches = [
            " prev_comm=a b prev_pid=1 prev_prio=120 prev_state=S ==> next_comm=c next_pid=-2 next_prio=0",
            " prev_comm=x prev_pid=9 y prev_pid=3 prev_prio=1 prev_state=R+ ==> next_comm=z next_pid=4 next_prio=1  ",
            " prev_comm=a prev_pid=1 prev_prio=120 prev_state=S ==> next_comm=b next_pid=2 q next_pid=5 next_prio=1",
            " prev_comm=a prev_pid=1 prev_prio=120 prev_state=S\t==> next_comm=b next_pid=2 next_prio=1",
            " prev_comm=a prev_pid=1 prev_prio=x prev_state=S ==> next_comm=b next_pid=2 next_prio=1",
            " prev_comm= prev_pid=1 prev_prio=1 prev_state= ==> next_comm= next_pid=2 next_prio=1",
            "prev_comm=a prev_pid=1 prev_prio=1 prev_state=D ==> next_comm=b next_pid=2 next_prio=1 x",
        ];
        let mut reader = Reader::new();
        for text in switches {
            let by_pattern = reader.switch.groups::<3>(text.as_bytes());
            if let Some((prev, state, next)) = usual_switch(text.as_bytes()) {
                assert_eq!(
                    by_pattern,
                    Some([Some(prev), Some(state), Some(next)]),
                    "{text}"
                );
            }
        }
        assert!(usual_switch(switches[0].as_bytes()).is_some());
        let wakeups = [
            " comm=a b pid=7 prio=120 target_cpu=001",
            " comm=a pid=7 prio=120 success=1 target_cpu=001 ",
            " comm=a pid=7 x pid=8 prio=120",
            " comm=a pid=7 prio=120 target_cpu=001 success=1",
            " comm=a pid=7 prio=120 success= target_cpu=1",
        ];
        for text in wakeups {
            let by_pattern = reader.wakeup.groups::<1>(text.as_bytes());
            if let Some(target) = usual_wakeup(text.as_bytes()) {
                assert_eq!(by_pattern, Some([Some(target)]), "{text}");
            }
        }
        assert!(usual_wakeup(wakeups[1].as_bytes()).is_some());
    }

    #[test]
    fn timestamps_are_exact_nanoseconds() {
        assert_eq!(parse_ns(b"1760.612827"), Some(1_760_612_827_000));
        assert_eq!(parse_ns(b"1.0000000019"), Some(1_000_000_001));
        assert_eq!(parse_ns(b"99999999999999.0"), None);
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"99999999999999999999"), None);
    }

    #[test]
    fn intervals_run_from_switch_out_to_switch_in_across_chunks_and_cpus() {
        let text = switch("1.0", 10, "S", 20, "sleep")
            + &switch("1.5", 30, "D", 10, "io") // 10 back on after 0.5 s
            + &switch("1.2", 20, "R+", 30, "preempted") // printed late: earlier in time
            + &switch("2.0", 10, "S", 0, "sleep") // 10 off again, never back: cut at 2.5
            + "c 5 [001] 2.5: 1000 cpu-clock: \n\t4005 main+0x1 (/bin/c)\n\n";
        let (chunks, events, stacks) = read(&text);
        assert_eq!(switches(&chunks), 4);
        assert_eq!(on_cpu_names(&chunks, &events), vec![b"cpu-clock".to_vec()]);
        let opts = PairOptions {
            states: Some(b"SD"),
            wakeups: false,
            on_cpu: Some(OnCpu {
                name: b"cpu-clock",
                each: None,
            }),
        };
        let paired = pair(&chunks, &events, &opts);
        let named: Vec<(String, Option<u8>, u128, u64)> = paired
            .charges
            .iter()
            .map(|c| {
                let s = String::from_utf8(stacks[c.stack as usize].clone()).unwrap();
                (s, c.off.map(|o| o.state), c.weight, c.count)
            })
            .collect();
        assert_eq!(
            named,
            vec![
                ("a;sleep".into(), Some(b'S'), 500_000_000 + 500_000_000, 2),
                ("a;io".into(), Some(b'D'), 1_000_000_000, 1),
                ("c;main".into(), None, 1000, 1),
            ]
        );
        // 10, 20 (R) and 30 (D) are still off at the end, cut there; R is not charged here
        assert_eq!((paired.still_off, paired.missing), (3, 0));
    }

    #[test]
    fn a_second_switch_out_without_a_switch_in_is_counted_missing() {
        let text = switch("1.0", 10, "S", 0, "sleep")
            + &switch("1.1", 10, "S", 0, "sleep") // the switch-in between was lost
            + &switch("1.2", 0, "R", 10, "idle")
            + &switch("1.3", 11, "R", 0, "spin")
            + &switch("1.4", 11, "Z", 0, "exit"); // exits: R not counted below
        let (chunks, events, _) = read(&text);
        let opts = PairOptions {
            states: Some(b"S"),
            wakeups: false,
            on_cpu: None,
        };
        let paired = pair(&chunks, &events, &opts);
        assert_eq!(paired.missing, 1);
        assert_eq!(paired.charges.len(), 1);
        assert_eq!(paired.charges[0].weight, 100_000_000);
        assert_eq!(paired.still_off, 0);
    }
}
