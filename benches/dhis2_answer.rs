//! How long reading one DHIS2 answer to `POST /api/dataValueSets` takes: every delivery reads
//! one. `cargo bench --bench dhis2_answer` prints nanoseconds per answer for the recorded
//! answers of DHIS2 2.38 (success) and 2.40+ (409 with conflicts), next to what building a
//! complete `serde_json::Value` tree of the same body costs (what the parser did before it
//! learned to skip the fields it does not read).

use std::hint::black_box;
use std::time::Instant;

use dhis2gw::dhis2::parse_data_value_set_response;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ANSWERS: [(&str, u16, &str); 2] = [
    (
        "2.38 success",
        200,
        include_str!("../tests/fixtures/dhis2/datavaluesets_post_success_2.38.json"),
    ),
    (
        "2.40 conflicts",
        409,
        include_str!(
            "../tests/fixtures/dhis2/datavaluesets_post_conflicts_409_WARNING_2.40plus.json"
        ),
    ),
];

/// Nanoseconds per call of `f`, the best of five rounds of `n` calls.
fn ns_per_call(n: u32, mut f: impl FnMut()) -> f64 {
    (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..n {
                f();
            }
            start.elapsed().as_nanos() as f64 / f64::from(n)
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    const N: u32 = 100_000;
    println!("reading a DHIS2 answer to POST /api/dataValueSets (best of 5 × {N}):");
    for (name, status, body) in ANSWERS {
        parse_data_value_set_response(status, body).expect(name);
        let parse = ns_per_call(N, || {
            black_box(parse_data_value_set_response(status, black_box(body)).ok());
        });
        let tree = ns_per_call(N, || {
            black_box(serde_json::from_str::<serde_json::Value>(black_box(body)).ok());
        });
        println!(
            "  {name:<15} {:>5} bytes: parse_data_value_set_response {parse:>6.0} ns; \
             a whole serde_json::Value of it {tree:>6.0} ns",
            body.len()
        );
    }
}
