//! Syntax stage: source text → AST through `rulebook::syntax::parse`. The
//! expected trees are written with dummy spans: AST equality ignores spans,
//! so these tests pin structure, not layout.

use rulebook::date::Date;
use rulebook::num::Num;
use rulebook::span::{Span, Spanned};
use rulebook::syntax::ast::*;
use rulebook::syntax::parse;

// ── Helpers that read like the language ─────────────────────────────────────

fn s<T>(node: T) -> Spanned<T> {
    Spanned::new(node, Span::default())
}

fn id(name: &str) -> Spanned<String> {
    s(name.to_string())
}

fn num(text: &str) -> Num {
    Num::parse(text).unwrap_or_else(|e| panic!("bad number {text}: {e}"))
}

fn e(kind: ExprKind) -> Expr {
    Expr {
        kind,
        span: Span::default(),
    }
}

fn var(name: &str) -> Expr {
    e(ExprKind::Var(name.to_string()))
}

fn lit(l: Literal) -> Expr {
    e(ExprKind::Lit(l))
}

fn int(text: &str) -> Literal {
    Literal::Num(num(text))
}

fn text(t: &str) -> Literal {
    Literal::Text(t.to_string())
}

fn cmp(op: CmpOp, a: Expr, b: Expr) -> Expr {
    e(ExprKind::Cmp(op, Box::new(a), Box::new(b)))
}

fn and(a: Expr, b: Expr) -> Expr {
    e(ExprKind::And(Box::new(a), Box::new(b)))
}

fn or(a: Expr, b: Expr) -> Expr {
    e(ExprKind::Or(Box::new(a), Box::new(b)))
}

fn not(a: Expr) -> Expr {
    e(ExprKind::Not(Box::new(a)))
}

fn clause(first: &str, last: Option<&str>) -> Option<Clause> {
    Some(Clause {
        first: first.to_string(),
        last: last.map(str::to_string),
        span: Span::default(),
    })
}

fn select(kinds: &[&str], filter: Option<Expr>, window: Option<Duration>) -> Selector {
    Selector {
        kinds: kinds.iter().map(|k| id(k)).collect(),
        filter,
        window,
        span: Span::default(),
    }
}

fn tier(from: u32, to: Option<u32>, points: &str) -> Tier {
    Tier {
        from,
        to,
        points: s(num(points)),
        clause: None,
        span: Span::default(),
    }
}

fn months(count: u32) -> Duration {
    Duration {
        count,
        unit: Unit::Months,
        span: Span::default(),
    }
}

const HEADER: &str = "standard \"t\" period 12 months\n";

fn book(body: &str) -> Rulebook {
    let src = format!("{HEADER}{body}");
    parse(&src).unwrap_or_else(|d| panic!("{}\n{src}", d.message))
}

/// The one rule of `rules g { … }`.
fn rule(src: &str) -> Rule {
    let b = book(&format!("rules g {{ {src} }}"));
    b.groups
        .into_iter()
        .next()
        .and_then(|g| g.rules.into_iter().next())
        .unwrap_or_else(|| panic!("no rule in {src}"))
}

/// The filter of a per-event rule `deduct 1 per k where <cond>`.
fn condition(cond: &str) -> Expr {
    match rule(&format!("deduct 1 per k where {cond}")).kind {
        RuleKind::PerEvent {
            select: Selector { filter: Some(f), .. },
            ..
        } => f,
        other => panic!("not a filtered per-event rule: {other:?}"),
    }
}

// ── Rules ───────────────────────────────────────────────────────────────────

#[test]
fn per_event_rule_with_filter_and_multiplier() {
    let got = rule(r#"S6 "电工资格不符" deduct 5 x persons per unqualified_electrician where persons >= 2"#);
    let want = Rule {
        clause: clause("S6", None),
        label: Some(id("电工资格不符")),
        effect: s(Effect::Deduct),
        kind: RuleKind::PerEvent {
            points: s(num("5")),
            multiplier: Some(id("persons")),
            select: select(
                &["unqualified_electrician"],
                Some(cmp(CmpOp::Ge, var("persons"), lit(int("2")))),
                None,
            ),
        },
        replaces: vec![],
        span: Span::default(),
    };
    assert_eq!(got, want);
    // `×` and `*` are the same multiplier.
    assert_eq!(rule("deduct 5 × persons per k"), rule("deduct 5 * persons per k"));
    assert_eq!(rule("deduct 5 x persons per k"), rule("deduct 5 × persons per k"));
}

#[test]
fn once_and_absence_rules() {
    let once = rule("S7 deduct 5 once if any management_deficiency");
    assert_eq!(
        once.kind,
        RuleKind::Once {
            points: s(num("5")),
            at_least: None,
            select: select(&["management_deficiency"], None, None)
        }
    );
    let absence = rule("S8 bonus 10 if no safety_accident, cascade_trip within 3 years");
    let window = Duration {
        count: 3,
        unit: Unit::Years,
        span: Span::default(),
    };
    assert_eq!(absence.effect.node, Effect::Bonus);
    assert_eq!(
        absence.kind,
        RuleKind::Absence {
            points: s(num("10")),
            select: select(&["safety_accident", "cascade_trip"], None, Some(window))
        }
    );
    assert_eq!(window.months(), 36);
}

#[test]
fn count_rule_tiers_with_ranges_and_open_end() {
    let got = rule("L2-L3 deduct by count of breach within 6 months { 1 => 10, 2..4 => 20.5, 5+ => 30 }");
    assert_eq!(got.clause, clause("L2", Some("L3")));
    assert_eq!(
        got.clause.map(|c| c.ids()),
        Some(vec!["L2".to_string(), "L3".to_string()])
    );
    let want = RuleKind::Count {
        select: select(&["breach"], None, Some(months(6))),
        tiers: vec![tier(1, Some(1), "10"), tier(2, Some(4), "20.5"), tier(5, None, "30")],
    };
    assert_eq!(got.kind, want);
    // Commas between tiers are optional.
    assert_eq!(
        rule("deduct by count of b { 1 => 1 2+ => 2 }"),
        rule("deduct by count of b { 1 => 1, 2+ => 2, }")
    );
}

#[test]
fn episode_rule_severity() {
    let got = rule("P1-P3 deduct per episode of arrears severity max(length, months) { 1 => 10, 2 => 20, 3+ => 30 }");
    let want = RuleKind::Episodes {
        select: select(&["arrears"], None, None),
        severity: vec![Severity::Length(Span::default()), Severity::Attr(id("months"))],
        tiers: vec![tier(1, Some(1), "10"), tier(2, Some(2), "20"), tier(3, None, "30")],
    };
    assert_eq!(got.kind, want);
    let single = rule("deduct per episode of arrears severity length { 1+ => 5 }");
    assert!(
        matches!(single.kind, RuleKind::Episodes { ref severity, .. } if severity == &[Severity::Length(Span::default())])
    );
}

// ── Declarations ────────────────────────────────────────────────────────────

#[test]
fn header_and_events() {
    let b = book(
        r#"event arrears "拖欠电费" { months: int >= 1 }
           event cascade_trip { reach: text in {"branch", "substation"} = "branch", on: date = 2026-03-31 }
           event theft"#,
    );
    assert_eq!(b.header.name.node, "t");
    assert_eq!(b.header.period, months(12));
    assert_eq!(b.header.total, None);
    let names: Vec<&str> = b.events.iter().map(|e| e.name.node.as_str()).collect();
    assert_eq!(names, ["arrears", "cascade_trip", "theft"]);
    let months_attr = AttrDecl {
        name: id("months"),
        ty: s(Type::Int),
        min: Some(s(num("1"))),
        max: None,
        allowed: None,
        default: None,
        optional: None,
        span: Span::default(),
    };
    assert_eq!(b.events[0].attrs, vec![months_attr]);
    assert_eq!(b.events[0].label, Some(id("拖欠电费")));
    let reach = &b.events[1].attrs[0];
    assert_eq!(reach.allowed, Some(vec![s(text("branch")), s(text("substation"))]));
    assert_eq!(reach.default, Some(s(text("branch"))));
    assert_eq!(
        b.events[1].attrs[1].default,
        Some(s(Literal::Date(Date::from_ymd(2026, 3, 31).unwrap_or_default())))
    );
    assert!(b.events[2].attrs.is_empty());
}

#[test]
fn assessed_dimension() {
    let b = book(
        r#"class power "动力户" default {
             dimension operations "经营行为" max 5
               O1 assessed score of latest assessment where dimension == "operations"
           }"#,
    );
    let class = &b.classes[0];
    assert!(class.default);
    assert_eq!(class.label, Some(id("动力户")));
    let want = Dimension {
        name: id("operations"),
        label: Some(id("经营行为")),
        max: s(num("5")),
        source: Source::Assessed(Assessed {
            clause: clause("O1", None),
            label: None,
            value: id("score"),
            kind: id("assessment"),
            filter: Some(cmp(CmpOp::Eq, var("dimension"), lit(text("operations")))),
            span: Span::default(),
        }),
        allow: None,
        span: Span::default(),
    };
    assert_eq!(class.dimensions, vec![want]);
}

#[test]
fn dimension_sources() {
    let b = book("class c { dimension a max 30 uses payment  dimension b max 2.5 { deduct 1 per k } }");
    let dims = &b.classes[0].dimensions;
    assert_eq!(dims[0].source, Source::Uses(id("payment")));
    assert_eq!(dims[1].max.node, num("2.5"));
    assert!(matches!(&dims[1].source, Source::Rules(rules) if rules.len() == 1));
}

#[test]
fn overrides_top_level_and_in_class() {
    let b = book(
        r#"class c { dimension legal max 10 uses legal  grade C when total < 60 }
           T2 "3、5项若为0即该客户信用度为D级" grade D when payment == 0 or legal == 0"#,
    );
    let want = Override {
        clause: clause("T2", None),
        label: Some(id("3、5项若为0即该客户信用度为D级")),
        grade: id("D"),
        when: or(
            cmp(CmpOp::Eq, var("payment"), lit(int("0"))),
            cmp(CmpOp::Eq, var("legal"), lit(int("0"))),
        ),
        span: Span::default(),
    };
    assert_eq!(b.overrides, vec![want]);
    assert_eq!(
        b.classes[0].overrides[0].when,
        cmp(CmpOp::Lt, var("total"), lit(int("60")))
    );
}

#[test]
fn grades() {
    let b = book("G1 \"四等六级\" grades { AAA >= 90, AA >= 80.5 D }");
    let band = |g: &str, min: Option<&str>| Band {
        grade: id(g),
        label: None,
        min: min.map(|m| s(num(m))),
        measures: None,
        span: Span::default(),
    };
    let want = Grades {
        clause: clause("G1", None),
        label: Some(id("四等六级")),
        bands: vec![band("AAA", Some("90")), band("AA", Some("80.5")), band("D", None)],
        span: Span::default(),
    };
    assert_eq!(b.grades, vec![want]);
}

// ── Text ────────────────────────────────────────────────────────────────────

#[test]
fn unicode_labels_and_ideographic_space() {
    let b = book("event 窃电\u{3000}\"窃电（偷电）😀\"\nrules 法律 { L1 deduct 30 per 窃电 }");
    assert_eq!(b.events[0].name.node, "窃电");
    assert_eq!(b.events[0].label, Some(id("窃电（偷电）😀")));
    assert_eq!(b.groups[0].rules[0].kind.select().kinds, vec![id("窃电")]);
    // Spans are byte offsets into the source.
    let src = format!("{HEADER}event 窃电 \"标签\" {{ x: int }}");
    let b = parse(&src).unwrap_or_else(|d| panic!("{}", d.message));
    let x = &b.events[0].attrs[0].name;
    assert_eq!(x.span.text(&src), "x");
    assert_eq!(b.events[0].label.as_ref().map(|l| l.span.text(&src)), Some("\"标签\""));
}

#[test]
fn string_escapes() {
    let b = book(r#"event e "say \"hi\" \\ back\nslash\tend""#);
    assert_eq!(b.events[0].label, Some(id("say \"hi\" \\ back\nslash\tend")));
    let b = parse("standard \"a \\\"quoted\\\" name\" period 1 month").unwrap_or_else(|d| panic!("{}", d.message));
    assert_eq!(b.header.name.node, "a \"quoted\" name");
}

// ── Expressions ─────────────────────────────────────────────────────────────

#[test]
fn operator_precedence() {
    // `not` binds tighter than `and`, `and` tighter than `or`.
    assert_eq!(
        condition("not a and b or c"),
        or(and(not(var("a")), var("b")), var("c"))
    );
    assert_eq!(condition("a or b and c"), or(var("a"), and(var("b"), var("c"))));
    // Comparisons bind tighter than `not`; parentheses group.
    assert_eq!(
        condition("not months == 1"),
        not(cmp(CmpOp::Eq, var("months"), lit(int("1"))))
    );
    assert_eq!(condition("(a or b) and c"), and(or(var("a"), var("b")), var("c")));
    assert_eq!(condition("a and b and c"), and(and(var("a"), var("b")), var("c")));
}

#[test]
fn comparisons_sets_and_literals() {
    assert_eq!(condition("months != 1"), cmp(CmpOp::Ne, var("months"), lit(int("1"))));
    assert_eq!(
        condition("score <= 0.5"),
        cmp(CmpOp::Le, var("score"), lit(Literal::Num(num("0.5"))))
    );
    assert_eq!(condition("score > -1"), cmp(CmpOp::Gt, var("score"), lit(int("-1"))));
    assert_eq!(
        condition("verified == false"),
        cmp(CmpOp::Eq, var("verified"), lit(Literal::Bool(false)))
    );
    assert_eq!(
        condition("on < 2026-01-31"),
        cmp(
            CmpOp::Lt,
            var("on"),
            lit(Literal::Date(Date::from_ymd(2026, 1, 31).unwrap_or_default()))
        )
    );
    assert_eq!(
        condition(r#"reach in {"branch", "substation"}"#),
        e(ExprKind::In(
            Box::new(var("reach")),
            vec![s(text("branch")), s(text("substation"))]
        ))
    );
    assert_eq!(condition("verified"), var("verified"));
    assert_eq!(int("1").ty(), Type::Int);
    assert_eq!(Literal::Num(num("1.0")).ty(), Type::Int);
    assert_eq!(Literal::Num(num("0.5")).ty(), Type::Decimal);
}

#[test]
fn equality_ignores_layout() {
    let a = book("rules g { P4 bonus 0.5 per arrears where months == 1 }");
    let b = book("rules g {\n  P4   bonus 0.5\n    per arrears   # comment\n    where months==1\n}");
    assert_eq!(a, b);
}

// ── Errors ──────────────────────────────────────────────────────────────────

#[test]
fn parse_errors_name_tokens_in_user_words() {
    let src = format!("{HEADER}rules legal \"法律\" deduct 10 per theft }}");
    let err = parse(&src).err().unwrap_or_else(|| panic!("should not parse"));
    assert_eq!(err.message, "expected `{`");
    assert_eq!(err.span().text(&src), "d");
    assert_eq!(err.labels[0].message, "found `deduct`");

    let err = parse(&format!("{HEADER}event e {{ months int }}"))
        .err()
        .unwrap_or_else(|| panic!("should not parse"));
    assert_eq!(err.message, "expected `:`");

    let err = parse("standard \"t\"")
        .err()
        .unwrap_or_else(|| panic!("should not parse"));
    assert!(err.message.contains("`period`"), "{}", err.message);
    assert!(!err.message.contains("kw_"), "{}", err.message);
}

#[test]
fn invalid_literals_are_errors_not_panics() {
    let err = parse(&format!("{HEADER}event e {{ d: date = 2026-02-30 }}")).err();
    assert_eq!(
        err.map(|d| d.message),
        Some("`2026-02-30` is not a valid date".to_string())
    );
    assert!(parse(&format!("{HEADER}rules g {{ deduct 0.0000001 per k }}")).is_err());
    assert!(parse(&format!(
        "{HEADER}rules g {{ deduct by count of k {{ 99999999999 => 1 }} }}"
    ))
    .is_err());
}
