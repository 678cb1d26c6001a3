//! `ops-monitor`: see the library crate for the pieces.

fn main() {
    std::process::exit(ops_framework::cli::main());
}
