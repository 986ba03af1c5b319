//! `dhis2gw detect`: runs one detection method over a CSV of weekly counts and prints, as CSV,
//! what the method says about each assessed week. Needs no configuration, database or network,
//! so a surveillance officer or a tester can check a rule on a file.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use dhis2gw_detect::{IsoWeek, Method, MissingPolicy, WeeklySeries};
use serde_json::{Map, Value};

/// Bad input (unknown method, bad parameter, bad week, negative count, too little history).
const EXIT_BAD_INPUT: u8 = 2;

#[derive(Debug, Args)]
pub struct DetectArgs {
    /// Method: one_case, cluster, doubling, ratio_to_mean, incidence, rolling_sum, c1, c2, c3,
    /// cusum, historical, p75, farrington, noufaily (see docs/alerts.md).
    #[arg(long)]
    pub method: String,
    /// A method parameter, e.g. `--param alpha=0.001`; repeat for more.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// First week to assess (e.g. 2026W40 or 2026-W40); default: the same as --to.
    #[arg(long, value_name = "WEEK")]
    pub from: Option<String>,
    /// Last week to assess; default: the last week of the input.
    #[arg(long, value_name = "WEEK")]
    pub to: Option<String>,
    /// What a week with an empty count means: skip (not reported) or zero.
    #[arg(long, value_name = "skip|zero", default_value = "skip")]
    pub missing: String,
    /// Add a `reason` column: the sentence an alert would carry.
    #[arg(long)]
    pub reason: bool,
    /// CSV with the header `week,count` (ISO weeks, oldest first; an empty count is missing),
    /// optionally with a third column `population` for the incidence method.
    #[arg(value_name = "INPUT.csv")]
    pub input: PathBuf,
}

/// Prints the assessment on stdout, or one line on stderr and exit status 2.
pub fn run(args: &DetectArgs) -> ExitCode {
    match detect(args) {
        Ok(csv) => {
            print!("{csv}");
            ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("dhis2gw detect: {problem}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

fn detect(args: &DetectArgs) -> Result<String, String> {
    let method =
        Method::parse(&args.method, &parse_params(&args.params)?).map_err(|e| e.to_string())?;
    let missing: MissingPolicy = args
        .missing
        .parse()
        .map_err(|e: dhis2gw_detect::DetectError| e.to_string())?;
    let text = std::fs::read_to_string(&args.input)
        .map_err(|e| format!("cannot read {}: {e}", args.input.display()))?;
    let (counts, population) = read_series(&text)?;
    let end = counts.end().ok_or("the input has no weeks")?;
    let week = |text: &Option<String>, flag: &str| {
        text.as_deref()
            .map(|t| t.parse::<IsoWeek>().map_err(|e| format!("--{flag}: {e}")))
            .transpose()
    };
    let to = week(&args.to, "to")?.unwrap_or(end);
    let from = week(&args.from, "from")?.unwrap_or(to);
    if from > to {
        return Err(format!("--from {from} is after --to {to}"));
    }
    let assessments = method
        .assess_with_population(&counts, population.as_ref(), from..=to, missing)
        .map_err(|e| e.to_string())?;
    let mut out = String::from("week,count,expected,upper_bound,score,alarm");
    out.push_str(if args.reason { ",reason\n" } else { "\n" });
    let cell = |x: Option<f64>| x.map(|x| x.to_string()).unwrap_or_default();
    for a in assessments {
        let _ = write!(
            out,
            "{},{},{},{},{},{}",
            a.week,
            cell(a.count),
            cell(a.expected),
            cell(a.upper_bound),
            cell(a.score),
            u8::from(a.alarm)
        );
        if args.reason {
            let _ = write!(out, ",\"{}\"", a.reason.replace('"', "\"\""));
        }
        out.push('\n');
    }
    Ok(out)
}

/// `NAME=VALUE` pairs as the JSON object a rule holds (values as text; the method reads them).
fn parse_params(pairs: &[String]) -> Result<Map<String, Value>, String> {
    let mut map = Map::new();
    for pair in pairs {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("--param {pair:?}: expected NAME=VALUE"))?;
        if map
            .insert(
                name.trim().to_owned(),
                Value::String(value.trim().to_owned()),
            )
            .is_some()
        {
            return Err(format!("--param {name} is given twice"));
        }
    }
    Ok(map)
}

/// The counts (and the population, when the file has that column) as weekly series.
fn read_series(text: &str) -> Result<(WeeklySeries, Option<WeeklySeries>), String> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| format!("input: {e}"))?.clone();
    let with_population = match header.iter().collect::<Vec<_>>().as_slice() {
        ["week", "count"] => false,
        ["week", "count", "population"] => true,
        _ => return Err("input: the header must be week,count (or week,count,population)".into()),
    };
    let mut counts = Vec::new();
    let mut population = Vec::new();
    let mut previous: Option<IsoWeek> = None;
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let record = record.map_err(|e| format!("input line {line}: {e}"))?;
        let week: IsoWeek = record[0]
            .parse()
            .map_err(|e| format!("input line {line}: {e}"))?;
        if previous.is_some_and(|p| p >= week) {
            return Err(format!(
                "input line {line}: {week} is not after the week before (weeks go oldest first)"
            ));
        }
        previous = Some(week);
        let number = |cell: &str, what: &str| -> Result<Option<f64>, String> {
            if cell.is_empty() {
                return Ok(None);
            }
            match cell.parse::<f64>() {
                Ok(x) if x >= 0.0 && x.is_finite() => Ok(Some(x)),
                _ => Err(format!(
                    "input line {line}: {what} {cell:?} is not a number of zero or more"
                )),
            }
        };
        counts.push((week, number(&record[1], "count")?));
        if with_population {
            population.push((week, number(record.get(2).unwrap_or(""), "population")?));
        }
    }
    let counts = WeeklySeries::from_pairs(counts).ok_or("the input has no weeks")?;
    Ok((counts, WeeklySeries::from_pairs(population)))
}
