//! Every mutating route the router mounts is in the walk list or named as taking no id. The
//! staff UI's routes are read from the source (`.route("…", post(…))`, all of `src/` but the
//! provider webhooks, which have no session or clinic); the API's from `api::routes()`.
use std::collections::BTreeSet;
use std::path::Path;

use super::routes::NO_IDS;
use super::world::world;
use super::{routes_api, routes_ui};

type Route = (String, String);

const MUTATING: [(&str, &str); 6] = [
    ("post", "POST"),
    ("put", "PUT"),
    ("patch", "PATCH"),
    ("delete", "DELETE"),
    ("any", "ANY"),
    ("on", "ANY"),
];

/// The text between the parentheses that open at `start`, strings skipped.
fn call_args(text: &str, start: usize) -> &str {
    let (mut depth, mut in_str, mut escaped) = (1, false, false);
    for (i, ch) in text[start..].char_indices() {
        match (in_str, ch) {
            (true, '\\') if !escaped => {
                escaped = true;
                continue;
            }
            (true, '"') if !escaped => in_str = false,
            (false, '"') => in_str = true,
            (false, '(') => depth += 1,
            (false, ')') => {
                depth -= 1;
                if depth == 0 {
                    return &text[start..start + i];
                }
            }
            _ => {}
        }
        escaped = false;
    }
    panic!("unbalanced .route( call")
}

/// The methods named in a route's method router: `post(h)`, `get(a).put(b)`, `routing::any(h)`.
fn methods(args: &str) -> Vec<&'static str> {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = Vec::new();
    for (word, method) in MUTATING {
        let call = format!("{word}(");
        for (i, _) in args.match_indices(&call) {
            if !args[..i].ends_with(ident) {
                out.push(method);
            }
        }
    }
    out
}

fn scan(dir: &Path, out: &mut BTreeSet<Route>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if !path.ends_with("webhooks") {
                scan(&path, out);
            }
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let file = path.display().to_string();
        for bad in [".nest(", ".nest_service(", ".route_service("] {
            assert!(
                !text.contains(bad),
                "{file}: {bad} is not read by this scan; extend it"
            );
        }
        for (i, _) in text.match_indices(".route(") {
            let args = call_args(&text, i + ".route(".len());
            let Some(rest) = args.trim_start().strip_prefix('"') else {
                // The API's table, walked through `api::routes()` instead.
                assert!(
                    file.ends_with("api/mod.rs") && args.trim_start().starts_with("op.path"),
                    "{file}: a route whose path is not a literal: {args}"
                );
                continue;
            };
            let (route, handlers) = rest.split_once('"').unwrap();
            for m in methods(handlers) {
                out.insert((m.to_string(), route.to_string()));
            }
        }
    }
}

fn mounted() -> BTreeSet<Route> {
    let mut out = BTreeSet::new();
    scan(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    for (method, path) in tsunagu_web::api::routes() {
        if method != "GET" {
            out.insert((method.to_string(), path.to_string()));
        }
    }
    out
}

#[tokio::test]
async fn every_mutating_route_is_walked_or_named_as_taking_no_id() {
    let w = world().await;
    let mut listed: BTreeSet<Route> = NO_IDS
        .iter()
        .map(|(m, r, _)| (m.to_string(), r.to_string()))
        .collect();
    let walked = routes_ui::cases(&w)
        .into_iter()
        .chain(routes_api::cases(&w));
    listed.extend(walked.map(|c| (c.method.to_string(), c.route.to_string())));
    let mounted = mounted();
    let missing: Vec<_> = mounted.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&mounted).collect();
    assert!(
        missing.is_empty(),
        "mutating routes not in the walk (add them to routes_ui/routes_api, or NO_IDS): {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "listed routes the router does not mount: {stale:?}"
    );
}

#[test]
fn the_scan_reads_chained_and_multi_line_method_routers() {
    let src = r#".route(
            "/x/{id}",
            get(page::show).post(page::delete),
        ).route("/y", routing::any(h)).route("/z", get(forms::post_like))"#;
    let mut found = Vec::new();
    for (i, _) in src.match_indices(".route(") {
        let args = call_args(src, i + 7);
        let rest = args.trim_start().strip_prefix('"').unwrap();
        let (route, handlers) = rest.split_once('"').unwrap();
        found.push((route, methods(handlers)));
    }
    assert_eq!(
        found,
        [
            ("/x/{id}", vec!["POST"]),
            ("/y", vec!["ANY"]),
            ("/z", vec![])
        ]
    );
}
