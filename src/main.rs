//! The `innograph` binary: everything is in the library; this only runs the command line.

/// mimalloc instead of the system allocator: the index holds millions of small allocations, and
/// building, freeing and answering with them was a fifth of the start-up and request time in glibc's
/// malloc (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    match innograph::cli::run() {
        Ok(code) => std::process::exit(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::exit(2);
        }
    }
}
