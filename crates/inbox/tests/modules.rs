//! The inbox's modules import each other without cycles.
use std::path::Path;

use tsunagu_testkit::modules::{cycle, graph};

#[test]
fn the_inbox_modules_have_no_import_cycle() -> std::io::Result<()> {
    let g = graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))?;
    assert_eq!(cycle(&g), None, "import graph: {g:#?}");
    Ok(())
}
