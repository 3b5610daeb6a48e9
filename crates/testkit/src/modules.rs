//! The import graph between a crate's top-level modules (`src/<m>.rs` with `src/<m>/…`), read
//! from its `crate::` paths, so a test can keep a crate free of import cycles.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module → the modules it names through `crate::`.
pub fn graph(src: &Path) -> std::io::Result<BTreeMap<String, BTreeSet<String>>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(src)? {
        let path = entry?.path();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if name == "lib" || name == "main" {
            continue;
        }
        if path.is_dir() || path.extension().is_some_and(|e| e == "rs") {
            files.push((name.to_string(), path));
        }
    }
    let modules: BTreeSet<String> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, path) in files {
        let edges = graph.entry(module.clone()).or_default();
        for text in sources(&path)? {
            for used in crate_paths(&text) {
                if used != module && modules.contains(&used) {
                    edges.insert(used);
                }
            }
        }
    }
    Ok(graph)
}

/// A cycle among the modules, as the path that closes it, if there is one.
pub fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == m) {
            let mut cycle = path[at..].to_vec();
            cycle.push(m.to_string());
            return Some(cycle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_string());
        for next in graph.get(m).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|m| visit(m, graph, &mut Vec::new(), &mut done))
}

fn sources(path: &Path) -> std::io::Result<Vec<String>> {
    if path.is_file() {
        return Ok(vec![std::fs::read_to_string(path)?]);
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(path)? {
        out.extend(sources(&entry?.path())?);
    }
    Ok(out)
}

/// The first segment of every `crate::…` path, including each item of `crate::{a, b::c}`.
fn crate_paths(text: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let macro_path = rest[..at].ends_with('$');
        rest = &rest[at + "crate::".len()..];
        if macro_path {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.push(first_segment(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            found.push(first_segment(&item));
        } else {
            found.push(first_segment(rest));
        }
    }
    found
}

fn first_segment(path: &str) -> String {
    path.trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_and_nested_paths_count_once_each() {
        let text = "use crate::{a, b::{self, X}, c::d};\n// crate::z\nlet x = crate::e::f();";
        assert_eq!(crate_paths(text), ["a", "b", "c", "e"]);
    }

    #[test]
    fn a_cycle_is_reported_as_the_path_that_closes_it() {
        let edges = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        let mut g = BTreeMap::new();
        g.insert("a".to_string(), edges(&["b"]));
        g.insert("b".to_string(), edges(&["c"]));
        g.insert("c".to_string(), edges(&[]));
        assert_eq!(cycle(&g), None);
        g.insert("c".to_string(), edges(&["a"]));
        assert_eq!(
            cycle(&g),
            Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
        );
    }
}
