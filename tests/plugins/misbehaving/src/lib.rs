//! A test plugin whose params choose how it misbehaves: `{"behave": "panic"}` panics in
//! `classify`, `"too_few"` / `"too_many"` return the wrong number of labels, `"reject"` refuses
//! its params, `"panic_on_create"` panics while parsing them; anything else labels every entity
//! `"ok"`.

use tenure_plugin::{Batch, Labels, SegmentPlugin, export_segment_plugin};

/// The chosen misbehaviour.
pub struct Misbehaving {
    behave: String,
}

impl SegmentPlugin for Misbehaving {
    const NAME: &'static str = "misbehaving";

    fn new(params: &str) -> Result<Self, String> {
        let behave = params.split('"').nth(3).unwrap_or("").to_string();
        match behave.as_str() {
            "reject" => Err("this plugin rejects its params on purpose".into()),
            "panic_on_create" => {
                quiet_panics();
                panic!("boom while parsing params")
            }
            _ => Ok(Misbehaving { behave }),
        }
    }

    fn classify(&self, batch: &Batch<'_>, labels: &mut Labels<'_>) -> Result<(), String> {
        let count = match self.behave.as_str() {
            "panic" => {
                quiet_panics();
                panic!("boom in classify")
            }
            "too_few" => batch.len().saturating_sub(1),
            "too_many" => batch.len() + 2,
            _ => batch.len(),
        };
        for _ in 0..count {
            labels.push(Some("ok"));
        }
        Ok(())
    }
}

export_segment_plugin!(Misbehaving);

/// This library's own copy of std prints panics; the host reports them, so stay quiet.
fn quiet_panics() {
    std::panic::set_hook(Box::new(|_| {}));
}
