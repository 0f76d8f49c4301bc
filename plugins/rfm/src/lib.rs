//! RFM segmentation: every entity with at least one occurrence of the segment's value event gets
//! a recency, a frequency and a monetary score from 1 to `bins`, as SQL's `NTILE(bins)` assigns
//! them:
//!
//! - R: `NTILE(bins) OVER (ORDER BY recency_days DESC, entity)` — the most recent score highest;
//! - F: `NTILE(bins) OVER (ORDER BY frequency, entity)`;
//! - M: `NTILE(bins) OVER (ORDER BY monetary, entity)`.
//!
//! `NTILE` splits the ordered rows into `bins` groups whose sizes differ by at most one, the larger
//! groups first; ties are broken by the entity id, so the result is reproducible in SQL. Entities
//! without an occurrence get no label.
//!
//! Params (JSON): `bins` (default 5); `labels = "score"` (default, e.g. `"545"`) or `"named"`;
//! `segments`: the score-to-name map for `"named"`, a list of `{name, r: [lo, hi], f: [lo, hi]}`
//! tried in order (first match wins; unmatched entities get `"other"`). The default map, for
//! 5 bins:
//!
//! | name | R | F |
//! | --- | --- | --- |
//! | champions | 4–5 | 4–5 |
//! | loyal | 3–5 | 3–5 |
//! | new | 5 | 1 |
//! | potential loyalist | 3–5 | 1–2 |
//! | can't lose | 1 | 4–5 |
//! | at risk | 1–2 | 3–5 |
//! | hibernating | 2 | 1–2 |
//! | lost | 1 | 1–2 |

use serde::Deserialize;
use tenure_plugin::{Batch, Labels, SegmentPlugin, export_segment_plugin};

/// One entry of the score-to-name map.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedSegment {
    /// The label.
    pub name: String,
    /// Inclusive range of R scores.
    pub r: [u32; 2],
    /// Inclusive range of F scores.
    pub f: [u32; 2],
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum LabelStyle {
    Score,
    Named,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default = "default_bins")]
    bins: u32,
    #[serde(default = "default_style")]
    labels: LabelStyle,
    segments: Option<Vec<NamedSegment>>,
}

fn default_bins() -> u32 {
    5
}

fn default_style() -> LabelStyle {
    LabelStyle::Score
}

/// The default score-to-name map for 5 bins.
pub fn default_segments() -> Vec<NamedSegment> {
    let segment = |name: &str, r: [u32; 2], f: [u32; 2]| NamedSegment {
        name: name.to_string(),
        r,
        f,
    };
    vec![
        segment("champions", [4, 5], [4, 5]),
        segment("loyal", [3, 5], [3, 5]),
        segment("new", [5, 5], [1, 1]),
        segment("potential loyalist", [3, 5], [1, 2]),
        segment("can't lose", [1, 1], [4, 5]),
        segment("at risk", [1, 2], [3, 5]),
        segment("hibernating", [2, 2], [1, 2]),
        segment("lost", [1, 1], [1, 2]),
    ]
}

/// The RFM plugin's state: its parsed params.
pub struct Rfm {
    bins: u32,
    named: Option<Vec<NamedSegment>>,
}

/// SQL `NTILE(bins)` over `order` (indexes already sorted): the bucket of each position.
pub fn ntile(count: usize, bins: u32) -> Vec<u32> {
    let bins = bins as usize;
    let (base, extra) = (count / bins, count % bins);
    let mut buckets = Vec::with_capacity(count);
    for bucket in 0..bins {
        let size = base + usize::from(bucket < extra);
        buckets.extend(std::iter::repeat_n(bucket as u32 + 1, size));
    }
    buckets
}

/// Scores of `values` (one per entity) by NTILE over (value, entity id).
fn scores<T: PartialOrd + Copy>(ids: &[&str], values: &[T], descending: bool, bins: u32) -> Vec<u32> {
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by(|&a, &b| {
        let by_value = values[a]
            .partial_cmp(&values[b])
            .unwrap_or(std::cmp::Ordering::Equal);
        let by_value = if descending { by_value.reverse() } else { by_value };
        by_value.then_with(|| ids[a].cmp(ids[b]))
    });
    let buckets = ntile(order.len(), bins);
    let mut result = vec![0; ids.len()];
    for (position, index) in order.into_iter().enumerate() {
        result[index] = buckets[position];
    }
    result
}

impl SegmentPlugin for Rfm {
    const NAME: &'static str = "rfm";
    const WHOLE_POPULATION: bool = true;

    fn new(params: &str) -> Result<Self, String> {
        let params: Params = serde_json::from_str(params).map_err(|e| format!("invalid rfm params: {e}"))?;
        if !(2..=100).contains(&params.bins) {
            return Err(format!("bins must be between 2 and 100, found {}", params.bins));
        }
        let named = match (params.labels, params.segments) {
            (LabelStyle::Score, Some(_)) => return Err("`segments` needs labels = \"named\"".into()),
            (LabelStyle::Score, None) => None,
            (LabelStyle::Named, Some(map)) => Some(map),
            (LabelStyle::Named, None) if params.bins == 5 => Some(default_segments()),
            (LabelStyle::Named, None) => {
                return Err(format!(
                    "the default segment map is for 5 bins; give `segments` for {}",
                    params.bins
                ));
            }
        };
        Ok(Rfm {
            bins: params.bins,
            named,
        })
    }

    fn classify(&self, batch: &Batch<'_>, labels: &mut Labels<'_>) -> Result<(), String> {
        let scored: Vec<usize> = (0..batch.len()).filter(|i| batch.frequency(*i) > 0).collect();
        let ids: Vec<&str> = scored.iter().map(|i| batch.entity(*i)).collect();
        let recency: Vec<i32> = scored
            .iter()
            .map(|i| batch.recency_days(*i).unwrap_or(i32::MAX))
            .collect();
        let frequency: Vec<u64> = scored.iter().map(|i| batch.frequency(*i)).collect();
        let monetary: Vec<f64> = scored.iter().map(|i| batch.monetary(*i)).collect();
        let r = scores(&ids, &recency, true, self.bins);
        let f = scores(&ids, &frequency, false, self.bins);
        let m = scores(&ids, &monetary, false, self.bins);
        let mut next = 0;
        for i in 0..batch.len() {
            if scored.get(next) != Some(&i) {
                labels.push(None);
                continue;
            }
            let (r, f, m) = (r[next], f[next], m[next]);
            next += 1;
            match &self.named {
                None => labels.push(Some(&format!("{r}{f}{m}"))),
                Some(map) => {
                    let name = map
                        .iter()
                        .find(|s| (s.r[0]..=s.r[1]).contains(&r) && (s.f[0]..=s.f[1]).contains(&f))
                        .map_or("other", |s| s.name.as_str());
                    labels.push(Some(name));
                }
            }
        }
        Ok(())
    }
}

export_segment_plugin!(Rfm);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntile_matches_sql() {
        // NTILE(3) over 7 rows: groups of 3, 2, 2.
        assert_eq!(ntile(7, 3), vec![1, 1, 1, 2, 2, 3, 3]);
        // More buckets than rows: one row each, the last buckets empty.
        assert_eq!(ntile(2, 5), vec![1, 2]);
        assert_eq!(ntile(0, 5), Vec::<u32>::new());
    }

    #[test]
    fn ties_break_by_entity_id() {
        let ids = ["b", "a", "c", "d"];
        // All equal: order by id a, b, c, d → NTILE(2) = 1, 1, 2, 2.
        assert_eq!(scores(&ids, &[1, 1, 1, 1], false, 2), vec![1, 1, 2, 2]);
        // Descending recency: c (30), b (10), a (3), d (1) → NTILE(2) = 1, 1, 2, 2; the most recent
        // entities land in the highest bucket.
        assert_eq!(scores(&ids, &[10, 3, 30, 1], true, 2), vec![1, 2, 1, 2]);
    }

    #[test]
    fn the_default_map_names_every_score() {
        let map = default_segments();
        for r in 1..=5 {
            for f in 1..=5 {
                assert!(
                    map.iter()
                        .any(|s| (s.r[0]..=s.r[1]).contains(&r) && (s.f[0]..=s.f[1]).contains(&f)),
                    "R{r} F{f} has no name"
                );
            }
        }
    }
}
