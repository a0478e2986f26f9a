//! Report stage: the Excel workbook of `score --format xlsx` (rust_xlsxwriter):
//! a results sheet, one row per customer under the rulebook's labels
//! (客户, 类别, 总分, 等级, each dimension's label, 措施, 标记…) with numbers
//! as numbers, a frozen header, filters and widths that fit Chinese text;
//! and a sheet with the grade distribution by class and by each `--by`
//! column, each with a stacked column chart. Returns the file's bytes.

use rust_xlsxwriter::{Chart, ChartType, Format, Workbook, Worksheet, XlsxError};

use super::columns::{Cell, Headers, Layout};
use super::summary::{shown, Distribution};
use super::{display_width, Scored};
use crate::eval::Program;
use crate::num::Num;

/// The results sheet's name.
pub const RESULTS: &str = "评分结果";
/// The grade distribution sheet's name.
pub const DISTRIBUTION: &str = "等级分布";

/// Rows of one Excel sheet, the header included.
const MAX_ROWS: usize = 1_048_576;

/// Why a workbook could not be made.
#[derive(Debug)]
pub struct WorkbookError(pub String);

impl std::fmt::Display for WorkbookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<XlsxError> for WorkbookError {
    fn from(e: XlsxError) -> Self {
        WorkbookError(format!("cannot make the workbook: {e}"))
    }
}

/// A number as Excel stores it: the nearest binary float to the exact value.
fn float(n: Num) -> f64 {
    n.raw() as f64 / 1_000_000.0
}

/// Column width in characters for text of this display width (CJK counts 2).
fn width(w: usize) -> f64 {
    (w.clamp(6, 48) + 2) as f64
}

/// The whole workbook: results (rows in customer order) and the distribution.
pub fn workbook(layout: &Layout<'_>, rows: &[Scored<'_>], dist: &Distribution) -> Result<Vec<u8>, WorkbookError> {
    if rows.len() >= MAX_ROWS {
        return Err(WorkbookError(format!(
            "{} customers do not fit in one Excel sheet ({} rows at most): use --format csv",
            rows.len(),
            MAX_ROWS - 1
        )));
    }
    let mut wb = Workbook::new();
    results(wb.add_worksheet(), layout, rows)?;
    distribution(wb.add_worksheet(), layout.prog(), dist)?;
    Ok(wb.save_to_buffer()?)
}

fn header_format() -> Format {
    Format::new().set_bold().set_background_color("#DDEBF7")
}

fn results(ws: &mut Worksheet, layout: &Layout<'_>, rows: &[Scored<'_>]) -> Result<(), WorkbookError> {
    ws.set_name(RESULTS)?;
    let bold = header_format();
    let headers = layout.headers(Headers::Labels);
    let mut widths: Vec<usize> = headers.iter().map(|h| display_width(h)).collect();
    for (c, h) in (0u16..).zip(&headers) {
        ws.write_string_with_format(0, c, h.as_ref(), &bold)?;
    }
    for (r, s) in (1u32..).zip(rows) {
        for ((c, cell), w) in (0u16..).zip(layout.cells(s)).zip(widths.iter_mut()) {
            match cell {
                Cell::Number(n) => {
                    ws.write_number(r, c, float(n))?;
                    *w = (*w).max(n.to_string().len());
                }
                Cell::Text(t) => {
                    ws.write_string(r, c, t.as_ref())?;
                    *w = (*w).max(display_width(&t));
                }
                Cell::Empty => {}
            }
        }
    }
    for (c, w) in (0u16..).zip(&widths) {
        ws.set_column_width(c, width(*w))?;
    }
    ws.set_freeze_panes(1, 0)?;
    let last_col = u16::try_from(headers.len().saturating_sub(1)).unwrap_or(u16::MAX);
    let last_row = u32::try_from(rows.len()).unwrap_or(u32::MAX);
    ws.autofilter(0, 0, last_row, last_col)?;
    Ok(())
}

/// One block per grouping (header, a row per value, the total), each with a
/// stacked column chart of customers per grade to its right.
fn distribution(ws: &mut Worksheet, prog: &Program, dist: &Distribution) -> Result<(), WorkbookError> {
    ws.set_name(DISTRIBUTION)?;
    let bold = header_format();
    let ngrades = u16::try_from(dist.grades.len()).unwrap_or(u16::MAX);
    let mut row: u32 = 0;
    let mut first_width = 6;
    for g in &dist.groupings {
        let label = if g.column == "class" {
            "类别"
        } else {
            g.column.as_str()
        };
        first_width = first_width.max(display_width(label));
        ws.write_string_with_format(row, 0, label, &bold)?;
        ws.write_string_with_format(row, 1, "客户数", &bold)?;
        for (c, grade) in (2u16..).zip(&dist.grades) {
            ws.write_string_with_format(row, c, grade, &bold)?;
        }
        let head = row;
        for (value, counts, n) in g.rows() {
            row += 1;
            // A class by its label: 动力户（power）.
            let value = match prog.classes.iter().find(|c| g.column == "class" && c.name == value) {
                Some(c) => c
                    .label
                    .as_ref()
                    .map_or(c.name.clone(), |l| format!("{l}（{}）", c.name)),
                None => shown(value).to_string(),
            };
            first_width = first_width.max(display_width(&value));
            ws.write_string(row, 0, &value)?;
            ws.write_number(row, 1, n as f64)?;
            for (c, k) in (2u16..).zip(counts) {
                ws.write_number(row, c, *k as f64)?;
            }
        }
        let last = row;
        row += 1;
        ws.write_string_with_format(row, 0, "合计", &bold)?;
        ws.write_number_with_format(row, 1, dist.customers() as f64, &bold)?;
        for (c, k) in (2u16..).zip(&dist.total) {
            ws.write_number_with_format(row, c, *k as f64, &bold)?;
        }
        if last > head {
            let mut chart = Chart::new(ChartType::ColumnStacked);
            for c in 2..2 + ngrades {
                chart
                    .add_series()
                    .set_name((DISTRIBUTION, head, c))
                    .set_categories((DISTRIBUTION, head + 1, 0, last, 0))
                    .set_values((DISTRIBUTION, head + 1, c, last, c));
            }
            chart.title().set_name(&format!("等级分布（按{label}）"));
            chart.y_axis().set_name("客户数");
            chart.set_width(520).set_height(300);
            ws.insert_chart(head, 3 + ngrades, &chart)?;
        }
        // Leave room for the chart (about 15 rows) before the next block.
        row = row.max(head + 16) + 2;
    }
    ws.set_column_width(0, width(first_width))?;
    Ok(())
}
