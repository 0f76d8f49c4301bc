//! How the terminal tables read: config order, headings, widths, markers and formats.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs tenure in `dir` with `args` and extra environment; (exit code, stdout, stderr).
fn tenure(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tenure"));
    command.current_dir(dir).args(args).env_remove("COLUMNS");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The example project in a folder of its own, with `edit` applied to its config.
fn example_with(edit: impl Fn(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = repo_root().canonicalize().unwrap();
    for linked in ["examples", "target"] {
        std::os::unix::fs::symlink(root.join(linked), dir.path().join(linked)).unwrap();
    }
    let config = std::fs::read_to_string(root.join("metrics.toml")).unwrap();
    std::fs::write(dir.path().join("metrics.toml"), edit(config)).unwrap();
    dir
}

/// The metric headings of a table output, in order: first lines of blocks that name a metric.
fn headings(table: &str, metrics: &[String]) -> Vec<String> {
    table
        .split("\n\n")
        .filter_map(|block| block.lines().next())
        .map(|line| line.split(" — ").next().unwrap().to_string())
        .filter(|name| metrics.contains(name))
        .collect()
}

#[test]
fn tables_come_in_the_config_order() {
    let (code, stdout, _) = tenure(&repo_root(), &["run", "-q"], &[]);
    assert_eq!(code, 0);
    let config = std::fs::read_to_string(repo_root().join("metrics.toml")).unwrap();
    let declared: Vec<String> = config
        .lines()
        .filter_map(|l| l.strip_prefix("[metrics."))
        .map(|l| l.split(']').next().unwrap().to_string())
        // `[metrics.health.components.usage]` is a part of `health`, not a metric.
        .filter(|name| !name.contains('.'))
        .collect();
    assert_eq!(headings(&stdout, &declared), declared);
}

#[test]
fn no_line_ends_with_a_space_and_every_line_fits_120_columns() {
    for config in ["metrics.toml", "examples/wholesale/metrics.toml"] {
        let (code, stdout, _) = tenure(&repo_root(), &["run", config, "-q", "--show", "both"], &[]);
        assert_eq!(code, 0);
        for line in stdout.lines() {
            assert!(!line.ends_with(' '), "{config}: trailing space in `{line}`");
            assert!(
                line.chars().count() <= 120,
                "{config}: {} wide: `{line}`",
                line.chars().count()
            );
        }
    }
}

#[test]
fn a_narrow_page_folds_wide_tables_into_blocks_that_repeat_the_keys() {
    let (code, stdout, _) = tenure(
        &repo_root(),
        &["run", "-q", "--metric", "revenue"],
        &[("COLUMNS", "60")],
    );
    assert_eq!(code, 0);
    for line in stdout.lines() {
        assert!(
            line.chars().count() <= 60,
            "{} wide: `{line}`",
            line.chars().count()
        );
    }
    // Every figure is still there, in a second block under a repeated `period` column.
    assert!(stdout.matches("\nperiod ").count() >= 2, "{stdout}");
    for title in ["start", "reactivation", "logo churn", "NRR"] {
        assert!(stdout.contains(title), "{title} lost:\n{stdout}");
    }
    insta::assert_snapshot!(stdout);
}

#[test]
fn a_metric_without_description_has_no_dangling_dash() {
    let dir = example_with(|c| {
        c.replace(
            "description = \"Accounts that paid at least twice, of all paying accounts\"\n",
            "",
        )
    });
    let (code, stdout, stderr) = tenure(
        dir.path(),
        &["run", "-q", "--metric", "repeat_purchase_rate"],
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "repeat_purchase_rate\n  71.1%\n\n");
}

#[test]
fn formulas_read_as_their_format_says() {
    let (code, stdout, _) = tenure(
        &repo_root(),
        &[
            "run",
            "-q",
            "--metric",
            "repeat_purchase_rate",
            "--metric",
            "nrr_minus_grr",
            "--metric",
            "arpu",
        ],
        &[],
    );
    assert_eq!(code, 0);
    // 0.7107… as a percentage, 0.0208… as one, ARPU in money with two decimals.
    assert!(stdout.contains("\n  71.1%\n"), "{stdout}");
    assert!(stdout.contains("\n  2.1%\n"), "{stdout}");
    assert!(stdout.contains("\n2025-06  443.57\n"), "{stdout}");
    let (_, json, _) = tenure(
        &repo_root(),
        &["run", "-q", "--format", "json", "--metric", "arpu"],
        &[],
    );
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["metrics"]["arpu"]["format"], "money");
}

#[test]
fn a_grouped_formula_marks_its_incomplete_period() {
    // as_of in the middle of June: June is not over.
    let dir = example_with(|c| c.replace("as_of = \"2025-06-30\"", "as_of = \"2025-06-15\""));
    let (code, stdout, stderr) = tenure(dir.path(), &["run", "-q", "--metric", "arpu"], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\n2025-05  "), "{stdout}");
    assert!(stdout.contains("\n2025-06*  "), "{stdout}");
    assert!(stdout.contains("* period not over by as_of"), "{stdout}");
    let (_, json, _) = tenure(
        dir.path(),
        &["run", "-q", "--format", "json", "--metric", "arpu"],
        &[],
    );
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let rows = report["metrics"]["arpu"]["rows"].as_array().unwrap();
    let complete: Vec<bool> = rows.iter().map(|r| r["complete"].as_bool().unwrap()).collect();
    assert_eq!(complete, [true, true, true, true, true, false]);
}

#[test]
fn realised_revenue_has_a_header_aligned_amounts_and_unobservable_dots() {
    let (code, stdout, _) = tenure(
        &repo_root(),
        &[
            "run",
            "examples/wholesale/metrics.toml",
            "-q",
            "--metric",
            "reorder_retention",
        ],
        &[],
    );
    assert_eq!(code, 0);
    let block = stdout
        .split("realised revenue per member")
        .nth(1)
        .expect("the revenue block");
    let lines: Vec<&str> = block.lines().skip(1).take_while(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("cohort "), "a header row: {block}");
    // Every row is as wide as the header: amounts of four digits and more keep their columns.
    let width = lines[0].len();
    for line in &lines[1..lines.len() - 1] {
        if !line.starts_with('*') && !line.starts_with('·') {
            assert_eq!(line.chars().count(), width, "`{line}`");
        }
    }
    // September's cohort has had no month 1 yet: a dot, not a flat cumulative amount.
    let september = lines.iter().find(|l| l.starts_with("2025-09")).unwrap();
    assert!(september.trim_end().ends_with('·'), "{september}");
    insta::assert_snapshot!(stdout);
}

#[test]
fn counts_show_retained_of_eligible_members() {
    let (code, stdout, _) = tenure(
        &repo_root(),
        &["run", "-q", "--metric", "urr", "--show", "counts"],
        &[],
    );
    assert_eq!(code, 0);
    // A cohort row counts of its members (the rate's base); the total row of eligible members.
    // The 2025-04 cohort (45 members) at week 8: 20 retained, marked, as not every member's
    // week 8 is over; week 0 of every cohort: 214 of the 227 eligible members.
    assert!(
        stdout.contains("\n2025-04    45    40/45     33/45     26/45     23/45     20/45*     2/45*\n"),
        "{stdout}"
    );
    assert!(stdout.contains("\ntotal     238  214/227 "), "{stdout}");
    assert!(
        stdout.contains("n/m: retained of members (total: of eligible members)"),
        "{stdout}"
    );
    insta::assert_snapshot!("urr_counts", stdout);
    let (code, both, _) = tenure(
        &repo_root(),
        &["run", "-q", "--metric", "var", "--show", "both"],
        &[],
    );
    assert_eq!(code, 0);
    insta::assert_snapshot!("var_both", both);
}

#[test]
fn colour_shades_retention_cells_and_changes_nothing_else() {
    let root = repo_root();
    let args = ["run", "--metric", "vrr_by_plan", "--quiet"];
    let (code, plain, _) = tenure(&root, &args, &[]);
    assert_eq!(code, 0);
    // Into a pipe, `auto` writes no colour; `always` does, even with NO_COLOR set.
    assert!(!plain.contains('\u{1b}'));
    let (_, auto, _) = tenure(&root, &[&args[..], &["--color", "auto"]].concat(), &[]);
    assert_eq!(auto, plain);
    let (code, shaded, _) = tenure(
        &root,
        &[&args[..], &["--color", "always"]].concat(),
        &[("NO_COLOR", "1")],
    );
    assert_eq!(code, 0);
    // Every cell with a rate is shaded (a background of the cividis scale, then a reset); the
    // text without the colour sequences is the plain table, column for column.
    let sequences = shaded.matches("\u{1b}[48;2;").count();
    assert_eq!(sequences, shaded.matches("\u{1b}[0m").count());
    let percents = plain.matches('%').count();
    assert_eq!(sequences, percents);
    let mut stripped = String::new();
    let mut in_sequence = false;
    for c in shaded.chars() {
        match (in_sequence, c) {
            (false, '\u{1b}') => in_sequence = true,
            (false, _) => stripped.push(c),
            (true, 'm') => in_sequence = false,
            (true, _) => {}
        }
    }
    assert_eq!(stripped, plain);
    // A rate of 100 % is the scale's yellow end, with dark text.
    assert!(shaded.contains("\u{1b}[48;2;254;232;56;30m100.0%\u{1b}[0m"));
}
