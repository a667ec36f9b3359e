//! Rebuilds the binary when the bundled seed or the web assets change, since both are embedded.

fn main() {
    println!("cargo:rerun-if-changed=seed");
    println!("cargo:rerun-if-changed=assets");
}
