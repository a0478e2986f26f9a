//! Properties of the satisfaction index on random surveys: every index and
//! block score lies in [0, 100], the interval holds the mean, the order of
//! customers in the log never changes a result, and the exact result agrees
//! with a plain floating-point reading of `docs/csi.md` to 10⁻⁶.

use std::io::Cursor;

use proptest::prelude::*;
use rulebook::date::Date;
use rulebook::index::group::{self, IndexResult};
use rulebook::input::{self, Format, LoadOptions, Roster, Source};

const CSI: &str = include_str!("../../rules/csi.rules");
const ITEMS: [&str; 9] = [
    "reliability",
    "voltage",
    "accuracy",
    "price",
    "counter",
    "hotline",
    "repair",
    "image",
    "disclosure",
];
/// (block weight, [(item index, item weight)]) as in rules/csi.rules.
const MODEL: [(f64, &[(usize, f64)]); 4] = [
    (0.30, &[(0, 0.5), (1, 0.5)]),
    (0.25, &[(2, 0.6), (3, 0.4)]),
    (0.25, &[(4, 0.3), (5, 0.3), (6, 0.4)]),
    (0.20, &[(7, 0.5), (8, 0.5)]),
];

type Survey = [Option<u8>; 9];

fn as_of() -> Date {
    Date::parse("2026-06-30").expect("a date")
}

fn run(surveys: &[Survey], reversed: bool) -> IndexResult {
    let checked = rulebook::load(CSI).expect("csi.rules loads");
    let ix = checked.program.index.as_ref().expect("csi.rules has an index");
    let mut csv = format!("customer,date,kind,{}\n", ITEMS.join(","));
    let mut rows: Vec<String> = surveys
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let cells: Vec<String> = s.iter().map(|v| v.map_or(String::new(), |v| v.to_string())).collect();
            format!("C{i:03},2026-03-01,survey,{}\n", cells.join(","))
        })
        .collect();
    if reversed {
        rows.reverse();
    }
    csv.extend(rows);
    let source = Source {
        name: "survey.csv".into(),
        format: Format::Csv,
        reader: Box::new(Cursor::new(csv.into_bytes())),
        mapped: None,
    };
    let opts = LoadOptions {
        as_of: as_of(),
        strict: true,
        keep_going: false,
    };
    let log = input::load(vec![source], &checked.program.schema, &Roster::default(), opts).expect("valid surveys");
    group::run(ix, &log, &Roster::default(), &[], as_of()).expect("no overflow")
}

/// The reading of docs/csi.md in floats: each respondent's index, `None` if unanswered.
fn float_index(s: &Survey) -> Option<f64> {
    let (mut sum, mut weight) = (0.0, 0.0);
    for (bw, items) in MODEL {
        let answered: Vec<(f64, f64)> = items
            .iter()
            .filter_map(|&(i, w)| s[i].map(|x| (w, (f64::from(x) - 1.0) / 9.0 * 100.0)))
            .collect();
        if answered.is_empty() {
            continue;
        }
        let total: f64 = answered.iter().map(|a| a.0).sum();
        sum += bw * answered.iter().map(|(w, x)| w * x).sum::<f64>() / total;
        weight += bw;
    }
    (weight > 0.0).then(|| sum / weight)
}

fn survey() -> impl Strategy<Value = Survey> {
    proptest::array::uniform9(proptest::option::weighted(0.7, 1u8..=10))
}

fn value(r: &rulebook::index::big::Ratio) -> f64 {
    r.hundredths() as f64 / 100.0
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn results_are_bounded_order_free_and_agree_with_floats(surveys in proptest::collection::vec(survey(), 1..30)) {
        let result = run(&surveys, false);
        prop_assert_eq!(&result, &run(&surveys, true));
        let (_, g) = &result.groups[0];
        let floats: Vec<f64> = surveys.iter().filter_map(float_index).collect();
        prop_assert_eq!(g.respondents as usize, floats.len());
        prop_assert_eq!(g.unanswered as usize, surveys.len() - floats.len());
        match &g.index {
            None => prop_assert!(floats.is_empty()),
            Some(ix) => {
                let mean = floats.iter().sum::<f64>() / floats.len() as f64;
                let printed = value(ix);
                prop_assert!((0.0..=100.0).contains(&printed));
                prop_assert!((printed - mean).abs() <= 0.005 + 1e-6, "{} vs {}", printed, mean);
                if let Some((lo, hi)) = g.ci95 {
                    prop_assert!(lo as f64 / 100.0 <= printed + 1e-9 && printed <= hi as f64 / 100.0 + 1e-9);
                    let n = floats.len() as f64;
                    let s = (floats.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
                    let h = 1.96 * s / n.sqrt();
                    prop_assert!((hi as f64 / 100.0 - (mean + h)).abs() <= 0.01, "{} vs {}", hi, mean + h);
                    prop_assert!((lo as f64 / 100.0 - (mean - h)).abs() <= 0.01, "{} vs {}", lo, mean - h);
                } else {
                    prop_assert!(floats.len() < 2);
                }
            }
        }
        for b in g.blocks.iter().flatten() {
            prop_assert!((0.0..=100.0).contains(&value(b)));
        }
    }
}
