//! `foldkit check --function/--budget` patterns decided in the core: the summed weight of the
//! stacks whose leaf (self) or any frame (total) a pattern matches, every frame tested where it
//! stands, ranges of stacks on every thread, without a Python string per name.
//!
//! The pattern comes already translated from Python's `re` (`foldkit.analysis.regex_subset`):
//! either a plain literal (a substring test) or a regular expression whose meaning on the names
//! at hand is Python's own. Two of the conditions that proof rests on are checked here, on the
//! tables themselves: no stack holds a newline (where Python's `$` and Rust's differ), and, for
//! patterns whose classes or case folding are proven only on ASCII, every stack is ASCII.
//!
//! Each stack is first tested whole against a looser pattern (the anchors and word boundaries
//! dropped): a frame it holds that matches the pattern is a piece of the stack that matches the
//! looser one, so a stack the looser pattern misses has no matching frame and is skipped in one
//! search (most stacks, for a selective pattern).

use memchr::memmem::Finder;
use regex::bytes::{Regex, RegexBuilder};

use crate::table::Stacks;

/// Bytes of compiled program a pattern may take (beyond it the pattern is left to Python).
const SIZE_LIMIT: usize = 32 << 20;
/// Stacks a thread takes at least (fewer are tested by one thread).
const MIN_RANGE: usize = 1 << 15;

/// How a name is tested.
enum Test {
    Literal(Box<Finder<'static>>),
    Regex(Regex),
}

impl Test {
    fn is_match(&self, bytes: &[u8]) -> bool {
        match self {
            Test::Literal(f) => f.find(bytes).is_some(),
            Test::Regex(r) => r.is_match(bytes),
        }
    }
}

/// A translated pattern: the test of one frame name, the looser test of a whole stack, and
/// whether the translation holds only on ASCII names.
pub struct NameMatcher {
    exact: Test,
    loose: Test,
    ascii_only: bool,
}

fn compile(pattern: &str) -> Option<Regex> {
    RegexBuilder::new(pattern)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(SIZE_LIMIT)
        .build()
        .ok()
}

impl NameMatcher {
    /// A literal `text`: a name matches when it holds it.
    pub fn literal(text: &str) -> Self {
        let finder = || Box::new(Finder::new(text.as_bytes()).into_owned());
        NameMatcher {
            exact: Test::Literal(finder()),
            loose: Test::Literal(finder()),
            ascii_only: false,
        }
    }

    /// The regular expression `exact` (Rust's syntax), `loose` the same without its anchors and
    /// word boundaries; `ascii_only` when the translation holds on ASCII names only. None when
    /// either does not compile within the size limit.
    pub fn regex(exact: &str, loose: &str, ascii_only: bool) -> Option<Self> {
        Some(NameMatcher {
            exact: Test::Regex(compile(exact)?),
            loose: Test::Regex(compile(loose)?),
            ascii_only,
        })
    }

    /// Whether `name` (one frame) matches.
    pub fn is_match(&self, name: &[u8]) -> bool {
        self.exact.is_match(name)
    }

    /// Whether the translation's meaning is Python's on the stacks of `table`.
    pub fn holds_on(&self, table: &Stacks) -> bool {
        let bytes = table.arena();
        memchr::memchr(b'\n', bytes).is_none() && (!self.ascii_only || bytes.is_ascii())
    }

    /// `(self, total)` of the frames after the first `roots` of stack `stack` that match, for its
    /// weight: whether its last frame matches, and whether any does. A stack with no frame after
    /// its roots matches neither.
    fn stack_hits(&self, stack: &[u8], roots: usize) -> (bool, bool) {
        let mut at = 0usize;
        for _ in 0..roots {
            match memchr::memchr(b';', &stack[at..]) {
                Some(i) => at += i + 1,
                None => return (false, false),
            }
        }
        let code = &stack[at..];
        if !self.loose.is_match(code) {
            return (false, false);
        }
        let (mut any, mut last) = (false, false);
        for frame in code.split(|&b| b == b';') {
            last = self.exact.is_match(frame);
            any |= last;
        }
        (last, any)
    }
}

/// `(self, total)` of `stacks`' frames (after the first `roots` of every stack) that `matcher`
/// matches, taken together: the weight of the stacks whose last frame matches, and of the stacks
/// with any matching frame (once each); ranges of stacks tested by up to `threads` threads.
pub fn matching_sums(
    stacks: &Stacks,
    roots: usize,
    matcher: &NameMatcher,
    threads: usize,
) -> (i128, i128) {
    matching_sums_in(stacks, roots, matcher, threads, MIN_RANGE)
}

/// [`matching_sums`] with threads taking ranges of at least `min_range` stacks.
pub fn matching_sums_in(
    stacks: &Stacks,
    roots: usize,
    matcher: &NameMatcher,
    threads: usize,
    min_range: usize,
) -> (i128, i128) {
    let sum_range = |range: std::ops::Range<usize>| {
        let (mut own, mut all) = (0i128, 0i128);
        for k in range {
            let (last, any) = matcher.stack_hits(stacks.stack(k), roots);
            if any {
                let weight = stacks.sum(k);
                all += weight;
                if last {
                    own += weight;
                }
            }
        }
        (own, all)
    };
    let count = stacks.len();
    let parts = threads.clamp(1, count.div_ceil(min_range.max(1)).max(1));
    if parts == 1 {
        return sum_range(0..count);
    }
    let step = count.div_ceil(parts);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..parts)
            .map(|p| {
                let range = (p * step).min(count)..((p + 1) * step).min(count);
                scope.spawn(move || sum_range(range))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a pattern thread panicked"))
            .fold((0, 0), |(a, b), (c, d)| (a + c, b + d))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn table(pairs: &[(String, i64)]) -> Stacks {
        let mut t = Stacks::new();
        for (s, w) in pairs {
            t.push(s.as_bytes(), i128::from(*w));
        }
        t
    }

    fn stacks() -> impl Strategy<Value = Vec<(String, i64)>> {
        let frame = prop_oneof![Just("a".to_string()), Just(String::new()), "[a-d]{1,3}"];
        let stack = proptest::collection::vec(frame, 0..5).prop_map(|f| f.join(";"));
        proptest::collection::vec((stack, -2i64..40), 0..40)
    }

    proptest! {
        #[test]
        fn sums_as_split_says(
            pairs in stacks(),
            roots in 0usize..3,
            threads in 1usize..4,
            min_range in 1usize..8,
            which in 0usize..4,
        ) {
            let matcher = match which {
                0 => NameMatcher::literal("b"),
                1 => NameMatcher::literal(""),
                2 => NameMatcher::regex("^a$", "a", false).unwrap(),
                _ => NameMatcher::regex("c{2}|^d", "c{2}|d", false).unwrap(),
            };
            let test = |f: &str| match which {
                0 => f.contains('b'),
                1 => true,
                2 => f == "a",
                _ => f.contains("cc") || f.starts_with('d'),
            };
            let (mut own, mut all) = (0i128, 0i128);
            for (s, w) in &pairs {
                let frames: Vec<&str> = s.split(';').skip(roots).collect();
                if frames.iter().any(|f| test(f)) {
                    all += i128::from(*w);
                }
                if frames.last().is_some_and(|f| test(f)) {
                    own += i128::from(*w);
                }
            }
            let t = table(&pairs);
            prop_assert_eq!(matching_sums_in(&t, roots, &matcher, threads, min_range), (own, all));
        }
    }

    #[test]
    fn holds_only_without_newlines_and_ascii_where_asked() {
        let plain = table(&[("a;b".into(), 1)]);
        let wide = table(&[("a;\u{e9}".into(), 1)]);
        let broken = table(&[("a\n;b".into(), 1)]);
        let any = NameMatcher::regex("a", "a", false).unwrap();
        let ascii = NameMatcher::regex("a", "a", true).unwrap();
        assert!(any.holds_on(&plain) && any.holds_on(&wide) && !any.holds_on(&broken));
        assert!(ascii.holds_on(&plain) && !ascii.holds_on(&wide));
        assert!(NameMatcher::regex("(", "", false).is_none());
    }
}
