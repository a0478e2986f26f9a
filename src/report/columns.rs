//! Report stage: the columns of the flat score outputs (CSV, the Excel
//! results sheet, the table) — the pinned ones (`customer,class,total,grade`
//! and one per dimension), then as-of, flags, measures and the roster's own
//! columns (`branch`, `户名`…) — each with its name and its label in the
//! rulebook's words, and each customer's cell in it.

use std::borrow::Cow;

use super::Scored;
use crate::eval::Program;
use crate::input::Roster;
use crate::num::Num;

/// The measures of band `grade` (an index into `Program::bands`), as the
/// rulebook writes them (`预付电费；停电催费`); `None` when it has none.
pub fn band_measures(prog: &Program, grade: usize) -> Option<&str> {
    prog.bands.get(grade).and_then(|b| b.measures.as_deref())
}

/// One column of a flat output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Customer,
    Class,
    Total,
    Grade,
    /// Index into `Program::dimension_names()`.
    Dim(usize),
    AsOf,
    Flags,
    Measures,
    /// Index into `Roster::columns()`.
    Roster(usize),
}

/// What a column's header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Headers {
    /// The rulebook's labels, in its language: 客户, 类别, 总分, 等级, each dimension's label…
    Labels,
    /// Machine names: customer, class, total, grade, each dimension's name…
    Names,
}

/// A customer's value in one column.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell<'a> {
    Text(Cow<'a, str>),
    Number(Num),
    Empty,
}

impl Cell<'_> {
    /// The cell as CSV or table text.
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Cell::Text(t) => Cow::Borrowed(t),
            Cell::Number(n) => Cow::Owned(n.to_string()),
            Cell::Empty => Cow::Borrowed(""),
        }
    }
}

/// The columns of one output, in order.
pub struct Layout<'a> {
    prog: &'a Program,
    roster: &'a Roster,
    dims: Vec<&'a str>,
    pub columns: Vec<Column>,
}

impl<'a> Layout<'a> {
    /// Today's CSV: the pinned columns, measures when a grade has them, then
    /// the roster's own columns, if any.
    pub fn pinned(prog: &'a Program, roster: &'a Roster) -> Layout<'a> {
        let dims = prog.dimension_names();
        let mut columns = vec![Column::Customer, Column::Class, Column::Total, Column::Grade];
        columns.extend((0..dims.len()).map(Column::Dim));
        if prog.has_measures() {
            columns.push(Column::Measures);
        }
        columns.extend((0..roster.columns().len()).map(Column::Roster));
        Layout {
            prog,
            roster,
            dims,
            columns,
        }
    }

    /// Everything: the pinned columns, as-of, flags, measures, the roster's columns.
    pub fn full(prog: &'a Program, roster: &'a Roster) -> Layout<'a> {
        let dims = prog.dimension_names();
        let mut columns = vec![Column::Customer, Column::Class, Column::Total, Column::Grade];
        columns.extend((0..dims.len()).map(Column::Dim));
        columns.extend([Column::AsOf, Column::Flags, Column::Measures]);
        columns.extend((0..roster.columns().len()).map(Column::Roster));
        Layout {
            prog,
            roster,
            dims,
            columns,
        }
    }

    /// The rulebook whose results these are.
    pub fn prog(&self) -> &'a Program {
        self.prog
    }

    /// The header of column `c`.
    pub fn header(&self, c: Column, headers: Headers) -> Cow<'a, str> {
        let labels = headers == Headers::Labels;
        let fixed = |name: &'static str, label: &'static str| Cow::Borrowed(if labels { label } else { name });
        match c {
            Column::Customer => fixed("customer", "客户"),
            Column::Class => fixed("class", "类别"),
            Column::Total => fixed("total", "总分"),
            Column::Grade => fixed("grade", "等级"),
            Column::AsOf => fixed("as_of", "评价日期"),
            Column::Flags => fixed("flags", "标记"),
            Column::Measures => fixed("measures", "措施"),
            Column::Dim(i) => {
                let name = self.dims.get(i).copied().unwrap_or("");
                if labels {
                    Cow::Borrowed(dim_label(self.prog, name).unwrap_or(name))
                } else {
                    Cow::Borrowed(name)
                }
            }
            Column::Roster(i) => Cow::Borrowed(self.roster.columns().get(i).map_or("", |c| &**c)),
        }
    }

    /// Every header, in order.
    pub fn headers(&self, headers: Headers) -> Vec<Cow<'a, str>> {
        self.columns.iter().map(|&c| self.header(c, headers)).collect()
    }

    /// Customer `s`'s cell in column `c`; a dimension its class lacks is empty.
    pub fn cell<'s>(&self, c: Column, s: &'s Scored<'a>) -> Cell<'s>
    where
        'a: 's,
    {
        let text = |t: &'s str| Cell::Text(Cow::Borrowed(t));
        match c {
            Column::Customer => text(s.id()),
            Column::Class => text(s.class_name()),
            Column::Total => Cell::Number(s.outcome.total),
            Column::Grade => text(s.grade()),
            Column::Dim(i) => {
                let name = self.dims.get(i).copied().unwrap_or("");
                s.dimensions()
                    .find(|(n, _)| *n == name)
                    .map_or(Cell::Empty, |(_, v)| Cell::Number(v))
            }
            Column::AsOf => Cell::Text(Cow::Owned(s.as_of.to_string())),
            Column::Flags if s.outcome.flags.is_empty() => Cell::Empty,
            Column::Flags => Cell::Text(Cow::Owned(s.outcome.flags.join("; "))),
            Column::Measures => s.measures().map_or(Cell::Empty, text),
            Column::Roster(i) => self
                .roster
                .extra(s.id())
                .and_then(|v| v.get(i))
                .map_or(Cell::Empty, |v| text(v)),
        }
    }

    /// One customer's cells, in order.
    pub fn cells<'s>(&self, s: &'s Scored<'a>) -> Vec<Cell<'s>>
    where
        'a: 's,
    {
        self.columns.iter().map(|&c| self.cell(c, s)).collect()
    }

    /// The CSV header line (without newline).
    pub fn csv_header(&self, headers: Headers) -> String {
        super::csv_record(self.headers(headers))
    }

    /// One customer's CSV line (without newline).
    pub fn csv_row(&self, s: &Scored<'a>) -> String {
        super::csv_record(self.cells(s).iter().map(Cell::text))
    }
}

/// The label of the dimension `name` in the first class that has it.
pub fn dim_label<'p>(prog: &'p Program, name: &str) -> Option<&'p str> {
    prog.classes
        .iter()
        .flat_map(|c| &c.dims)
        .find(|d| d.name == name)
        .and_then(|d| d.label.as_deref())
}
