//! Input stage: the event schema a rulebook declares — kinds, typed
//! attributes, their constraints — and the decoding of one cell into the
//! compact `i64` value the evaluator reads.
//!
//! Every attribute value is one `i64`: int and decimal as `Num::raw` (so they
//! compare with each other), bool as 0/1, date as days, text as an id in the
//! shared `Texts` table.

use std::sync::{Arc, Mutex, PoisonError};

use rustc_hash::FxHashMap;

use crate::date::Date;
use crate::num::{Num, NumError};
use crate::syntax::ast::{Literal, Rulebook, Type};

/// Interned text values, shared by the decoder and the compiled rulebook.
#[derive(Debug, Default)]
pub struct Texts {
    inner: Mutex<TextsInner>,
}

#[derive(Debug, Default)]
struct TextsInner {
    ids: FxHashMap<Arc<str>, u32>,
    list: Vec<Arc<str>>,
}

impl Texts {
    pub fn intern(&self, s: &str) -> u32 {
        let mut t = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(&id) = t.ids.get(s) {
            return id;
        }
        let id = u32::try_from(t.list.len()).unwrap_or(u32::MAX);
        let text: Arc<str> = Arc::from(s);
        t.list.push(text.clone());
        t.ids.insert(text, id);
        id
    }

    pub fn get(&self, id: u32) -> Arc<str> {
        let t = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        t.list.get(id as usize).cloned().unwrap_or_else(|| Arc::from(""))
    }
}

/// The declared event kinds, in declaration order.
#[derive(Debug)]
pub struct Schema {
    pub kinds: Vec<KindSchema>,
    by_name: FxHashMap<String, u16>,
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
        let texts = Arc::new(Texts::default());
        let mut kinds = Vec::new();
        let mut by_name = FxHashMap::default();
        for ev in &book.events {
            if by_name.contains_key(&ev.name.node) || kinds.len() >= usize::from(u16::MAX) {
                continue;
            }
            let attrs = ev.attrs.iter().map(|a| attr_schema(a, &texts)).collect();
            by_name.insert(ev.name.node.clone(), kinds.len() as u16);
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
        let texts = Arc::new(Texts::default());
        let mut kinds: Vec<KindSchema> = Vec::new();
        // Which book first declared each attribute of each kind (for conflicts).
        let mut origin: Vec<Vec<usize>> = Vec::new();
        let mut by_name: FxHashMap<String, u16> = FxHashMap::default();
        for (b, book) in books.iter().enumerate() {
            let mut seen: Vec<&str> = Vec::new();
            for ev in &book.events {
                if seen.contains(&ev.name.node.as_str()) {
                    continue;
                }
                seen.push(&ev.name.node);
                let k = match by_name.get(&ev.name.node) {
                    Some(&k) => usize::from(k),
                    None if kinds.len() < usize::from(u16::MAX) => {
                        by_name.insert(ev.name.node.clone(), kinds.len() as u16);
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
        self.by_name.get(name).copied()
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
                    Literal::Text(s) => Some((texts.intern(s), s.clone())),
                    _ => None,
                })
                .collect()
        }),
        default: a.default.as_ref().and_then(|d| encode_literal(&d.node, texts)),
    }
}

/// A literal as an attribute value.
pub fn encode_literal(lit: &Literal, texts: &Texts) -> Option<i64> {
    Some(match lit {
        Literal::Num(n) => n.raw(),
        Literal::Bool(b) => i64::from(*b),
        Literal::Date(d) => i64::from(d.days()),
        Literal::Text(s) => i64::from(texts.intern(s)),
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
        }
    }
}

impl AttrSchema {
    /// Decodes a CSV cell (int, decimal and bool may carry surrounding spaces).
    pub fn decode_text(&self, cell: &str, texts: &Texts) -> Result<i64, CellError> {
        let v = match self.ty {
            Type::Int => parse_int(cell.trim_matches(' '))?,
            Type::Decimal => Num::parse(cell.trim_matches(' ')).map_err(CellError::NotDecimal)?.raw(),
            // Excel writes TRUE and FALSE.
            Type::Bool => match cell.trim_matches(' ') {
                "true" | "TRUE" | "True" => 1,
                "false" | "FALSE" | "False" => 0,
                _ => return Err(CellError::NotBool),
            },
            Type::Date => i64::from(Date::parse_data(cell).ok_or(CellError::NotDate)?.days()),
            Type::Text => return self.check_text(cell, texts),
        };
        self.check_min(v)
    }

    /// Decodes a JSON value of the attribute's JSON type.
    pub fn decode_json(&self, value: &serde_json::Value, texts: &Texts) -> Result<i64, CellError> {
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
            (Type::Text, J::String(s)) => return self.check_text(s, texts),
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

    fn check_text(&self, s: &str, texts: &Texts) -> Result<i64, CellError> {
        match &self.allowed {
            Some(set) => match set.iter().find(|(_, t)| t == s) {
                Some((id, _)) => Ok(i64::from(*id)),
                None => Err(CellError::NotAllowed(set.iter().map(|(_, t)| t.clone()).collect())),
            },
            None => Ok(i64::from(texts.intern(s))),
        }
    }
}

/// `[+-]digits`, as a `Num::raw`.
fn parse_int(s: &str) -> Result<i64, CellError> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CellError::NotInt);
    }
    Num::parse(s).map(Num::raw).map_err(CellError::NotDecimal)
}
