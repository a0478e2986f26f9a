//! Report stage for diagnostics: the only module that knows ariadne. Spans
//! are byte offsets, so ariadne runs with `IndexType::Byte`; Chinese labels
//! before an error would otherwise shift every underline.

use ariadne::{CharSet, Color, Config, IndexType, Label, Report, ReportKind, Source};

use crate::diagnostic::{Diagnostic, Level};

/// How to draw diagnostics.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: bool,
    pub ascii: bool,
}

impl Style {
    /// What tests snapshot: no colour, ASCII lines.
    pub const PLAIN: Style = Style {
        color: false,
        ascii: true,
    };
}

/// Renders diagnostics about `src`, named `file` in the output.
pub fn render(diags: &[Diagnostic], file: &str, src: &str, style: Style) -> String {
    let source = Source::from(src);
    let mut out = Vec::new();
    for d in diags {
        let config = Config::default()
            .with_color(style.color)
            .with_char_set(if style.ascii { CharSet::Ascii } else { CharSet::Unicode })
            .with_index_type(IndexType::Byte);
        let (kind, color) = match d.level {
            Level::Error => (ReportKind::Error, Color::Red),
            Level::Warning => (ReportKind::Warning, Color::Yellow),
        };
        let clamp = |r: std::ops::Range<usize>| {
            let end = r.end.min(src.len());
            r.start.min(end)..end
        };
        let mut report = Report::build(kind, (file, clamp(d.span().range())))
            .with_config(config)
            .with_message(&d.message);
        for label in &d.labels {
            let mut l = Label::new((file, clamp(label.span.range()))).with_message(&label.message);
            if style.color {
                l = l.with_color(color);
            }
            report = report.with_label(l);
        }
        if let Some(help) = &d.help {
            report = report.with_help(help);
        }
        // Writing into a Vec cannot fail; a failure would only lose this report.
        let _ = report.finish().write((file, &source), &mut out);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `file:line:col` of a byte offset (columns count characters, from 1).
pub fn location(file: &str, src: &str, offset: usize) -> String {
    let offset = offset.min(src.len());
    let before = src.get(..offset).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("{file}:{line}:{col}")
}
