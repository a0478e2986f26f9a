//! Syntax stage: pest pairs → AST, one small function per grammar rule.
//! Pest guarantees each pair's shape; `Node` walks its children and turns a
//! shape pest did not promise into an error instead of a panic.

use std::iter::Peekable;
use std::sync::LazyLock;

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::ast::*;
use super::Rule;
use crate::date::Date;
use crate::diagnostic::Diagnostic;
use crate::num::Num;
use crate::span::{Ident, Span, Spanned};

type Result<T> = std::result::Result<T, Diagnostic>;

/// A pair's span, without the blank lines and comments pest may have
/// consumed after its last token.
fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.start() + super::scan::code_end(s.as_str()))
}

/// The children of one pair, taken in order.
struct Node<'i> {
    span: Span,
    children: Peekable<Pairs<'i, Rule>>,
}

impl<'i> Node<'i> {
    fn new(pair: Pair<'i, Rule>) -> Self {
        Node {
            span: span_of(&pair),
            children: pair.into_inner().peekable(),
        }
    }

    /// The next child, which must be a `rule`.
    fn take(&mut self, want: Rule) -> Result<Pair<'i, Rule>> {
        match self.children.next() {
            Some(p) if p.as_rule() == want => Ok(p),
            _ => Err(Diagnostic::error(
                format!("internal error: expected {} here", super::describe(want)),
                self.span,
                "the parser could not read this",
            )),
        }
    }

    /// The next child if it is a `rule`.
    fn opt(&mut self, want: Rule) -> Option<Pair<'i, Rule>> {
        self.children.next_if(|p| p.as_rule() == want)
    }

    fn peek(&mut self) -> Option<Rule> {
        self.children.peek().map(Pair::as_rule)
    }

    /// Skips keywords and punctuation, which carry no data.
    fn skip(&mut self, want: Rule) {
        self.opt(want);
    }
}

pub(super) fn file(pair: Pair<'_, Rule>) -> Result<Rulebook> {
    let mut n = Node::new(pair);
    let header = header(n.take(Rule::header)?)?;
    let mut book = Rulebook {
        header,
        events: vec![],
        groups: vec![],
        classes: vec![],
        overrides: vec![],
        grades: vec![],
        indexes: vec![],
        total_rules: vec![],
    };
    for item in n.children {
        match item.as_rule() {
            Rule::event_decl => book.events.push(event_decl(item)?),
            Rule::group_decl => book.groups.push(group_decl(item)?),
            Rule::total_rules => book.total_rules.push(total_rules(item)?),
            Rule::class_decl => book.classes.push(class_decl(item)?),
            Rule::override_decl => book.overrides.push(override_decl(item)?),
            Rule::grades_decl => book.grades.push(grades_decl(item)?),
            Rule::index_decl => book.indexes.push(index_decl(item)?),
            _ => {}
        }
    }
    Ok(book)
}

fn header(pair: Pair<'_, Rule>) -> Result<Header> {
    let mut n = Node::new(pair);
    n.skip(Rule::kw_standard);
    let name = string(n.take(Rule::string)?);
    let version = match n.opt(Rule::kw_version) {
        Some(_) => Some(string(n.take(Rule::string)?)),
        None => None,
    };
    let mut p = Node::new(n.take(Rule::period)?);
    p.skip(Rule::kw_period);
    let period = duration(p.take(Rule::duration)?)?;
    let total = match n.opt(Rule::total) {
        Some(t) => {
            let mut t = Node::new(t);
            t.skip(Rule::kw_total);
            Some(number(t.take(Rule::number)?)?)
        }
        None => None,
    };
    Ok(Header {
        name,
        version,
        period,
        total,
        span: n.span,
    })
}

fn duration(pair: Pair<'_, Rule>) -> Result<Duration> {
    let mut n = Node::new(pair);
    let count = integer(n.take(Rule::integer)?)?;
    let unit_pair = n.take(Rule::unit)?;
    let unit = match unit_pair.into_inner().next().map(|p| p.as_rule()) {
        Some(Rule::kw_years) => Unit::Years,
        _ => Unit::Months,
    };
    Ok(Duration {
        count: count.node,
        unit,
        span: n.span,
    })
}

fn name(pair: Pair<'_, Rule>) -> Ident {
    Spanned::new(pair.as_str().to_string(), span_of(&pair))
}

fn string(pair: Pair<'_, Rule>) -> Spanned<String> {
    let span = span_of(&pair);
    let raw = pair.into_inner().next().map_or("", |p| p.as_str());
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            },
            (c, false) => out.push(c),
        }
    }
    Spanned::new(out, span)
}

fn opt_string(n: &mut Node<'_>) -> Option<Spanned<String>> {
    n.opt(Rule::string).map(string)
}

fn number(pair: Pair<'_, Rule>) -> Result<Spanned<Num>> {
    let span = span_of(&pair);
    Num::parse(pair.as_str())
        .map(|v| Spanned::new(v, span))
        .map_err(|e| Diagnostic::error(format!("number `{}` {e}", pair.as_str()), span, "this number"))
}

fn integer(pair: Pair<'_, Rule>) -> Result<Spanned<u32>> {
    let span = span_of(&pair);
    pair.as_str()
        .parse::<u32>()
        .map(|v| Spanned::new(v, span))
        .map_err(|_| {
            Diagnostic::error(
                format!("whole number `{}` is too large", pair.as_str()),
                span,
                "this number",
            )
        })
}

fn literal(pair: Pair<'_, Rule>) -> Result<Spanned<Literal>> {
    let span = span_of(&pair);
    let inner = Node::new(pair).children.next();
    let lit = match inner {
        Some(p) => match p.as_rule() {
            Rule::number => Literal::Num(number(p)?.node),
            Rule::string => Literal::Text(string(p).node),
            Rule::kw_true => Literal::Bool(true),
            Rule::kw_false => Literal::Bool(false),
            Rule::date => Literal::Date(Date::parse(p.as_str()).ok_or_else(|| {
                Diagnostic::error(format!("`{}` is not a valid date", p.as_str()), span, "this date")
                    .with_help("dates are written `YYYY-MM-DD` and must exist in the calendar")
            })?),
            _ => return Err(Diagnostic::error("internal error: unknown value", span, "here")),
        },
        None => return Err(Diagnostic::error("internal error: empty value", span, "here")),
    };
    Ok(Spanned::new(lit, span))
}

fn literal_set(pair: Pair<'_, Rule>) -> Result<Vec<Spanned<Literal>>> {
    pair.into_inner()
        .filter(|p| p.as_rule() == Rule::literal)
        .map(literal)
        .collect()
}

fn clause(n: &mut Node<'_>) -> Option<Clause> {
    n.opt(Rule::clause).map(|p| {
        let span = span_of(&p);
        let mut ids = p.into_inner().map(|id| id.as_str().to_string());
        let first = ids.next().unwrap_or_default();
        Clause {
            first,
            last: ids.next(),
            span,
        }
    })
}

// ── Events ──────────────────────────────────────────────────────────────────

fn event_decl(pair: Pair<'_, Rule>) -> Result<EventDecl> {
    let mut n = Node::new(pair);
    n.skip(Rule::kw_event);
    let name = name(n.take(Rule::name)?);
    let label = opt_string(&mut n);
    let attrs = match n.opt(Rule::attr_block) {
        Some(block) => block
            .into_inner()
            .filter(|p| p.as_rule() == Rule::attr)
            .map(attr)
            .collect::<Result<_>>()?,
        None => vec![],
    };
    Ok(EventDecl {
        name,
        label,
        attrs,
        span: n.span,
    })
}

fn attr(pair: Pair<'_, Rule>) -> Result<AttrDecl> {
    let mut n = Node::new(pair);
    let name = name(n.take(Rule::name)?);
    n.skip(Rule::colon);
    let ty_pair = n.take(Rule::type_name)?;
    let ty_span = span_of(&ty_pair);
    let ty = match ty_pair.into_inner().next().map(|p| p.as_rule()) {
        Some(Rule::kw_int) => Type::Int,
        Some(Rule::kw_decimal) => Type::Decimal,
        Some(Rule::kw_bool) => Type::Bool,
        Some(Rule::kw_date) => Type::Date,
        _ => Type::Text,
    };
    let (mut min, mut max, mut allowed) = (None, None, None);
    if let Some(c) = n.opt(Rule::constraint) {
        let mut c = Node::new(c);
        match c.peek() {
            Some(Rule::min_bound) => {
                let mut b = Node::new(c.take(Rule::min_bound)?);
                b.skip(Rule::ge);
                min = Some(number(b.take(Rule::number)?)?);
            }
            Some(Rule::range_bound) => {
                let (lo, hi) = range(c.take(Rule::range_bound)?)?;
                (min, max) = (Some(lo), Some(hi));
            }
            _ => {
                let mut a = Node::new(c.take(Rule::allowed)?);
                a.skip(Rule::kw_in);
                allowed = Some(literal_set(a.take(Rule::literal_set)?)?);
            }
        }
    }
    let default = match n.opt(Rule::default) {
        Some(d) => {
            let mut d = Node::new(d);
            d.skip(Rule::assign);
            Some(literal(d.take(Rule::literal)?)?)
        }
        None => None,
    };
    let optional = n.opt(Rule::kw_optional).map(|k| span_of(&k));
    Ok(AttrDecl {
        name,
        ty: Spanned::new(ty, ty_span),
        min,
        max,
        allowed,
        default,
        optional,
        span: n.span,
    })
}

/// `in 1..10` or `scale 1..10`: the two numbers around `..`.
fn range(pair: Pair<'_, Rule>) -> Result<(Spanned<Num>, Spanned<Num>)> {
    let mut n = Node::new(pair);
    n.skip(Rule::kw_in);
    n.skip(Rule::kw_scale);
    let lo = number(n.take(Rule::number)?)?;
    n.skip(Rule::dotdot);
    let hi = number(n.take(Rule::number)?)?;
    Ok((lo, hi))
}

// ── Indexes ─────────────────────────────────────────────────────────────────

fn index_decl(pair: Pair<'_, Rule>) -> Result<Index> {
    let mut n = Node::new(pair);
    n.skip(Rule::kw_index);
    let name = name(n.take(Rule::name)?);
    let label = opt_string(&mut n);
    n.skip(Rule::kw_of);
    n.skip(Rule::kw_latest);
    let kind = self::name(n.take(Rule::name)?);
    let scale_pair = n.take(Rule::scale)?;
    let scale_span = span_of(&scale_pair);
    let (lo, hi) = range(scale_pair)?;
    let blocks = n
        .children
        .by_ref()
        .filter(|p| p.as_rule() == Rule::index_block)
        .map(index_block)
        .collect::<Result<_>>()?;
    Ok(Index {
        name,
        label,
        kind,
        scale: Scale {
            lo,
            hi,
            span: scale_span,
        },
        blocks,
        span: n.span,
    })
}

fn weight(pair: Pair<'_, Rule>) -> Result<Spanned<Num>> {
    let mut n = Node::new(pair);
    n.skip(Rule::kw_weight);
    number(n.take(Rule::number)?)
}

fn index_block(pair: Pair<'_, Rule>) -> Result<IndexBlock> {
    let mut n = Node::new(pair);
    n.skip(Rule::kw_block);
    let name = name(n.take(Rule::name)?);
    let label = opt_string(&mut n);
    let weight = weight(n.take(Rule::weight)?)?;
    let items = n
        .children
        .by_ref()
        .filter(|p| p.as_rule() == Rule::index_item)
        .map(index_item)
        .collect::<Result<_>>()?;
    Ok(IndexBlock {
        name,
        label,
        weight,
        items,
        span: n.span,
    })
}

fn index_item(pair: Pair<'_, Rule>) -> Result<IndexItem> {
    let mut n = Node::new(pair);
    let name = name(n.take(Rule::name)?);
    let label = opt_string(&mut n);
    let weight = weight(n.take(Rule::weight)?)?;
    Ok(IndexItem {
        name,
        label,
        weight,
        span: n.span,
    })
}

// ── Rules ───────────────────────────────────────────────────────────────────

fn group_decl(pair: Pair<'_, Rule>) -> Result<RuleGroup> {
    let mut n = Node::new(pair);
    n.skip(Rule::kw_rules);
    let name = name(n.take(Rule::name)?);
    let label = opt_string(&mut n);
    let rules = rule_block(n.take(Rule::rule_block)?)?;
    Ok(RuleGroup {
        name,
        label,
        rules,
        span: n.span,
    })
}

fn total_rules(pair: Pair<'_, Rule>) -> Result<TotalRules> {
    let mut n = Node::new(pair);
    for kw in [Rule::kw_rules, Rule::kw_on, Rule::kw_total] {
        n.skip(kw);
    }
    let label = opt_string(&mut n);
    let rules = rule_block(n.take(Rule::rule_block)?)?;
    Ok(TotalRules {
        label,
        rules,
        span: n.span,
    })
}

/// `instead of P1, P2` or `allow over-deduction L1, L5 …`: the clauses listed.
fn clause_list(n: &mut Node<'_>) -> Vec<Clause> {
    let mut clauses = Vec::new();
    while let Some(c) = clause(n) {
        clauses.push(c);
        n.skip(Rule::comma);
    }
    clauses
}

fn rule_block(pair: Pair<'_, Rule>) -> Result<Vec<super::ast::Rule>> {
    pair.into_inner()
        .filter(|p| p.as_rule() == Rule::rule)
        .map(rule)
        .collect()
}

fn rule(pair: Pair<'_, Rule>) -> Result<super::ast::Rule> {
    let mut n = Node::new(pair);
    let clause = clause(&mut n);
    let label = opt_string(&mut n);
    let body = n
        .children
        .next()
        .ok_or_else(|| Diagnostic::error("internal error: empty rule", n.span, "here"))?;
    let body_rule = body.as_rule();
    let mut b = Node::new(body);
    let effect_pair = b.take(Rule::effect)?;
    let effect_span = span_of(&effect_pair);
    let effect = match effect_pair.into_inner().next().map(|p| p.as_rule()) {
        Some(Rule::kw_bonus) => Effect::Bonus,
        _ => Effect::Deduct,
    };
    let kind = match body_rule {
        Rule::per_event_rule => {
            let points = number(b.take(Rule::number)?)?;
            let multiplier = match b.opt(Rule::multiplier) {
                Some(m) => {
                    let mut m = Node::new(m);
                    m.skip(Rule::times);
                    Some(name(m.take(Rule::name)?))
                }
                None => None,
            };
            b.skip(Rule::kw_per);
            RuleKind::PerEvent {
                points,
                multiplier,
                select: selector(b.take(Rule::selector)?)?,
            }
        }
        Rule::once_rule => {
            let points = number(b.take(Rule::number)?)?;
            for kw in [Rule::kw_once, Rule::kw_if, Rule::kw_any] {
                b.skip(kw);
            }
            let at_least = match b.opt(Rule::at_least) {
                Some(p) => {
                    let mut a = Node::new(p);
                    a.skip(Rule::kw_at);
                    a.skip(Rule::kw_least);
                    Some(integer(a.take(Rule::integer)?)?)
                }
                None => None,
            };
            RuleKind::Once {
                points,
                at_least,
                select: selector(b.take(Rule::selector)?)?,
            }
        }
        Rule::absence_rule => {
            let points = number(b.take(Rule::number)?)?;
            b.skip(Rule::kw_if);
            b.skip(Rule::kw_no);
            RuleKind::Absence {
                points,
                select: selector(b.take(Rule::selector)?)?,
            }
        }
        Rule::count_rule => {
            for kw in [Rule::kw_by, Rule::kw_count, Rule::kw_of] {
                b.skip(kw);
            }
            let select = selector(b.take(Rule::selector)?)?;
            RuleKind::Count {
                select,
                tiers: tiers(b.take(Rule::tiers)?)?,
            }
        }
        Rule::episode_rule => {
            for kw in [Rule::kw_per, Rule::kw_episode, Rule::kw_of] {
                b.skip(kw);
            }
            let select = selector(b.take(Rule::selector)?)?;
            let severity = severity(b.take(Rule::severity)?)?;
            RuleKind::Episodes {
                select,
                severity,
                tiers: tiers(b.take(Rule::tiers)?)?,
            }
        }
        other => {
            return Err(Diagnostic::error(
                format!("internal error: {} is not a rule form", super::describe(other)),
                n.span,
                "the parser could not read this",
            ))
        }
    };
    let replaces = match n.opt(Rule::replaces) {
        Some(p) => {
            let mut r = Node::new(p);
            r.skip(Rule::kw_instead);
            r.skip(Rule::kw_of);
            clause_list(&mut r)
        }
        None => vec![],
    };
    Ok(super::ast::Rule {
        clause,
        label,
        effect: Spanned::new(effect, effect_span),
        kind,
        replaces,
        span: n.span,
    })
}

fn selector(pair: Pair<'_, Rule>) -> Result<Selector> {
    let mut n = Node::new(pair);
    let kinds = n
        .take(Rule::kinds)?
        .into_inner()
        .filter(|p| p.as_rule() == Rule::name)
        .map(name)
        .collect();
    let filter = match n.opt(Rule::filter) {
        Some(f) => Some(filter(f)?),
        None => None,
    };
    let window = match n.opt(Rule::window) {
        Some(w) => {
            let mut w = Node::new(w);
            w.skip(Rule::kw_within);
            Some(duration(w.take(Rule::duration)?)?)
        }
        None => None,
    };
    Ok(Selector {
        kinds,
        filter,
        window,
        span: n.span,
    })
}

fn filter(pair: Pair<'_, Rule>) -> Result<Expr> {
    let mut n = Node::new(pair);
    n.skip(Rule::kw_where);
    expr(n.take(Rule::expr)?)
}

fn severity(pair: Pair<'_, Rule>) -> Result<Vec<Severity>> {
    let terms: Vec<Pair<'_, Rule>> = pair
        .into_inner()
        .flat_map(|p| match p.as_rule() {
            Rule::severity_max => p.into_inner().filter(|t| t.as_rule() == Rule::severity_term).collect(),
            Rule::severity_term => vec![p],
            _ => vec![],
        })
        .collect();
    terms
        .into_iter()
        .map(|t| {
            let span = span_of(&t);
            match t.into_inner().next() {
                Some(p) if p.as_rule() == Rule::name => Ok(Severity::Attr(name(p))),
                Some(_) => Ok(Severity::Length(span)),
                None => Err(Diagnostic::error("internal error: empty severity", span, "here")),
            }
        })
        .collect()
}

fn tiers(pair: Pair<'_, Rule>) -> Result<Vec<Tier>> {
    pair.into_inner()
        .filter(|p| p.as_rule() == Rule::tier)
        .map(tier)
        .collect()
}

fn tier(pair: Pair<'_, Rule>) -> Result<Tier> {
    let mut n = Node::new(pair);
    let mut r = Node::new(n.take(Rule::tier_range)?);
    let from = integer(r.take(Rule::integer)?)?.node;
    let to = match r.children.next() {
        Some(p) if p.as_rule() == Rule::tier_open => None,
        Some(p) => Some(integer(Node::new(p).take(Rule::integer)?)?.node),
        None => Some(from),
    };
    n.skip(Rule::arrow);
    let points = number(n.take(Rule::number)?)?;
    let clause = clause(&mut n);
    Ok(Tier {
        from,
        to,
        points,
        clause,
        span: n.span,
    })
}

// ── Classes, dimensions, grades ─────────────────────────────────────────────

fn class_decl(pair: Pair<'_, Rule>) -> Result<Class> {
    let mut n = Node::new(pair);
    n.skip(Rule::kw_class);
    let name = name(n.take(Rule::name)?);
    let label = opt_string(&mut n);
    let default = n.opt(Rule::kw_default).is_some();
    let (mut dimensions, mut overrides) = (vec![], vec![]);
    for p in n.children.by_ref() {
        match p.as_rule() {
            Rule::dimension => dimensions.push(dimension(p)?),
            Rule::override_decl => overrides.push(override_decl(p)?),
            _ => {}
        }
    }
    Ok(Class {
        name,
        label,
        default,
        dimensions,
        overrides,
        span: n.span,
    })
}

fn dimension(pair: Pair<'_, Rule>) -> Result<Dimension> {
    let mut n = Node::new(pair);
    n.skip(Rule::kw_dimension);
    let name = name(n.take(Rule::name)?);
    let label = opt_string(&mut n);
    n.skip(Rule::kw_max);
    let max = number(n.take(Rule::number)?)?;
    let source = match n.children.next() {
        Some(p) if p.as_rule() == Rule::uses => {
            let mut u = Node::new(p);
            u.skip(Rule::kw_uses);
            Source::Uses(self::name(u.take(Rule::name)?))
        }
        Some(p) if p.as_rule() == Rule::like => {
            let mut l = Node::new(p);
            l.skip(Rule::kw_like);
            Source::Like(self::name(l.take(Rule::name)?))
        }
        Some(p) if p.as_rule() == Rule::assessed => Source::Assessed(assessed(p)?),
        Some(p) => Source::Rules(rule_block(p)?),
        None => {
            return Err(Diagnostic::error(
                "internal error: dimension without source",
                n.span,
                "here",
            ))
        }
    };
    let allow = match n.opt(Rule::allow_over) {
        Some(p) => {
            let mut a = Node::new(p);
            a.skip(Rule::kw_allow);
            a.skip(Rule::kw_over_deduction);
            let clauses = clause_list(&mut a);
            a.skip(Rule::kw_because);
            let reason = string(a.take(Rule::string)?);
            Some(AllowOver {
                clauses,
                reason,
                span: a.span,
            })
        }
        None => None,
    };
    Ok(Dimension {
        name,
        label,
        max,
        source,
        allow,
        span: n.span,
    })
}

fn assessed(pair: Pair<'_, Rule>) -> Result<Assessed> {
    let mut n = Node::new(pair);
    let clause = clause(&mut n);
    let label = opt_string(&mut n);
    n.skip(Rule::kw_assessed);
    let value = name(n.take(Rule::name)?);
    n.skip(Rule::kw_of);
    n.skip(Rule::kw_latest);
    let kind = name(n.take(Rule::name)?);
    let filter = match n.opt(Rule::filter) {
        Some(f) => Some(filter(f)?),
        None => None,
    };
    Ok(Assessed {
        clause,
        label,
        value,
        kind,
        filter,
        span: n.span,
    })
}

fn override_decl(pair: Pair<'_, Rule>) -> Result<Override> {
    let mut n = Node::new(pair);
    let clause = clause(&mut n);
    let label = opt_string(&mut n);
    n.skip(Rule::kw_grade);
    let grade = name(n.take(Rule::name)?);
    n.skip(Rule::kw_when);
    let when = expr(n.take(Rule::expr)?)?;
    Ok(Override {
        clause,
        label,
        grade,
        when,
        span: n.span,
    })
}

fn grades_decl(pair: Pair<'_, Rule>) -> Result<Grades> {
    let mut n = Node::new(pair);
    let clause = clause(&mut n);
    let label = opt_string(&mut n);
    let bands = n
        .children
        .by_ref()
        .filter(|p| p.as_rule() == Rule::band)
        .map(band)
        .collect::<Result<_>>()?;
    Ok(Grades {
        clause,
        label,
        bands,
        span: n.span,
    })
}

fn band(pair: Pair<'_, Rule>) -> Result<Band> {
    let mut n = Node::new(pair);
    let grade = name(n.take(Rule::name)?);
    let label = opt_string(&mut n);
    let min = match n.opt(Rule::ge) {
        Some(_) => Some(number(n.take(Rule::number)?)?),
        None => None,
    };
    let measures = match n.opt(Rule::measures) {
        Some(p) => {
            let mut m = Node::new(p);
            m.skip(Rule::kw_measures);
            Some(string(m.take(Rule::string)?))
        }
        None => None,
    };
    Ok(Band {
        grade,
        label,
        min,
        measures,
        span: n.span,
    })
}

// ── Expressions ─────────────────────────────────────────────────────────────

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left))
        .op(Op::postfix(Rule::op_in))
});

fn expr(pair: Pair<'_, Rule>) -> Result<Expr> {
    PRATT
        .map_primary(|p| match p.as_rule() {
            Rule::expr => expr(p),
            Rule::name => Ok(Expr {
                span: span_of(&p),
                kind: ExprKind::Var(p.as_str().to_string()),
            }),
            Rule::literal => literal(p).map(|l| Expr {
                span: l.span,
                kind: ExprKind::Lit(l.node),
            }),
            _ => Err(Diagnostic::error(
                "internal error: unknown operand",
                span_of(&p),
                "here",
            )),
        })
        .map_prefix(|op, rhs| {
            let rhs = rhs?;
            Ok(Expr {
                span: span_of(&op).join(rhs.span),
                kind: ExprKind::Not(Box::new(rhs)),
            })
        })
        .map_postfix(|lhs, op| {
            let lhs = lhs?;
            let span = lhs.span.join(span_of(&op));
            let set = op
                .into_inner()
                .find(|p| p.as_rule() == Rule::literal_set)
                .map(literal_set)
                .transpose()?;
            Ok(Expr {
                span,
                kind: ExprKind::In(Box::new(lhs), set.unwrap_or_default()),
            })
        })
        .map_infix(|lhs, op, rhs| {
            let (lhs, rhs) = (Box::new(lhs?), Box::new(rhs?));
            let span = lhs.span.join(rhs.span);
            let kind = match op.as_rule() {
                Rule::op_or => ExprKind::Or(lhs, rhs),
                Rule::op_and => ExprKind::And(lhs, rhs),
                Rule::op_eq => ExprKind::Cmp(CmpOp::Eq, lhs, rhs),
                Rule::op_ne => ExprKind::Cmp(CmpOp::Ne, lhs, rhs),
                Rule::op_lt => ExprKind::Cmp(CmpOp::Lt, lhs, rhs),
                Rule::op_le => ExprKind::Cmp(CmpOp::Le, lhs, rhs),
                Rule::op_gt => ExprKind::Cmp(CmpOp::Gt, lhs, rhs),
                _ => ExprKind::Cmp(CmpOp::Ge, lhs, rhs),
            };
            Ok(Expr { span, kind })
        })
        .parse(
            pair.into_inner()
                .filter(|p| !matches!(p.as_rule(), Rule::lparen | Rule::rparen)),
        )
}

#[cfg(test)]
mod tests {
    use super::super::scan::code_end;

    #[test]
    fn spans_end_at_the_last_token() {
        assert_eq!(code_end("a == 0 # note\n# more\n  "), 6);
        assert_eq!(code_end("label \"x # y\" # note"), 13);
        assert_eq!(code_end("plain"), 5);
    }
}
