//! A copy of the example project with many independent mistakes gets exactly one diagnostic per
//! mistake, each at the line of the mistake: no error hides another, and none is a consequence of
//! another (docs/config.md, "Diagnostics").

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One mistake: the text replaced in the example config, its replacement, the diagnostic code
/// expected for it, and a fragment of the config line the diagnostic must point at.
struct Mistake {
    find: &'static str,
    replace: &'static str,
    code: &'static str,
    line: &'static str,
}

const fn mistake(
    find: &'static str,
    replace: &'static str,
    code: &'static str,
    line: &'static str,
) -> Mistake {
    Mistake {
        find,
        replace,
        code,
        line,
    }
}

/// Mistakes that the config alone reveals.
const CONFIG_MISTAKES: &[Mistake] = &[
    mistake(
        "timezone = \"UTC\"",
        "timezone = \"Europe/Berln\"",
        "E0205",
        "Europe/Berln",
    ),
    mistake(
        "as_of = \"2025-06-30\"",
        "as_of = \"2025-06-31\"",
        "E0206",
        "2025-06-31",
    ),
    mistake("contains 'bot'\"", "contans 'bot'\"", "E0101", "contans"),
    // A bare word compared with `event`: the quotes were forgotten.
    mistake(
        "where = \"event == 'signup'\"",
        "where = \"event == signup\"",
        "E0103",
        "event == signup",
    ),
    // A broken `where` of one value event must not make the events that use it, or the revenue
    // metrics and formulas over events with `amount`, report anything.
    mistake(
        "where = \"event == 'login'\"",
        "where = \"event == 'login' and\"",
        "E0101",
        "'login' and",
    ),
    mistake(
        "where = \"login or value\"",
        "where = \"login or valu\"",
        "E0103",
        "login or valu",
    ),
    // A cohort that failed is still known to the metrics that use it.
    mistake(
        "start = \"activated\"\ngrain = \"week\"",
        "start = \"activated\"\ngrain = \"fortnight\"",
        "E0006",
        "fortnight",
    ),
    mistake(
        "start = \"signed_up\"\ngrain = \"week\"",
        "start = \"signed_upp\"\ngrain = \"week\"",
        "E0201",
        "signed_upp",
    ),
    mistake(
        "mode = \"n-day\"\nunit = \"day\"",
        "mode = \"n-day\"\nunits = \"day\"",
        "E0002",
        "units",
    ),
    // An unknown metric type: the metric is still known by name.
    mistake(
        "type = \"retention\"\ndescription = \"Value retention in 30-day",
        "type = \"retension\"\ndescription = \"Value retention in 30-day",
        "E0203",
        "retension",
    ),
    // No `mode` and no `periods`: reported at the metric's header.
    mistake(
        "return = \"login\"\nmode = \"n-day\"\nunit = \"week\"\nperiods = [0, 1, 2, 4, 8, 12]",
        "return = \"login\"\nunit = \"week\"",
        "E0004",
        "[metrics.urr]",
    ),
    mistake("within = \"7d\"", "within = \"14 days\"", "E0204", "14 days"),
    // The revenue metric fails; the formula, LTV and payback that read it report nothing.
    mistake(
        "reactivation_within = \"3mo\"",
        "reactivation_within = \"3 months\"",
        "E0204",
        "3 months",
    ),
    mistake(
        "revenue.nrr - revenue.grr",
        "revenue.nrr - revenue.grr + arpu.lst",
        "E0211",
        "arpu.lst",
    ),
    mistake(
        "margin = \"gross_margin\"\nchurn_window",
        "margin = \"gross_margn\"\nchurn_window",
        "E0103",
        "gross_margn",
    ),
    mistake("cac = \"cac\"", "cac = \"cacc\"", "E0103", "cacc"),
    mistake(
        "by = [\"segment.rfm\"]",
        "by = [\"segment.rfmm\"]",
        "E0103",
        "segment.rfmm",
    ),
];

/// A diagnostic as rendered: its code and the config line it shows.
#[derive(Debug)]
struct Rendered {
    code: String,
    line: String,
    text: String,
}

fn parse_rendered(stderr: &str) -> Vec<Rendered> {
    stderr
        .split("error[")
        .skip(1)
        .map(|block| {
            let code = block[..5].to_string();
            let line = block
                .lines()
                .find(|l| {
                    let trimmed = l.trim_start();
                    trimmed
                        .split_once(" | ")
                        .is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_digit()))
                })
                .and_then(|l| l.split_once(" | ").map(|(_, text)| text.to_string()))
                .unwrap_or_default();
            Rendered {
                code,
                line,
                text: block.to_string(),
            }
        })
        .collect()
}

/// A folder that sees the repository's examples and built plugins, holding `config`.
fn project_with(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = repo_root().canonicalize().unwrap();
    for linked in ["examples", "target"] {
        std::os::unix::fs::symlink(root.join(linked), dir.path().join(linked)).unwrap();
    }
    std::fs::write(dir.path().join("metrics.toml"), config).unwrap();
    dir
}

fn broken_example(mistakes: &[Mistake]) -> String {
    let mut config = std::fs::read_to_string(repo_root().join("metrics.toml")).unwrap();
    for m in mistakes {
        assert_eq!(
            config.matches(m.find).count(),
            1,
            "`{}` must occur once in metrics.toml",
            m.find
        );
        config = config.replace(m.find, m.replace);
    }
    config
}

fn validate(dir: &Path, args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tenure"))
        .current_dir(dir)
        .arg("validate")
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Checks that `stderr` holds exactly one diagnostic per mistake, with its code, at its line.
fn assert_one_per_mistake(stderr: &str, mistakes: &[Mistake]) {
    let rendered = parse_rendered(stderr);
    for m in mistakes {
        let matching: Vec<&Rendered> = rendered
            .iter()
            .filter(|r| r.code == m.code && r.line.contains(m.line))
            .collect();
        assert_eq!(
            matching.len(),
            1,
            "expected one {} at a line with `{}`, got {}:\n{stderr}",
            m.code,
            m.line,
            matching.len()
        );
    }
    assert_eq!(
        rendered.len(),
        mistakes.len(),
        "one diagnostic per mistake, no more:\n{stderr}"
    );
}

#[test]
fn every_config_mistake_gets_exactly_one_diagnostic_at_its_line() {
    assert!(CONFIG_MISTAKES.len() >= 10);
    let dir = project_with(&broken_example(CONFIG_MISTAKES));
    let (code, stderr) = validate(dir.path(), &["--no-data"]);
    assert_eq!(code, 2, "{stderr}");
    assert_one_per_mistake(&stderr, CONFIG_MISTAKES);
    insta::assert_snapshot!(stderr);
}

#[test]
fn each_config_mistake_alone_gets_one_diagnostic() {
    for m in CONFIG_MISTAKES {
        let dir = project_with(&broken_example(std::slice::from_ref(m)));
        let (code, stderr) = validate(dir.path(), &["--no-data"]);
        assert_eq!(code, 2, "{stderr}");
        assert_one_per_mistake(&stderr, std::slice::from_ref(m));
    }
}

#[test]
fn missing_quotes_and_typos_get_hints() {
    let hints = [
        ("event == signup", "text is written in quotes: `'signup'`"),
        ("login or valu", "did you mean `value`?"),
        ("14 days", "did you mean `14d`?"),
        ("3 months", "did you mean `3mo`?"),
        ("gross_margn", "did you mean `gross_margin`?"),
        ("segment.rfmm", "did you mean `rfm`?"),
    ];
    let dir = project_with(&broken_example(CONFIG_MISTAKES));
    let (_, stderr) = validate(dir.path(), &["--no-data"]);
    let rendered = parse_rendered(&stderr);
    for (line, hint) in hints {
        let found = rendered.iter().find(|r| r.line.contains(line)).unwrap();
        assert!(
            found.text.contains(hint),
            "{line}: expected `{hint}` in\n{}",
            found.text
        );
    }
}

#[test]
fn a_value_event_compared_with_itself_is_a_loop_with_a_quote_hint() {
    // [events.signup] where = "event == signup": the bare word names the event itself.
    let config = broken_example(&[])
        .replace(
            "[events.signed_up]\nwhere = \"event == 'signup'\"",
            "[events.signup]\nwhere = \"event == signup\"",
        )
        .replace("start = \"signed_up\"", "start = \"signup\"");
    let dir = project_with(&config);
    let (code, stderr) = validate(dir.path(), &["--no-data"]);
    assert_eq!(code, 2);
    let rendered = parse_rendered(&stderr);
    assert_eq!(rendered.len(), 1, "{stderr}");
    assert_eq!(rendered[0].code, "E0209");
    assert!(
        stderr.contains("help: text is written in quotes: `'signup'`"),
        "{stderr}"
    );
}

/// Mistakes that only the data reveals: `validate` reads the sources' headers to find them.
const DATA_MISTAKES: &[Mistake] = &[
    mistake(
        "path = \"examples/saas/events.csv\"\nentity = \"account_id\"",
        "path = \"examples/saas/events.csv\"\nentity = \"acount_id\"",
        "E0302",
        "acount_id",
    ),
    mistake("time = \"ts\"", "time = \"timestamp\"", "E0302", "timestamp"),
    mistake(
        "amount = \"props.amount\"",
        "amount = \"props.amout\"",
        "E0302",
        "props.amout",
    ),
    mistake(
        "by = [\"attr.plan\"]",
        "by = [\"attr.plna\"]",
        "E0302",
        "attr.plna",
    ),
];

#[test]
fn validate_finds_every_data_shape_mistake_that_run_would_hit_at_its_line() {
    let dir = project_with(&broken_example(DATA_MISTAKES));
    let (code, stderr) = validate(dir.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_one_per_mistake(&stderr, DATA_MISTAKES);
    for hint in [
        "did you mean `account_id`?",
        "the columns that hold times: `ts`",
        "did you mean `props.amount`?",
        "did you mean `attr.plan`?",
    ] {
        assert!(stderr.contains(hint), "expected `{hint}` in\n{stderr}");
    }
    insta::assert_snapshot!(stderr);
    // `run` stops at the same diagnostics before reading a row; `--no-data` skips them.
    let run = Command::new(env!("CARGO_BIN_EXE_tenure"))
        .current_dir(dir.path())
        .arg("run")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&run.stderr), stderr);
    let (code, _) = validate(dir.path(), &["--no-data"]);
    assert_eq!(code, 0);
}

#[test]
fn a_missing_source_file_is_placed_at_its_path() {
    let mistakes = [mistake(
        "path = \"examples/saas/accounts.csv\"",
        "path = \"examples/saas/acounts.csv\"",
        "E0301",
        "acounts.csv",
    )];
    let dir = project_with(&broken_example(&mistakes));
    let (code, stderr) = validate(dir.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_one_per_mistake(&stderr, &mistakes);
    assert!(
        stderr.contains("no such file: examples/saas/acounts.csv"),
        "{stderr}"
    );
}

#[test]
fn a_failed_metric_is_still_known_to_the_formulas_that_read_it() {
    // `var` fails on its window, `revenue` on its type; `var.rate` and the LTV and payback over
    // `revenue` report nothing more.
    let mistakes = [
        mistake("within = \"7d\"", "within = \"14 days\"", "E0204", "14 days"),
        mistake(
            "type = \"revenue\"\ndescription = \"MRR movements, NRR and GRR by month\"",
            "type = \"revenu\"\ndescription = \"MRR movements, NRR and GRR by month\"",
            "E0203",
            "revenu",
        ),
    ];
    let config = broken_example(&mistakes)
        + "\n[metrics.activation_pct]\ntype = \"formula\"\nformula = \"var.rate * 100\"\n";
    let dir = project_with(&config);
    let (code, stderr) = validate(dir.path(), &["--no-data"]);
    assert_eq!(code, 2, "{stderr}");
    assert_one_per_mistake(&stderr, &mistakes);
}
