//! Input stage: finding the lines of a plain CSV block and the fields of
//! each line in one pass. The block is read 64 bytes at a time; for each
//! chunk two bit masks say where its delimiters and its newlines are (on
//! x86_64 four SSE2 compares a mask), and the lines and fields are then read
//! off the bits, lowest first. A line end or a
//! delimiter costs a few instructions wherever it falls, rather than a search
//! per line and another per field.

/// One non-empty line of a block, as `lines` finds it.
pub(super) struct Line<'a> {
    /// Its number within the block, from 0 (empty lines are counted).
    pub index: u64,
    /// Where it starts in the block.
    pub start: usize,
    /// The line without its line end (`\n` or `\r\n`).
    pub text: &'a [u8],
    /// Where each field starts (0, then one past each delimiter), with one
    /// past the line's end last: field `i` is `bounds[i]..bounds[i + 1] - 1`.
    pub bounds: &'a [usize],
}

/// Calls `each` with every non-empty line of `bytes` in order, until it
/// returns false. Lines end at `\n`; a `\r` just before it is not part of
/// the line; the last line may have no line end.
pub(super) fn lines(bytes: &[u8], delim: u8, mut each: impl FnMut(Line<'_>) -> bool) {
    // The last chunk is padded with zeros, which must be no separator.
    assert!(
        delim != 0 && delim != b'\n',
        "a CSV delimiter is a comma, a tab or a semicolon (`sniff_delimiter`)"
    );
    let mut s = State {
        bytes,
        start: 0,
        index: 0,
        delim,
        bounds: [0; BOUNDS],
        fields: 1,
        wide: Vec::new(),
    };
    let mut chunks = bytes.chunks_exact(64);
    let mut base = 0;
    for chunk in &mut chunks {
        let chunk: &[u8; 64] = chunk.try_into().expect("chunks_exact gives 64 bytes");
        if !s.chunk(base, masks(chunk, delim), &mut each) {
            return;
        }
        base += 64;
    }
    // The last bytes, padded with zeros (neither a delimiter nor a newline).
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; 64];
        last.get_mut(..rest.len())
            .expect("a remainder is shorter than a chunk")
            .copy_from_slice(rest);
        if !s.chunk(base, masks(&last, delim), &mut each) {
            return;
        }
    }
    if s.start < bytes.len() {
        s.line(bytes.len(), &mut each);
    }
}

/// The most fields a line's bounds are kept for in `State::bounds`; a
/// wider line's are found again in `State::wide` when it ends.
const BOUNDS: usize = 1024;

struct State<'a> {
    bytes: &'a [u8],
    /// Where the current line starts.
    start: usize,
    /// Its number within the block.
    index: u64,
    delim: u8,
    /// Where the current line's fields start (`Line::bounds`), the first
    /// `fields` of them (the first is always 0), when there are at most
    /// `BOUNDS`. A fixed array: a field's bound is one store, and the count
    /// stays in a register while a chunk's delimiters are read.
    bounds: [usize; BOUNDS],
    /// How many fields the current line has so far.
    fields: usize,
    /// The bounds of a line wider than `BOUNDS` fields.
    wide: Vec<usize>,
}

impl State<'_> {
    /// Reads the separators of the chunk at `base` off its masks; false
    /// when `each` said to stop.
    #[inline(always)]
    fn chunk(&mut self, base: usize, [delims, newlines]: [u64; 2], each: &mut impl FnMut(Line<'_>) -> bool) -> bool {
        let mut delims = delims;
        let mut newlines = newlines;
        loop {
            // The delimiters before the chunk's next newline (all of them when
            // there is none), read in a loop that calls nothing.
            let before = match newlines {
                0 => delims,
                n => delims & ((n & n.wrapping_neg()) - 1),
            };
            delims &= !before;
            let mut rest = before;
            let (mut fields, start) = (self.fields, self.start);
            while rest != 0 {
                if let Some(slot) = self.bounds.get_mut(fields) {
                    *slot = base + rest.trailing_zeros() as usize + 1 - start;
                }
                fields += 1;
                rest &= rest - 1;
            }
            self.fields = fields;
            if newlines == 0 {
                return true;
            }
            let at = base + newlines.trailing_zeros() as usize;
            newlines &= newlines - 1;
            if !self.line(at, each) {
                return false;
            }
        }
    }

    /// Ends the current line at `end` (a newline, or the end of the block).
    fn line(&mut self, end: usize, each: &mut impl FnMut(Line<'_>) -> bool) -> bool {
        let start = self.start;
        let mut to = end;
        if to > start && self.bytes.get(to - 1) == Some(&b'\r') {
            to -= 1;
        }
        let mut go = true;
        if to > start {
            let text = self.bytes.get(start..to).expect("a line is within its block");
            let bounds = match self.bounds.get_mut(self.fields) {
                Some(last) => {
                    *last = to - start + 1;
                    self.bounds
                        .get(..=self.fields)
                        .expect("the last bound is within the array")
                }
                None => {
                    // A line of more than `BOUNDS` fields (a wide export): its
                    // bounds are found again, a byte at a time.
                    let delim = self.delim;
                    self.wide.clear();
                    self.wide.push(0);
                    self.wide.extend(
                        text.iter()
                            .enumerate()
                            .filter(|&(_, &c)| c == delim)
                            .map(|(i, _)| i + 1),
                    );
                    self.wide.push(text.len() + 1);
                    &self.wide
                }
            };
            go = each(Line {
                index: self.index,
                start,
                text,
                bounds,
            });
        }
        self.fields = 1;
        self.start = end + 1;
        self.index += 1;
        go
    }
}

/// The delimiters and newlines of a chunk, as bit masks (bit `i` is byte `i`).
#[inline(always)]
fn masks(chunk: &[u8; 64], delim: u8) -> [u64; 2] {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE2 is part of every x86_64 processor (the target enables it),
    // which is all `sse2_masks` requires of its caller.
    unsafe {
        sse2_masks(chunk, delim)
    }
    #[cfg(not(target_arch = "x86_64"))]
    byte_masks(chunk, delim)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn sse2_masks(chunk: &[u8; 64], delim: u8) -> [u64; 2] {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_movemask_epi8, _mm_set1_epi8, _mm_set_epi64x};
    let d = _mm_set1_epi8(delim as i8);
    let nl = _mm_set1_epi8(b'\n' as i8);
    let mut out = [0u64; 2];
    for (k, part) in chunk.chunks_exact(16).enumerate() {
        let word =
            |w: Option<&[u8]>| i64::from_le_bytes(w.and_then(|w| w.try_into().ok()).expect("16 bytes are two words"));
        let v = _mm_set_epi64x(word(part.get(8..)), word(part.get(..8)));
        // A mask of 16 bits, one a byte, placed at the part's bytes.
        let bits = |m: i32| u64::from(m as u16) << (16 * k);
        let [d_bits, nl_bits] = &mut out;
        *d_bits |= bits(_mm_movemask_epi8(_mm_cmpeq_epi8(v, d)));
        *nl_bits |= bits(_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl)));
    }
    out
}

/// `masks` a byte at a time: the reference, and other processors.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn byte_masks(chunk: &[u8; 64], delim: u8) -> [u64; 2] {
    let mut out = [0u64; 2];
    for (i, &c) in chunk.iter().enumerate() {
        let [d, nl] = &mut out;
        *d |= u64::from(c == delim) << i;
        *nl |= u64::from(c == b'\n') << i;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `lines` as plainly as it can be said: (index, text, bounds).
    fn reference(bytes: &[u8], delim: u8) -> Vec<(u64, Vec<u8>, Vec<usize>)> {
        let mut out = Vec::new();
        let mut parts: Vec<&[u8]> = bytes.split(|&c| c == b'\n').collect();
        if bytes.last() == Some(&b'\n') || bytes.is_empty() {
            parts.pop();
        }
        for (i, line) in parts.into_iter().enumerate() {
            let text = line.strip_suffix(b"\r").unwrap_or(line);
            if text.is_empty() {
                continue;
            }
            let mut bounds = vec![0];
            bounds.extend(text.iter().enumerate().filter(|(_, &c)| c == delim).map(|(j, _)| j + 1));
            bounds.push(text.len() + 1);
            out.push((i as u64, text.to_vec(), bounds));
        }
        out
    }

    fn scanned(bytes: &[u8], delim: u8) -> Vec<(u64, Vec<u8>, Vec<usize>)> {
        let mut out = Vec::new();
        lines(bytes, delim, |l| {
            assert_eq!(
                bytes.get(l.start..l.start + l.text.len()),
                Some(l.text),
                "a line is where it starts"
            );
            out.push((l.index, l.text.to_vec(), l.bounds.to_vec()));
            true
        });
        out
    }

    #[test]
    fn lines_and_fields_are_found_where_a_plain_split_finds_them() {
        // Lengths across one, two and three chunks; bytes one bit away from
        // the separators (`,` 0x2c, `\n` 0x0a), high bytes (where a signed
        // compare would go wrong), CRs and zeros.
        let alphabet = [
            b',', b';', b'\t', b'\n', b'\r', b'-', 0x0b, 0x8a, 0xac, b'a', 0xe4, 0x00, 0xff, 0x7f, 0x80,
        ];
        for len in 0..200 {
            for text in crate::num::random_bytes(&alphabet, len as u64, len, 40) {
                for delim in [b',', b';', b'\t'] {
                    assert_eq!(
                        scanned(&text, delim),
                        reference(&text, delim),
                        "{text:?} split at {delim}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_masks_agree_with_a_byte_by_byte_reading() {
        for text in crate::num::random_bytes(&[b',', b'\n', 0x80, 0x0a ^ 0x80, 0xac, b'x', 0], 5, 64, 500) {
            let chunk: [u8; 64] = text.as_slice().try_into().expect("64 bytes");
            for delim in [b',', b'\t', b';'] {
                assert_eq!(masks(&chunk, delim), byte_masks(&chunk, delim));
            }
        }
    }

    #[test]
    fn a_line_wider_than_the_bounds_kept_inline_is_cut_alike() {
        for fields in [BOUNDS - 1, BOUNDS, BOUNDS + 1, BOUNDS + 300] {
            for delim in [b',', b'\t'] {
                let d = char::from(delim).to_string();
                let line = (0..fields).map(|i| format!("f{i}")).collect::<Vec<_>>().join(&d);
                let text = format!("a{d}b\n{line}\r\n{line}\nc{d}{d}\n{line}");
                assert_eq!(
                    scanned(text.as_bytes(), delim),
                    reference(text.as_bytes(), delim),
                    "{fields} fields"
                );
            }
        }
    }

    #[test]
    fn a_stop_ends_the_scan() {
        let mut seen = 0;
        lines(b"a,b\nc,d\ne,f\n", b',', |_| {
            seen += 1;
            seen < 2
        });
        assert_eq!(seen, 2);
    }
}
