//! BCC tools' multi-line output (`foldkit/ingest/bcc.py`, the reference): blocks of indented
//! lines each ending with a value line. Indented lines are read here, every distinct line named
//! once and every distinct block folded once (into one stack table); what needs the Python twin
//! (lines that are not indented: headers, chatter, bad lines; blocks cut short or unreadable;
//! names of lines that are not printable ASCII) is handed back as an [`Event`], in input order.

use std::sync::OnceLock;

use regex::bytes::Regex;

use super::intern::Interner;
use super::names::{
    address_kind, is_kernel_name, python_classes, strip_offset, unresolved, KERNEL_SUFFIX,
    NO_STACK, UNKNOWN,
};
use super::text::{is_blank, is_count, line_at, parse_count};
use crate::folded::FoldedReader;
use crate::perf::frames::{is_plain_ascii, strip};

/// Folding options (the `FoldOptions` fields BCC folding reads).
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub addrs: bool,
    pub kernel: bool,
    pub pid: bool,
    pub keep_bpf_frames: bool,
    pub skip_after: Vec<Vec<u8>>,
}

/// One block line named (`bcc.Line`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub name: Vec<u8>,
    pub frame: bool,
    /// +1 kernel address, -1 user address, 0 none
    pub address_kind: i8,
}

/// What the caller must do before reading on.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// All read.
    Done,
    /// Line `lineno`, `start..end` of the chunk, is not indented (and not blank): the caller reads
    /// it; reading goes on at `next`.
    Outside {
        lineno: u64,
        start: usize,
        end: usize,
        next: usize,
    },
    /// The block that started at line `start` (its first line `first`) has no value: line
    /// `lineno` cut it. Reading goes on at `next` (that line again).
    Cut {
        start: u64,
        first: Vec<u8>,
        lineno: u64,
        next: usize,
    },
    /// Line `lineno` (`text`) of a block is neither a frame nor a task nor a delimiter line.
    Bad {
        lineno: u64,
        text: Vec<u8>,
        next: usize,
    },
    /// Distinct line `id` is not printable ASCII: the caller names it (`Reader::set_name`).
    Name { id: u32, text: Vec<u8>, next: usize },
}

struct Patterns {
    task: Regex,
    wake: Regex,
    task_pid: Regex,
    missed: Regex,
    waker_delimiter: Regex,
    delimiter: Regex,
    frame: Regex,
    trampoline: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let ascii = |p: &str| Regex::new(&format!("(?-u)^{p}$")).expect("a BCC pattern");
        Patterns {
            task: ascii(r"[ \t]+-[ \t]{2,}(.*?) \((-?\d+)\)"),
            wake: ascii(r"[ \t]+(?:waker|target):[ \t]+(.*?)(?: (-?\d+))?"),
            task_pid: ascii(r"[ \t]+(\S.*?) \[(-?\d+)\]"),
            missed: ascii(r"[ \t]+(\[Missed (?:Kernel|User) Stack\])(?: -?\d+)?"),
            waker_delimiter: ascii(r"[ \t]+--[ \t]+--"),
            delimiter: ascii(r"[ \t]+--?"),
            // after the leading blanks (`[ \t]++` in the twin: they are all taken)
            frame: ascii(
                r"(?:#\d+[ \t]+)?(?:(?:0x)?([0-9a-fA-F]{8,})[ \t]+)?(.*?)(?: \[([^\[\]\s]+)\])?",
            ),
            trampoline: Regex::new(&python_classes(
                r"^(?:bpf_prog_[0-9a-f]{16}_\w*|bpf_trace_run\d+)$",
            ))
            .expect("trampolines"),
        }
    })
}

/// `bcc.Namer._name` of a line of printable ASCII and tabs.
pub fn name_line(text: &[u8], opts: &Options) -> Option<Line> {
    let p = patterns();
    let blanks = text
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    if blanks == 0 {
        return None; // every pattern starts with blanks
    }
    let rest = &text[blanks..];
    // each pattern is tried only where its fixed parts are
    let tries = [
        (&p.task, rest.starts_with(b"-") && text.ends_with(b")")),
        (
            &p.wake,
            rest.starts_with(b"waker:") || rest.starts_with(b"target:"),
        ),
        (&p.task_pid, text.ends_with(b"]")),
    ];
    for (pattern, maybe) in tries {
        if !maybe {
            continue;
        }
        if let Some(c) = pattern.captures(text) {
            let comm = c.get(1).map_or(&b""[..], |m| m.as_bytes());
            return Some(task(comm, c.get(2).map(|m| m.as_bytes()), opts));
        }
    }
    if rest.starts_with(b"[Missed ") {
        if let Some(c) = p.missed.captures(text) {
            return Some(Line {
                name: c[1].to_vec(),
                frame: true,
                address_kind: 0,
            });
        }
    }
    if rest.starts_with(b"-") {
        if p.waker_delimiter.is_match(text) {
            return Some(delimiter(b"--"));
        }
        if p.delimiter.is_match(text) {
            return Some(delimiter(b"-"));
        }
    }
    let plain = !rest.is_empty()
        && rest[0] != b'#'
        && !rest.ends_with(b"]")
        && !rest.iter().any(|&b| b == b' ' || b == b'\t');
    if plain {
        // no address column (it needs blanks after it), no ` [module]`: all of it is the symbol
        return Some(frame_line(None, rest, None, opts));
    }
    let c = p.frame.captures(rest)?;
    let addr = c.get(1).map(|m| m.as_bytes());
    let sym = c.get(2).map_or(&b""[..], |m| m.as_bytes());
    let module = c.get(3).map(|m| m.as_bytes());
    if sym.is_empty() && addr.is_none() {
        return None;
    }
    Some(frame_line(addr, sym, module, opts))
}

/// The frame of a line whose parts are `addr`, `sym` and `module`.
fn frame_line(addr: Option<&[u8]>, sym: &[u8], module: Option<&[u8]>, opts: &Options) -> Line {
    let address_kind = addr
        .and_then(address_kind)
        .map_or(0, |kernel| if kernel { 1 } else { -1 });
    let unresolved_sym = sym
        .strip_prefix(b"0x")
        .is_some_and(|h| !h.is_empty() && h.iter().all(u8::is_ascii_hexdigit));
    let name = if sym.is_empty() || sym == UNKNOWN || unresolved_sym {
        let text = addr.unwrap_or(sym);
        unresolved(&text.to_ascii_lowercase(), opts.addrs, module)
    } else {
        let tidy: Vec<u8> = strip_offset(strip(sym))
            .iter()
            .map(|&b| if b == b';' { b':' } else { b })
            .collect();
        if tidy.is_empty() {
            UNKNOWN.to_vec()
        } else {
            tidy
        }
    };
    Line {
        name,
        frame: true,
        address_kind,
    }
}

fn delimiter(name: &[u8]) -> Line {
    Line {
        name: name.to_vec(),
        frame: false,
        address_kind: 0,
    }
}

/// `bcc.Namer._task`.
fn task(comm: &[u8], pid: Option<&[u8]>, opts: &Options) -> Line {
    let mut comm = comm;
    // stackcount -P on Python 3 prints the comm as b'python'
    if comm.len() >= 3
        && comm[0] == b'b'
        && (comm[1] == b'\'' || comm[1] == b'"')
        && comm.last() == Some(&comm[1])
    {
        comm = &comm[2..comm.len() - 1];
    }
    let mut name: Vec<u8> = comm
        .iter()
        .map(|&b| if b == b';' { b':' } else { b })
        .collect();
    if let (true, Some(pid)) = (opts.pid, pid) {
        name.push(b'-');
        name.extend_from_slice(pid);
    }
    Line {
        name,
        frame: false,
        address_kind: 0,
    }
}

/// `bpf_frames.annotate_folded` on root-first names: which get `_[k]`.
fn kernel_marks(names: &[&[u8]]) -> Vec<bool> {
    let mut marks = vec![false; names.len()];
    let mut segments = Vec::new();
    let mut start = 0;
    for (i, &name) in names.iter().enumerate() {
        if name == b"--" {
            segments.push((start, i));
            start = i + 1;
        }
    }
    segments.push((start, names.len()));
    for (number, &(lo, hi)) in segments.iter().enumerate() {
        let part = &names[lo..hi];
        let dash = part.iter().position(|&n| n == b"-");
        let range = if number == 0 {
            let first = match dash {
                Some(d) => d + 1,
                None => part
                    .iter()
                    .position(|n| is_kernel_name(n))
                    .unwrap_or(part.len()),
            };
            lo + first..hi
        } else {
            let end = match dash {
                Some(d) => d,
                None => part
                    .iter()
                    .rposition(|n| is_kernel_name(n))
                    .map_or(0, |i| i + 1),
            };
            lo..lo + end
        };
        for i in range {
            let n = names[i];
            if n != b"-" && n != NO_STACK && !n.starts_with(b"[Missed User") {
                marks[i] = true;
            }
        }
    }
    marks
}

/// A line's name as kept (see [`Line`]).
#[derive(Clone, Copy)]
struct Named<'a> {
    name: &'a [u8],
    frame: bool,
    address_kind: i8,
}

/// Where a line's name is (None: not a block line), whether it is a frame, its address kind.
type NameRow = (Option<(usize, u32)>, bool, i8);

/// The names of the distinct lines, in one arena.
#[derive(Default)]
struct LineNames {
    bytes: Vec<u8>,
    /// by line: where its name is in `bytes` (None: not a block line), frame, address kind
    rows: Vec<NameRow>,
}

impl LineNames {
    fn len(&self) -> usize {
        self.rows.len()
    }

    /// Name line `id` (the next line, or one named before).
    fn set(&mut self, id: u32, line: Option<Line>) {
        let row = match line {
            None => (None, false, 0),
            Some(l) => {
                let at = self.bytes.len();
                self.bytes.extend_from_slice(&l.name);
                (Some((at, l.name.len() as u32)), l.frame, l.address_kind)
            }
        };
        let k = id as usize;
        if k == self.rows.len() {
            self.rows.push(row);
        } else {
            self.rows[k] = row;
        }
    }

    fn get(&self, id: u32) -> Option<Named<'_>> {
        let (span, frame, address_kind) = self.rows[id as usize];
        let (at, len) = span?;
        Some(Named {
            name: &self.bytes[at..at + len as usize],
            frame,
            address_kind,
        })
    }
}

/// One block folded.
struct Folded {
    stack: Vec<u8>,
    /// its BPF program frames were dropped
    trimmed: bool,
    /// its first frame (leaf first), or nothing
    leaf: Vec<u8>,
    /// its root is its task line
    with_task: bool,
}

/// The reader: `feed` chunks until it says `Done`.
#[derive(Default)]
pub struct Reader {
    opts: Options,
    lines: Interner<u8>,
    /// names by line number
    names: LineNames,
    blocks: Interner<u32>,
    /// by block: unknown yet, its stack's entry in `out`, or unreadable
    stack_of: Vec<Option<Result<u32, ()>>>,
    block: Vec<u32>,
    block_start: u64,
    lineno: u64,
    pub out: FoldedReader,
    /// blocks folded (value lines of readable blocks)
    pub folded_blocks: u64,
    /// the first readable block's first frame
    pub first_leaf: Option<Vec<u8>>,
    /// entries whose BPF program frames were dropped
    pub trimmed: Vec<u32>,
    /// distinct blocks whose root is their task line, and that do not
    pub with_task: u64,
    pub without_task: u64,
}

impl Reader {
    /// A reader folding with `opts`.
    pub fn new(opts: Options) -> Self {
        Reader {
            opts,
            ..Reader::default()
        }
    }

    /// Name distinct line `id` (the caller's answer to [`Event::Name`]).
    pub fn set_name(&mut self, id: u32, line: Option<Line>) {
        self.names.set(id, line);
    }

    /// The lines of the block still open at the end of the input: (first line, texts).
    pub fn open_block(&self) -> (u64, Vec<&[u8]>) {
        (
            self.block_start,
            self.block.iter().map(|&id| self.lines.get(id)).collect(),
        )
    }

    /// Read the lines of `chunk` from byte `pos` until the caller must act.
    pub fn feed(&mut self, chunk: &[u8], mut pos: usize) -> Event {
        while pos < chunk.len() {
            let start = pos;
            let (end, next) = line_at(chunk, pos);
            self.lineno += 1;
            let line = &chunk[start..end];
            pos = next;
            let first = line.first().copied();
            if first == Some(b' ') || first == Some(b'\t') {
                let blanks = line
                    .iter()
                    .take_while(|&&b| b == b' ' || b == b'\t')
                    .count();
                if is_count(&line[blanks..]) {
                    let value = parse_count(&line[blanks..]);
                    if let Some(event) = self.value(value, next) {
                        return event;
                    }
                    continue;
                }
                if self.block.is_empty() {
                    self.block_start = self.lineno;
                }
                let id = self.lines.intern(line);
                self.block.push(id);
                if id as usize == self.names.len() {
                    if is_plain_ascii(line) {
                        let named = name_line(line, &self.opts);
                        self.names.set(id, named);
                    } else {
                        self.names.set(id, None); // named by the caller next
                        return Event::Name {
                            id,
                            text: line.to_vec(),
                            next,
                        };
                    }
                }
                continue;
            }
            if !self.block.is_empty() {
                let first = self.lines.get(self.block[0]).to_vec();
                self.block.clear();
                let lineno = self.lineno;
                self.lineno -= 1; // the line is read again
                return Event::Cut {
                    start: self.block_start,
                    first,
                    lineno,
                    next: start,
                };
            }
            if is_blank(line) {
                continue;
            }
            return Event::Outside {
                lineno: self.lineno,
                start,
                end,
                next,
            };
        }
        Event::Done
    }

    /// A value line ends the block: add `value` to its stack, or report it unreadable.
    fn value(&mut self, value: i128, next: usize) -> Option<Event> {
        let id = self.blocks.intern(&self.block);
        if id as usize == self.stack_of.len() {
            self.stack_of.push(None);
        }
        let found = match self.stack_of[id as usize] {
            Some(found) => found,
            None => {
                let found = self.fold_block(id, value);
                self.stack_of[id as usize] = Some(found);
                self.block.clear();
                return match found {
                    Ok(_) => {
                        self.folded_blocks += 1;
                        None
                    }
                    Err(()) => Some(self.bad_block(id, next)),
                };
            }
        };
        let event = match found {
            Ok(at) => {
                self.out.add_sum_at(at as usize, value);
                self.folded_blocks += 1;
                None
            }
            Err(()) => Some(self.bad_block(id, next)),
        };
        self.block.clear();
        event
    }

    fn bad_block(&self, id: u32, next: usize) -> Event {
        let block = self.blocks.get(id);
        let k = block
            .iter()
            .position(|&l| self.name(l).is_none())
            .unwrap_or(0);
        Event::Bad {
            lineno: self.block_start + k as u64,
            text: self.lines.get(block[k]).to_vec(),
            next,
        }
    }

    fn name(&self, line: u32) -> Option<Named<'_>> {
        self.names.get(line)
    }

    /// `bcc.Folder._stack` of block `id`, its first `value` added: the entry in `out`.
    fn fold_block(&mut self, id: u32, value: i128) -> Result<u32, ()> {
        let folded = self.stack_of_block(id)?;
        if self.first_leaf.is_none() {
            self.first_leaf = Some(folded.leaf);
        }
        if folded.with_task {
            self.with_task += 1;
        } else {
            self.without_task += 1;
        }
        let at = self.out.add_sum(&folded.stack, value) as u32;
        if folded.trimmed {
            self.trimmed.push(at);
        }
        Ok(at)
    }

    fn stack_of_block(&self, id: u32) -> Result<Folded, ()> {
        let block = self.blocks.get(id);
        let mut named: Vec<Named<'_>> = Vec::with_capacity(block.len());
        for &l in block {
            named.push(self.name(l).ok_or(())?);
        }
        let leaf = named
            .iter()
            .find(|l| l.frame)
            .map_or(&b""[..], |l| l.name)
            .to_vec();
        let mut trimmed = false;
        if !self.opts.keep_bpf_frames {
            let p = patterns();
            let before = named.len();
            named.retain(|l| !(l.frame && p.trampoline.is_match(l.name)));
            trimmed = named.len() != before;
        }
        named.reverse();
        let rooted = named.first().is_some_and(|l| !l.frame);
        let with_task = rooted && named[0].name != b"--" && named[0].name != b"-";
        let mut names: Vec<&[u8]> = named.iter().map(|l| l.name).collect();
        let mut marks = vec![false; names.len()];
        let frames: Vec<&Named<'_>> = named.iter().filter(|l| l.frame).collect();
        if frames.is_empty() {
            let at = usize::from(rooted);
            names.insert(at, NO_STACK);
            marks.insert(at, false);
        } else if self.opts.kernel {
            if frames.iter().any(|l| l.address_kind != 0) {
                for (k, l) in named.iter().enumerate() {
                    marks[k] = l.frame && l.address_kind > 0;
                }
            } else {
                marks = kernel_marks(&names);
            }
        }
        if self.opts.skip_after.is_empty() {
            let mut stack = Vec::with_capacity(names.iter().map(|n| n.len() + 5).sum());
            for (k, (&n, &mark)) in names.iter().zip(&marks).enumerate() {
                if k > 0 {
                    stack.push(b';');
                }
                stack.extend_from_slice(n);
                if mark && !n.ends_with(KERNEL_SUFFIX) {
                    stack.extend_from_slice(KERNEL_SUFFIX);
                }
            }
            return Ok(Folded {
                stack,
                trimmed,
                leaf,
                with_task,
            });
        }
        let full: Vec<Vec<u8>> = names
            .iter()
            .zip(&marks)
            .map(|(&n, &mark)| {
                let mut n = n.to_vec();
                if mark && !n.ends_with(KERNEL_SUFFIX) {
                    n.extend_from_slice(KERNEL_SUFFIX);
                }
                n
            })
            .collect();
        let mut refs: Vec<&[u8]> = full.iter().map(Vec::as_slice).collect();
        {
            let keep = usize::from(rooted);
            if let Some(cut) = super::names::cut_after(&refs, &self.opts.skip_after, keep) {
                refs = cut;
            }
        }
        Ok(Folded {
            stack: refs.join(&b';'),
            trimmed,
            leaf,
            with_task,
        })
    }

    /// (distinct stacks whose BPF program frames were dropped, their summed weight).
    pub fn trimmed_share(&self) -> (usize, i128) {
        let mut seen: Vec<u32> = self.trimmed.clone();
        seen.sort_unstable();
        seen.dedup();
        let share = seen.iter().map(|&at| self.out.sum_at(at as usize)).sum();
        (seen.len(), share)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, opts: Options) -> (Vec<(String, i128)>, Vec<Event>) {
        let mut r = Reader::new(opts);
        let mut events = Vec::new();
        let mut pos = 0;
        loop {
            let e = r.feed(text.as_bytes(), pos);
            pos = match &e {
                Event::Done => break,
                Event::Outside { next, .. } | Event::Cut { next, .. } | Event::Bad { next, .. } => {
                    *next
                }
                Event::Name { next, id, .. } => {
                    r.set_name(*id, Some(delimiter(b"odd")));
                    *next
                }
            };
            events.push(e);
        }
        let stacks = r
            .out
            .items()
            .map(|(s, w)| (String::from_utf8(s.to_vec()).unwrap(), w))
            .collect();
        (stacks, events)
    }

    #[test]
    fn folds_blocks_root_first() {
        let text = "Sampling at 49 Hertz\n\n    do_idle\n    cpu_startup_entry\n    main\n    -                app (12)\n        3\n\n    do_idle\n    cpu_startup_entry\n    main\n    -                app (12)\n        4\n";
        let opts = Options {
            kernel: true,
            ..Options::default()
        };
        let (stacks, events) = read(text, opts);
        assert_eq!(
            stacks,
            vec![("app;main;cpu_startup_entry_[k];do_idle_[k]".into(), 7)]
        );
        assert_eq!(events.len(), 1); // the header line
    }

    #[test]
    fn reports_cut_and_bad_blocks() {
        let text = "    f\nnot indented\n    \n        2\n        5\n";
        let (stacks, events) = read(text, Options::default());
        assert_eq!(stacks, vec![("[no stack]".into(), 5)]);
        assert!(matches!(
            events[0],
            Event::Cut {
                start: 1,
                lineno: 2,
                ..
            }
        ));
        assert!(matches!(events[1], Event::Outside { lineno: 2, .. }));
        assert!(matches!(events[2], Event::Bad { lineno: 3, .. }));
    }

    #[test]
    fn names_lines() {
        let o = Options::default();
        let n = |t: &str| {
            name_line(t.as_bytes(), &o)
                .map(|l| (String::from_utf8(l.name).unwrap(), l.frame, l.address_kind))
        };
        assert_eq!(
            n("    -                sshd (1234)"),
            Some(("sshd".into(), false, 0))
        );
        assert_eq!(n("    b'python' [99]"), Some(("python".into(), false, 0)));
        assert_eq!(n("    --"), Some(("-".into(), false, 0)));
        assert_eq!(n("    --  --"), Some(("--".into(), false, 0)));
        assert_eq!(
            n("    ffffffff81000010 do_idle+0x5 [kernel]"),
            Some(("do_idle".into(), true, 1))
        );
        assert_eq!(
            n("    [unknown] [libc.so.6]"),
            Some(("[libc.so.6]".into(), true, 0))
        );
        assert_eq!(n("    "), None);
    }
}
