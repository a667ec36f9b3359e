//! The command line: validate, import, schema, stats.

use std::fs;

use crate::support::{innograph, mini_seed, stderr, stdout};

/// A copy of the mini seed with `graph/mini.toml` edited by `edit`.
fn broken_seed(edit: impl Fn(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["sources", "graph"] {
        fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    for file in [
        "documents.toml",
        "sources/mini.txt",
        "sources/divisions.tsv",
    ] {
        fs::copy(mini_seed().join(file), dir.path().join(file)).unwrap();
    }
    let graph = fs::read_to_string(mini_seed().join("graph/mini.toml")).unwrap();
    fs::write(dir.path().join("graph/mini.toml"), edit(graph)).unwrap();
    dir
}

#[test]
fn validate_accepts_the_fixture() {
    let output = innograph(&["validate", mini_seed().to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("ok: 2 documents, 12 entities, 14 relations"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn validate_reports_every_problem_with_file_and_line_and_fails() {
    let dir = broken_seed(|graph| {
        graph
            .replace("kind = \"LAB\"", "kind = \"LABORATORY\"")
            .replace("落户上虞区。", "落户越城区。")
            .replace(
                "target = \"tianjin-university\"",
                "target = \"tianjin-univ\"",
            )
    });
    let output = innograph(&["validate", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    let file = format!("{}/graph/mini.toml", dir.path().display());
    for expected in [
        format!(
            "{file}:40: error: entity `cao-e-river-laboratory`: unknown entity kind `LABORATORY`"
        ),
        format!(
            "{file}:105: error: relation `tju-zhejiang-institute/CO_BUILT_BY/tianjin-univ` points to unknown entity `tianjin-univ`"
        ),
        format!(
            "{file}:111: error: relation `tju-zhejiang-institute/LOCATED_IN/shangyu-district`: quote not found verbatim"
        ),
    ] {
        assert!(err.contains(&expected), "missing «{expected}» in:\n{err}");
    }
    assert!(stdout(&output).contains("error(s)"));
}

#[test]
fn a_failed_import_changes_nothing() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let ok = innograph(&[
        "import",
        mini_seed().to_str().unwrap(),
        "--data-dir",
        data_dir,
    ]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    let before = innograph(&["stats", mini_seed().to_str().unwrap()]);

    let bad =
        broken_seed(|graph| graph.replace("name = \"浙江大学\"", "name = \"浙江大学\"\nbogus = 1"));
    let output = innograph(&[
        "import",
        bad.path().to_str().unwrap(),
        "--data-dir",
        data_dir,
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("nothing was imported"),
        "{}",
        stderr(&output)
    );

    // The data directory still opens and holds exactly what the first import wrote.
    let again = innograph(&[
        "import",
        mini_seed().to_str().unwrap(),
        "--data-dir",
        data_dir,
    ]);
    assert!(again.status.success());
    assert_eq!(
        stdout(&before),
        stdout(&innograph(&["stats", mini_seed().to_str().unwrap()]))
    );
}

#[test]
fn schema_prints_sdl_and_stats_prints_coverage() {
    let output = innograph(&["schema"]);
    assert!(output.status.success());
    assert!(stdout(&output).contains("type Query"));
    let output = innograph(&["stats", mini_seed().to_str().unwrap()]);
    let text = stdout(&output);
    assert!(
        text.contains("== mini (测试文档, sources/mini.txt)"),
        "{text}"
    );
    assert!(text.contains("supports 11 relations"), "{text}");
    assert!(
        text.contains("relation zju-shaoxing-institute/CO_BUILT_BY/zhejiang-university"),
        "{text}"
    );
}

#[test]
fn unknown_commands_and_bad_flags_are_refused_clearly() {
    let output = innograph(&["serve", "--listen", "not-an-address"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--listen"), "{}", stderr(&output));
    let output = innograph(&["validate", "/no/such/dir"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not a seed directory"),
        "{}",
        stderr(&output)
    );
}
