//! Farrington and Noufaily over 10 000 weekly series of 520 weeks (ten years), assessing the
//! last week of each, on one core. Prints the figures; `cargo bench -p dhis2gw-detect --bench
//! farrington`. Goal: under 2 s for each method.

use std::hint::black_box;
use std::time::Instant;

use dhis2gw_detect::farrington::{self, FarringtonParams};
use dhis2gw_detect::{IsoWeek, WeeklySeries};

const SERIES: usize = 10_000;
const WEEKS: usize = 520;

/// A small deterministic generator (xorshift64*), so every run sees the same series.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A Poisson count by counting exponential gaps (Knuth); means here stay below 200.
    fn poisson(&mut self, mean: f64) -> f64 {
        let limit = (-mean).exp();
        let mut product = self.uniform();
        let mut k = 0.0;
        while product > limit {
            product *= self.uniform();
            k += 1.0;
        }
        k
    }
}

/// Seasonal series with district-sized means from under one case a week to about forty, a
/// few outbreaks, and now and then a missing week.
fn make_series(rng: &mut Rng, start: IsoWeek) -> WeeklySeries {
    let base = 0.3 + 40.0 * rng.uniform().powi(2);
    let amplitude = 0.8 * rng.uniform();
    let phase = rng.uniform() * std::f64::consts::TAU;
    let counts = (0..WEEKS)
        .map(|i| {
            if rng.uniform() < 0.01 {
                return None;
            }
            let season = (i as f64 / 52.18 * std::f64::consts::TAU + phase).sin();
            let mut mean = base * (amplitude * season).exp();
            if rng.uniform() < 0.02 {
                mean *= 3.0;
            }
            Some(rng.poisson(mean))
        })
        .collect();
    WeeklySeries::new(start, counts)
}

fn run(name: &str, all: &[WeeklySeries], params: &FarringtonParams) {
    let started = Instant::now();
    let (mut alarms, mut bounds) = (0, 0);
    for series in all {
        let week = series.end().expect("series are not empty");
        let a = farrington::assess(black_box(series), week, params).expect("enough history");
        alarms += usize::from(a.alarm);
        bounds += usize::from(a.upper_bound.is_some());
    }
    let elapsed = started.elapsed();
    println!(
        "{name:<10} {} series x {WEEKS} weeks, last week: {:>7.3} s ({:.1} µs a series; \
         {bounds} bounds, {alarms} alarms)",
        all.len(),
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / all.len() as f64,
    );
}

fn main() {
    let start: IsoWeek = "2016W01".parse().expect("a valid week");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let all: Vec<WeeklySeries> = (0..SERIES).map(|_| make_series(&mut rng, start)).collect();
    let defaults = serde_json::Map::new();
    for (name, noufaily) in [("farrington", false), ("noufaily", true)] {
        let params = FarringtonParams::from_params(&defaults, noufaily).expect("defaults");
        // One warm-up pass, then the measured one.
        run(&format!("{name}*"), &all[..SERIES / 10], &params);
        run(name, &all, &params);
    }
}
