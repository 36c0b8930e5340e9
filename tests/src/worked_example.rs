//! Checks a document's worked example: every `name = hex` line it prints must be the value the
//! code computes.

use std::collections::BTreeMap;

/// Asserts `docs/{document}` prints each of `expected` as a `name = value` line, and shows the
/// lines it must print when it does not.
pub fn assert_document_prints(document: &str, expected: &BTreeMap<&str, String>) {
    let path = format!("{}/../docs/{document}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    let printed: BTreeMap<&str, &str> = (text.lines())
        .filter_map(|line| line.split_once(" = "))
        .filter(|(name, value)| !name.contains(' ') && value.chars().all(|c| c.is_ascii_hexdigit()))
        .collect();
    let listing: String = (expected.iter())
        .map(|(name, value)| format!("{name} = {value}\n"))
        .collect();
    for (name, value) in expected {
        assert_eq!(
            printed.get(name),
            Some(&value.as_str()),
            "docs/{document} must print:\n{listing}"
        );
    }
}
