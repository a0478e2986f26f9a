//! Input stage: a log file mapped into memory (`block::Mapped`) that cannot
//! be read — another program cut it short while it was scored, or the disk
//! failed to read part of it — becomes an error naming the file, not the
//! end of the process by a bus error.
//!
//! Reading a page of a mapped file past the file's end, or a page the disk
//! cannot read, raises SIGBUS in the thread that read it. A handler,
//! installed the first time a window is watched (`watch`), looks the address
//! up among the windows watched. In one of them, it puts a page of zeros in
//! place of the page that could not be read, marks the window's file as
//! failed, and returns: the read goes on, reading zeros, and the load of the
//! file then ends with an error naming it (`Blocks::faulted`) — nothing read
//! from the file is used, whatever the zeros decoded as. Any other SIGBUS
//! goes to the handler that was there before (the standard library's, then
//! the default: the process ends, as it did before this module); that
//! handler is put back for the rest of the run (as the standard library's
//! own puts the default back for a fault it does not take).
//!
//! A file cut within its last page faults no page (the rest of a page
//! past a file's end reads as zeros): `Blocks::faulted` also compares the
//! file's length with its length when it was opened.
//!
//! Only Unix raises SIGBUS; elsewhere nothing is watched (Windows does not
//! let a file that is mapped be cut short).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// A window of memory watched for pages that cannot be read; unwatched when
/// dropped (before the window is unmapped: see `block::Window`).
pub struct Watch {
    #[cfg(unix)]
    slot: &'static unix::Slot,
    /// The flag the handler sets, kept alive while the handler may set it.
    _failed: Arc<AtomicBool>,
}

/// Watches `len` bytes of memory from `start` (a window of a mapped file):
/// a page of them that cannot be read is read as zeros and sets `failed`.
/// None when the handler cannot be installed, or when 262,144 windows are
/// watched at once (2 TB of 8 MiB windows; a `--sorted` load of the most
/// logs it takes, 65,535, keeps one or two windows of each): a page that
/// cannot be read then ends the process with a bus error, as it did before.
pub fn watch(start: *const u8, len: usize, failed: &Arc<AtomicBool>) -> Option<Watch> {
    #[cfg(unix)]
    {
        let slot = unix::watch(start as usize, len, failed)?;
        Some(Watch {
            slot,
            _failed: failed.clone(),
        })
    }
    #[cfg(not(unix))]
    {
        let _ = (start, len, failed);
        None
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        #[cfg(unix)]
        self.slot.free();
    }
}

#[cfg(unix)]
mod unix {
    use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
    use std::sync::{Arc, OnceLock};

    /// Slots in a chunk, and chunks at most. A load keeps a few windows
    /// (its blocks in flight span one or two 8 MiB windows), a `--sorted`
    /// load one or two of every log (up to 65,535): when every slot of the
    /// chunks there are is taken, a chunk is added, kept for the rest of
    /// the run.
    pub const CHUNK: usize = 1024;
    const CHUNKS: usize = 256;

    type Chunk = [Slot; CHUNK];

    /// One window watched: `start..end` (0 when free), and its file's flag.
    /// A slot changes only under its sequence number (odd while it
    /// changes, `take` and `free`), which the handler reads before and
    /// after the fields: a slot that changed meanwhile is not the one it
    /// looks for (a window being watched is not read yet, one being freed
    /// is read no more), and its fields are never read half-changed.
    pub struct Slot {
        seq: AtomicUsize,
        start: AtomicUsize,
        end: AtomicUsize,
        failed: AtomicPtr<AtomicBool>,
    }

    impl Slot {
        const fn free_slot() -> Slot {
            Slot {
                seq: AtomicUsize::new(0),
                start: AtomicUsize::new(0),
                end: AtomicUsize::new(0),
                failed: AtomicPtr::new(std::ptr::null_mut()),
            }
        }

        /// Takes the slot if it is free: its sequence number (odd) then.
        fn take(&self) -> Option<usize> {
            let seq = self.seq.load(Ordering::SeqCst);
            if !seq.is_multiple_of(2) || self.start.load(Ordering::SeqCst) != 0 {
                return None;
            }
            // Unchanged since the slot was seen free: it is still free.
            self.seq
                .compare_exchange(seq, seq + 1, Ordering::SeqCst, Ordering::Relaxed)
                .ok()
                .map(|_| seq + 1)
        }

        /// The window `start..end` and its flag, if the slot watches one
        /// and did not change while it was read.
        fn read(&self) -> Option<(usize, usize, *mut AtomicBool)> {
            let seq = self.seq.load(Ordering::SeqCst);
            let read = (
                self.start.load(Ordering::SeqCst),
                self.end.load(Ordering::SeqCst),
                self.failed.load(Ordering::SeqCst),
            );
            let settled = seq.is_multiple_of(2) && self.seq.load(Ordering::SeqCst) == seq;
            (settled && read.0 != 0 && !read.2.is_null()).then_some(read)
        }

        pub fn free(&self) {
            self.seq.fetch_add(1, Ordering::SeqCst);
            self.end.store(0, Ordering::SeqCst);
            self.failed.store(std::ptr::null_mut(), Ordering::SeqCst);
            self.start.store(0, Ordering::SeqCst);
            self.seq.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// The first chunk of slots, and the ones added (`watch`): the first
    /// null ends them, and a chunk once added is never freed.
    static FIRST: Chunk = [const { Slot::free_slot() }; CHUNK];
    static MORE: [AtomicPtr<Chunk>; CHUNKS - 1] = [const { AtomicPtr::new(std::ptr::null_mut()) }; CHUNKS - 1];

    /// Every chunk of slots there is (only atomic loads: the handler reads them).
    fn chunks() -> impl Iterator<Item = &'static Chunk> {
        std::iter::once(&FIRST).chain(MORE.iter().map_while(|c| {
            let c = c.load(Ordering::SeqCst);
            // SAFETY: a chunk added is a leaked `Box`, never freed.
            (!c.is_null()).then(|| unsafe { &*c })
        }))
    }

    /// Whether our handler is installed (tried once).
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    /// The handler SIGBUS had before ours (never freed), and the page size:
    /// what the handler reads, set before it is installed.
    static PREVIOUS: AtomicPtr<libc::sigaction> = AtomicPtr::new(std::ptr::null_mut());
    static PAGE: AtomicUsize = AtomicUsize::new(0);

    pub fn watch(start: usize, len: usize, failed: &Arc<AtomicBool>) -> Option<&'static Slot> {
        if !*INSTALLED.get_or_init(install) || start == 0 || len == 0 {
            return None;
        }
        let (slot, seq) = loop {
            if let Some(taken) = chunks().flatten().find_map(|s| Some((s, s.take()?))) {
                break taken;
            }
            // Every slot is taken: one more chunk, after the last (unless
            // another thread added it first).
            let next = MORE.iter().find(|c| c.load(Ordering::SeqCst).is_null())?;
            let chunk = Box::into_raw(Box::new([const { Slot::free_slot() }; CHUNK]));
            if next
                .compare_exchange(std::ptr::null_mut(), chunk, Ordering::SeqCst, Ordering::SeqCst)
                .is_err()
            {
                // SAFETY: the chunk was never added: no one else holds it.
                drop(unsafe { Box::from_raw(chunk) });
            }
        };
        slot.start.store(start, Ordering::SeqCst);
        slot.end.store(start.saturating_add(len), Ordering::SeqCst);
        slot.failed.store(Arc::as_ptr(failed).cast_mut(), Ordering::SeqCst);
        slot.seq.store(seq + 1, Ordering::SeqCst);
        Some(slot)
    }

    fn install() -> bool {
        // SAFETY: `sysconf` and `sigaction` are called with valid arguments;
        // the previous action is read, and kept where the handler finds it,
        // before ours replaces it.
        unsafe {
            let Some(page) = usize::try_from(libc::sysconf(libc::_SC_PAGESIZE))
                .ok()
                .filter(|p| p.is_power_of_two())
            else {
                return false;
            };
            let mut previous: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut previous) != 0 {
                return false;
            }
            PREVIOUS.store(Box::into_raw(Box::new(previous)), Ordering::SeqCst);
            PAGE.store(page, Ordering::SeqCst);
            let mut ours: libc::sigaction = std::mem::zeroed();
            let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) = on_bus_error;
            ours.sa_sigaction = handler as libc::sighandler_t;
            ours.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut ours.sa_mask);
            libc::sigaction(libc::SIGBUS, &ours, std::ptr::null_mut()) == 0
        }
    }

    /// The SIGBUS handler: only atomics, `mmap` and `sigaction` (system calls).
    extern "C" fn on_bus_error(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
        // SAFETY: the kernel hands a valid `siginfo_t` to a handler installed with `SA_SIGINFO`.
        let addr = unsafe { (*info).si_addr() } as usize;
        let page = PAGE.load(Ordering::SeqCst);
        for s in chunks().flatten() {
            let Some((_, _, failed)) = s.read().filter(|&(start, end, _)| start <= addr && addr < end) else {
                continue;
            };
            // The page the address is in: a window starts within a page
            // its map holds whole (a map starts at a page's start).
            let at = addr & !(page - 1);
            // SAFETY: the page is within a window this process mapped
            // read-only and still holds: the thread that read it holds the
            // window (a window is unwatched before it is unmapped, once no
            // block of it is left). A private page of zeros takes its place.
            let zeros = unsafe {
                libc::mmap(
                    at as *mut libc::c_void,
                    page,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            if zeros == libc::MAP_FAILED {
                break;
            }
            // SAFETY: the flag is kept alive by the window's `Watch`.
            unsafe { (*failed).store(true, Ordering::SeqCst) };
            return;
        }
        // Not a window's page: the previous handler takes the signal when
        // the read is tried again.
        let previous = PREVIOUS.load(Ordering::SeqCst);
        // SAFETY: `previous` was written by `sigaction` itself (`install`),
        // before ours was installed, and is never freed.
        unsafe { libc::sigaction(libc::SIGBUS, previous, std::ptr::null_mut()) };
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::process::ExitStatusExt;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    /// The size of a page of memory.
    fn page() -> usize {
        // SAFETY: `sysconf` takes no pointer.
        usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).expect("a page size")
    }

    /// A file of `pages` pages of `x`, open to read and write, mapped whole.
    fn mapped_file(name: &str, pages: usize) -> (std::fs::File, memmap2::Mmap) {
        let path = std::env::temp_dir().join(format!("rulebook-fault-{name}-{}", std::process::id()));
        std::fs::write(&path, vec![b'x'; pages * page()]).expect("a temporary file is written");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .expect("the file just written opens");
        let _ = std::fs::remove_file(&path);
        // SAFETY: the file is this test's own; it is cut short on purpose.
        let map = unsafe { memmap2::Mmap::map(&file) }.expect("the file maps");
        (file, map)
    }

    /// With more windows watched at once than a chunk of slots holds (a
    /// `--sorted` load of a thousand logs), the next is watched all the same.
    #[test]
    fn windows_past_the_first_chunk_of_slots_are_watched() {
        let page = page();
        let others = Arc::new(AtomicBool::new(false));
        let held = vec![0u8; 3 * super::unix::CHUNK];
        let watches: Vec<_> = (0..held.len())
            .map(|i| super::watch(held[i..].as_ptr(), 1, &others).expect("another slot"))
            .collect();
        let (file, map) = mapped_file("past-a-chunk", 2);
        let failed = Arc::new(AtomicBool::new(false));
        let watch = super::watch(map.as_ptr(), map.len(), &failed).expect("a slot of a chunk added");
        file.set_len(10).expect("the file is cut short");
        assert_eq!(map.get(page + 1), Some(&0));
        assert!(failed.load(Ordering::SeqCst));
        assert!(!others.load(Ordering::SeqCst));
        drop(watch);
        drop(watches);
    }

    /// A watched window of a file cut short reads, past the new end, as
    /// zeros, and its flag is set; the pages before the end read as they were.
    #[test]
    fn a_page_of_a_watched_window_past_the_files_end_reads_as_zeros() {
        let page = page();
        let (file, map) = mapped_file("watched", 4);
        let failed = Arc::new(AtomicBool::new(false));
        let watch = super::watch(map.as_ptr(), map.len(), &failed).expect("the handler is installed");
        file.set_len(page as u64 + 10).expect("the file is cut short");
        assert_eq!(map.get(page + 9), Some(&b'x'));
        assert!(!failed.load(Ordering::SeqCst));
        assert!(map.get(3 * page..).expect("the last page").iter().all(|&b| b == 0));
        assert!(failed.load(Ordering::SeqCst));
        assert_eq!(map.get(2 * page + 5), Some(&0));
        drop(watch);
    }

    /// A bus error at an address no window holds still ends the process: the
    /// handler passes it on. (Tried in a child process: this test run again.)
    #[test]
    fn a_bus_error_outside_every_window_still_ends_the_process() {
        const CHILD: &str = "RULEBOOK_TEST_STRAY_BUS_ERROR";
        if std::env::var_os(CHILD).is_some() {
            // No core file where core files are written.
            let none = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: `setrlimit` reads the limit given.
            unsafe { libc::setrlimit(libc::RLIMIT_CORE, &none) };
            let (_, watched) = mapped_file("child-watched", 1);
            let failed = Arc::new(AtomicBool::new(false));
            let _watch = super::watch(watched.as_ptr(), watched.len(), &failed).expect("the handler is installed");
            let (file, stray) = mapped_file("child-stray", 3);
            file.set_len(0).expect("the file is cut short");
            let byte = std::hint::black_box(stray.get(2 * page()).copied());
            println!("read {byte:?}: the bus error was swallowed");
            std::process::exit(0);
        }
        let exe = std::env::current_exe().expect("the test binary");
        let out = std::process::Command::new(exe)
            .args([
                "--exact",
                "input::fault::tests::a_bus_error_outside_every_window_still_ends_the_process",
                "--nocapture",
            ])
            .env(CHILD, "1")
            .output()
            .expect("the test binary runs");
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGBUS),
            "{:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout)
        );
    }
}
