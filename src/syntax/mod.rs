//! Syntax stage: source text → pest pairs → AST (`parse`), with parse errors
//! in the user's words.

pub mod ast;
mod lower;
pub mod scan;

use pest::Parser;

use crate::diagnostic::Diagnostic;
use crate::span::Span;

/// The pest parser generated from `grammar/rulebook.pest`.
#[derive(pest_derive::Parser)]
#[grammar = "../grammar/rulebook.pest"]
pub struct RulebookParser;

/// Parses a rulebook. A syntax error is one diagnostic at the failing token.
pub fn parse(src: &str) -> Result<ast::Rulebook, Diagnostic> {
    limits(src)?;
    let mut pairs = RulebookParser::parse(Rule::file, src).map_err(|e| syntax_error(src, e))?;
    let file = pairs
        .next()
        .ok_or_else(|| Diagnostic::error("empty rulebook", Span::default(), "nothing to read"))?;
    lower::file(file)
}

/// How deep parentheses and `not`s may nest, and how many `and`/`or` a file may
/// hold. Real rulebooks stay far below; the limits keep the recursive parser,
/// checker and evaluator off the stack's edge for any input. The checker's
/// nesting pass reads the same limit.
pub const MAX_NESTING: usize = 256;
const MAX_CONNECTIVES: usize = 10_000;

/// Rejects, before parsing, a file whose conditions nest beyond the limits.
/// Only code counts: texts and comments are skipped by the one scanner.
fn limits(src: &str) -> Result<(), Diagnostic> {
    let (mut depth, mut nots, mut connectives) = (0usize, 0usize, 0usize);
    let too_deep = |at: usize, what: &str| {
        Diagnostic::error(
            format!("{what} nest more than {MAX_NESTING} deep"),
            Span::new(at, at + 1),
            "too deep here",
        )
        .with_help("split the condition into simpler rules")
    };
    for (_, range) in scan::scan(src, 0).filter(|(piece, _)| *piece == scan::Piece::Code) {
        let code = src.get(range.clone()).unwrap_or("");
        let mut word_start: Option<usize> = None;
        for (i, c) in code.char_indices().chain(std::iter::once((code.len(), ' '))) {
            let is_word = c.is_alphanumeric() || c == '_';
            match (word_start, is_word) {
                (None, true) => word_start = Some(i),
                (Some(start), false) => {
                    word_start = None;
                    let at = range.start + start;
                    match code.get(start..i) {
                        Some("not") => {
                            nots += 1;
                            if nots > MAX_NESTING {
                                return Err(too_deep(at, "`not`s"));
                            }
                        }
                        Some("and" | "or") => {
                            nots = 0;
                            connectives += 1;
                            if connectives > MAX_CONNECTIVES {
                                return Err(Diagnostic::error(
                                    format!("more than {MAX_CONNECTIVES} `and`/`or` in one rulebook"),
                                    Span::new(at, range.start + i),
                                    "one too many",
                                ));
                            }
                        }
                        _ => nots = 0,
                    }
                }
                _ => {}
            }
            match c {
                '(' => {
                    depth += 1;
                    if depth > MAX_NESTING {
                        return Err(too_deep(range.start + i, "parentheses"));
                    }
                }
                ')' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    Ok(())
}

/// A pest error as a diagnostic: "expected `{`", pointing at one character.
fn syntax_error(src: &str, e: pest::error::Error<Rule>) -> Diagnostic {
    let at = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let width = src
        .get(at..)
        .and_then(|rest| rest.chars().next())
        .map_or(0, char::len_utf8);
    let span = Span::new(at, at + width);
    let found = match src.get(at..).and_then(|r| r.chars().next()) {
        None => "the end of the file".to_string(),
        Some(c) if c.is_alphanumeric() || c == '_' => {
            let rest = src.get(at..).unwrap_or("");
            let word: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .take(40)
                .collect();
            format!("`{word}`")
        }
        Some(c) => format!("`{c}`"),
    };
    let expected = match &e.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => expected_list(positives),
        pest::error::ErrorVariant::CustomError { message } => message.clone(),
    };
    let message = if expected.is_empty() {
        format!("unexpected {found}")
    } else {
        format!("expected {expected}")
    };
    let d = Diagnostic::error(message, span, format!("found {found}"));
    match src.get(at..).and_then(|r| r.chars().next()).and_then(ascii_for) {
        Some((ascii, what)) => d.with_help(format!(
            "this is the full-width {what} `{}` of a Chinese input method; type `{ascii}` instead (switch the input method to half-width, or English)",
            src.get(at..).and_then(|r| r.chars().next()).unwrap_or(' ')
        )),
        None => d,
    }
}

/// The ASCII character a policy officer meant when a Chinese input method
/// typed a full-width one, and what it is called.
pub fn ascii_for(c: char) -> Option<(char, &'static str)> {
    Some(match c {
        '“' | '”' | '＂' => ('"', "quotation mark"),
        '‘' | '’' | '＇' => ('"', "quotation mark"),
        '，' | '、' => (',', "comma"),
        '：' => (':', "colon"),
        '；' => (';', "semicolon"),
        '（' => ('(', "parenthesis"),
        '）' => (')', "parenthesis"),
        '｛' => ('{', "brace"),
        '｝' => ('}', "brace"),
        '＝' => ('=', "equals sign"),
        '＞' => ('>', "greater-than sign"),
        '＜' => ('<', "less-than sign"),
        '＋' => ('+', "plus sign"),
        '－' => ('-', "minus sign"),
        '．' | '。' => ('.', "full stop"),
        '＃' => ('#', "number sign"),
        '０'..='９' => (
            char::from_digit(u32::from(c) - u32::from('０'), 10).expect("a full-width digit is 0-9"),
            "digit",
        ),
        _ => return None,
    })
}

/// "`{`, `dimension` or `}`": the tokens a parse could have continued with.
fn expected_list(rules: &[Rule]) -> String {
    let mut words: Vec<&str> = rules.iter().map(|r| describe(*r)).collect();
    words.sort_unstable();
    words.dedup();
    match words.as_slice() {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// A grammar rule in the words of the language reference.
pub fn describe(r: Rule) -> &'static str {
    use Rule::*;
    match r {
        EOI => "the end of the file",
        file | item => "a declaration (`event`, `rules`, `class`, `grades`, `index` or an override)",
        header | kw_standard => "`standard`",
        period | kw_period => "`period`",
        total | kw_total => "`total`",
        event_decl | kw_event => "`event`",
        attr_block | lbrace | rule_block | tiers | literal_set => "`{`",
        rbrace => "`}`",
        lparen => "`(`",
        rparen => "`)`",
        comma => "`,`",
        colon => "`:`",
        assign | default => "`=`",
        arrow => "`=>`",
        ge | min_bound => "`>=`",
        times | multiplier => "`x`",
        attr => "an attribute (`name: type`)",
        type_name | kw_int | kw_decimal | kw_bool | kw_text | kw_date => {
            "a type (`int`, `decimal`, `bool`, `text` or `date`)"
        }
        constraint | allowed => "`>=` or `in`",
        group_decl | kw_rules => "`rules`",
        rule | rule_body | per_event_rule | once_rule | absence_rule | count_rule | episode_rule => {
            "a rule (`deduct` or `bonus`)"
        }
        effect | kw_deduct | kw_bonus => "`deduct` or `bonus`",
        kw_per => "`per`",
        kw_once => "`once`",
        kw_if => "`if`",
        kw_any => "`any`",
        kw_no => "`no`",
        kw_by => "`by`",
        kw_count => "`count`",
        kw_of => "`of`",
        kw_episode => "`episode`",
        severity | kw_severity => "`severity`",
        severity_max | kw_max => "`max`",
        severity_term | kw_length => "`length` or an attribute",
        selector | kinds => "an event kind",
        filter | kw_where => "`where`",
        window | kw_within => "`within`",
        duration => "a duration (`12 months`)",
        unit | kw_months | kw_years => "`months` or `years`",
        tier | tier_range => "a tier (`2 => 20`, `3+ => 30`)",
        tier_open => "`+`",
        tier_upto => "`..`",
        class_decl | kw_class => "`class`",
        kw_default => "`default`",
        dimension | kw_dimension => "`dimension`",
        dim_source => "`uses`, `like`, `assessed` or `{`",
        uses | kw_uses => "`uses`",
        assessed | kw_assessed => "`assessed`",
        kw_latest => "`latest`",
        override_decl | kw_grade => "`grade`",
        kw_when => "`when`",
        grades_decl | kw_grades => "`grades`",
        band => "a grade band (`AA >= 80`)",
        expr | primary | prefix | op_not | kw_not => "a condition",
        infix | op_or | op_and | kw_and | kw_or => "`and` or `or`",
        op_eq | op_ne | op_le | op_ge | op_lt | op_gt => "a comparison (`==`, `<`, ...)",
        postfix | op_in | kw_in => "`in`",
        literal => "a value",
        kw_true | kw_false => "`true` or `false`",
        name | reserved | ident_char => "a name",
        clause | clause_id => "a clause ID (`P1`)",
        string | string_inner => "a quoted text",
        number => "a number",
        integer => "a whole number",
        date => "a date (`2026-03-31`)",
        kw_version => "`version`",
        kw_optional => "`optional`",
        range_bound | dotdot => "`..`",
        index_decl | kw_index => "`index`",
        scale | kw_scale => "`scale`",
        index_block | kw_block => "`block`",
        index_item => "an item (`reliability weight 0.5`)",
        weight | kw_weight => "`weight`",
        total_rules | kw_on => "`rules on total`",
        replaces | kw_instead => "`instead of`",
        like | kw_like => "`like`",
        allow_over | kw_allow => "`allow over-deduction`",
        kw_over_deduction => "`over-deduction`",
        kw_because => "`because`",
        measures | kw_measures => "`measures`",
        at_least | kw_at | kw_least => "`at least`",
        WHITESPACE | COMMENT => "a space",
    }
}
