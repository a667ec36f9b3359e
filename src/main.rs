//! The `innograph` binary: everything is in the library; this only runs the command line.

fn main() {
    match innograph::cli::run() {
        Ok(code) => std::process::exit(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::exit(2);
        }
    }
}
