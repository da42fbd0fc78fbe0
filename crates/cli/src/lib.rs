//! Library side of the `shouwang` binary: the demo data generator, shared with the benchmark.

/// mimalloc for the binaries (and the tests that drive them): imports and exports allocate many
/// short strings per row, and glibc's allocator took about a quarter of a large import's time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod demo;
pub mod export;
pub mod import;
pub mod reconcile;
