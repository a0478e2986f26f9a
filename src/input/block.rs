//! Input stage: cutting a log into blocks of whole records, so that blocks
//! can be decoded in parallel. A CSV record may hold quoted newlines; the cut
//! tracks quotes so that it always falls between records.

use std::io::Read;

use super::{DataError, Format};

const BLOCK: usize = 4 << 20;

/// Whole records, and the line number of the first.
pub struct Block {
    pub bytes: Vec<u8>,
    pub first_line: u64,
}

pub struct Blocks {
    reader: Box<dyn Read + Send>,
    format: Format,
    name: String,
    carry: Vec<u8>,
    line: u64,
    eof: bool,
}

impl Blocks {
    pub fn new(reader: Box<dyn Read + Send>, format: Format, name: &str) -> Result<Blocks, DataError> {
        let mut b = Blocks {
            reader,
            format,
            name: name.to_string(),
            carry: Vec::new(),
            line: 1,
            eof: false,
        };
        b.fill(3)?;
        if b.carry.starts_with(b"\xEF\xBB\xBF") {
            b.carry.drain(..3);
        }
        Ok(b)
    }

    fn io_error(&self, e: std::io::Error) -> DataError {
        // A decoding error already says where.
        if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<DataError>()) {
            return inner.clone();
        }
        DataError {
            file: self.name.clone(),
            line: 0,
            message: format!("cannot read: {e}"),
        }
    }

    /// Reads until `carry` holds at least `want` bytes or the input ends.
    fn fill(&mut self, want: usize) -> Result<(), DataError> {
        let mut chunk = vec![0u8; BLOCK.min(want.max(64 << 10))];
        while self.carry.len() < want && !self.eof {
            match self.reader.read(&mut chunk) {
                Ok(0) => self.eof = true,
                Ok(n) => self.carry.extend_from_slice(chunk.get(..n).unwrap_or(&[])),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_error(e)),
            }
        }
        Ok(())
    }

    /// The CSV header record (line 1), without its line end.
    pub fn header(&mut self) -> Result<Vec<u8>, DataError> {
        loop {
            if let Some(end) = record_end(&self.carry, Format::Csv, true) {
                let rest = self.carry.split_off(end + 1);
                let mut head = std::mem::replace(&mut self.carry, rest);
                self.line += 1;
                head.truncate(end);
                if head.last() == Some(&b'\r') {
                    head.pop();
                }
                return Ok(head);
            }
            if self.eof {
                if self.carry.is_empty() {
                    return Err(DataError {
                        file: self.name.clone(),
                        line: 0,
                        message: "is empty: expected a header row".into(),
                    });
                }
                self.line += 1;
                return Ok(std::mem::take(&mut self.carry));
            }
            let want = self.carry.len() + BLOCK;
            self.fill(want)?;
        }
    }

    /// Up to `n` blocks, each about `BLOCK` bytes; empty at the end of input.
    pub fn next_batch(&mut self, n: usize) -> Result<Vec<Block>, DataError> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            match self.next_block()? {
                Some(b) => out.push(b),
                None => break,
            }
        }
        Ok(out)
    }

    fn next_block(&mut self) -> Result<Option<Block>, DataError> {
        let mut want = BLOCK;
        loop {
            self.fill(want)?;
            let cut = if self.eof {
                Some(self.carry.len())
            } else {
                record_end(&self.carry, self.format, false).map(|e| e + 1)
            };
            match cut {
                Some(0) => return Ok(None),
                Some(cut) => {
                    let rest = self.carry.split_off(cut);
                    let bytes = std::mem::replace(&mut self.carry, rest);
                    let first_line = self.line;
                    self.line += memchr::memchr_iter(b'\n', &bytes).count() as u64;
                    return Ok(Some(Block { bytes, first_line }));
                }
                None => want = self.carry.len() + BLOCK,
            }
        }
    }
}

/// The offset of the newline that ends the first (`first`) or last record in
/// `buf`, outside CSV quotes.
fn record_end(buf: &[u8], format: Format, first: bool) -> Option<usize> {
    if format == Format::Jsonl {
        return if first {
            memchr::memchr(b'\n', buf)
        } else {
            memchr::memrchr(b'\n', buf)
        };
    }
    if memchr::memchr(b'"', buf).is_none() {
        return if first {
            memchr::memchr(b'\n', buf)
        } else {
            memchr::memrchr(b'\n', buf)
        };
    }
    let mut in_quotes = false;
    let mut last = None;
    for i in memchr::memchr2_iter(b'"', b'\n', buf) {
        if buf.get(i) == Some(&b'"') {
            in_quotes = !in_quotes;
        } else if !in_quotes {
            if first {
                return Some(i);
            }
            last = Some(i);
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_between_records_not_inside_quotes() {
        let buf = b"a,\"x\ny\",1\nb,2\nc,\"p\nq";
        assert_eq!(record_end(buf, Format::Csv, true), Some(9));
        assert_eq!(record_end(buf, Format::Csv, false), Some(13));
        assert_eq!(record_end(b"abc", Format::Csv, false), None);
    }

    #[test]
    fn blocks_cover_every_byte_and_count_lines() {
        let text = "customer,date\n".to_string() + &"c1,2026-01-01\n".repeat(700_000);
        let mut blocks = Blocks::new(
            Box::new(std::io::Cursor::new(text.clone().into_bytes())),
            Format::Csv,
            "x.csv",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(blocks.header().unwrap_or_default(), b"customer,date");
        let mut total = 0;
        let mut next_line = 2;
        while let Ok(Some(b)) = blocks.next_block() {
            assert_eq!(b.first_line, next_line);
            next_line += memchr::memchr_iter(b'\n', &b.bytes).count() as u64;
            total += b.bytes.len();
        }
        assert_eq!(total, text.len() - "customer,date\n".len());
    }
}
