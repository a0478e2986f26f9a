//! Report stage: small inline SVG charts for the HTML report — grouped
//! column charts with their values written on the bars, and a diverging bar
//! (downgrades left, upgrades right). No script, no fonts fetched: text uses
//! the reader's CJK fonts.

use std::fmt::Write as _;

use super::html::esc;

/// One series of a column chart.
pub struct Series<'a> {
    pub name: &'a str,
    /// A CSS colour.
    pub color: &'a str,
    /// One value per category.
    pub values: Vec<u64>,
}

/// A grouped column chart, `width` × `height` pixels; a legend when there
/// is more than one series.
pub fn columns(categories: &[String], series: &[Series<'_>], width: u32, height: u32) -> String {
    let (left, right, top, bottom) = (8.0, 8.0, if series.len() > 1 { 26.0 } else { 18.0 }, 34.0);
    let (w, h) = (f64::from(width), f64::from(height));
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let n = categories.len().max(1) as f64;
    let group = plot_w / n;
    let bar = (group * 0.72 / series.len().max(1) as f64).min(48.0);
    let mut out = format!(
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\">"
    );
    let base = top + plot_h;
    let _ = write!(
        out,
        "<line x1=\"{left}\" y1=\"{base}\" x2=\"{:.1}\" y2=\"{base}\" stroke=\"#999\"/>",
        w - right
    );
    for (ci, cat) in categories.iter().enumerate() {
        let gx = left + group * ci as f64;
        let span = bar * series.len() as f64;
        let x0 = gx + (group - span) / 2.0;
        for (si, s) in series.iter().enumerate() {
            let v = s.values.get(ci).copied().unwrap_or(0);
            let bh = plot_h * v as f64 / max;
            let x = x0 + bar * si as f64;
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{}\"><title>{} {}: {v}</title></rect>",
                base - bh,
                (bar - 2.0).max(1.0),
                s.color,
                esc(cat),
                esc(s.name)
            );
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" class=\"v\" text-anchor=\"middle\">{v}</text>",
                x + bar / 2.0 - 1.0,
                base - bh - 3.0
            );
        }
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"c\" text-anchor=\"middle\">{}</text>",
            gx + group / 2.0,
            base + 18.0,
            esc(cat)
        );
    }
    if series.len() > 1 {
        let mut x = left;
        for s in series {
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"4\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{:.1}\" y=\"14\" class=\"c\">{}</text>",
                s.color,
                x + 16.0,
                esc(s.name)
            );
            x += 28.0 + 14.0 * s.name.chars().count() as f64;
        }
    }
    out.push_str("</svg>");
    out
}

/// Downgrades as a red bar to the left of the middle, upgrades as a green
/// one to the right, both scaled to `max`.
pub fn diverging(down: u64, up: u64, max: u64) -> String {
    let (w, h, mid) = (220.0, 16.0, 110.0);
    let scale = |v: u64| 104.0 * v as f64 / max.max(1) as f64;
    let (dw, uw) = (scale(down), scale(up));
    format!(
        "<svg class=\"bar\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\"><rect x=\"{:.1}\" y=\"2\" width=\"{dw:.1}\" height=\"12\" fill=\"#d9534f\"/><rect x=\"{mid}\" y=\"2\" width=\"{uw:.1}\" height=\"12\" fill=\"#4caf50\"/><line x1=\"{mid}\" y1=\"0\" x2=\"{mid}\" y2=\"{h}\" stroke=\"#666\"/></svg>",
        mid - dw
    )
}
