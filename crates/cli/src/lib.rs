//! Library side of the `shouwang` binary: the demo data generator, shared with the benchmark.

/// mimalloc for the binaries (and the tests that drive them): imports and exports allocate many
/// short strings per row, and glibc's allocator took about a quarter of a large import's time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

unsafe extern "C" {
    /// mimalloc's own: frees what it holds for later and, forced, returns the free pages of every
    /// arena to the system (the `mimalloc` crate links the library; its binding is behind a
    /// feature that would pull another crate in for this one call).
    fn mi_collect(force: bool);
}

/// Hands the allocator's free pages back to the system. Called when the last spreadsheet reading
/// ends (`exchange::sheet::on_idle`): mimalloc otherwise keeps a reading's peak until later
/// allocations purge it, so an idle server would keep the memory of its largest upload.
pub fn release_memory() {
    // SAFETY: `mi_collect` takes no pointers and may be called from any thread at any time.
    unsafe { mi_collect(true) }
}

pub mod demo;
pub mod demo_elders;
pub mod demo_work;
pub mod export;
pub mod import;
pub mod reconcile;
