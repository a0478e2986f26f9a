//! Input stage: text encodings. Logs and rosters are read as UTF-8; a file
//! that starts with a UTF-16 byte-order mark ("Unicode text" from Excel) is
//! read as UTF-16, and `--encoding gbk` (Chinese Windows Excel's "CSV") reads
//! GBK/GB18030. Either way the rest of the input stage sees UTF-8; a byte
//! sequence that is not valid in the file's encoding is an error naming the
//! line, never a replacement character.

use std::io::{self, Read};

use encoding_rs::{Encoding, GB18030, UTF_16BE, UTF_16LE, UTF_8};

use super::DataError;

/// The encodings `--encoding` accepts, by the names people use.
pub fn by_name(name: &str) -> Option<&'static Encoding> {
    match name.to_ascii_lowercase().replace('_', "-").as_str() {
        "utf-8" | "utf8" => Some(UTF_8),
        // GB18030 is a superset of GBK (and of GB2312): one decoder reads all three.
        "gbk" | "gb18030" | "gb2312" | "cp936" => Some(GB18030),
        "utf-16" | "utf16" | "utf-16le" | "utf16le" => Some(UTF_16LE),
        "utf-16be" | "utf16be" => Some(UTF_16BE),
        _ => None,
    }
}

/// The advice for bytes that are not UTF-8: `; this looks like GBK/GB18030 …`
/// when they decode as GB18030, else nothing.
pub fn gbk_hint(bytes: &[u8]) -> &'static str {
    if looks_like_gbk(bytes) {
        "; this looks like GBK/GB18030; use --encoding gbk"
    } else {
        ""
    }
}

/// Not UTF-8, but valid GB18030 with at least one non-ASCII character.
pub fn looks_like_gbk(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_err()
        && GB18030
            .decode_without_bom_handling_and_without_replacement(bytes)
            .is_some()
}

/// Text of a rulebook, or where and why it is not UTF-8.
pub fn rulebook_text(bytes: Vec<u8>) -> Result<String, (u64, String)> {
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        let line = 1 + memchr::memchr_iter(b'\n', bytes.get(..at).unwrap_or(bytes)).count() as u64;
        let hint = if looks_like_gbk(bytes) {
            "; this looks like GBK/GB18030: save the rulebook as UTF-8"
        } else {
            ""
        };
        (line, format!("is not valid UTF-8{hint}"))
    })
}

/// `reader` as UTF-8: decoded from UTF-16 when it starts with a UTF-16
/// byte-order mark, else from `encoding` (UTF-8, that is as is, by default).
pub fn decoded(
    reader: Box<dyn Read + Send>,
    encoding: Option<&'static Encoding>,
    name: &str,
) -> Result<Box<dyn Read + Send>, DataError> {
    decoded_as_is(reader, encoding, name).map(|(reader, _)| reader)
}

/// `decoded`, and whether its bytes are the file's as they are (UTF-8,
/// not transcoded).
pub fn decoded_as_is(
    mut reader: Box<dyn Read + Send>,
    encoding: Option<&'static Encoding>,
    name: &str,
) -> Result<(Box<dyn Read + Send>, bool), DataError> {
    let mut head = [0u8; 3];
    let mut n = 0;
    while n < head.len() {
        match reader.read(head.get_mut(n..).expect("n < 3")) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(DataError {
                    file: name.to_string(),
                    line: 0,
                    message: format!("cannot read: {e}"),
                })
            }
        }
    }
    let head = head.get(..n).expect("n <= 3").to_vec();
    let bom = Encoding::for_bom(&head).map(|(e, _)| e);
    let chosen = match (bom, encoding) {
        // A byte-order mark says what the file is.
        (Some(e), _) => e,
        (None, Some(e)) => e,
        (None, None) => UTF_8,
    };
    let whole = Box::new(io::Cursor::new(head).chain(reader));
    if chosen == UTF_8 {
        // Read as is: invalid bytes are found, with their field, by the decoder.
        return Ok((whole, true));
    }
    let transcoded: Box<dyn Read + Send> = Box::new(Transcoder {
        inner: whole,
        decoder: chosen.new_decoder(),
        name: name.to_string(),
        input: vec![0; 64 << 10],
        start: 0,
        end: 0,
        output: Vec::new(),
        at: 0,
        line: 1,
        eof: false,
        failed: None,
    });
    Ok((transcoded, false))
}

/// A reader of another encoding as UTF-8.
struct Transcoder {
    inner: Box<dyn Read + Send>,
    decoder: encoding_rs::Decoder,
    name: String,
    input: Vec<u8>,
    /// `input[start..end]` is read but not yet decoded.
    start: usize,
    end: usize,
    output: Vec<u8>,
    /// `output[at..]` is decoded but not yet handed out.
    at: usize,
    /// The line of the file the decoder has reached.
    line: u64,
    eof: bool,
    /// Bytes not in the encoding, met after the text decoded before them:
    /// named once that text is read, so that its rows come first.
    failed: Option<DataError>,
}

impl Transcoder {
    /// Decodes more input into `output`; false at the end.
    fn refill(&mut self) -> io::Result<bool> {
        if let Some(err) = self.failed.take() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, err));
        }
        loop {
            if self.start == self.end && !self.eof {
                self.start = 0;
                self.end = loop {
                    match self.inner.read(&mut self.input) {
                        Ok(k) => break k,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                };
                self.eof = self.end == 0;
            }
            let src = self
                .input
                .get(self.start..self.end)
                .expect("start <= end <= input.len()");
            let room = self
                .decoder
                .max_utf8_buffer_length_without_replacement(src.len())
                .unwrap_or(src.len() * 3 + 16)
                .max(16);
            self.output.clear();
            self.output.resize(room, 0);
            self.at = 0;
            let (result, read, written) =
                self.decoder
                    .decode_to_utf8_without_replacement(src, &mut self.output, self.eof);
            self.start += read;
            self.output.truncate(written);
            self.line += memchr::memchr_iter(b'\n', &self.output).count() as u64;
            if let encoding_rs::DecoderResult::Malformed(..) = result {
                // The line of the bad bytes: lines finished before them, plus one.
                let err = DataError {
                    file: self.name.clone(),
                    line: self.line,
                    message: format!("is not valid {}", self.decoder.encoding().name()),
                };
                if written > 0 {
                    self.failed = Some(err);
                    return Ok(true);
                }
                return Err(io::Error::new(io::ErrorKind::InvalidData, err));
            }
            if written > 0 {
                return Ok(true);
            }
            if self.eof && self.start == self.end {
                return Ok(false);
            }
        }
    }
}

impl Read for Transcoder {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at == self.output.len() && !self.refill()? {
            return Ok(0);
        }
        let rest = self.output.get(self.at..).expect("at <= output.len()");
        let n = rest.len().min(buf.len());
        buf.get_mut(..n)
            .expect("n <= buf.len()")
            .copy_from_slice(rest.get(..n).expect("n <= rest.len()"));
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: Vec<u8>, enc: Option<&'static Encoding>) -> Result<String, String> {
        let mut r = decoded(Box::new(io::Cursor::new(bytes)), enc, "x.csv").map_err(|e| e.to_string())?;
        let mut s = String::new();
        r.read_to_string(&mut s).map_err(|e| e.to_string())?;
        Ok(s)
    }

    #[test]
    fn utf16_with_a_bom_reads_as_is() {
        let text = "customer,date,kind\nC1,2026-01-01,欠费\n";
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(read_all(le, None), Ok(text.to_string()));
        assert_eq!(read_all(be, Some(GB18030)), Ok(text.to_string()));
    }

    #[test]
    fn gbk_reads_with_its_encoding_and_is_recognised_without() {
        let (bytes, _, _) = GB18030.encode("customer,kind\nC1,欠费\n");
        assert_eq!(
            read_all(bytes.to_vec(), by_name("gbk")),
            Ok("customer,kind\nC1,欠费\n".into())
        );
        assert!(looks_like_gbk(&bytes));
        assert!(!looks_like_gbk("欠费".as_bytes()));
        // A byte GB18030 cannot start a character with: an error with its line.
        let e = read_all(b"a\nb\n\xFF\n".to_vec(), by_name("gbk")).unwrap_err();
        assert_eq!(e, "x.csv:3: is not valid gb18030");
    }
}
