//! Folded text written out: `stack weight` lines sorted byte-wise by stack (the canonical order
//! of `foldkit.profile.Profile.folded_lines`), for integer weights.

/// One line to write: the stack's bytes and its weight.
pub type Row<'a> = (&'a [u8], i128);

/// `weight` in decimal, in `buf`.
pub(crate) fn decimal(weight: i128, buf: &mut [u8; 48]) -> &[u8] {
    let mut at = buf.len();
    let mut rest = weight.unsigned_abs();
    // u128 division is a library call: peel digits in u128 only while the rest needs it
    while rest > u128::from(u64::MAX) {
        at -= 1;
        buf[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    let mut small = rest as u64;
    loop {
        at -= 1;
        buf[at] = b'0' + (small % 10) as u8;
        small /= 10;
        if small == 0 {
            break;
        }
    }
    if weight < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    &buf[at..]
}

/// Sort `rows` byte-wise by stack; the length of their folded text.
pub fn sort_rows(rows: &mut [Row<'_>]) -> usize {
    rows.sort_unstable_by(|a, b| a.0.cmp(b.0));
    text_len(rows)
}

/// The length of the folded text of `rows` (`stack weight\n` a row).
fn text_len(rows: &[Row<'_>]) -> usize {
    let mut buf = [0u8; 48];
    rows.iter()
        .map(|&(stack, weight)| stack.len() + decimal(weight, &mut buf).len() + 2)
        .sum()
}

/// Rows below this many are sorted by one thread ([`sort_rows_parallel`]).
const SPLIT_AT: usize = 4096;

/// [`sort_rows`] by up to `threads` threads: above [`SPLIT_AT`] rows, the halves are sorted at
/// once (stacks of one program share long prefixes, and comparing them is most of the work),
/// then merged (ties keep the first half's row first: equal stacks are not told apart in the
/// text, and a dict gives each stack once).
pub fn sort_rows_parallel(rows: &mut Vec<Row<'_>>, threads: usize) -> usize {
    if threads < 2 || rows.len() < SPLIT_AT {
        return sort_rows(rows);
    }
    let mid = rows.len() / 2;
    let (left, right) = rows.split_at_mut(mid);
    std::thread::scope(|scope| {
        scope.spawn(|| left.sort_unstable_by(|a, b| a.0.cmp(b.0)));
        right.sort_unstable_by(|a, b| a.0.cmp(b.0));
    });
    let mut merged = Vec::with_capacity(rows.len());
    let (mut i, mut j) = (0, mid);
    while i < mid && j < rows.len() {
        if rows[j].0 < rows[i].0 {
            merged.push(rows[j]);
            j += 1;
        } else {
            merged.push(rows[i]);
            i += 1;
        }
    }
    merged.extend_from_slice(&rows[i..mid]);
    merged.extend_from_slice(&rows[j..]);
    *rows = merged;
    text_len(rows)
}

/// Write the folded text of sorted `rows` (one `stack weight\n` line each) into `out`, which has
/// the length [`sort_rows`] returned.
pub fn write_rows(rows: &[Row<'_>], out: &mut [u8]) {
    let mut buf = [0u8; 48];
    let mut at = 0;
    for &(stack, weight) in rows {
        let digits = decimal(weight, &mut buf);
        for part in [stack, b" ", digits, b"\n"] {
            out[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        }
    }
}

/// Bytes of folded text [`write_rows_to`] formats before writing them.
const WRITE_BUFFER: usize = 256 * 1024;

/// Write the folded text of sorted `rows` ([`write_rows`]' bytes) to `out`, formatted a piece
/// of about [`WRITE_BUFFER`] bytes at a time into one buffer (the text is never held whole).
pub fn write_rows_to(rows: &[Row<'_>], out: &mut impl std::io::Write) -> std::io::Result<()> {
    let mut text = Vec::with_capacity(WRITE_BUFFER + 4096);
    let mut buf = [0u8; 48];
    for &(stack, weight) in rows {
        text.extend_from_slice(stack);
        text.push(b' ');
        text.extend_from_slice(decimal(weight, &mut buf));
        text.push(b'\n');
        if text.len() >= WRITE_BUFFER {
            out.write_all(&text)?;
            text.clear();
        }
    }
    out.write_all(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The folded text of `rows`, sorted.
    fn folded_text(rows: &mut [Row<'_>]) -> Vec<u8> {
        let mut out = vec![0u8; sort_rows(rows)];
        write_rows(rows, &mut out);
        out
    }

    #[test]
    fn rows_written_in_pieces_as_whole() {
        let stacks: Vec<Vec<u8>> = (0..20_000u32)
            .map(|i| format!("a;b;{i};{}", "x".repeat((i % 50) as usize)).into_bytes())
            .collect();
        let mut rows: Vec<Row<'_>> = stacks
            .iter()
            .zip(0..)
            .map(|(s, w)| (&s[..], w * 1_000_000_007 - 5))
            .collect();
        let whole = folded_text(&mut rows);
        let mut written = Vec::new();
        write_rows_to(&rows, &mut written).unwrap();
        assert!(whole.len() > WRITE_BUFFER);
        assert_eq!(written, whole);
        let mut none = Vec::new();
        write_rows_to(&[], &mut none).unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn rows_sorted_by_threads_as_by_one() {
        let stacks: Vec<Vec<u8>> = (0..10_000u32)
            .map(|i| format!("common;prefix;{};f{}", (i * 7919) % 1000, i % 13).into_bytes())
            .collect();
        let one: Vec<Row<'_>> = stacks.iter().zip(0..).map(|(s, w)| (&s[..], w)).collect();
        let (mut a, mut b) = (one.clone(), one.clone());
        let len = sort_rows(&mut a);
        for threads in [1, 2, 4] {
            let mut c = one.clone();
            assert_eq!(sort_rows_parallel(&mut c, threads), len);
            assert_eq!(c, a);
        }
        b.truncate(100); // below the split: one thread
        let small = sort_rows(&mut b.clone());
        assert_eq!(sort_rows_parallel(&mut b, 2), small);
        assert!(b.windows(2).all(|w| w[0].0 <= w[1].0));
    }

    #[test]
    fn rows_come_out_sorted_bytewise() {
        let mut rows: Vec<Row<'_>> = vec![
            (b"b;c", 2),
            ("\u{e9}".as_bytes(), -3),
            (b"a", i128::MAX),
            (b"B", 0),
            (b"m", i128::MIN),
        ];
        let want = format!("B 0\na {}\nb;c 2\nm {}\n\u{e9} -3\n", i128::MAX, i128::MIN);
        assert_eq!(folded_text(&mut rows), want.as_bytes());
        assert!(folded_text(&mut []).is_empty());
    }
}
