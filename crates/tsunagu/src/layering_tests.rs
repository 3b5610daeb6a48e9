//! The data layer as ARCHITECTURE.md states it: SQL lives in the library crates that own the
//! tables (`store` for the shared core, each domain crate for its own), never in the web layer
//! or this binary, which call those crates.
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn neither_the_web_layer_nor_the_binary_writes_sql() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in ["web/src", "tsunagu/src"] {
        rust_files(&crates.join(dir), &mut files);
    }
    assert!(files.len() > 50, "the scan found the sources");
    let this = Path::new(file!()).file_name().unwrap_or_default();
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| f.file_name() != Some(this))
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            text.contains("sqlx::query")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "SQL belongs in store or the domain crate that owns the table: {offenders:?}"
    );
}
