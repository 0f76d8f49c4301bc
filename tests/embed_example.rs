//! `examples/embed.rs` works from any folder, and shows a config mistake as the CLI does.

use std::path::PathBuf;
use std::process::Command;

/// The example's binary, which `cargo test` builds beside the test binaries.
fn example() -> PathBuf {
    let deps = std::env::current_exe().unwrap();
    let profile = deps.parent().and_then(|d| d.parent()).unwrap();
    profile
        .join("examples")
        .join(format!("embed{}", std::env::consts::EXE_SUFFIX))
}

#[test]
fn the_embedding_example_finds_its_config_from_any_folder() {
    let elsewhere = tempfile::tempdir().unwrap();
    let output = Command::new(example())
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(" kept rows, "), "{stdout}");
    assert!(stdout.contains("day-30 value retention: "), "{stdout}");
}

#[test]
fn the_embedding_example_renders_a_config_mistake() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("metrics.toml");
    std::fs::write(&config, "[metrics.vrr]\ntype = \"retension\"\n").unwrap();
    let output = Command::new(example()).arg(&config).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.starts_with("error[E0203]: unknown metric type `retension`"),
        "{stderr}"
    );
    assert!(stderr.contains("help: did you mean `retention`?"), "{stderr}");
    assert!(!stderr.contains("Config("), "not the Debug form: {stderr}");
}
