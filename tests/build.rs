//! Marks the browser tests (`tests/noflo_ui.rs`) ignored, with the reason,
//! where no noflo-ui build is at hand: `MSGFLO_TEST_NOFLO_UI`, else
//! `../shared/peers/noflo-ui-0.29.1` beside the workspace. They then count
//! as ignored, never as passed.

use std::path::PathBuf;

fn main() {
    println!("cargo:rustc-check-cfg=cfg(noflo_ui_missing)");
    println!("cargo:rerun-if-env-changed=MSGFLO_TEST_NOFLO_UI");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let shared = manifest.join("../../shared/peers");
    let editor = match std::env::var_os("MSGFLO_TEST_NOFLO_UI") {
        Some(dir) => PathBuf::from(dir),
        None => shared.join("noflo-ui-0.29.1"),
    };
    // Looked at again when the folder that would hold it changes.
    let watched = [editor.as_path(), shared.as_path(), manifest.as_path()]
        .into_iter()
        .find(|p| p.exists())
        .unwrap_or(manifest.as_path())
        .to_path_buf();
    println!("cargo:rerun-if-changed={}", watched.display());
    if !editor.join("index.html").exists() {
        println!("cargo:rustc-cfg=noflo_ui_missing");
    }
}
