//! `type = "crr"`: S, E and N per period (docs/config.md, `type = "crr"`).

use tenure_plan::{Crr, Plan};

use crate::Dialect;
use crate::calendar::{period_rows, row_period};
use crate::expr::row_sql;
use crate::input::{dated_rows, with};

pub(crate) fn statement(plan: &Plan, crr: &Crr, dialect: &dyn Dialect) -> Result<String, String> {
    let mut ctes = dated_rows(plan, dialect)?;
    let active_event = &plan.events[crr.active];
    let filter = row_sql(&active_event.filter, dialect)?;
    let period = row_period(plan, crr.grain, dialect);
    ctes.push((
        "active".to_string(),
        format!(
            "SELECT DISTINCT entity, {period} AS period FROM dated_rows CROSS JOIN as_of \
             WHERE dated_rows.local_day <= as_of.as_of AND ({filter})"
        ),
    ));
    ctes.push((
        "first_active".to_string(),
        "SELECT entity, min(period) AS first_period FROM active GROUP BY entity".to_string(),
    ));
    ctes.extend(period_rows(
        plan,
        crr.grain,
        "SELECT min(period) FROM active",
        dialect,
    ));
    ctes.push((
        "ends".to_string(),
        "SELECT period AS end_period, count(*) AS n FROM active GROUP BY period".to_string(),
    ));
    ctes.push((
        "starts".to_string(),
        // No output column takes the name of an input column: ClickHouse resolves an alias first.
        "SELECT period + 1 AS start_period, count(*) AS n FROM active GROUP BY period".to_string(),
    ));
    ctes.push((
        "news".to_string(),
        "SELECT first_period AS new_period, count(*) AS n FROM first_active GROUP BY first_period"
            .to_string(),
    ));
    let query = "SELECT periods.period AS period, periods.period < bounds.period_after_as_of AS complete,\n  \
                 coalesce(starts.n, 0) AS start_s, coalesce(ends.n, 0) AS end_e, coalesce(news.n, 0) AS new_n\n\
                 FROM periods CROSS JOIN bounds\n\
                 LEFT JOIN starts ON starts.start_period = periods.period\n\
                 LEFT JOIN ends ON ends.end_period = periods.period\n\
                 LEFT JOIN news ON news.new_period = periods.period\n\
                 ORDER BY periods.period";
    Ok(with(&ctes, query, dialect))
}
