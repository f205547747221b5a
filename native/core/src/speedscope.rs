//! speedscope's sampled profile from a timeline's arrays (times, stack ids, int64 weights): the
//! JSON text of its `frames`, `samples` and `weights` and the sum of the weights, as
//! `foldkit/export/speedscope.py` (the reference) writes them with `json.dumps(..., separators=
//! (",", ":"))`: samples in time order (a stable sort), frames numbered as first met in that order,
//! names escaped as `json.dumps` escapes them (`ensure_ascii`).

use std::collections::HashMap;

use rustc_hash::FxBuildHasher;

/// The three JSON arrays of a sampled profile and its `endValue`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Sampled {
    /// `[{"name":"..."},...]`
    pub frames: Vec<u8>,
    /// `[[0,1],[0,2],...]`: one list of frame indexes per sample, root first
    pub samples: Vec<u8>,
    /// `[w,...]`
    pub weights: Vec<u8>,
    /// the sum of the weights
    pub end: i128,
}

/// `s` as a JSON string the way Python's `json.dumps` writes it (ASCII only: other characters as
/// `\uXXXX`, those past U+FFFF as a surrogate pair; lowercase hex).
pub fn push_json_string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let unit = |out: &mut Vec<u8>, u: u16| {
        out.extend_from_slice(b"\\u");
        for shift in [12, 8, 4, 0] {
            out.push(HEX[usize::from((u >> shift) & 0xf)]);
        }
    };
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            ' '..='~' => out.push(c as u8),
            _ => {
                let mut units = [0u16; 2];
                for &u in c.encode_utf16(&mut units).iter() {
                    unit(out, u);
                }
            }
        }
    }
    out.push(b'"');
}

fn push_int(out: &mut Vec<u8>, v: impl std::fmt::Display) {
    use std::io::Write;
    let _ = write!(out, "{v}");
}

/// The sampled profile of the samples (`times[i]`, `stacks[ids[i]]`, `weights[i]`); None when a
/// time is NaN (where Python's sort leaves those is left to the reference) or an id is out of
/// range.
pub fn sampled(stacks: &[&str], times: &[f64], ids: &[u32], weights: &[i64]) -> Option<Sampled> {
    if times.len() != ids.len()
        || ids.len() != weights.len()
        || times.iter().any(|t| t.is_nan())
        || ids.iter().any(|&i| i as usize >= stacks.len())
    {
        return None;
    }
    let mut order: Vec<u32> = (0..ids.len() as u32).collect();
    // stable, and a total order without NaNs (-0.0 and 0.0 compare equal, as in Python)
    order.sort_by(|&a, &b| {
        times[a as usize]
            .partial_cmp(&times[b as usize])
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut frame_ids: HashMap<&str, u32, FxBuildHasher> = HashMap::default();
    let mut frames = b"[".to_vec();
    // per stack id: the JSON text of its frame indexes, once met
    let mut stack_text: Vec<Option<std::ops::Range<usize>>> = vec![None; stacks.len()];
    let mut texts: Vec<u8> = Vec::new();
    let mut samples = b"[".to_vec();
    let mut out_weights = b"[".to_vec();
    let mut end: i128 = 0;
    for (k, &i) in order.iter().enumerate() {
        let id = ids[i as usize] as usize;
        let range = match &stack_text[id] {
            Some(r) => r.clone(),
            None => {
                let start = texts.len();
                texts.push(b'[');
                for (n, name) in stacks[id].split(';').enumerate() {
                    let next = frame_ids.len() as u32;
                    let f = *frame_ids.entry(name).or_insert_with(|| {
                        if next > 0 {
                            frames.push(b',');
                        }
                        frames.extend_from_slice(b"{\"name\":");
                        push_json_string(&mut frames, name);
                        frames.push(b'}');
                        next
                    });
                    if n > 0 {
                        texts.push(b',');
                    }
                    push_int(&mut texts, f);
                }
                texts.push(b']');
                stack_text[id] = Some(start..texts.len());
                start..texts.len()
            }
        };
        if k > 0 {
            samples.push(b',');
            out_weights.push(b',');
        }
        samples.extend_from_slice(&texts[range]);
        let w = weights[i as usize];
        push_int(&mut out_weights, w);
        end += i128::from(w);
    }
    frames.push(b']');
    samples.push(b']');
    out_weights.push(b']');
    Some(Sampled {
        frames,
        samples,
        weights: out_weights,
        end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: &[u8]) -> &str {
        std::str::from_utf8(v).unwrap()
    }

    #[test]
    fn samples_in_time_order_and_frames_as_first_met() {
        let got = sampled(&["a;b", "a;c"], &[2.0, 1.0, 1.0], &[0, 1, 0], &[5, 7, -1]).unwrap();
        assert_eq!(
            text(&got.frames),
            r#"[{"name":"a"},{"name":"c"},{"name":"b"}]"#
        );
        assert_eq!(text(&got.samples), "[[0,1],[0,2],[0,2]]");
        assert_eq!(text(&got.weights), "[7,-1,5]");
        assert_eq!(got.end, 11);
        assert!(sampled(&["a"], &[f64::NAN], &[0], &[1]).is_none());
        assert!(sampled(&["a"], &[1.0], &[1], &[1]).is_none());
        let empty = sampled(&[], &[], &[], &[]).unwrap();
        assert_eq!(
            (text(&empty.frames), text(&empty.samples), empty.end),
            ("[]", "[]", 0)
        );
    }

    #[test]
    fn names_are_escaped_as_json_dumps_does() {
        let mut out = Vec::new();
        push_json_string(&mut out, "q\"\\\n\r\t\u{8}\u{c}\u{1}\u{7f} é€😀~");
        assert_eq!(
            text(&out),
            r#""q\"\\\n\r\t\b\f\u0001\u007f \u00e9\u20ac\ud83d\ude00~""#
        );
    }
}
