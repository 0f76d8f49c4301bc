//! The docs a user reads first say true and complete things about the CLI and the crate.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_readme_lists_every_command() {
    let output = Command::new(env!("CARGO_BIN_EXE_tenure"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    let commands: Vec<&str> = help
        .split("Commands:")
        .nth(1)
        .unwrap()
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 6, "{help}");
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    for command in commands {
        assert!(
            readme.contains(&format!("`tenure {command}")),
            "README lacks `tenure {command}`"
        );
    }
}

/// Text files of the repository that people read: docs, code comments, configs.
fn readable_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" && name != "corpus" && name != "artifacts" {
                readable_files(&path, out);
            }
        } else if ["rs", "md", "toml", "py", "sh"]
            .iter()
            .any(|e| name.ends_with(&format!(".{e}")))
        {
            out.push(path);
        }
    }
}

#[test]
fn the_docs_cite_the_projects_own_sections() {
    let mut files = Vec::new();
    readable_files(&repo_root(), &mut files);
    assert!(files.len() > 50);
    // The needle is built so that this file does not contain it.
    let needle = format!("{} §", "SPEC");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            !text.contains(&needle),
            "{} cites a document outside the repository",
            file.display()
        );
    }
}

#[test]
fn the_manifest_has_no_placeholder_address() {
    let manifest = std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
    assert!(
        !manifest.contains("example.invalid"),
        "a placeholder repository address"
    );
}
