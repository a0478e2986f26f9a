//! Input stage: cutting a log into blocks of whole records, so that blocks
//! can be decoded in parallel. A CSV record may hold quoted newlines; the cut
//! tracks quotes so that it always falls between records.

use std::fs::File;
use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use super::{DataError, Format};

/// Chosen by measurement (1M-customer log, 2 cores): 1 MiB blocks read ~8%
/// faster and peak ~10% lower than 4 MiB ones; 256 KiB measured the same.
const BLOCK: usize = 1 << 20;

/// The bytes of a log file mapped into memory at a time, past its header
/// (`Blocks::map`): a window is let go of once its blocks are done with.
const WINDOW: u64 = 8 << 20;

/// Whole records, and the line number of the first.
pub struct Block {
    data: Data,
    pub first_line: u64,
    /// In the last block of a CSV file: where a quoted field that never
    /// closes starts (it runs to the end of the file).
    pub open_quote: Option<usize>,
    /// A CSV block with no quote and no CR: its records are its lines. Found
    /// by the search that looks for where it ends, so that decoding it does
    /// not search it again; false says nothing (the decoder looks).
    pub plain: bool,
}

/// Where a block's records are.
enum Data {
    /// Read into a buffer: its first `len` bytes; the rest is what a reused
    /// buffer held before (kept, so that it is not written with zeros again).
    Read { buf: Vec<u8>, len: usize },
    /// A range of a window of the file mapped into memory (`Mapped`): not
    /// copied at all.
    Mapped {
        window: Arc<Window>,
        range: std::ops::Range<usize>,
    },
}

/// Bytes of a log file mapped into memory, watched for pages that cannot be
/// read (`fault`): unwatched, then unmapped, with its last block.
struct Window {
    /// Dropped first (fields drop in order): the window is no longer
    /// watched once its memory may be another's.
    _watch: Option<super::fault::Watch>,
    map: memmap2::Mmap,
}

/// A log file whose records are read from memory the file is mapped into,
/// a window at a time, rather than copied into buffers by `read` (the copy
/// took ≈ 5% of the CPU time of a load of the 1M-customer benchmark log,
/// and the reader's lock was held for it). Only a file whose bytes are read
/// as they are (UTF-8, not transcoded; lines not ended by a lone CR, which
/// are rewritten) is mapped, only past what was read through the reader
/// (the byte-order mark, the header), only when more than a block is left,
/// and only when the file system allows it (one that refuses a map is
/// read). Its length is taken then: rows appended later are not read. A
/// page of it that cannot be read — the file cut short under a running
/// load, a disk's read error — is read as zeros and marks the file failed
/// (`fault`). A file cut short within its last page reads as zeros without
/// a fault; so its length is looked at too: shorter than when it was opened,
/// it was cut short (a file of another encoding, read rather than mapped, is
/// watched for this as well). Either way its load ends with an error naming
/// it (`Blocks::faulted`), not with the rows before the cut.
pub struct Mapped {
    file: Arc<File>,
    /// Whether its records may be read from memory it is mapped into (its
    /// bytes are read as they are); if not, it is only watched for a cut.
    may_map: bool,
    /// The file's length when it was opened.
    opened_len: u64,
    /// Its records are read by the reader, not from a map (decided at the
    /// first block: `Blocks::next_block`).
    read_in: bool,
    /// The bytes read so far, counted for a progress display; the reader
    /// counted those it read.
    progress: Option<Arc<AtomicU64>>,
    /// How many bytes a window maps (`WINDOW`; smaller in tests).
    window_size: u64,
    /// The file's length when its records were first mapped.
    len: u64,
    /// The window mapped last, and the offset in the file of its first byte.
    window: Option<(Arc<Window>, u64)>,
    /// Set when a page of a window could not be read (`fault`).
    failed: Arc<AtomicBool>,
    /// The offset of the next block's first byte; `None` until the first
    /// block (the bytes before it were read through the reader).
    pos: Option<u64>,
    /// How many bytes the progress display was told of.
    counted: u64,
    /// Tests: the length the file is cut to at its first block, once its
    /// first window is mapped, as another program might cut it
    /// (`cut_short_at_first_block`).
    #[cfg(test)]
    cut_short: Option<u64>,
}

impl Mapped {
    /// `file`, to be mapped once its header is read when `may_map` (its
    /// bytes are read as they are), else only watched for a cut; `progress`
    /// counts the bytes read.
    pub fn new(file: Arc<File>, progress: Option<Arc<AtomicU64>>, may_map: bool) -> Mapped {
        Mapped {
            may_map,
            ..Mapped::with_window(file, progress, WINDOW)
        }
    }

    fn with_window(file: Arc<File>, progress: Option<Arc<AtomicU64>>, window_size: u64) -> Mapped {
        Mapped {
            opened_len: file.metadata().map_or(0, |md| md.len()),
            file,
            may_map: true,
            read_in: false,
            progress,
            window_size: window_size.max(1),
            len: 0,
            window: None,
            failed: Arc::new(AtomicBool::new(false)),
            pos: None,
            counted: 0,
            #[cfg(test)]
            cut_short: None,
        }
    }

    /// Tests: `self`, its file cut to `len` bytes at its first block (once
    /// its first window is mapped, if it is mapped; the file must be open
    /// for writing).
    #[cfg(test)]
    pub(crate) fn cut_short_at_first_block(self, len: u64) -> Mapped {
        Mapped {
            cut_short: Some(len),
            ..self
        }
    }

    /// A window holding the file's bytes `from..to` and where they start in
    /// it: the last one mapped, or a new one from `from` on.
    fn view(&mut self, from: u64, to: u64) -> std::io::Result<(Arc<Window>, usize)> {
        if let Some((w, start)) = &self.window {
            if *start <= from && to <= start + w.map.len() as u64 {
                return Ok((w.clone(), (from - start) as usize));
            }
        }
        let len = (to - from).max(self.window_size).min(self.len - from);
        let len = usize::try_from(len).map_err(|_| std::io::Error::other("a window larger than memory"))?;
        let map = map(&self.file, from, len)?;
        let w = Arc::new(Window {
            _watch: super::fault::watch(map.as_ptr(), map.len(), &self.failed),
            map,
        });

        self.window = Some((w.clone(), from));
        Ok((w, 0))
    }
}

/// A file read by a reader while it is mapped (`Mapped`): one handle for both.
pub struct SharedFile(pub Arc<File>);

impl Read for SharedFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        (&*self.0).read(buf)
    }
}

/// `len` bytes of `file` from `offset` on, mapped into memory, read-only.
pub(super) fn map(file: &File, offset: u64, len: usize) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: the map is read-only and the file is not written by this
    // process. Another process may change it while it is mapped: its bytes
    // are then read as they are at that moment (as `read` would read them);
    // a page past the end of a file cut short is read as zeros and fails the
    // file's load (`fault`, `Blocks::faulted`).
    unsafe { memmap2::MmapOptions::new().offset(offset).len(len).map(file) }
}

pub struct Blocks {
    reader: Box<dyn Read + Send>,
    format: Format,
    name: String,
    /// The bytes read and not yet cut into a block are its first `filled`.
    carry: Vec<u8>,
    filled: usize,
    line: u64,
    eof: bool,
    /// Lines end with a lone CR (Excel for Mac's "CSV (Macintosh)"): each CR
    /// is read as a newline.
    cr_only: bool,
    block: usize,
    /// The CSV field separator: `,`, or a tab or `;` when the header says so.
    delimiter: u8,
    /// A failure to read met while filling the last block, given after it (`next_block`).
    failed: Option<DataError>,
    /// Buffers of blocks already decoded (`recycle`), each reused for the
    /// next block rather than a fresh allocation whose pages would be faulted
    /// in and zeroed again. Reads go into them as they are: a buffer is
    /// written with zeros only where it grows (safe Rust reads only into
    /// initialized bytes), not before every read.
    spare: Vec<Vec<u8>>,
    /// How many bytes the reader handed out (the offset in the file of the
    /// byte after them, when the file is read as it is).
    read_total: u64,
    /// The file, when the records past its header are read from memory it
    /// is mapped into (`map`).
    mapped: Option<Mapped>,
}

impl Block {
    /// The block's records.
    pub fn bytes(&self) -> &[u8] {
        match &self.data {
            Data::Read { buf, len } => buf.get(..*len).expect("a block's length is within its buffer"),
            Data::Mapped { window, range } => window
                .map
                .get(range.clone())
                .expect("a block's range is within its window"),
        }
    }
}

/// The most block buffers kept for reuse: a batch being decoded and the
/// next being read, on a big machine.
const SPARE: usize = 64;

/// The field separator a CSV file's first line uses: a comma if it has one,
/// else a tab (Excel's "Unicode text"), else a semicolon, else a comma.
pub fn sniff_delimiter(first_line: &[u8]) -> u8 {
    [b',', b'\t', b';']
        .into_iter()
        .find(|d| memchr::memchr(*d, first_line).is_some())
        .unwrap_or(b',')
}

impl Blocks {
    pub fn new(reader: Box<dyn Read + Send>, format: Format, name: &str) -> Result<Blocks, DataError> {
        Blocks::with_block_size(reader, format, name, BLOCK)
    }

    /// Like `new`, cutting blocks of about `block` bytes.
    pub fn with_block_size(
        reader: Box<dyn Read + Send>,
        format: Format,
        name: &str,
        block: usize,
    ) -> Result<Blocks, DataError> {
        let mut b = Blocks {
            reader,
            format,
            name: name.to_string(),
            carry: Vec::new(),
            filled: 0,
            line: 1,
            eof: false,
            cr_only: false,
            block: block.max(1),
            delimiter: b',',
            failed: None,
            spare: Vec::new(),
            read_total: 0,
            mapped: None,
        };
        b.fill(3)?;
        if b.data().starts_with(b"\xEF\xBB\xBF") {
            b.consume(3);
        }
        // The first line's end says how lines end.
        loop {
            let cr = memchr::memchr(b'\r', b.data());
            let nl = memchr::memchr(b'\n', b.data());
            match (cr, nl) {
                (Some(r), Some(n)) if r + 1 == n || n < r => break,
                (Some(r), _) if r + 1 < b.filled || b.eof => {
                    b.cr_only = true;
                    lone_cr_to_newline(b.data_from(0));
                    break;
                }
                (None, Some(_)) => break,
                _ if b.eof => break,
                _ => {
                    // One more read: a real reader brings a whole chunk, a test reader a byte.
                    let want = b.filled + 1;
                    b.fill(want)?;
                }
            }
        }
        let data = b.data();
        let first_line = memchr::memchr(b'\n', data).map_or(data, |n| {
            data.get(..n).expect("a newline's offset is within the buffer")
        });
        b.delimiter = sniff_delimiter(first_line);
        Ok(b)
    }

    /// The field separator of a CSV log.
    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// The error that ends the load of a mapped file a page of which could
    /// not be read (`fault`): it was cut short while it was read, or the disk
    /// failed to read it. Whatever was read of the file is not to be used
    /// (the page was read as zeros), nor any other error in it named.
    pub fn faulted(&self) -> Option<DataError> {
        let m = self.mapped.as_ref()?;
        let shorter = || m.file.metadata().is_ok_and(|md| md.len() < m.opened_len);
        (m.failed.load(Ordering::SeqCst) || shorter()).then(|| self.cut_short())
    }

    /// `faulted`'s error.
    fn cut_short(&self) -> DataError {
        DataError {
            file: self.name.clone(),
            line: 0,
            message: "could not be read to its end: another program cut it short while it was being read, \
                      or the disk failed to read part of it; score it again once no program is writing it"
                .into(),
        }
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

    /// The bytes read and not yet cut into a block.
    fn data(&self) -> &[u8] {
        self.carry
            .get(..self.filled)
            .expect("the filled bytes are within the buffer")
    }

    /// The bytes read from offset `from` on, to change in place.
    fn data_from(&mut self, from: usize) -> &mut [u8] {
        self.carry
            .get_mut(from..self.filled)
            .expect("the filled bytes are within the buffer")
    }

    /// Drops the first `n` bytes read.
    fn consume(&mut self, n: usize) {
        self.carry.copy_within(n..self.filled, 0);
        self.filled -= n;
    }

    /// Reads until at least `want` bytes are read or the input ends,
    /// straight into `carry` (no copy from a read buffer).
    fn fill(&mut self, want: usize) -> Result<(), DataError> {
        let size = BLOCK.min(want.max(64 << 10));
        while self.filled < want && !self.eof {
            let from = self.filled;
            if self.carry.len() < from + size {
                // Grown by doubling, not by exactly one read: a record longer
                // than many blocks is then not copied again on every read.
                self.carry.reserve(from + size - self.carry.len());
                self.carry.resize(from + size, 0);
            }
            let read = self.reader.read(
                self.carry
                    .get_mut(from..from + size)
                    .expect("the carry was just extended"),
            );
            match read {
                Ok(0) => self.eof = true,
                Ok(n) => {
                    assert!(n <= size, "a reader returns at most what it was given room for");
                    self.filled += n;
                    self.read_total += n as u64;
                    if self.cr_only {
                        lone_cr_to_newline(self.data_from(from));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_error(e)),
            }
        }
        Ok(())
    }

    /// Reads the records past those read so far from memory `file` is
    /// mapped into (`Mapped`): `file` is the file the reader reads, as it
    /// is. Not for a file whose lines end with a lone CR (rewritten as they
    /// are read), nor once the reader has read the whole file (a short file).
    pub fn map(&mut self, file: Mapped) {
        self.mapped = Some(file);
    }

    /// Keeps the buffers of blocks done with, for the blocks to come (a
    /// mapped block's window is let go of with its last block).
    pub fn recycle(&mut self, blocks: Vec<Block>) {
        for b in blocks {
            if let Data::Read { buf, .. } = b.data {
                if self.spare.len() < SPARE {
                    self.spare.push(buf);
                }
            }
        }
    }

    /// The CSV header record (line 1), without its line end.
    pub fn header(&mut self) -> Result<Vec<u8>, DataError> {
        loop {
            if let Some(end) = record_end(self.data(), Format::Csv, true, self.delimiter) {
                let mut head = self
                    .data()
                    .get(..end)
                    .expect("the header ends within the buffer")
                    .to_vec();
                self.consume(end + 1);
                self.line += 1;
                if head.last() == Some(&b'\r') {
                    head.pop();
                }
                return Ok(head);
            }
            if self.eof {
                if self.filled == 0 {
                    return Err(DataError {
                        file: self.name.clone(),
                        line: 0,
                        message: "is empty: expected a header row".into(),
                    });
                }
                self.line += 1;
                let head = self.data().to_vec();
                self.filled = 0;
                return Ok(head);
            }
            let want = self.filled + self.block;
            self.fill(want)?;
        }
    }

    /// Up to `n` blocks, each about `BLOCK` bytes (none at the end of input),
    /// and the failure to read that ended the batch early, if one did: the
    /// blocks before it come first in the file, so their bad rows are named
    /// before it.
    pub fn next_batch(&mut self, n: usize) -> (Vec<Block>, Option<DataError>) {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            match self.next_block() {
                Ok(Some(b)) => out.push(b),
                Ok(None) => break,
                Err(e) => return (out, Some(e)),
            }
        }
        (out, None)
    }

    /// The next block, about `BLOCK` bytes; none at the end of input. A
    /// failure to read (bytes not in the file's encoding, an I/O error)
    /// comes after a last block of the whole records read before it, so
    /// that a bad row there is named first: the first error in file order.
    pub fn next_block(&mut self) -> Result<Option<Block>, DataError> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        if let Some(mut m) = self.mapped.take() {
            if m.pos.is_none() && !m.read_in {
                // The file is mapped from the first byte the reader's bytes
                // not yet cut into a block came from, when more than a
                // block is left (a short file is read) and it can be
                // mapped (a file system may refuse to: it is then read).
                let from = self.read_total - self.filled as u64;
                let len = m.file.metadata().map_or(0, |md| md.len());
                m.read_in = !m.may_map || self.cr_only || self.eof || len.saturating_sub(from) <= self.block as u64;
                if !m.read_in {
                    m.len = len;
                    m.read_in = m.view(from, from + 1).is_err();
                }
                if !m.read_in {
                    (m.pos, m.counted) = (Some(from), self.read_total);
                    self.filled = 0;
                }
                #[cfg(test)]
                if let Some(len) = m.cut_short.take() {
                    m.file.set_len(len).expect("a test's file is cut short");
                }
            }
            if !m.read_in {
                let next = self.next_mapped(&mut m);
                self.mapped = Some(m);
                return next;
            }
            self.mapped = Some(m);
        }
        let mut want = self.block;
        loop {
            let failed = self.fill(want).err().map(|mut e| {
                // Bytes not in the encoding are on the line after those read
                // (counted here, as every block's lines are: a lone CR is a
                // line end in a file whose lines end so).
                if e.line > 0 {
                    e.line = self.line + memchr::memchr_iter(b'\n', self.data()).count() as u64;
                }
                e
            });
            let (cut, plain) = self.cut(self.data(), self.eof && failed.is_none());
            if let Some(e) = failed {
                match cut {
                    // The failure comes after the records before it, and ends the input.
                    Some(c) if c > 0 => self.failed = Some(e),
                    _ => return Err(e),
                }
            }
            match cut {
                Some(0) => return Ok(None),
                Some(cut) => {
                    // The records after the cut start the next block, in a
                    // spare buffer when there is one.
                    let mut next = self.spare.pop().unwrap_or_default();
                    let rest = self.data().get(cut..).expect("the cut is within the buffer");
                    if next.len() < rest.len() {
                        next.resize(rest.len(), 0);
                    }
                    next.get_mut(..rest.len())
                        .expect("the buffer was just made long enough")
                        .copy_from_slice(rest);
                    self.filled = rest.len();
                    let buf = std::mem::replace(&mut self.carry, next);
                    let last = self.eof && self.filled == 0;
                    return Ok(Some(self.block(Data::Read { buf, len: cut }, plain, last)));
                }
                None => want = self.filled + self.block,
            }
        }
    }
}

impl Blocks {
    /// `next_block` of a mapped file: the same cut (the last record end
    /// within about `BLOCK` bytes, quotes read as the CSV reader reads
    /// them), made in the file's memory rather than in a buffer read into.
    fn next_mapped(&mut self, m: &mut Mapped) -> Result<Option<Block>, DataError> {
        let pos = m.pos.expect("a mapped file's position is set before its first block");
        let rest = m.len - pos;
        if rest == 0 {
            return Ok(None);
        }
        let mut want = (self.block as u64).min(rest);
        loop {
            let (window, at) = m.view(pos, pos + want).map_err(|e| self.io_error(e))?;
            let data = window
                .map
                .get(at..at + want as usize)
                .expect("a view holds the bytes asked for");
            let last = want == rest;
            let (cut, plain) = self.cut(data, last);
            // A page that could not be read is zeros, with no record end in
            // them: not read on through the rest of the file as one record.
            if m.failed.load(Ordering::SeqCst) {
                return Err(self.cut_short());
            }
            let Some(cut) = cut else {
                // No record ends within it: a longer view.
                want = want.saturating_mul(2).min(rest);
                continue;
            };
            let end = pos + cut as u64;
            m.pos = Some(end);
            if let Some(p) = &m.progress {
                p.fetch_add(end.saturating_sub(m.counted), Ordering::Relaxed);
            }
            m.counted = m.counted.max(end);
            let data = Data::Mapped {
                window,
                range: at..at + cut,
            };
            return Ok(Some(self.block(data, plain, last)));
        }
    }

    /// Where a block of `data` (from a record's start) ends: after its last
    /// whole record, or at its end when it is all the input left (`whole`);
    /// none when no record ends in it. And whether it holds no quote and no
    /// CR (`Block::plain`): one search for both, and without either (most
    /// exports) a record ends at a newline and each line is a record.
    fn cut(&self, data: &[u8], whole: bool) -> (Option<usize>, bool) {
        let plain = self.format == Format::Csv && memchr::memchr2(b'"', b'\r', data).is_none();
        let cut = if whole {
            Some(data.len())
        } else if plain {
            memchr::memrchr(b'\n', data).map(|e| e + 1)
        } else {
            record_end(data, self.format, false, self.delimiter).map(|e| e + 1)
        };
        (cut, plain)
    }

    /// The block of records `data`, numbered from the next line (its lines
    /// counted for the block after it); in the `last` block of a CSV file,
    /// where a quoted field that never closes starts.
    fn block(&mut self, data: Data, plain: bool, last: bool) -> Block {
        let block = Block {
            data,
            first_line: self.line,
            open_quote: None,
            plain,
        };
        let bytes = block.bytes();
        self.line += memchr::memchr_iter(b'\n', bytes).count() as u64;
        let open_quote = match self.format {
            Format::Csv if last => unterminated_quote(bytes, self.delimiter),
            _ => None,
        };
        Block { open_quote, ..block }
    }
}

/// Reads each CR as a line end (`Blocks::cr_only`).
fn lone_cr_to_newline(bytes: &mut [u8]) {
    for c in bytes {
        if *c == b'\r' {
            *c = b'\n';
        }
    }
}

/// The offset of the newline that ends the first (`first`) or last record in
/// `buf`, which starts at a record's start. Quotes are read as the CSV
/// reader reads them: a quote opens a quoted field only at the start of a
/// field, `""` inside one is a quote, and any other quote is text. So the cut
/// never depends on where a block happens to end.
fn record_end(buf: &[u8], format: Format, first: bool, delimiter: u8) -> Option<usize> {
    let plain = format == Format::Jsonl || memchr::memchr(b'"', buf).is_none();
    if plain {
        return if first {
            memchr::memchr(b'\n', buf)
        } else {
            memchr::memrchr(b'\n', buf)
        };
    }
    let mut last = None;
    let mut at = 0;
    while let Some(i) = memchr::memchr2(b'"', b'\n', buf.get(at..)?).map(|i| at + i) {
        if buf.get(i) == Some(&b'\n') {
            if first {
                return Some(i);
            }
            last = Some(i);
            at = i + 1;
            continue;
        }
        // A quote: it opens a quoted field only where a field starts.
        let field_start = i == 0 || matches!(buf.get(i - 1), Some(&c) if c == delimiter || c == b'\n' || c == b'\r');
        if !field_start {
            at = i + 1;
            continue;
        }
        // Inside the quoted field: the next quote not followed by another ends it.
        let mut q = i + 1;
        loop {
            let Some(close) = memchr::memchr(b'"', buf.get(q..).unwrap_or(&[])).map(|c| q + c) else {
                // Open at the end of `buf`: no record ends after here.
                return last;
            };
            match buf.get(close + 1) {
                Some(b'"') => q = close + 2,
                // Whether this quote is escaped is not known yet.
                None => return last,
                Some(_) => {
                    at = close + 1;
                    break;
                }
            }
        }
    }
    last
}

/// Where an unterminated quoted field starts in `buf` (a whole file's
/// remainder, from a record's start): its offset, if any.
pub fn unterminated_quote(buf: &[u8], delimiter: u8) -> Option<usize> {
    let mut at = 0;
    while let Some(i) = memchr::memchr(b'"', buf.get(at..)?).map(|i| at + i) {
        let field_start = i == 0 || matches!(buf.get(i - 1), Some(&c) if c == delimiter || c == b'\n' || c == b'\r');
        if !field_start {
            at = i + 1;
            continue;
        }
        let mut q = i + 1;
        loop {
            let Some(close) = memchr::memchr(b'"', buf.get(q..).unwrap_or(&[])).map(|c| q + c) else {
                return Some(i);
            };
            if buf.get(close + 1) == Some(&b'"') {
                q = close + 2;
            } else {
                at = close + 1;
                break;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_between_records_not_inside_quotes() {
        let buf = b"a,\"x\ny\",1\nb,2\nc,\"p\nq";
        assert_eq!(record_end(buf, Format::Csv, true, b','), Some(9));
        assert_eq!(record_end(buf, Format::Csv, false, b','), Some(13));
        assert_eq!(record_end(b"abc", Format::Csv, false, b','), None);
    }

    /// Hands out one byte a read, so a block of size `k` is cut within its first `k` bytes.
    struct Trickle(Vec<u8>, usize);

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match (self.0.get(self.1), buf.first_mut()) {
                (Some(&b), Some(slot)) => {
                    *slot = b;
                    self.1 += 1;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    /// Hands out seven bytes a read.
    struct Sips(Vec<u8>, usize);

    impl Read for Sips {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let rest = self.0.get(self.1..).unwrap_or_default();
            let n = rest.len().min(buf.len()).min(7);
            buf.get_mut(..n)
                .expect("n is within the buffer")
                .copy_from_slice(rest.get(..n).expect("n is within the rest"));
            self.1 += n;
            Ok(n)
        }
    }

    type Records = Vec<(u64, Vec<Vec<u8>>)>;

    /// Every record of a block, with its line: its block's first, and one
    /// more for each newline before it.
    fn records_of(b: &Block) -> Records {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(b.bytes());
        let mut out = Vec::new();
        let mut rec = csv::ByteRecord::new();
        while rdr.read_byte_record(&mut rec).expect("bytes are always CSV") {
            let mut start = rec.position().map_or(0, |p| p.byte() as usize);
            // After a CRLF the reader may place a record on the `\n` that ends the one before.
            while matches!(b.bytes().get(start), Some(b'\r' | b'\n')) {
                start += 1;
            }
            let before = b.bytes().get(..start).expect("a record starts within its block");
            let line = b.first_line + memchr::memchr_iter(b'\n', before).count() as u64;
            out.push((line, rec.iter().map(<[u8]>::to_vec).collect()));
        }
        // Where an unterminated quote opens, as a record of its own.
        if let Some(q) = b.open_quote {
            let before = b.bytes().get(..q).expect("an open quote is within its block");
            let line = b.first_line + memchr::memchr_iter(b'\n', before).count() as u64;
            out.push((line, vec![b"(open quote)".to_vec()]));
        }
        out
    }

    /// Every record of every block left, with its line (each block's buffer
    /// or window given back once read).
    fn every_record(blocks: &mut Blocks) -> Records {
        let mut out = Vec::new();
        while let Some(b) = blocks.next_block().expect("reads from memory") {
            out.extend(records_of(&b));
            blocks.recycle(vec![b]);
        }
        out
    }

    /// The header, then every record of every block, with its line.
    fn read_in_blocks(text: &[u8], block: usize) -> (Vec<u8>, Records) {
        let reader = Box::new(Trickle(text.to_vec(), 0));
        let mut blocks = Blocks::with_block_size(reader, Format::Csv, "x.csv", block).expect("reads from memory");
        let header = blocks.header().unwrap_or_default();
        (header, every_record(&mut blocks))
    }

    /// `read_in_blocks` of `text` written to a file, its records past the
    /// header read from memory it is mapped into, windows of `window` bytes.
    fn read_in_blocks_mapped(text: &[u8], block: usize, window: u64) -> (Vec<u8>, Records) {
        static FILES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = FILES.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("rulebook-mapped-{}-{n}.csv", std::process::id()));
        std::fs::write(&path, text).expect("a temporary file is written");
        let file = Arc::new(File::open(&path).expect("the file just written opens"));
        let _ = std::fs::remove_file(&path);
        // The header is read seven bytes at a time: a few bytes past it are
        // read into the buffer, and the map takes over from the first of them.
        let reader = Box::new(Sips(text.to_vec(), 0));
        let mut blocks = Blocks::with_block_size(reader, Format::Csv, "x.csv", block).expect("reads from memory");
        let header = blocks.header().unwrap_or_default();
        blocks.map(Mapped::with_window(file, None, window));
        (header, every_record(&mut blocks))
    }

    /// Every cut (a block of 1, 2, … bytes) parses to the records of a
    /// one-block read, read into buffers or from a mapped file (windows of
    /// 1, 3, 64 bytes and more than the file), with the same line numbers.
    fn same_at_every_boundary(text: &[u8]) {
        let (head, whole) = read_in_blocks(text, usize::MAX / 2);
        let records = |rs: Records| rs.into_iter().map(|(_, r)| r).collect::<Vec<_>>();
        let whole = records(whole);
        for k in 1..=text.len() {
            let (h, split) = read_in_blocks(text, k);
            assert_eq!(h, head, "header with blocks of {k}");
            for window in [1, 3, 64, 1 << 20] {
                let (h, mapped) = read_in_blocks_mapped(text, k, window);
                assert_eq!(h, head, "header with blocks of {k} (mapped)");
                assert_eq!(mapped, split, "blocks of {k} bytes, windows of {window}, in {text:?}");
            }
            assert_eq!(
                records(split),
                whole,
                "blocks of {k} bytes in {:?}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn item_03_parse_never_depends_on_block_boundaries() {
        // A stray quote inside an unquoted field, then a quoted cell over two lines.
        same_at_every_boundary(b"customer,date,kind,note\nC1,2026-01-01,theft,5\" wide\nC2,2026-01-02,theft,\"two\nlines\"\nC3,2026-01-03,theft,x\n");
        same_at_every_boundary(b"a,b\n\"x\"\"\ny\",1\r\nq\"\"r,\"\"\n\"\",\"\"\"\n\"\n");
        same_at_every_boundary(b"a,b\rc,\"d\re\"\rf,g\r");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        #[test]
        fn item_03_property_any_cut_reads_like_one_block(
            cells in proptest::collection::vec(proptest::sample::select(vec!["a", ",", "\"", "\n", "\r\n", "bc", "\"\""]), 0..40)
        ) {
            let text = format!("h,i\n{}", cells.concat());
            same_at_every_boundary(text.as_bytes());
        }
    }

    #[test]
    fn item_02_cr_only_line_ends_are_lines() {
        let (head, records) = read_in_blocks(b"customer,date\rc1,2026-01-01\rc2,\"x\ry\"\r", 4);
        assert_eq!(head, b"customer,date");
        let firsts: Vec<u64> = records.iter().map(|(l, _)| *l).collect();
        assert_eq!(records.len(), 2);
        assert!(firsts.iter().all(|&l| l >= 2), "{firsts:?}");
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
            next_line += memchr::memchr_iter(b'\n', b.bytes()).count() as u64;
            total += b.bytes().len();
        }
        assert_eq!(total, text.len() - "customer,date\n".len());
    }

    #[test]
    fn recycled_buffers_carry_nothing_of_their_last_block() {
        // Lines of every length, so that each block's tail differs from the
        // one its reused buffer held before.
        let body: String = (0..3_000).map(|i| format!("c{i},{}\n", "x".repeat(i % 97))).collect();
        let text = format!("customer,note\n{body}");
        for (size, batch) in [(1, 1), (100, 3), (4_000, 2), (70_000, 4)] {
            let reader = Box::new(std::io::Cursor::new(text.clone().into_bytes()));
            let mut blocks = Blocks::with_block_size(reader, Format::Csv, "x.csv", size).expect("reads from memory");
            assert_eq!(blocks.header().unwrap_or_default(), b"customer,note");
            let mut read = Vec::new();
            loop {
                let (got, failed) = blocks.next_batch(batch);
                assert!(failed.is_none(), "reads from memory");
                if got.is_empty() {
                    break;
                }
                for b in &got {
                    assert!(b.bytes().ends_with(b"\n"), "a block of whole lines");
                    read.extend_from_slice(b.bytes());
                }
                blocks.recycle(got);
            }
            assert!(read == body.as_bytes(), "blocks of {size}, {batch} at a time");
        }
    }

    /// A mapped file cut short in the middle of a window: the block reader
    /// stops at the first block the cut reaches (its pages read as zeros,
    /// with no record end in them) with the error that names the file, and
    /// does not read the rest of the file as one record of zeros.
    #[cfg(unix)]
    #[test]
    fn a_mapped_file_cut_short_stops_at_the_cut() {
        let body: String = (0..40_000).map(|i| format!("c{i:06},2026-01-01\n")).collect();
        let text = format!("customer,date\n{body}");
        let path = std::env::temp_dir().join(format!("rulebook-mapped-cut-{}.csv", std::process::id()));
        std::fs::write(&path, &text).expect("a temporary file is written");
        let file = std::fs::OpenOptions::new().read(true).write(true).open(&path);
        let _ = std::fs::remove_file(&path);
        let file = Arc::new(file.expect("the file just written opens"));
        let reader = Box::new(SharedFile(file.clone()));
        let mut blocks = Blocks::with_block_size(reader, Format::Csv, "x.csv", 4 << 10).expect("reads the header");
        assert_eq!(blocks.header().unwrap_or_default(), b"customer,date");
        let cut = text.len() as u64 / 2;
        blocks.map(Mapped::with_window(file, None, 1 << 20).cut_short_at_first_block(cut));
        let (mut read, mut failed) = (0, None);
        loop {
            match blocks.next_block() {
                Ok(Some(b)) => {
                    assert!(b.bytes().len() <= 8 << 10, "a block of {} bytes", b.bytes().len());
                    read += b.bytes().len();
                }
                Ok(None) => break,
                Err(e) => {
                    failed = Some(e.to_string());
                    break;
                }
            }
        }
        assert!(read < text.len() / 2 + (8 << 10), "{read} bytes read");
        let failed = failed.expect("the cut is an error");
        assert!(failed.starts_with("x.csv: could not be read to its end"), "{failed}");
        assert!(blocks.faulted().is_some());
    }
}
