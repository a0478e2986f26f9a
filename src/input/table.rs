//! A partition's customer table: open addressing with linear probing over
//! one vector of slots, sized for the customers expected rather than to the
//! next power of two (a table for 15,200 customers takes 20,300 slots, not
//! 32,768), so it holds them at a steady load of about three quarters. A
//! row's lookup reads its home slot and, at that load, the one or two after
//! it: adjacent memory, not a control array and then a slot elsewhere.
//! Customers are never removed.

/// A customer in its partition's table: the id's first 16 bytes and length
/// (which settle most comparisons without reading the arena), its number,
/// and what each of its rows needs — its class and its tally — so that a
/// row reads its slot and its state, nothing else.
#[derive(Clone, Copy, Debug)]
pub(super) struct Slot {
    /// The id's first 16 bytes (`prefix`), as four words: the slot then
    /// takes 28 bytes, not the 32 that 8-byte alignment would pad it to.
    pub head: [u32; 4],
    /// The id's length, saturated (a longer id is compared in the arena).
    pub len: u16,
    /// The roster class (the checker keeps classes below `NO_CLASS`).
    pub class: u16,
    /// The customer's number in its partition; `EMPTY` in an empty slot.
    pub i: u32,
    /// A folded load: where the state is in `Part::words`, as its length and
    /// then its words (`NO_STATE` until its first event: most of a roster's
    /// customers may have none, and a state is far larger than an event).
    /// A stored load: how many events it has.
    pub tally: u32,
}

/// `Slot::i` of an empty slot (customer numbers stay below it).
pub(super) const EMPTY: u32 = u32::MAX;

const VACANT: Slot = Slot {
    head: [0; 4],
    len: 0,
    class: 0,
    i: EMPTY,
    tally: 0,
};

impl Slot {
    pub fn head(h: [u64; 2]) -> [u32; 4] {
        let [a, b] = h;
        [(a >> 32) as u32, a as u32, (b >> 32) as u32, b as u32]
    }
}

#[derive(Debug)]
pub(super) struct Table {
    slots: Vec<Slot>,
    len: usize,
}

impl Default for Table {
    fn default() -> Table {
        Table::with_room(0)
    }
}

/// The most customers a table of `slots` slots holds before it grows: four
/// fifths (linear probing slows quickly past that).
fn limit(slots: usize) -> usize {
    slots / 5 * 4
}

impl Table {
    /// A table that holds `customers` customers at a load of three quarters
    /// before it needs to grow.
    pub fn with_room(customers: usize) -> Table {
        let n = customers.saturating_add(customers / 3).max(16);
        Table {
            slots: vec![VACANT; n],
            len: 0,
        }
    }

    /// The slot where a probe for `hash` starts: the low 32 bits (well mixed
    /// by the id hash) scaled to the table's size.
    #[inline(always)]
    fn home(&self, hash: u64) -> usize {
        (((hash & 0xffff_ffff) * self.slots.len() as u64) >> 32) as usize
    }

    /// Makes room for one more customer, doubling the table (and placing
    /// every customer again, by `rehash` of its slot) when it is full
    /// enough; true when it did (so that an empty slot found before is no
    /// longer where the customer goes).
    pub fn make_room(&mut self, rehash: impl Fn(&Slot) -> u64) -> bool {
        if self.len < limit(self.slots.len()) {
            return false;
        }
        let n = self
            .slots
            .len()
            .checked_mul(2)
            .expect("a partition's table fits in memory");
        assert!(n < 1 << 32, "a partition's table has fewer than 2^32 slots");
        let old = std::mem::replace(&mut self.slots, vec![VACANT; n]);
        for s in old.into_iter().filter(|s| s.i != EMPTY) {
            let at = match self.find(rehash(&s), |_| false) {
                Ok(at) | Err(at) => at,
            };
            *self.slots.get_mut(at).expect("a probe stays in the table") = s;
        }
        true
    }

    /// The slot `eq` accepts among those probed from `hash`'s home
    /// (`Ok`), or the empty slot that ends the probe (`Err`): where the
    /// customer goes, unless `make_room` then grows the table. Inline:
    /// every row's lookup; out of line (as unrelated code changed the
    /// compiler's choice), the log read took ≈ 3% more CPU.
    #[inline(always)]
    pub fn find(&self, hash: u64, eq: impl Fn(&Slot) -> bool) -> Result<usize, usize> {
        let n = self.slots.len();
        let mut at = self.home(hash);
        loop {
            let s = self.slots.get(at).expect("a probe stays in the table");
            if s.i == EMPTY {
                return Err(at);
            }
            if eq(s) {
                return Ok(at);
            }
            at += 1;
            if at == n {
                at = 0;
            }
        }
    }

    /// Asks the processor to bring `hash`'s home slot into cache, for a
    /// lookup a few rows later.
    pub fn prefetch(&self, hash: u64) {
        let home = self.home(hash);
        if let Some(s) = self.slots.get(home..home + 1) {
            prefetch(s);
        }
    }

    pub fn get_mut(&mut self, at: usize) -> &mut Slot {
        self.slots.get_mut(at).expect("a slot found by a probe")
    }

    /// Puts a new customer in the empty slot `find` ended at.
    pub fn put(&mut self, at: usize, slot: Slot) -> &mut Slot {
        assert!(slot.i != EMPTY, "a customer number is below EMPTY");
        self.len += 1;
        let s = self.get_mut(at);
        debug_assert!(s.i == EMPTY, "a new customer goes in an empty slot");
        *s = slot;
        s
    }

    /// Every customer's slot.
    pub fn iter(&self) -> impl Iterator<Item = &Slot> {
        self.slots.iter().filter(|s| s.i != EMPTY)
    }
}

/// Asks the processor to bring `data` (a slot, a row's values: less than a
/// cache line, which it may straddle) into all its caches, the first level
/// included: it is wanted 16 rows later (`AHEAD`), and 16 rows' lines fit
/// there many times over. Measured on the 1M-customer log against the
/// second level only (`_MM_HINT_T1`), 18 alternating runs each: −5% CPU,
/// −3% wall. A hint only: nothing is read, and no result can depend on it.
pub(super) fn prefetch<T>(data: &[T]) {
    let first = data.as_ptr().cast::<i8>();
    // Its last byte, on the next line when it straddles two (an empty `data` asks for its start).
    let last = first.wrapping_add(std::mem::size_of_val(data).saturating_sub(1));
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch instruction reads nothing a program sees and cannot
    // fault, whatever the address; these are the first and last bytes of `data`.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(first);
        _mm_prefetch::<_MM_HINT_T0>(last);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (first, last);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_slot_is_its_28_bytes_unpadded() {
        // Every customer has a slot, and a table keeps a quarter more: padding counts.
        assert_eq!(std::mem::size_of::<Slot>(), 28);
    }

    fn slot(i: u32) -> Slot {
        Slot {
            head: [i, 0, 0, 0],
            i,
            ..VACANT
        }
    }

    #[test]
    fn customers_are_found_after_the_table_grows_and_probes_wrap() {
        // Hashes that crowd the last slots make probes wrap to the start;
        // 1,000 customers in a table made for 4 make it double many times.
        let hash = |i: u32| {
            if i.is_multiple_of(2) {
                u64::from(u32::MAX)
            } else {
                u64::from(i) * 2_654_435_761
            }
        };
        let mut t = Table::with_room(4);
        for i in 0..1000u32 {
            t.make_room(|s| hash(s.i));
            let at = t.find(hash(i), |s| s.head[0] == i).expect_err("not in yet");
            t.put(at, slot(i));
        }
        for i in 0..1000u32 {
            let at = t.find(hash(i), |s| s.head[0] == i).expect("found");
            assert_eq!(t.get_mut(at).i, i);
        }
        assert!(t.find(hash(5000), |s| s.head[0] == 5000).is_err());
        assert_eq!(t.iter().count(), 1000);
        assert!(t.len <= limit(t.slots.len()));
    }

    #[test]
    fn a_table_sized_for_its_customers_does_not_grow() {
        let mut t = Table::with_room(15_200);
        let slots = t.slots.len();
        assert!(slots < 21_000, "{slots}");
        for i in 0..15_200u32 {
            let h = u64::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            t.make_room(|_| unreachable!("no growth"));
            let at = t.find(h, |_| false).expect_err("new");
            t.put(at, slot(i));
        }
        assert_eq!(t.slots.len(), slots);
    }
}
