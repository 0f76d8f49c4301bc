//! Segment plugins loaded from the workspace's build output by real dynamic loading.
//! `bash tests/run.sh` builds them first (`cargo build --workspace`).

mod common;

use common::{Fixture, build_dir, library};
use serde_json::Value;

/// Payments up to as_of 2025-06-30:
///
/// | entity | payments | last | recency | frequency | monetary |
/// |--------|----------|------|---------|-----------|----------|
/// | e1 | 100 + 100 + 100 | 06-28 | 2 | 3 | 300 |
/// | e2 | 50 | 06-01 | 29 | 1 | 50 |
/// | e3 | 250 + 250 | 06-20 | 10 | 2 | 500 |
/// | e4 | 25 × 4 | 05-01 | 60 | 4 | 100 |
/// | e5 | 50 | 06-28 | 2 | 1 | 50 |
/// | e6 | none (attributes only) | | | 0 | |
const EVENTS: &str = common::PLUGIN_PAYMENTS;

const ACCOUNTS: &str = "id,industry,employees
e1,software,100
e2,retail,10
e3,fintech,40
e4,software,10
e6,software,1000
";

fn config(segments: &str, metrics: &str) -> String {
    format!(
        r#"
[project]
as_of = "2025-06-30"
[sources.events]
path = "events.csv"
entity = "id"
time = "ts"
event = "event"
[sources.accounts]
kind = "entities"
path = "accounts.csv"
entity = "id"
[events.pay]
where = "event == 'pay'"
amount = "props.amount"
[cohorts.payers]
start = "pay"
grain = "quarter"
[metrics.plain]
type = "retention"
cohort = "payers"
return = "pay"
unit = "month"
periods = [0, 1]
{segments}
{metrics}
"#
    )
}

fn fixture() -> Fixture {
    let fixture = Fixture::new();
    fixture.file("events.csv", EVENTS);
    fixture.file("accounts.csv", ACCOUNTS);
    fixture
}

/// Each entity's label of `segment`, sorted by entity.
fn labels(fixture: &Fixture, config: &str, segment: &str) -> Vec<(String, Option<String>)> {
    let project = tenure::Project::from_str(config, fixture.path()).unwrap_or_else(|e| panic!("{e}"));
    let dataset = project.load().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        dataset.segment_errors().is_empty(),
        "{:?}",
        dataset.segment_errors()
    );
    dataset.segment_labels(segment).expect("the segment")
}

fn expected(pairs: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
    pairs
        .iter()
        .map(|(e, l)| (e.to_string(), l.map(str::to_string)))
        .collect()
}

#[test]
fn rfm_scores_follow_sql_ntile() {
    let fixture = fixture();
    let segments = format!(
        "[plugins.rfm]\npath = \"{}\"\n[segments.rfm]\nplugin = \"rfm\"\nevent = \"pay\"\nparams = {{ bins = 2 }}",
        library("tenure_rfm")
    );
    // NTILE(2) over 5 scored entities: buckets of 3 then 2.
    // R, ORDER BY recency DESC, id: e4 (60), e2 (29), e3 (10), e1 (2), e5 (2) → 1, 1, 1, 2, 2
    // F, ORDER BY frequency, id:    e2 (1), e5 (1), e3 (2), e1 (3), e4 (4)    → 1, 1, 1, 2, 2
    // M, ORDER BY monetary, id:     e2 (50), e5 (50), e4 (100), e1 (300), e3 (500) → 1, 1, 1, 2, 2
    // e6 never paid: no label.
    assert_eq!(
        labels(&fixture, &config(&segments, ""), "rfm"),
        expected(&[
            ("e1", Some("222")),
            ("e2", Some("111")),
            ("e3", Some("112")),
            ("e4", Some("121")),
            ("e5", Some("211")),
            ("e6", None),
        ])
    );
}

#[test]
fn rfm_named_segments() {
    let fixture = fixture();
    // A custom two-bin map: champions R2 F2, recent R2 F1, slipping R1.
    let segments = format!(
        "[plugins.rfm]\npath = \"{}\"\n[segments.rfm]\nplugin = \"rfm\"\nevent = \"pay\"\n\
         params = {{ bins = 2, labels = \"named\", segments = [{{ name = \"champions\", r = [2, 2], f = [2, 2] }}, \
         {{ name = \"recent\", r = [2, 2], f = [1, 1] }}, {{ name = \"slipping\", r = [1, 1], f = [1, 2] }}] }}",
        library("tenure_rfm")
    );
    // From the scores above: e1 R2 F2, e2 R1 F1, e3 R1 F1, e4 R1 F2, e5 R2 F1.
    assert_eq!(
        labels(&fixture, &config(&segments, ""), "rfm"),
        expected(&[
            ("e1", Some("champions")),
            ("e2", Some("slipping")),
            ("e3", Some("slipping")),
            ("e4", Some("slipping")),
            ("e5", Some("recent")),
            ("e6", None),
        ])
    );
}

#[test]
fn icp_fit_from_weighted_rules() {
    let fixture = fixture();
    let segments = format!(
        "[plugins.icp]\npath = \"{}\"\n[segments.icp]\nplugin = \"icp\"\nevent = \"pay\"\n\
         params = {{ rules = [{{ attr = \"industry\", in = [\"software\", \"fintech\"], weight = 2 }}, \
         {{ attr = \"employees\", min = 50, weight = 1 }}, {{ monetary_min = 200, weight = 1 }}], fit = 3, partial = 2 }}",
        library("tenure_icp")
    );
    // e1: software 2 + 100 employees 1 + 300 paid 1 = 4 → fit
    // e2: retail, 10, 50 paid = 0 → no-fit
    // e3: fintech 2 + 40 employees 0 + 500 paid 1 = 3 → fit
    // e4: software 2 + 10 + 100 paid = 2 → partial
    // e5: no attributes, 50 paid = 0 → no-fit
    // e6: software 2 + 1000 employees 1, never paid = 3 → fit
    assert_eq!(
        labels(&fixture, &config(&segments, ""), "icp"),
        expected(&[
            ("e1", Some("fit")),
            ("e2", Some("no-fit")),
            ("e3", Some("fit")),
            ("e4", Some("partial")),
            ("e5", Some("no-fit")),
            ("e6", Some("fit")),
        ])
    );
}

#[test]
fn segments_break_down_and_filter_cohorts() {
    let fixture = fixture();
    let segments = format!(
        "[plugins.icp]\npath = \"{}\"\n[segments.icp]\nplugin = \"icp\"\nevent = \"pay\"\n\
         params = {{ rules = [{{ attr = \"industry\", in = [\"software\", \"fintech\"], weight = 2 }}], fit = 2, partial = 1 }}\n\
         [cohorts.fit_payers]\nstart = \"pay\"\ngrain = \"quarter\"\nwhere = \"segment.icp == 'fit'\"\n\
         [cohorts.payers_by_icp]\nstart = \"pay\"\ngrain = \"quarter\"\nby = [\"segment.icp\"]",
        library("tenure_icp")
    );
    let metrics = "[metrics.fit_only]\ntype = \"retention\"\ncohort = \"fit_payers\"\nreturn = \"pay\"\nunit = \"month\"\nperiods = [0]\n\
                   [metrics.by_icp]\ntype = \"retention\"\ncohort = \"payers_by_icp\"\nreturn = \"pay\"\nunit = \"month\"\nperiods = [0]";
    let report = fixture.run(&config(&segments, metrics));
    // fit = software or fintech: e1, e3, e4 (first paid in Q2, Q2, Q1). e2 and e5 are no-fit.
    let sizes = |metric: &str| -> Vec<(String, Value, u64)> {
        report["metrics"][metric]["cohorts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["cohort"].as_str().unwrap().to_string(),
                    r["segment"].clone(),
                    r["size"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        sizes("fit_only"),
        vec![
            ("2025-Q1".into(), Value::Null, 1),
            ("2025-Q2".into(), Value::Null, 2)
        ]
    );
    let fit = serde_json::json!({"segment.icp": "fit"});
    let no_fit = serde_json::json!({"segment.icp": "no-fit"});
    assert_eq!(
        sizes("by_icp"),
        vec![
            ("2025-Q1".into(), fit.clone(), 1),
            ("2025-Q2".into(), fit, 2),
            ("2025-Q2".into(), no_fit, 2),
        ]
    );
}

/// Runs a config whose segment uses the misbehaving plugin or a bad library, and returns the
/// error of the metric that uses it; the metric without a segment must still be computed.
fn failure(plugin_path: &str, params: &str, pin: Option<&str>) -> String {
    let fixture = fixture();
    let pin = pin.map(|p| format!("sha256 = \"{p}\"\n")).unwrap_or_default();
    let segments = format!(
        "[plugins.odd]\npath = \"{plugin_path}\"\n{pin}[segments.odd]\nplugin = \"odd\"\nparams = {params}\n\
         [cohorts.by_odd]\nstart = \"pay\"\ngrain = \"quarter\"\nby = [\"segment.odd\"]"
    );
    let metrics =
        "[metrics.by_odd]\ntype = \"retention\"\ncohort = \"by_odd\"\nreturn = \"pay\"\nperiods = [0]";
    let report = fixture.run(&config(&segments, metrics));
    assert!(
        report["metrics"]["plain"]["cohorts"]
            .as_array()
            .is_some_and(|c| !c.is_empty()),
        "other metrics go on"
    );
    let failed = &report["metrics"]["by_odd"];
    assert_eq!(failed["type"], "retention");
    failed["error"]
        .as_str()
        .expect("an error message")
        .replace(&build_dir().display().to_string(), "<build>")
}

#[test]
fn misbehaving_plugins_fail_only_their_metrics() {
    let odd = library("tenure_test_misbehaving");
    let cases = [
        ("panic in classify", failure(&odd, "{ behave = \"panic\" }", None)),
        (
            "panic while parsing params",
            failure(&odd, "{ behave = \"panic_on_create\" }", None),
        ),
        ("too few labels", failure(&odd, "{ behave = \"too_few\" }", None)),
        (
            "too many labels",
            failure(&odd, "{ behave = \"too_many\" }", None),
        ),
        ("rejected params", failure(&odd, "{ behave = \"reject\" }", None)),
        ("another ABI", failure(&library("tenure_test_abi_v2"), "{}", None)),
        ("sha256 mismatch", failure(&odd, "{}", Some(&"0".repeat(64)))),
    ];
    let text: String = cases
        .iter()
        .map(|(case, error)| format!("{case}:\n  {error}\n"))
        .collect();
    let text = text
        .replace(std::env::consts::DLL_PREFIX, "")
        .replace(std::env::consts::DLL_SUFFIX, ".<dll>");
    // The sha256 of a debug build is not stable; mask it.
    let masked: String = text
        .split(' ')
        .map(|word| {
            let hex = word.trim_end_matches(',');
            let is_digest =
                hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) && hex != "0".repeat(64);
            if is_digest {
                word.replace(hex, "<sha256>")
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    insta::assert_snapshot!(masked);
}

#[test]
fn a_matching_pin_loads() {
    let path = library("tenure_icp");
    let pin = sha256_of(&path);
    let fixture = fixture();
    let segments = format!(
        "[plugins.icp]\npath = \"{path}\"\nsha256 = \"{pin}\"\n[segments.icp]\nplugin = \"icp\"\n\
         params = {{ rules = [{{ attr = \"industry\", in = [\"software\"] }}], fit = 1, partial = 1 }}"
    );
    assert_eq!(
        labels(&fixture, &config(&segments, ""), "icp")[0],
        ("e1".to_string(), Some("fit".to_string()))
    );
}

/// SHA-256 by the system tool, independent of the host's own implementation.
fn sha256_of(path: &str) -> String {
    let output = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum runs");
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// A copy of the ICP plugin in `folder` with the given modes (Unix).
#[cfg(unix)]
fn icp_copy(folder: &std::path::Path, file_mode: u32, folder_mode: u32) -> String {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(folder).unwrap();
    let copy = folder.join(format!(
        "{}icp_copy{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    std::fs::copy(library("tenure_icp"), &copy).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(file_mode)).unwrap();
    std::fs::set_permissions(folder, std::fs::Permissions::from_mode(folder_mode)).unwrap();
    copy.display().to_string()
}

#[cfg(unix)]
fn icp_segment(path: &str) -> String {
    format!(
        "[plugins.icp]\npath = \"{path}\"\n[segments.icp]\nplugin = \"icp\"\n\
         params = {{ rules = [{{ attr = \"industry\", in = [\"software\"] }}], fit = 1, partial = 1 }}\n\
         [cohorts.by_icp]\nstart = \"pay\"\ngrain = \"quarter\"\nby = [\"segment.icp\"]"
    )
}

#[cfg(unix)]
#[test]
fn world_writable_plugins_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let fixture = fixture();
    // Refused by the check of the config's inputs (`validate`, and `run` before it reads).
    let invalid = |path: &str| {
        let project = tenure::Project::from_str(&config(&icp_segment(path), ""), fixture.path()).unwrap();
        match project.check_inputs() {
            Ok(()) => panic!("{path} must be refused"),
            Err(error) => error.to_string(),
        }
    };
    // A library file anyone may write.
    let writable_file = icp_copy(&fixture.path().join("a"), 0o666, 0o755);
    let error = invalid(&writable_file);
    assert!(
        error.contains(&format!(
            "{writable_file} is writable by every user (mode 666); refusing to load it"
        )),
        "{error}"
    );
    // A private file in a folder anyone may write to (and so replace the file).
    let open_folder = fixture.path().join("b");
    let in_open_folder = icp_copy(&open_folder, 0o755, 0o777);
    let error = invalid(&in_open_folder);
    assert!(
        error.contains("which every user may write to (mode 777); refusing to load it"),
        "{error}"
    );
    // The sticky bit (as on /tmp) stops others replacing it: loaded.
    let sticky = icp_copy(&fixture.path().join("c"), 0o755, 0o1777);
    assert_eq!(
        labels(&fixture, &config(&icp_segment(&sticky), ""), "icp")[0],
        ("e1".to_string(), Some("fit".to_string()))
    );
    // Made writable after the check: the loader checks again, failing the metric only.
    let later = icp_copy(&fixture.path().join("d"), 0o755, 0o755);
    let metric =
        "[metrics.by_icp]\ntype = \"retention\"\ncohort = \"by_icp\"\nreturn = \"pay\"\nperiods = [0]";
    let project = tenure::Project::from_str(&config(&icp_segment(&later), metric), fixture.path()).unwrap();
    project.check_inputs().unwrap();
    std::fs::set_permissions(&later, std::fs::Permissions::from_mode(0o666)).unwrap();
    let dataset = tenure::engine::Dataset::load(&project.plan).unwrap();
    let report = serde_json::to_value(dataset.evaluate(&[])).unwrap();
    assert_eq!(
        report["metrics"]["by_icp"]["error"],
        Value::String(format!(
            "segment `icp` (plugin `icp`): {later} is writable by every user (mode 666); refusing to load it (chmod o-w)"
        ))
    );
    assert!(report["metrics"]["plain"]["cohorts"].is_array());
}
