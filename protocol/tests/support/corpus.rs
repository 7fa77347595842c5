//! The `.fbp` files of a corpus folder (`protocol/tests/corpus/<sub>`), sorted.
//! Shared by the corpus test here and the live reference comparison in
//! `tests/tests/fbp_reference.rs`.

use std::fs;
use std::path::{Path, PathBuf};

/// The `.fbp` files of `protocol/tests/corpus/<sub>`, sorted by name. (Both
/// including crates sit next to `protocol/`, so the path works from either.)
pub fn fbp_files(sub: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../protocol/tests/corpus")
        .join(sub);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "fbp"))
        .collect();
    files.sort();
    files
}
