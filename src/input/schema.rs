//! Input stage: the event schema a rulebook declares — kinds, typed
//! attributes, their constraints — and the decoding of one cell into the
//! compact `i64` value the evaluator reads.
//!
//! Every attribute value is one `i64`: int and decimal as `Num::raw` (so they
//! compare with each other), bool as 0/1, date as days, text as an id in the
//! schema's `Texts` table.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use rustc_hash::FxHashMap;

use crate::date::Date;
use crate::num::{Num, NumError};
use crate::syntax::ast::{Expr, ExprKind, Literal, Rulebook, Type};

/// Text values as ids, one per text, shared by the decoder and the compiled
/// rulebook; reading a text or a rulebook's id takes no lock.
///
/// The texts a rulebook writes — every text literal of its conditions and
/// every value of a `text in {…}` constraint or default — are interned when
/// the schema is built and never change: they are ids `0..known`, and a cell
/// holding one of them gets that id from a read-only map. Any other text a
/// log holds (a free `dimension`, a name) is given the next id the first
/// time any reader meets it (`added`, the only lock, taken once per such
/// text per reader: each reader remembers its own in a `TextMemo`), and is
/// appended to `others`, which every core reads without a lock.
pub struct Texts {
    known: Vec<Box<str>>,
    ids: Lookup,
    added: Mutex<FxHashMap<Box<str>, u32>>,
    others: Appended,
}

impl std::fmt::Debug for Texts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Texts")
            .field("known", &self.known)
            .field("others", &self.others.len.load(Ordering::Relaxed))
            .finish()
    }
}

impl Texts {
    /// The table of a rulebook's texts, in the order given (repeats ignored).
    fn of<'a>(texts: impl IntoIterator<Item = &'a str>) -> Texts {
        let mut known: Vec<Box<str>> = Vec::new();
        let mut ids = Lookup::default();
        for s in texts {
            if known.len() < Appended::ROOM && ids.insert(s, known.len() as u32) {
                known.push(Box::from(s));
            }
        }
        Texts {
            known,
            ids,
            added: Mutex::default(),
            others: Appended::default(),
        }
    }

    /// The id of a text the rulebook writes.
    pub fn known(&self, s: &str) -> Option<u32> {
        self.ids.get(s)
    }

    /// The text of an id (`""` for an id no text has).
    pub fn get(&self, id: u32) -> &str {
        match id.checked_sub(self.known.len() as u32) {
            None => self.known.get(id as usize).map_or("", |s| s),
            Some(other) => self.others.get(other),
        }
    }

    /// The id of a text read from a log: the rulebook's id for it, else the
    /// one `memo`'s reader already found, else the one any reader gave it
    /// (under the lock), else a new one.
    pub fn id(&self, s: &str, memo: &mut TextMemo) -> Result<u32, CellError> {
        if let Some(id) = self.known(s) {
            return Ok(id);
        }
        if let Some(&id) = memo.ids.get(s) {
            return Ok(id);
        }
        let id = {
            let mut added = self.added.lock().unwrap_or_else(PoisonError::into_inner);
            match added.get(s) {
                Some(&id) => id,
                None => {
                    let other = self.others.push(s, Appended::ROOM - self.known.len())?;
                    let id = self.known.len() as u32 + other;
                    added.insert(Box::from(s), id);
                    id
                }
            }
        };
        memo.ids.insert(Box::from(s), id);
        Ok(id)
    }
}

/// The ids one reader (a block's decoder) has found for texts its rulebook
/// does not write, so that it asks `Texts` once for each.
#[derive(Debug, Default)]
pub struct TextMemo {
    ids: FxHashMap<Box<str>, u32>,
}

/// An append-only list that every core reads, and may push to, at once
/// without a lock: a push claims an index with one atomic add, and the text
/// goes into a slot of the bucket that index falls in. Bucket `b` holds `FIRST << b` slots and
/// is allocated by the first push into it, so the buckets cover every `u32`
/// and waste at most half of what they hold.
#[derive(Default)]
struct Appended {
    len: AtomicU32,
    buckets: [OnceLock<Bucket>; BUCKETS],
}

type Bucket = Box<[OnceLock<Box<str>>]>;

const FIRST_BITS: u32 = 6;
const BUCKETS: usize = 33 - FIRST_BITS as usize;

impl Appended {
    /// Ids run to `u32::MAX - 1`.
    const ROOM: usize = u32::MAX as usize;

    /// Bucket and slot of index `i`.
    fn place(i: u32) -> (usize, usize) {
        let j = u64::from(i) + (1 << FIRST_BITS);
        let top = j.ilog2();
        ((top - FIRST_BITS) as usize, (j - (1 << top)) as usize)
    }

    /// Appends `s` if fewer than `room` texts are held; returns its index.
    fn push(&self, s: &str, room: usize) -> Result<u32, CellError> {
        let i = self.len.fetch_add(1, Ordering::Relaxed);
        if i as usize >= room {
            // Undo, so that the count cannot wrap however many cells try.
            self.len.fetch_sub(1, Ordering::Relaxed);
            return Err(CellError::TooManyTexts);
        }
        let (b, slot) = Self::place(i);
        let bucket = self
            .buckets
            .get(b)
            .expect("the buckets cover every u32")
            .get_or_init(|| {
                (0..(1usize << (FIRST_BITS as usize + b)))
                    .map(|_| OnceLock::new())
                    .collect()
            });
        let set = bucket.get(slot).expect("a bucket holds its slots").set(Box::from(s));
        debug_assert!(set.is_ok(), "each index is claimed once");
        Ok(i)
    }

    fn get(&self, i: u32) -> &str {
        let (b, slot) = Self::place(i);
        self.buckets
            .get(b)
            .and_then(OnceLock::get)
            .and_then(|bucket| bucket.get(slot))
            .and_then(OnceLock::get)
            .map_or("", |s| s)
    }
}

/// Every text a rulebook writes: allowed values, defaults, and the literals
/// of every condition (walked without recursion, as conditions may be deep).
fn book_texts(book: &Rulebook) -> impl Iterator<Item = &str> {
    let attrs = book.events.iter().flat_map(|ev| &ev.attrs).flat_map(|a| {
        let allowed = a.allowed.iter().flatten().map(|l| &l.node);
        allowed.chain(a.default.as_ref().map(|d| &d.node))
    });
    let filters = book
        .rule_lists()
        .flatten()
        .filter_map(|r| r.kind.select().filter.as_ref());
    let assessed = book
        .classes
        .iter()
        .flat_map(|c| &c.dimensions)
        .filter_map(|d| match &d.source {
            crate::syntax::ast::Source::Assessed(a) => a.filter.as_ref(),
            _ => None,
        });
    let overrides = book
        .overrides
        .iter()
        .chain(book.classes.iter().flat_map(|c| &c.overrides))
        .map(|o| &o.when);
    let mut lits: Vec<&Literal> = attrs.collect();
    let mut stack: Vec<&Expr> = filters.chain(assessed).chain(overrides).collect();
    while let Some(e) = stack.pop() {
        match &e.kind {
            ExprKind::Lit(l) => lits.push(l),
            ExprKind::Var(_) => {}
            ExprKind::Not(x) => stack.push(x),
            ExprKind::In(x, set) => {
                stack.push(x);
                lits.extend(set.iter().map(|l| &l.node));
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) | ExprKind::Cmp(_, a, b) => {
                stack.push(b);
                stack.push(a);
            }
        }
    }
    lits.into_iter().filter_map(|l| match l {
        Literal::Text(s) => Some(s.as_str()),
        _ => None,
    })
}

/// Names (the kinds a rulebook declares, the texts it writes) to their ids,
/// looked up for every cell of a log. A name is filed under a key made of
/// its length and its first and last bytes: a name alone on its key is
/// found by one comparison, without hashing, and a cell no name shares a key
/// with is refused at once; only names that share a key are hashed.
#[derive(Debug)]
struct Lookup {
    /// By key: the `entries` index of the one name with that key, or
    /// `NOBODY`, or `SHARED`.
    cells: Vec<u32>,
    entries: Vec<(Box<str>, u32)>,
    /// Every name, for keys two names share.
    map: FxHashMap<Box<str>, u32>,
}

/// How many keys a `Lookup` has (a power of two).
const KEYS: usize = 1 << 10;
/// A `Lookup` cell no name has.
const NOBODY: u32 = u32::MAX;
/// A `Lookup` cell two names or more have.
const SHARED: u32 = u32::MAX - 1;

impl Default for Lookup {
    fn default() -> Lookup {
        Lookup {
            cells: vec![NOBODY; KEYS],
            entries: Vec::new(),
            map: FxHashMap::default(),
        }
    }
}

impl Lookup {
    fn key(name: &[u8]) -> usize {
        let (first, last) = match (name.first(), name.last()) {
            (Some(&a), Some(&z)) => (usize::from(a), usize::from(z)),
            _ => (0, 0),
        };
        (name.len().wrapping_mul(0x9e) ^ first.wrapping_mul(0x3b) ^ last) % KEYS
    }

    /// Adds `name` with `id`; false (and nothing changed) when it is there.
    fn insert(&mut self, name: &str, id: u32) -> bool {
        if self.map.contains_key(name) {
            return false;
        }
        self.map.insert(Box::from(name), id);
        let cell = self
            .cells
            .get_mut(Lookup::key(name.as_bytes()))
            .expect("a key is below KEYS");
        *cell = match u32::try_from(self.entries.len()) {
            Ok(e) if *cell == NOBODY && e < SHARED => e,
            _ => SHARED,
        };
        self.entries.push((Box::from(name), id));
        true
    }

    #[inline(always)]
    fn get(&self, name: &str) -> Option<u32> {
        match *self
            .cells
            .get(Lookup::key(name.as_bytes()))
            .expect("a key is below KEYS")
        {
            NOBODY => None,
            SHARED => self.shared(name),
            e => {
                let (known, id) = self.entries.get(e as usize).expect("a cell holds an entry");
                same(known.as_bytes(), name.as_bytes()).then_some(*id)
            }
        }
    }

    /// `get` of a name on a key two names share: hashed, out of line, so
    /// that the usual lookup keeps no registers for it.
    #[inline(never)]
    fn shared(&self, name: &str) -> Option<u32> {
        self.map.get(name).copied()
    }
}

/// `a == b`, for the short names of a log (kinds, texts) without a call to
/// `memcmp`: a name of 4 to 16 bytes is two overlapping words at each end.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    /// The first and the last `N` bytes of a name of `N` bytes or more.
    fn ends<const N: usize>(s: &[u8]) -> ([u8; N], [u8; N]) {
        let word = |w: Option<&[u8]>| w.and_then(|w| w.try_into().ok()).expect("a name of N bytes or more");
        (
            word(s.get(..N)),
            word(s.len().checked_sub(N).and_then(|tail| s.get(tail..))),
        )
    }
    if a.len() != b.len() {
        return false;
    }
    match a.len() {
        8..=16 => ends::<8>(a) == ends::<8>(b),
        4..=7 => ends::<4>(a) == ends::<4>(b),
        _ => a == b,
    }
}

/// The declared event kinds, in declaration order.
#[derive(Debug)]
pub struct Schema {
    pub kinds: Vec<KindSchema>,
    by_name: Lookup,
    pub texts: Arc<Texts>,
}

#[derive(Debug, Clone)]
pub struct KindSchema {
    pub name: String,
    /// The kind's label as the rulebook writes it (`窃电`): a log that names
    /// the kind by its label is refused with the name to write instead.
    pub label: Option<String>,
    pub attrs: Vec<AttrSchema>,
}

#[derive(Debug, Clone)]
pub struct AttrSchema {
    pub name: String,
    pub ty: Type,
    pub min: Option<Num>,
    /// The largest value (`in 1..10`).
    pub max: Option<Num>,
    /// Allowed text values, as interned ids and as written.
    pub allowed: Option<Vec<(u32, String)>>,
    /// The encoded default; `None` makes the attribute required, unless it
    /// is `optional`.
    pub default: Option<i64>,
    /// `optional`: an empty cell is stored as `ABSENT`.
    pub optional: bool,
}

/// The value of an `optional` attribute left empty. No valid value is this:
/// `Num::parse` negates a non-negative `i64` (so never reaches `i64::MIN`),
/// and dates, bools and text ids are small.
pub const ABSENT: i64 = i64::MIN;

impl Schema {
    /// The schema a checked rulebook declares.
    pub fn of(book: &Rulebook) -> Schema {
        let texts = Arc::new(Texts::of(book_texts(book)));
        let mut kinds = Vec::new();
        let mut by_name = Lookup::default();
        for ev in &book.events {
            if kinds.len() >= usize::from(u16::MAX) || !by_name.insert(&ev.name.node, kinds.len() as u32) {
                continue;
            }
            let attrs = ev.attrs.iter().map(|a| attr_schema(a, &texts)).collect();
            kinds.push(KindSchema {
                name: ev.name.node.clone(),
                label: ev.label.as_ref().map(|l| l.node.clone()),
                attrs,
            });
        }
        Schema { kinds, by_name, texts }
    }

    /// One schema for several rulebooks read over the same log (`diff`): every
    /// kind any of them declares, with the union of their attributes, so that
    /// a row valid for either rulebook is read once for both. Where both declare
    /// an attribute, the looser constraint wins — the union of allowed values,
    /// the lower minimum (none if either has none), the default if either has
    /// one — since a rulebook never sees values its own rules do not ask for.
    /// An attribute only one rulebook declares keeps its own terms. Types must
    /// agree, and so must two defaults: one value is stored for both.
    pub fn merged(books: &[&Rulebook]) -> Result<Schema, MergeConflict> {
        let texts = Arc::new(Texts::of(books.iter().flat_map(|b| book_texts(b))));
        let mut kinds: Vec<KindSchema> = Vec::new();
        // Which book first declared each attribute of each kind (for conflicts).
        let mut origin: Vec<Vec<usize>> = Vec::new();
        let mut by_name = Lookup::default();
        for (b, book) in books.iter().enumerate() {
            let mut seen: Vec<&str> = Vec::new();
            for ev in &book.events {
                if seen.contains(&ev.name.node.as_str()) {
                    continue;
                }
                seen.push(&ev.name.node);
                let k = match by_name.get(&ev.name.node) {
                    Some(k) => k as usize,
                    None if kinds.len() < usize::from(u16::MAX) => {
                        by_name.insert(&ev.name.node, kinds.len() as u32);
                        kinds.push(KindSchema {
                            name: ev.name.node.clone(),
                            label: ev.label.as_ref().map(|l| l.node.clone()),
                            attrs: vec![],
                        });
                        origin.push(vec![]);
                        kinds.len() - 1
                    }
                    None => continue,
                };
                let (Some(kind), Some(from)) = (kinds.get_mut(k), origin.get_mut(k)) else {
                    continue;
                };
                for a in &ev.attrs {
                    let new = attr_schema(a, &texts);
                    let Some(i) = kind.attrs.iter().position(|x| x.name == new.name) else {
                        kind.attrs.push(new);
                        from.push(b);
                        continue;
                    };
                    let (Some(old), first) = (kind.attrs.get_mut(i), from.get(i).copied().unwrap_or(0)) else {
                        continue;
                    };
                    let conflict = |what: String| MergeConflict {
                        kind: kind.name.clone(),
                        attr: old.name.clone(),
                        books: [first, b],
                        what,
                    };
                    if old.ty != new.ty {
                        return Err(MergeConflict {
                            kind: ev.name.node.clone(),
                            attr: new.name,
                            books: [first, b],
                            what: format!("is `{}` in {{0}} and `{}` in {{1}}", old.ty.name(), new.ty.name()),
                        });
                    }
                    old.min = old.min.zip(new.min).map(|(x, y)| x.min(y));
                    old.max = old.max.zip(new.max).map(|(x, y)| x.max(y));
                    old.optional |= new.optional;
                    old.allowed = match (old.allowed.take(), new.allowed) {
                        (Some(mut xs), Some(ys)) => {
                            for y in ys {
                                if !xs.iter().any(|x| x.1 == y.1) {
                                    xs.push(y);
                                }
                            }
                            Some(xs)
                        }
                        _ => None,
                    };
                    old.default = match (old.default, new.default) {
                        (Some(x), Some(y)) if x != y => {
                            return Err(conflict("has one default in {0} and another in {1}".into()))
                        }
                        (x, y) => x.or(y),
                    };
                }
            }
        }
        Ok(Schema { kinds, by_name, texts })
    }

    pub fn kind(&self, name: &str) -> Option<u16> {
        let k = self.by_name.get(name)?;
        Some(u16::try_from(k).expect("kinds are numbered below u16::MAX"))
    }

    pub fn kind_of(&self, id: u16) -> Option<&KindSchema> {
        self.kinds.get(usize::from(id))
    }

    /// Renders an encoded value for people: `2`, `3.5`, `true`, `branch`.
    pub fn show(&self, ty: Type, v: i64) -> String {
        match ty {
            Type::Int | Type::Decimal => Num::from_raw(v).to_string(),
            Type::Bool => (v != 0).to_string(),
            Type::Date => Date::from_days(v as i32).to_string(),
            Type::Text => self.texts.get(v as u32).to_string(),
        }
    }
}

/// Two rulebooks declare one attribute in ways a single read cannot serve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeConflict {
    pub kind: String,
    pub attr: String,
    /// The indices of the two rulebooks, as passed to `Schema::merged`.
    pub books: [usize; 2],
    /// What differs, with `{0}` and `{1}` standing for the two rulebooks.
    pub what: String,
}

impl MergeConflict {
    /// The conflict worded with the rulebooks' names (`old.rules`, `new.rules`).
    pub fn describe(&self, names: &[&str]) -> String {
        let name = |i: usize| {
            names
                .get(i)
                .map_or_else(|| format!("rulebook {}", i + 1), |n| format!("`{n}`"))
        };
        let what = self
            .what
            .replace("{0}", &name(self.books[0]))
            .replace("{1}", &name(self.books[1]));
        format!("attribute `{}` of event `{}` {what}", self.attr, self.kind)
    }
}

fn attr_schema(a: &crate::syntax::ast::AttrDecl, texts: &Texts) -> AttrSchema {
    AttrSchema {
        name: a.name.node.clone(),
        ty: a.ty.node,
        min: a.min.as_ref().map(|m| m.node),
        max: a.max.as_ref().map(|m| m.node),
        optional: a.optional.is_some(),
        allowed: a.allowed.as_ref().map(|set| {
            set.iter()
                .filter_map(|l| match &l.node {
                    Literal::Text(s) => Some((texts.known(s)?, s.clone())),
                    _ => None,
                })
                .collect()
        }),
        default: a.default.as_ref().and_then(|d| encode_literal(&d.node, texts)),
    }
}

/// A literal as an attribute value; `None` for a text the schema's rulebooks
/// do not write.
pub fn encode_literal(lit: &Literal, texts: &Texts) -> Option<i64> {
    Some(match lit {
        Literal::Num(n) => n.raw(),
        Literal::Bool(b) => i64::from(*b),
        Literal::Date(d) => i64::from(d.days()),
        Literal::Text(s) => i64::from(texts.known(s)?),
    })
}

/// Why a cell is not a valid value of its attribute (the value is quoted by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CellError {
    NotInt,
    NotDecimal(NumError),
    NotBool,
    NotDate,
    NotText,
    BelowMin(Num),
    AboveMax(Num),
    NotAllowed(Vec<String>),
    /// The log holds more distinct texts than ids can number.
    TooManyTexts,
}

impl std::fmt::Display for CellError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CellError::NotInt => f.write_str("is not a whole number"),
            CellError::NotDecimal(e) => write!(f, "{e}"),
            CellError::NotBool => f.write_str("is not `true` or `false`"),
            CellError::NotDate => write!(f, "is not a valid date (write year first: {})", crate::date::DATA_FORMS),
            CellError::NotText => f.write_str("is not text"),
            CellError::BelowMin(m) => write!(f, "is below the minimum {m}"),
            CellError::AboveMax(m) => write!(f, "is above the maximum {m}"),
            CellError::NotAllowed(set) => {
                let quoted: Vec<String> = set.iter().map(|s| format!("\"{s}\"")).collect();
                write!(f, "is not one of {}", quoted.join(", "))
            }
            CellError::TooManyTexts => f.write_str("is one text too many (a log may hold about 4 billion)"),
        }
    }
}

impl AttrSchema {
    /// Decodes a CSV cell (int, decimal and bool may carry surrounding spaces).
    /// Texts are given ids by `texts`, through the reader's `memo`.
    /// Inlined: into the plain path (`Decoded::plain_row`) it saves ≈ 2% of
    /// a `score`'s instructions (measured; it cost 2.4% when only the
    /// general path called it).
    #[inline(always)]
    pub fn decode_text(&self, cell: &str, texts: &Texts, memo: &mut TextMemo) -> Result<i64, CellError> {
        let v = match self.ty {
            Type::Int => parse_int(trim_spaces(cell))?,
            Type::Decimal => Num::parse(trim_spaces(cell)).map_err(CellError::NotDecimal)?.raw(),
            // Excel writes TRUE and FALSE.
            Type::Bool => match trim_spaces(cell) {
                "true" | "TRUE" | "True" => 1,
                "false" | "FALSE" | "False" => 0,
                _ => return Err(CellError::NotBool),
            },
            Type::Date => i64::from(Date::parse_data(cell).ok_or(CellError::NotDate)?.days()),
            Type::Text => return self.check_text(cell, texts, memo),
        };
        self.check_min(v)
    }

    /// Decodes a JSON value of the attribute's JSON type.
    pub fn decode_json(&self, value: &serde_json::Value, texts: &Texts, memo: &mut TextMemo) -> Result<i64, CellError> {
        use serde_json::Value as J;
        let v = match (self.ty, value) {
            (Type::Int, J::Number(n)) => parse_int(&n.to_string())?,
            (Type::Int, _) => return Err(CellError::NotInt),
            (Type::Decimal, J::Number(n)) => Num::parse(&n.to_string()).map_err(CellError::NotDecimal)?.raw(),
            (Type::Decimal, _) => return Err(CellError::NotDecimal(NumError::Syntax)),
            (Type::Bool, J::Bool(b)) => i64::from(*b),
            (Type::Bool, _) => return Err(CellError::NotBool),
            (Type::Date, J::String(s)) => i64::from(Date::parse_data(s).ok_or(CellError::NotDate)?.days()),
            (Type::Date, _) => return Err(CellError::NotDate),
            (Type::Text, J::String(s)) => return self.check_text(s, texts, memo),
            (Type::Text, _) => return Err(CellError::NotText),
        };
        self.check_min(v)
    }

    fn check_min(&self, v: i64) -> Result<i64, CellError> {
        match (self.min, self.max) {
            (Some(m), _) if v < m.raw() => Err(CellError::BelowMin(m)),
            (_, Some(m)) if v > m.raw() => Err(CellError::AboveMax(m)),
            _ => Ok(v),
        }
    }

    fn check_text(&self, s: &str, texts: &Texts, memo: &mut TextMemo) -> Result<i64, CellError> {
        match &self.allowed {
            Some(set) => match set.iter().find(|(_, t)| t == s) {
                Some((id, _)) => Ok(i64::from(*id)),
                None => Err(CellError::NotAllowed(set.iter().map(|(_, t)| t.clone()).collect())),
            },
            None => texts.id(s, memo).map(i64::from),
        }
    }
}

/// `cell` without the spaces around it; most cells have none, and are
/// returned as they are without a search.
fn trim_spaces(cell: &str) -> &str {
    match cell.as_bytes() {
        [b' ', ..] | [.., b' '] => cell.trim_matches(' '),
        _ => cell,
    }
}

/// `[+-]digits`, as a `Num::raw`.
fn parse_int(s: &str) -> Result<i64, CellError> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CellError::NotInt);
    }
    // Up to 12 digits cannot overflow: read as they are checked.
    if digits.len() <= 12 {
        let v = digits.bytes().fold(0i64, |v, b| v * 10 + i64::from(b - b'0'));
        return Ok(Num::from_int(if s.starts_with('-') { -v } else { v }).raw());
    }
    Num::parse(s).map(Num::raw).map_err(CellError::NotDecimal)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Integers of up to 12 digits are read without `Num::parse`: the same
    /// values and refusals as with it, on random texts up to 20 long.
    #[test]
    fn integers_read_as_checked_agree_with_the_full_reading() {
        let full = |s: &str| -> Result<i64, CellError> {
            let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(CellError::NotInt);
            }
            Num::parse(s).map(Num::raw).map_err(CellError::NotDecimal)
        };
        for len in 0..=20 {
            for text in crate::num::random_texts(b"0123456789-+.9x", 3 + len as u64, len, 5_000) {
                assert_eq!(
                    format!("{:?}", parse_int(&text)),
                    format!("{:?}", full(&text)),
                    "{text:?}"
                );
            }
        }
        for text in [
            "999999999999",
            "-999999999999",
            "+000000000001",
            "-0",
            "9999999999999",
            "99999999999999999999",
        ] {
            assert_eq!(
                format!("{:?}", parse_int(text)),
                format!("{:?}", full(text)),
                "{text:?}"
            );
        }
    }

    #[test]
    fn same_is_equality_at_every_length() {
        let base: Vec<u8> = (0..24u8).map(|i| b'a' + i).collect();
        for len in 0..=24 {
            let a = &base[..len];
            assert!(same(a, a));
            for at in 0..len {
                let mut b = a.to_vec();
                b[at] ^= 0x20;
                assert!(!same(a, &b), "{len} {at}");
            }
            assert!(!same(a, &base[..(len + 1).min(24)]) || len == 24);
        }
    }

    #[test]
    fn a_lookup_finds_exactly_its_names_alone_on_a_key_or_sharing_one() {
        // Names alone on their key, names sharing one (same length, first
        // and last byte), the empty name, Chinese names, and 3,000 more so
        // that unrelated keys collide too; then near misses of each.
        let mut names: Vec<String> = ["assessment", "arrears", "a1b", "a2b", "a3b", "", "窃电", "x"]
            .map(String::from)
            .to_vec();
        names.extend((0..3000).map(|i| format!("k{i}")));
        let mut lookup = Lookup::default();
        for (id, name) in names.iter().enumerate() {
            assert!(lookup.insert(name, id as u32 * 3), "{name}");
        }
        assert!(!lookup.insert("a2b", 7), "a name is added once");
        assert!(lookup.cells.contains(&SHARED) && lookup.cells.iter().any(|&c| c < SHARED));
        for (id, name) in names.iter().enumerate() {
            assert_eq!(lookup.get(name), Some(id as u32 * 3), "{name}");
        }
        for miss in [
            "assessmenT",
            "Assessment",
            "arrear",
            "a4b",
            "ab",
            "窃",
            "电",
            "y",
            "k3000",
            "k",
        ] {
            assert_eq!(lookup.get(miss), None, "{miss}");
        }
        let few = {
            let mut l = Lookup::default();
            l.insert("arrears", 1);
            l
        };
        // A name on the same key as the only one there is not it.
        assert_eq!(Lookup::key(b"arrears"), Lookup::key(b"aXXXXXs"));
        assert_eq!(few.get("aXXXXXs"), None);
        assert_eq!(few.get("arrears"), Some(1));
    }

    #[test]
    fn buckets_cover_every_id_in_order() {
        let mut last = None;
        for i in (0..5000).chain(u32::MAX - 5000..u32::MAX) {
            let (b, slot) = Appended::place(i);
            assert!(b < BUCKETS && slot < 1 << (FIRST_BITS as usize + b), "index {i}");
            if let Some((lb, ls)) = last.filter(|_| i > 0 && i != u32::MAX - 5000) {
                assert!((b, slot) == (lb, ls + 1) || (b == lb + 1 && slot == 0), "index {i}");
            }
            last = Some((b, slot));
        }
    }

    #[test]
    fn texts_added_on_many_threads_keep_their_ids() {
        let texts = Texts::of(["branch", "feeder"]);
        let ids: Vec<Vec<(String, u32)>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|t| {
                    let texts = &texts;
                    s.spawn(move || {
                        let mut memo = TextMemo::default();
                        (0..3000)
                            .map(|i| {
                                let text = match i % 7 {
                                    0 => "branch".to_string(),
                                    1 => format!("shared-{}", i % 10),
                                    _ => format!("{t}-{}", i % 1000),
                                };
                                let id = texts.id(&text, &mut memo).expect("room for them");
                                (text, id)
                            })
                            .collect()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("no panic")).collect()
        });
        for (text, id) in ids.iter().flatten() {
            assert_eq!(texts.get(*id), text);
            assert_eq!(text == "branch", texts.known(text) == Some(*id));
        }
        // One id per text, whichever thread met it first.
        let mut shared: Vec<u32> = ids
            .iter()
            .flatten()
            .filter(|(t, _)| t.starts_with("shared-"))
            .map(|p| p.1)
            .collect();
        shared.sort_unstable();
        shared.dedup();
        assert_eq!(shared.len(), 10);
        let own = (0..1000).filter(|r| (0..3).any(|k| (r + 1000 * k) % 7 > 1)).count();
        assert_eq!(texts.others.len.load(Ordering::Relaxed) as usize, 10 + 4 * own);
        assert_eq!(texts.get(u32::MAX), "");
    }
}
