//! The engine's throughput, as issue 19 sets it: EARS C1 + C2 + C3 + CUSUM over 10 000 series of
//! 520 weeks, assessing the last 52 weeks of each, on one core (goal: under 1 s in release).
//! Farrington and Noufaily have their own benchmark (`benches/farrington.rs`).
//!
//! `cargo bench -p dhis2gw-detect` (release build). Prints one line per figure.

use std::hint::black_box;
use std::time::{Duration, Instant};

use dhis2gw_detect::{IsoWeek, Method, MissingPolicy, WeeklySeries};
use serde_json::Map;

const SERIES: usize = 10_000;
const WEEKS: u32 = 520;
const ASSESSED: u32 = 52;

/// A small deterministic generator (xorshift64*), so every run measures the same data.
struct Noise(u64);

impl Noise {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A Poisson count by Knuth's multiplication method (fine for the small means used here).
    fn poisson(&mut self, mean: f64) -> f64 {
        let limit = (-mean).exp();
        let (mut k, mut p) = (0.0, 1.0);
        loop {
            p *= self.uniform();
            if p <= limit {
                return k;
            }
            k += 1.0;
        }
    }
}

/// Seasonal weekly counts with a mean between 1 and 30 that differs per series.
fn make_series(start: IsoWeek, noise: &mut Noise) -> WeeklySeries {
    let level = 1.0 + 19.0 * noise.uniform();
    let counts = (0..WEEKS)
        .map(|t| {
            let season = 1.0 + 0.5 * (2.0 * std::f64::consts::PI * f64::from(t) / 52.0).sin();
            Some(noise.poisson(level * season))
        })
        .collect();
    WeeklySeries::new(start, counts)
}

fn method(name: &str) -> Method {
    Method::parse(name, &Map::new()).expect("default parameters")
}

/// CPU time of this thread so far (Linux's schedstat, in ns), which a busy machine does not
/// inflate the way it does wall time; `None` elsewhere.
fn cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// "0.412 s wall, 0.398 s CPU".
fn times(wall: Duration, cpu: Option<Duration>) -> String {
    match cpu {
        Some(cpu) => format!(
            "{:.3} s wall, {:.3} s CPU",
            wall.as_secs_f64(),
            cpu.as_secs_f64()
        ),
        None => format!("{:.3} s wall", wall.as_secs_f64()),
    }
}

/// Runs `methods` over every series for `weeks` weeks ending at the last; returns the time and
/// the number of alarms (printed, so the work cannot be optimised away).
fn run(methods: &[Method], all: &[WeeklySeries], weeks: u32) -> (String, usize) {
    let started = Instant::now();
    let cpu_started = cpu_time();
    let mut alarms = 0;
    for series in all {
        let to = series.end().expect("series are not empty");
        let from = to.minus(weeks - 1);
        for m in methods {
            let out = m
                .assess(black_box(series), from..=to, MissingPolicy::Skip)
                .expect("520 weeks are enough history");
            alarms += out.iter().filter(|a| a.alarm).count();
        }
    }
    let cpu = cpu_time().zip(cpu_started).map(|(end, start)| end - start);
    (times(started.elapsed(), cpu), alarms)
}

fn main() {
    let start: IsoWeek = "2016W1".parse().expect("a week");
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
    let made = Instant::now();
    let all: Vec<WeeklySeries> = (0..SERIES)
        .map(|_| make_series(start, &mut noise))
        .collect();
    println!(
        "data: {SERIES} series x {WEEKS} weeks made in {:.0} ms",
        made.elapsed().as_secs_f64() * 1e3
    );
    let assessments = SERIES * ASSESSED as usize;
    let ears_cusum: Vec<Method> = ["c1", "c2", "c3", "cusum"].map(method).to_vec();
    for m in &ears_cusum {
        let (took, alarms) = run(std::slice::from_ref(m), &all, ASSESSED);
        println!(
            "{:>6}: {assessments} weeks in {took}, {alarms} alarms",
            m.name()
        );
    }
    let (took, alarms) = run(&ears_cusum, &all, ASSESSED);
    println!(
        "c1 + c2 + c3 + cusum, {SERIES} series x last {ASSESSED} weeks, one core: {took} \
         (goal < 1 s), {alarms} alarms"
    );
}
