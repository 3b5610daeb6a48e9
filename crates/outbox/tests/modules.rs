//! The outbox's modules import each other as a tree: the generic job runtime, then the shared
//! message and provider helpers, then each channel's sender, then the registration.
use std::path::Path;

use tsunagu_testkit::modules::{cycle, graph};

#[test]
fn the_outbox_modules_have_no_import_cycle() -> std::io::Result<()> {
    let g = graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))?;
    assert_eq!(cycle(&g), None, "import graph: {g:#?}");
    // The runtime knows no message, channel or kind.
    for generic in ["worker", "outcome", "backoff"] {
        let named = &g[generic];
        assert!(
            named
                .iter()
                .all(|m| ["outcome", "backoff", "job_trace"].contains(&m.as_str())),
            "{generic} imports {named:?}"
        );
    }
    Ok(())
}
