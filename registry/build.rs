//! `sqlx::migrate!` embeds `migrations/` in the crate: rebuild it when they change.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
