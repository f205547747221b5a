//! Reading pprof's `profile.proto` (decompressed) into folded stacks: the native twin of
//! `foldkit/ingest/pprof.py` (its module docstring says what a sample folds to; both give the
//! same stacks, in the same order, with the same sums: `tests/ingest/test_pprof_native.py`).
//!
//! The wire format is decoded by `prost` (the protobuf implementation of the Tokio project):
//! only the fields foldkit reads are declared, so labels, line numbers and the rest are skipped
//! without being allocated.

use rustc_hash::FxHashMap as HashMap;

use prost::Message;

/// A sample's type and unit (indices into the string table).
#[derive(Clone, PartialEq, Message)]
pub struct ValueType {
    #[prost(int64, tag = "1")]
    pub r#type: i64,
    #[prost(int64, tag = "2")]
    pub unit: i64,
}

/// One sample: its locations (leaf first), one value per sample type, and its labels.
#[derive(Clone, PartialEq, Message)]
pub struct Sample {
    #[prost(uint64, repeated, tag = "1")]
    pub location_id: Vec<u64>,
    #[prost(int64, repeated, tag = "2")]
    pub value: Vec<i64>,
    #[prost(message, repeated, tag = "3")]
    pub label: Vec<Label>,
}

/// A sample's label: key and string value (indices into the string table); numbers not read.
#[derive(Clone, PartialEq, Message)]
pub struct Label {
    #[prost(int64, tag = "1")]
    pub key: i64,
    #[prost(int64, tag = "2")]
    pub str: i64,
}

/// A mapped object: only its file name is read (the flags are written).
#[derive(Clone, PartialEq, Message)]
pub struct Mapping {
    #[prost(uint64, tag = "1")]
    pub id: u64,
    #[prost(int64, tag = "5")]
    pub filename: i64,
    #[prost(bool, tag = "7")]
    pub has_functions: bool,
    #[prost(bool, tag = "8")]
    pub has_filenames: bool,
}

/// A line of a location: only its function is read.
#[derive(Clone, PartialEq, Message)]
pub struct Line {
    #[prost(uint64, tag = "1")]
    pub function_id: u64,
}

/// A code location: its mapping and its lines (innermost first).
#[derive(Clone, PartialEq, Message)]
pub struct Location {
    #[prost(uint64, tag = "1")]
    pub id: u64,
    #[prost(uint64, tag = "2")]
    pub mapping_id: u64,
    #[prost(message, repeated, tag = "4")]
    pub line: Vec<Line>,
}

/// A function: only its name is read (its system name is written as the same).
#[derive(Clone, PartialEq, Message)]
pub struct Function {
    #[prost(uint64, tag = "1")]
    pub id: u64,
    #[prost(int64, tag = "2")]
    pub name: i64,
    #[prost(int64, tag = "3")]
    pub system_name: i64,
}

/// The parts of `profile.proto`'s `Profile` message foldkit reads.
#[derive(Clone, PartialEq, Message)]
pub struct Profile {
    #[prost(message, repeated, tag = "1")]
    pub sample_type: Vec<ValueType>,
    #[prost(message, repeated, tag = "2")]
    pub sample: Vec<Sample>,
    #[prost(message, repeated, tag = "3")]
    pub mapping: Vec<Mapping>,
    #[prost(message, repeated, tag = "4")]
    pub location: Vec<Location>,
    #[prost(message, repeated, tag = "5")]
    pub function: Vec<Function>,
    #[prost(bytes = "vec", repeated, tag = "6")]
    pub string_table: Vec<Vec<u8>>,
    #[prost(int64, tag = "14")]
    pub default_sample_type: i64,
}

/// Frame of a location without a name: `bpf_frames.UNKNOWN`.
const UNKNOWN: &[u8] = b"[unknown]";
/// Stack of a sample without locations: `bpf_frames.NO_STACK`.
const NO_STACK: &[u8] = b"[no stack]";
/// Suffix of an inlined frame: `bpf_frames.INLINE_SUFFIX`.
const INLINE_SUFFIX: &[u8] = b"_[i]";
/// The label of a `-diff_base` profile's base samples (values negated): `pprof.DIFF_BASE_LABEL`.
const DIFF_BASE_LABEL: (&[u8], &[u8]) = (b"pprof::base", b"true");

/// A folded profile: stacks in first-seen order with their summed weight and sample count.
#[derive(Debug, Default)]
pub struct Folded {
    /// (stack, weight, count) in the order their first sample came.
    pub stacks: Vec<(Vec<u8>, i128, i128)>,
    /// (stack, weight) of the samples labelled `pprof::base`, negated back: the BEFORE side of
    /// a profile in pprof's `-diff_base` form, in first-seen order.
    pub before: Vec<(Vec<u8>, i128)>,
    /// Whether the profile counts samples in a type of its own (`samples/count`).
    pub has_counts: bool,
    /// (type, unit) of every sample type.
    pub types: Vec<(Vec<u8>, Vec<u8>)>,
    /// The sample type folded; None when there is none or the wanted one is missing.
    pub chosen: Option<usize>,
    /// Samples in the profile.
    pub samples: usize,
}

/// Ids (`id` fields) -> position in their list: a table indexed by id when the ids are dense (as
/// every writer makes them: 1, 2, 3, …), else a hash map. The last of repeated ids wins.
enum Ids {
    Dense(Vec<u32>),
    Sparse(HashMap<u64, u32>),
}

impl Ids {
    const NONE: u32 = u32::MAX;

    fn new(ids: impl ExactSizeIterator<Item = u64> + Clone) -> Ids {
        let n = ids.len();
        let max = ids.clone().max().unwrap_or(0);
        if n < Ids::NONE as usize && max <= 2 * n as u64 + 1024 {
            let mut table = vec![Ids::NONE; max as usize + 1];
            for (i, id) in ids.enumerate() {
                table[id as usize] = i as u32;
            }
            Ids::Dense(table)
        } else {
            Ids::Sparse(ids.enumerate().map(|(i, id)| (id, i as u32)).collect())
        }
    }

    fn get(&self, id: u64) -> Option<usize> {
        match self {
            Ids::Dense(table) => usize::try_from(id)
                .ok()
                .and_then(|i| table.get(i))
                .filter(|&&i| i != Ids::NONE)
                .map(|&i| i as usize),
            Ids::Sparse(map) => map.get(&id).map(|&i| i as usize),
        }
    }
}

struct Tables<'a> {
    profile: &'a Profile,
    functions: Ids,
    mappings: Ids,
    locations: Ids,
}

impl<'a> Tables<'a> {
    fn string(&self, index: i64) -> Result<&'a [u8], String> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.profile.string_table.get(i))
            .map(Vec::as_slice)
            .ok_or_else(|| format!("string index {index} out of range"))
    }

    /// Appends the location's frames, root first and joined by `;`, to `out`.
    fn frames(&self, location: u64, inline: bool, out: &mut Vec<u8>) -> Result<(), String> {
        let mut names: Vec<Vec<u8>> = Vec::new(); // innermost first
        let (lines, mapping): (&[Line], u64) = match self.locations.get(location) {
            Some(i) => {
                let loc = &self.profile.location[i];
                (&loc.line, loc.mapping_id)
            }
            None => (&[], 0),
        };
        for line in lines {
            let index = self
                .functions
                .get(line.function_id)
                .map_or(0, |i| self.profile.function[i].name);
            let name = tidy(self.string(index)?);
            names.push(if name.is_empty() {
                UNKNOWN.to_vec()
            } else {
                name
            });
        }
        if names.is_empty() {
            let file = match self.mappings.get(mapping) {
                Some(i) => self.string(self.profile.mapping[i].filename)?,
                None => b"",
            };
            names.push(if file.is_empty() {
                UNKNOWN.to_vec()
            } else {
                let base = file.rsplit(|&b| b == b'/').next().unwrap_or(file);
                [b"[", base, b"]"].concat()
            });
        }
        if inline {
            let last = names.len() - 1;
            for name in &mut names[..last] {
                name.extend_from_slice(INLINE_SUFFIX);
            }
        }
        for (i, name) in names.iter().rev().enumerate() {
            if i > 0 {
                out.push(b';');
            }
            out.extend_from_slice(name);
        }
        Ok(())
    }
}

/// A function name as a frame: `;` (the frame separator) as `:`, line breaks as spaces.
fn tidy(name: &[u8]) -> Vec<u8> {
    name.iter()
        .map(|&b| match b {
            b';' => b':',
            b'\n' => b' ',
            _ => b,
        })
        .collect()
}

/// The sample type folded: `wanted` when given (None when missing), else the profile's default,
/// else the last, as `go tool pprof` does.
fn choose(names: &[&[u8]], wanted: Option<&[u8]>, default: Option<&[u8]>) -> Option<usize> {
    if let Some(wanted) = wanted {
        return names.iter().position(|n| *n == wanted);
    }
    if let Some(i) = default.and_then(|d| names.iter().position(|n| *n == d)) {
        return Some(i);
    }
    names.len().checked_sub(1)
}

/// Every sample of the profile `data` under its stack, weighted by the sample type `wanted`
/// (else the default), with `inline` marking inlined frames. Err: a message saying why the
/// bytes are not a well-formed profile.
pub fn fold(data: &[u8], wanted: Option<&[u8]>, inline: bool) -> Result<Folded, String> {
    let profile = Profile::decode(data).map_err(|e| e.to_string())?;
    let tables = Tables {
        profile: &profile,
        functions: Ids::new(profile.function.iter().map(|f| f.id)),
        mappings: Ids::new(profile.mapping.iter().map(|m| m.id)),
        locations: Ids::new(profile.location.iter().map(|l| l.id)),
    };
    let mut out = Folded {
        samples: profile.sample.len(),
        ..Folded::default()
    };
    for t in &profile.sample_type {
        out.types.push((
            tables.string(t.r#type)?.to_vec(),
            tables.string(t.unit)?.to_vec(),
        ));
    }
    let names: Vec<&[u8]> = out.types.iter().map(|(t, _)| t.as_slice()).collect();
    let default = match profile.default_sample_type {
        0 => None,
        d => Some(tables.string(d)?),
    };
    out.chosen = choose(&names, wanted, default);
    let Some(index) = out.chosen else {
        return Ok(out);
    };
    let count_index = out
        .types
        .iter()
        .enumerate()
        .position(|(i, (t, u))| i != index && u == b"count" && t == b"samples");
    out.has_counts = count_index.is_some();
    // each location's frames once, in one arena: (start, end) by location, memoised
    let mut arena: Vec<u8> = Vec::new();
    let mut spans: HashMap<u64, (usize, usize)> = HashMap::default();
    let mut dense_spans: Vec<(usize, usize)> = match &tables.locations {
        Ids::Dense(table) => vec![(usize::MAX, 0); table.len()],
        Ids::Sparse(_) => Vec::new(),
    };
    let mut stack_of: [HashMap<&[u64], usize>; 2] = Default::default();
    let mut by_stack: [HashMap<Vec<u8>, usize>; 2] = Default::default();
    let mut stack = Vec::new();
    for sample in &profile.sample {
        let mut base = false;
        for label in &sample.label {
            base =
                base || (tables.string(label.key)?, tables.string(label.str)?) == DIFF_BASE_LABEL;
        }
        let Some(&w) = sample.value.get(index) else {
            continue;
        };
        let c = count_index
            .and_then(|i| sample.value.get(i).copied())
            .unwrap_or(0);
        if w == 0 && c == 0 {
            continue;
        }
        let side = usize::from(base);
        let key = sample.location_id.as_slice();
        let slot = match stack_of[side].get(key) {
            Some(&slot) => slot,
            None => {
                stack.clear();
                for &loc in key.iter().rev() {
                    let dense = usize::try_from(loc).ok().filter(|&i| i < dense_spans.len());
                    let known = match dense {
                        Some(i) => Some(dense_spans[i]).filter(|s| s.0 != usize::MAX),
                        None => spans.get(&loc).copied(),
                    };
                    let (start, end) = match known {
                        Some(span) => span,
                        None => {
                            let start = arena.len();
                            tables.frames(loc, inline, &mut arena)?;
                            let span = (start, arena.len());
                            match dense {
                                Some(i) => dense_spans[i] = span,
                                None => {
                                    spans.insert(loc, span);
                                }
                            }
                            span
                        }
                    };
                    if !stack.is_empty() {
                        stack.push(b';');
                    }
                    stack.extend_from_slice(&arena[start..end]);
                }
                if stack.is_empty() {
                    stack.extend_from_slice(NO_STACK);
                }
                // samples of different location lists may fold to one stack
                let slot = match by_stack[side].get(&stack) {
                    Some(&slot) => slot,
                    None => {
                        let slot = if base {
                            out.before.push((stack.clone(), 0));
                            out.before.len() - 1
                        } else {
                            out.stacks.push((stack.clone(), 0, 0));
                            out.stacks.len() - 1
                        };
                        by_stack[side].insert(stack.clone(), slot);
                        slot
                    }
                };
                stack_of[side].insert(key, slot);
                slot
            }
        };
        if base {
            out.before[slot].1 -= i128::from(w);
            continue;
        }
        let entry = &mut out.stacks[slot];
        entry.1 += i128::from(w);
        entry.2 += i128::from(c);
    }
    Ok(out)
}

/// A sample to write: its folded stack (root first), its weight value and sample count, and
/// whether it is a BEFORE sample of pprof's `-diff_base` form (value already negated).
pub struct Row<'a> {
    pub stack: &'a [u8],
    pub value: i64,
    pub count: i64,
    pub base: bool,
}

/// The string table being written: index 0 is the empty string.
#[derive(Default)]
struct Strings<'a> {
    index: HashMap<&'a [u8], i64>,
    order: Vec<&'a [u8]>,
}

impl<'a> Strings<'a> {
    fn get(&mut self, s: &'a [u8]) -> i64 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.order.len() as i64;
        self.index.insert(s, i);
        self.order.push(s);
        i
    }
}

/// Mapping of a frame by what its name says of its object: `export/pprof.py`'s `_mapping_name`.
fn mapping_name<'a>(frame: &'a [u8], default: &'a [u8]) -> &'a [u8] {
    if frame.ends_with(b"_[k]") {
        return b"[kernel.kallsyms]";
    }
    if frame.len() >= 2
        && frame.starts_with(b"[")
        && frame.ends_with(b"]")
        && !frame.contains(&b' ')
        && frame != UNKNOWN
    {
        return &frame[1..frame.len() - 1];
    }
    default
}

/// The profile.proto message of `rows` (uncompressed), byte for byte what `export/pprof.py`
/// writes (the same string, function, location and mapping numbering, the same field order):
/// sample types `types` (the weight last, after `samples/count` when there are two), one
/// function and location per distinct frame, `default_mapping` for frames that name no object;
/// with `diff_base`, the BEFORE rows carry the label `pprof::base=true`.
pub fn encode(
    rows: &[Row<'_>],
    types: &[(&[u8], &[u8])],
    default_mapping: &[u8],
    diff_base: bool,
) -> Vec<u8> {
    use prost::encoding::{bytes, int64, message};
    let mut strings = Strings::default();
    strings.get(b"");
    let mut out = Vec::new();
    for &(t, u) in types {
        let vt = ValueType {
            r#type: strings.get(t),
            unit: strings.get(u),
        };
        message::encode(1, &vt, &mut out);
    }
    let mut mappings: Vec<&[u8]> = vec![default_mapping];
    let mut mapping_ids: HashMap<&[u8], u64> = HashMap::default();
    mapping_ids.insert(default_mapping, 1);
    let mut locations: HashMap<&[u8], u64> = HashMap::default();
    let mut body = Vec::new();
    let label = if diff_base {
        vec![Label {
            key: strings.get(DIFF_BASE_LABEL.0),
            str: strings.get(DIFF_BASE_LABEL.1),
        }]
    } else {
        Vec::new()
    };
    for row in rows {
        let mut ids = Vec::new();
        for frame in row.stack.split(|&b| b == b';').rev() {
            let loc = match locations.get(frame) {
                Some(&loc) => loc,
                None => {
                    let loc = locations.len() as u64 + 1;
                    locations.insert(frame, loc);
                    let name = mapping_name(frame, default_mapping);
                    let mapping = match mapping_ids.get(name) {
                        Some(&id) => id,
                        None => {
                            mappings.push(name);
                            mapping_ids.insert(name, mappings.len() as u64);
                            mappings.len() as u64
                        }
                    };
                    let name = strings.get(frame);
                    let function = Function {
                        id: loc,
                        name,
                        system_name: name,
                    };
                    message::encode(5, &function, &mut body);
                    let location = Location {
                        id: loc,
                        mapping_id: mapping,
                        line: vec![Line { function_id: loc }],
                    };
                    message::encode(4, &location, &mut body);
                    loc
                }
            };
            ids.push(loc);
        }
        let value = if types.len() == 2 {
            vec![row.count, row.value]
        } else {
            vec![row.value]
        };
        let sample = Sample {
            location_id: ids,
            value,
            label: if row.base { label.clone() } else { Vec::new() },
        };
        message::encode(2, &sample, &mut out);
    }
    for (i, name) in mappings.iter().enumerate() {
        let mapping = Mapping {
            id: i as u64 + 1,
            filename: strings.get(name),
            has_functions: true,
            has_filenames: true,
        };
        message::encode(3, &mapping, &mut out);
    }
    out.extend_from_slice(&body);
    let (weight_type, weight_unit) = types.last().copied().unwrap_or((b"", b""));
    let period_type = ValueType {
        r#type: strings.get(weight_type),
        unit: strings.get(weight_unit),
    };
    let default_type = strings.get(weight_type);
    for s in &strings.order {
        bytes::encode(6, &s.to_vec(), &mut out);
    }
    message::encode(11, &period_type, &mut out);
    if default_type != 0 {
        int64::encode(14, &default_type, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(names: &[&str]) -> Vec<Vec<u8>> {
        names.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    fn location(id: u64, functions: &[u64]) -> Location {
        Location {
            id,
            mapping_id: 0,
            line: functions.iter().map(|&f| Line { function_id: f }).collect(),
        }
    }

    fn sample(locations: &[u64], values: &[i64], base: bool) -> Sample {
        let label = if base {
            vec![Label { key: 5, str: 6 }]
        } else {
            Vec::new()
        };
        Sample {
            location_id: locations.to_vec(),
            value: values.to_vec(),
            label,
        }
    }

    fn profile() -> Profile {
        Profile {
            sample_type: vec![
                ValueType { r#type: 1, unit: 2 },
                ValueType { r#type: 3, unit: 4 },
            ],
            sample: vec![
                sample(&[2, 1], &[1, 10], false),
                sample(&[2, 1], &[2, 20], false),
                sample(&[3], &[1, 5], false),
                sample(&[2, 1], &[0, -7], true),
                sample(&[], &[1, 1], false),
            ],
            mapping: Vec::new(),
            location: vec![location(1, &[7]), location(2, &[8, 9])],
            function: vec![
                Function {
                    id: 7,
                    name: 7,
                    system_name: 0,
                },
                Function {
                    id: 8,
                    name: 8,
                    system_name: 0,
                },
                Function {
                    id: 9,
                    name: 9,
                    system_name: 0,
                },
            ],
            string_table: strings(&[
                "",
                "samples",
                "count",
                "cpu",
                "nanoseconds",
                "pprof::base",
                "true",
                "main",
                "in;ner",
                "outer",
            ]),
            default_sample_type: 0,
        }
    }

    #[test]
    fn samples_fold_root_first_with_the_last_type_and_counts() {
        let data = profile().encode_to_vec();
        let folded = fold(&data, None, false).unwrap();
        assert_eq!(folded.chosen, Some(1));
        assert!(folded.has_counts);
        assert_eq!(folded.samples, 5);
        let stacks: Vec<(String, i128, i128)> = folded
            .stacks
            .iter()
            .map(|(s, w, c)| (String::from_utf8(s.clone()).unwrap(), *w, *c))
            .collect();
        assert_eq!(
            stacks,
            vec![
                ("main;outer;in:ner".to_string(), 30, 3),
                ("[unknown]".to_string(), 5, 1),
                ("[no stack]".to_string(), 1, 1),
            ]
        );
        assert_eq!(folded.before, vec![(b"main;outer;in:ner".to_vec(), 7)]);
        let inline = fold(&data, Some(b"samples"), true).unwrap();
        assert_eq!(inline.chosen, Some(0));
        assert_eq!(inline.stacks[0].0, b"main;outer;in:ner_[i]".to_vec());
        assert_eq!(fold(&data, Some(b"alloc"), false).unwrap().chosen, None);
    }

    #[test]
    fn bad_bytes_and_indices_are_errors() {
        let data = profile().encode_to_vec();
        assert!(fold(&data[..data.len() - 3], None, false).is_err());
        let mut bad = profile();
        bad.function[0].name = 99;
        let err = fold(&bad.encode_to_vec(), None, false).unwrap_err();
        assert_eq!(err, "string index 99 out of range");
    }
}

#[cfg(test)]
mod encode_tests {
    use super::*;

    #[test]
    fn encoded_rows_fold_back() {
        let rows = [
            Row {
                stack: b"main;f;[libc.so.6]",
                value: 30,
                count: 3,
                base: false,
            },
            Row {
                stack: b"main;g_[k]",
                value: 5,
                count: 1,
                base: false,
            },
            Row {
                stack: b"main;f",
                value: -7,
                count: 0,
                base: true,
            },
        ];
        let data = encode(
            &rows,
            &[(b"samples", b"count"), (b"cpu", b"nanoseconds")],
            b"app",
            true,
        );
        let folded = fold(&data, None, false).unwrap();
        assert_eq!(folded.chosen, Some(1));
        let stacks: Vec<(&[u8], i128, i128)> = folded
            .stacks
            .iter()
            .map(|(s, w, c)| (s.as_slice(), *w, *c))
            .collect();
        assert_eq!(
            stacks,
            vec![
                (&b"main;f;[libc.so.6]"[..], 30, 3),
                (&b"main;g_[k]"[..], 5, 1)
            ]
        );
        assert_eq!(folded.before, vec![(b"main;f".to_vec(), 7)]);
        let profile = Profile::decode(data.as_slice()).unwrap();
        let files: Vec<&[u8]> = profile
            .mapping
            .iter()
            .map(|m| profile.string_table[m.filename as usize].as_slice())
            .collect();
        assert_eq!(files, vec![&b"app"[..], b"libc.so.6", b"[kernel.kallsyms]"]);
    }
}
