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
    let mut buf = [0u8; 48];
    rows.iter()
        .map(|&(stack, weight)| stack.len() + decimal(weight, &mut buf).len() + 2)
        .sum()
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
