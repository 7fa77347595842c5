//! The result table: one row per measurement, the median of the runs, each
//! run, the ratio to the raw baseline and the target.

use crate::stats::median;

/// One row.
pub struct Row {
    pub name: String,
    pub unit: &'static str,
    /// One value per run.
    pub values: Vec<f64>,
    /// The baseline's values, for the ratio column.
    pub baseline: Option<Vec<f64>>,
    /// What the issue asks for, e.g. `>= 0.35 x raw`.
    pub target: Option<Target>,
}

/// A target for a row.
pub enum Target {
    /// The ratio to the baseline is at least this.
    RatioAtLeast(f64),
    /// The value is at most this.
    AtMost(f64),
}

impl Row {
    pub fn new(name: impl Into<String>, unit: &'static str, values: Vec<f64>) -> Self {
        Self {
            name: name.into(),
            unit,
            values,
            baseline: None,
            target: None,
        }
    }

    pub fn against(mut self, baseline: &[f64]) -> Self {
        self.baseline = Some(baseline.to_vec());
        self
    }

    pub fn target(mut self, target: Target) -> Self {
        self.target = Some(target);
        self
    }

    /// The median of the per-run ratios (each run against the baseline of
    /// the same run: the machine's noise cancels out).
    fn ratio(&self) -> Option<f64> {
        let baseline = self.baseline.as_ref()?;
        let ratios: Vec<f64> = self
            .values
            .iter()
            .zip(baseline)
            .map(|(v, b)| v / b)
            .collect();
        median(&ratios)
    }

    fn verdict(&self) -> &'static str {
        match (&self.target, median(&self.values), self.ratio()) {
            (Some(Target::RatioAtLeast(min)), _, Some(ratio)) if ratio >= *min => "met",
            (Some(Target::AtMost(max)), Some(value), _) if value <= *max => "met",
            (Some(_), _, _) => "MISSED",
            (None, _, _) => "",
        }
    }
}

fn number(value: f64) -> String {
    if value >= 100.0 {
        let whole = value.round() as u64;
        let digits = whole.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// The table, as Markdown (it goes into BENCHMARKS.md as is).
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| measurement | median | unit | runs | ratio to raw | target | |\n|---|---:|---|---|---:|---|---|\n",
    );
    for row in rows {
        let runs: Vec<String> = row.values.iter().map(|v| number(*v)).collect();
        let target = match &row.target {
            Some(Target::RatioAtLeast(min)) => format!(">= {min} x raw"),
            Some(Target::AtMost(max)) => format!("<= {} {}", number(*max), row.unit),
            None => String::new(),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            row.name,
            median(&row.values).map_or("-".into(), number),
            row.unit,
            runs.join(" / "),
            row.ratio().map_or(String::new(), |r| format!("{r:.2}")),
            target,
            row.verdict(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_per_run_and_targets_are_judged_on_medians() {
        let raw = vec![100.0, 200.0, 300.0];
        let rows = [
            Row::new("one hop", "msg/s", vec![50.0, 60.0, 90.0])
                .against(&raw)
                .target(Target::RatioAtLeast(0.35)),
            Row::new("p99", "ms", vec![6.0, 7.0, 8.0]).target(Target::AtMost(5.0)),
        ];
        let table = table(&rows);
        assert!(
            table.contains(
                "| one hop | 60.0 | msg/s | 50.0 / 60.0 / 90.0 | 0.30 | >= 0.35 x raw | MISSED |"
            ),
            "{table}"
        );
        assert!(
            table.contains("| p99 | 7.00 | ms | 6.00 / 7.00 / 8.00 |  | <= 5.00 ms | MISSED |"),
            "{table}"
        );
        assert_eq!(number(12_345.6), "12,346");
    }
}
