//! Model tests on the public datasets in `../shared/data` (skipped with a
//! note when that folder is absent). Debug builds use subsamples so the
//! suite stays quick; the full figures come from `hypercommerce eval`.

mod artifacts;
mod churn;
mod clv;
mod intent;
mod recs;

use std::path::PathBuf;

/// Path of a file under `../shared/data`, or `None` (with a note) when absent.
pub fn data(relative: &str) -> Option<PathBuf> {
    let p =
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")).join(relative);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("{} not present: test skipped", p.display());
        None
    }
}
