//! The migrations in `db/migrations/` are embedded by refinery's macro, whose reads cargo does not
//! track: without this, a new or edited migration would not reach the binary until some other
//! change rebuilt the crate.
fn main() {
    println!("cargo:rerun-if-changed=db/migrations");
}
