//! Diagnostics read like the standard: `expect_err(src).message("…").underlines("…")`
//! pins the message and the exact text a label points at (byte spans, so
//! Chinese text before the error must not shift it).

use rulebook::diagnostic::Diagnostic;

struct Found {
    src: String,
    diags: Vec<Diagnostic>,
}

/// Loads `body` inside a small valid rulebook and expects it to be refused.
fn expect_err(body: &str) -> Found {
    let src = format!(
        "standard \"测试标准\" period 12 months\n\
         event arrears \"拖欠电费\" {{ months: int >= 1 }}\n\
         event trip \"越级跳闸\" {{ reach: text in {{\"branch\", \"substation\"}} }}\n\
         {body}\n\
         grades {{ A >= 20, D }}\n"
    );
    match rulebook::load(&src) {
        Ok(_) => panic!("expected an error, the rulebook loaded:\n{src}"),
        Err(diags) => Found { src, diags },
    }
}

impl Found {
    /// Some diagnostic has exactly this message; later calls look at it.
    fn message(self, want: &str) -> Focused {
        let Some(d) = self.diags.iter().find(|d| d.message == want) else {
            let got: Vec<&str> = self.diags.iter().map(|d| d.message.as_str()).collect();
            panic!("no diagnostic `{want}`; got {got:?}");
        };
        Focused {
            d: d.clone(),
            src: self.src,
        }
    }
}

struct Focused {
    d: Diagnostic,
    src: String,
}

impl Focused {
    /// The diagnostic's first label covers exactly `text`.
    fn underlines(self, text: &str) -> Self {
        let got = self.d.span().text(&self.src);
        assert_eq!(got, text, "`{}` underlines {got:?}", self.d.message);
        self
    }

    fn help_mentions(self, text: &str) -> Self {
        let help = self.d.help.clone().unwrap_or_default();
        assert!(help.contains(text), "help of `{}` is {help:?}", self.d.message);
        self
    }
}

#[test]
fn an_unknown_attribute_is_underlined_after_chinese_labels() {
    expect_err(
        "rules r \"付款\" { P1 \"拖欠电费\" deduct 10 per arrears where monthz == 1 }\n\
         class power \"动力户\" { dimension payment \"商业资信\" max 30 uses r }",
    )
    .message("unknown attribute `monthz`")
    .underlines("monthz")
    .help_mentions("months");
}

#[test]
fn an_unknown_event_kind_is_underlined() {
    expect_err(
        "rules r { deduct 10 per arrear }\n\
         class power { dimension payment max 30 uses r }",
    )
    .message("unknown event kind `arrear`")
    .underlines("arrear");
}

#[test]
fn text_compared_with_a_number_is_a_type_error() {
    expect_err(
        "rules r { deduct 10 per trip where reach == 3 }\n\
         class power { dimension safety max 30 uses r }",
    )
    .message("cannot compare text with int")
    .underlines("reach");
}

#[test]
fn a_tier_ladder_that_goes_backwards_is_refused() {
    expect_err(
        "rules r { deduct by count of arrears { 2 => 20, 1 => 10 } }\n\
         class power { dimension payment max 30 uses r }",
    )
    .message("tier `1` comes after the higher tier `2`")
    .underlines("1 => 10");
}

#[test]
fn an_override_naming_an_unknown_grade_is_underlined() {
    expect_err(
        "rules r { deduct 10 per arrears }\n\
         class power { dimension payment max 30 uses r }\n\
         T2 grade E when payment == 0",
    )
    .message("unknown grade `E`")
    .underlines("E");
}
