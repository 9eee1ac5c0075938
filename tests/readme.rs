//! The README's "Write a plugin" code is the code of real crates in the
//! repository (built and run by the tests and CI): each block marked
//! `<!-- file: PATH -->` must equal that file.

use std::path::Path;

#[test]
fn readme_code_blocks_match_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut checked = 0;
    let mut rest = readme.as_str();
    while let Some(at) = rest.find("<!-- file: ") {
        rest = &rest[at + "<!-- file: ".len()..];
        let end = rest.find(" -->").expect("marker ends with -->");
        let path = &rest[..end];
        rest = &rest[end..];
        let fence = rest.find("```").expect("a code block follows the marker");
        let body_start = fence + rest[fence..].find('\n').unwrap() + 1;
        let body_len = rest[body_start..].find("\n```").expect("the code block ends") + 1;
        let block = &rest[body_start..body_start + body_len];
        let file =
            std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(block, file, "the README's copy of {path} differs from the file");
        checked += 1;
        rest = &rest[body_start + body_len..];
    }
    assert_eq!(checked, 3, "expected the interface, plugin and host blocks");
}
