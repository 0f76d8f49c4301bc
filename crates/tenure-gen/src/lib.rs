//! Deterministic synthetic SaaS data: accounts that sign up, activate, use the product, pay
//! monthly, yearly or weekly (with expansion, contraction and churn), answer NPS surveys, open support tickets and
//! fail payments (more often before they churn), take part in an onboarding experiment whose
//! welcome email really raises activation — plus bot traffic and
//! duplicate rows, so that quality rules have something to do.
//!
//! The same [`Options`] always produce byte-identical files: the generator draws from its own
//! seeded PRNG and formats numbers itself.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// Number of accounts.
    pub accounts: u32,
    /// PRNG seed.
    pub seed: u64,
    /// First signup day.
    pub start: NaiveDate,
    /// Length of the observation window in days.
    pub days: u32,
    /// Output format of the events file.
    pub format: OutputFormat,
    /// Which business to simulate.
    pub profile: Profile,
    /// Parquet only: the largest dictionary, in bytes, a column chunk keeps before the writer
    /// falls back to plain pages for the rest of it. 1 MiB, the common writers' default, keeps
    /// the account ids dictionary-encoded up to some tens of thousands of accounts per row group.
    pub parquet_dictionary_bytes: usize,
}

/// The business a dataset simulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// A B2B SaaS product: signups, activation, usage, monthly invoices, NPS.
    #[default]
    Saas,
    /// B2B wholesale e-commerce: shops that reorder, with baskets that grow.
    Wholesale,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            accounts: 1000,
            seed: 42,
            start: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default(),
            days: 365,
            format: OutputFormat::Csv,
            profile: Profile::Saas,
            parquet_dictionary_bytes: 1 << 20,
        }
    }
}

/// Events file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// `events.csv`
    Csv,
    /// `events.jsonl`
    JsonLines,
    /// `events.parquet` (snappy-compressed, UTC timestamps in microseconds)
    Parquet,
}

/// Errors writing the dataset.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    /// A file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// What was written.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The events file.
    pub events_path: PathBuf,
    /// The accounts file.
    pub accounts_path: PathBuf,
    /// Event rows written (bots and duplicates included).
    pub events: u64,
    /// Account rows written.
    pub accounts: u32,
}

/// SplitMix64: small, fast and stable across platforms and versions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }

    /// Poisson by inversion (small means only).
    fn poisson(&mut self, mean: f64) -> u32 {
        let limit = (-mean).exp();
        let mut product = self.unit();
        let mut count = 0;
        while product > limit && count < 50 {
            count += 1;
            product *= self.unit();
        }
        count
    }

    fn pick<'a, T>(&mut self, items: &'a [(T, f64)]) -> &'a T {
        let total: f64 = items.iter().map(|(_, w)| w).sum();
        let mut target = self.unit() * total;
        for (item, weight) in items {
            if target < *weight {
                return item;
            }
            target -= weight;
        }
        &items[items.len() - 1].0
    }
}

const PLANS: [&str; 4] = ["free", "starter", "pro", "enterprise"];
const SAAS_INDUSTRIES: [&str; 8] = [
    "software",
    "retail",
    "fintech",
    "healthcare",
    "manufacturing",
    "media",
    "education",
    "logistics",
];
const TIERS: [&str; 4] = ["bronze", "silver", "gold", "platinum"];
const BUYER_INDUSTRIES: [&str; 8] = [
    "cafe",
    "grocery",
    "restaurant",
    "hotel",
    "bakery",
    "retail",
    "catering",
    "convenience",
];
const EVENTS: [&str; 12] = [
    "signup",
    "login",
    "report_created",
    "api_call",
    "export",
    "invoice_paid",
    "nps_answered",
    "page_view",
    "order_placed",
    "catalog_viewed",
    "support_ticket",
    "payment_failed",
];
const AGENTS: [&str; 7] = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "acme-mobile/3.2 (iOS 17.4)",
    "python-requests/2.31.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
];

/// One generated event row, compact so that large datasets fit in memory for sorting.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Row {
    seconds: i64,
    account: u32,
    event: u8,
    plan: u8,
    agent: u8,
    score: u8,
    amount_cents: u32,
}

struct Account {
    plan: u8,
    industry: &'static str,
    employees: u32,
    country: &'static str,
    signup_day: i64,
    /// In the onboarding experiment's treatment group (a welcome email), which raises the
    /// chance that a SaaS account activates by 10 points; half the accounts, by a hash of the
    /// account's number, so the random stream of everything else is unchanged.
    treated: bool,
    /// How often a paying account is invoiced; drawn like `treated`, from the account's number.
    billing: Billing,
}

/// A SaaS account's billing interval (`billing` in the accounts file, as Stripe names a price's
/// interval).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Billing {
    Month,
    /// Ten months' price once a year: two months free, a common annual discount. A quarter of
    /// the accounts that start on pro or enterprise.
    Year,
    /// 12/52 of the monthly price every seven days. A sixth of the accounts that start on
    /// starter.
    Week,
}

impl Billing {
    fn of(plan: u8, draw: u64) -> Billing {
        match (plan, draw % 12) {
            (2 | 3, 0..3) => Billing::Year,
            (1, 0..2) => Billing::Week,
            _ => Billing::Month,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Billing::Month => "month",
            Billing::Year => "year",
            Billing::Week => "week",
        }
    }
}

/// Writes `events.csv` (or `.jsonl`) and `accounts.csv` into `dir`.
pub fn generate(options: &Options, dir: &Path) -> Result<Summary, GenError> {
    std::fs::create_dir_all(dir).map_err(|source| GenError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut rng = Rng(options.seed ^ 0x7465_6E75_7265);
    let start_seconds = options
        .start
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
        .timestamp();
    let end_day = i64::from(options.days);
    let mut accounts = Vec::with_capacity(options.accounts as usize);
    let mut rows: Vec<Row> = Vec::new();
    for index in 0..options.accounts {
        let mut account = new_account(&mut rng, end_day);
        account.treated =
            Rng(options.seed ^ u64::from(index).wrapping_mul(0x9E37_79B9_7F4A_7C15)).next() % 2 == 0;
        account.billing = Billing::of(
            account.plan,
            Rng(options.seed ^ u64::from(index).wrapping_mul(0xA24B_AED4_963E_E407)).next(),
        );
        // About 3% of accounts were created by sales but never used the product: attributes, no events.
        if !rng.chance(0.03) {
            match options.profile {
                Profile::Saas => {
                    let churn_day = simulate(&mut rng, index, &account, end_day, start_seconds, &mut rows);
                    // Trouble before churn, from a generator of its own so that the rows above
                    // stay the same for a seed.
                    let mut trouble =
                        Rng(options.seed ^ u64::from(index).wrapping_mul(0xD1B5_4A32_D192_ED03));
                    simulate_trouble(
                        &mut trouble,
                        index,
                        &account,
                        churn_day,
                        end_day,
                        start_seconds,
                        &mut rows,
                    );
                }
                Profile::Wholesale => {
                    simulate_buyer(&mut rng, index, &account, end_day, start_seconds, &mut rows)
                }
            }
        }
        accounts.push(account);
    }
    add_noise(&mut rng, options, start_seconds, &mut rows);
    rows.sort_unstable();
    let extension = match options.format {
        OutputFormat::Csv => "csv",
        OutputFormat::JsonLines => "jsonl",
        OutputFormat::Parquet => "parquet",
    };
    let events_path = dir.join(format!("events.{extension}"));
    let plans = if options.profile == Profile::Wholesale {
        TIERS
    } else {
        PLANS
    };
    if options.format == OutputFormat::Parquet {
        write_parquet(&events_path, &rows, plans, options.parquet_dictionary_bytes)?;
    } else {
        write_events(
            &events_path,
            options.format == OutputFormat::JsonLines,
            &rows,
            plans,
        )?;
    }
    let accounts_path = dir.join("accounts.csv");
    write_accounts(&accounts_path, &accounts, options.start, options.profile)?;
    Ok(Summary {
        events_path,
        accounts_path,
        events: rows.len() as u64,
        accounts: options.accounts,
    })
}

fn new_account(rng: &mut Rng, end_day: i64) -> Account {
    let plan = *rng.pick(&[(0u8, 0.40), (1, 0.30), (2, 0.22), (3, 0.08)]);
    let industry = *rng.pick(&[
        (SAAS_INDUSTRIES[0], 0.25),
        (SAAS_INDUSTRIES[1], 0.15),
        (SAAS_INDUSTRIES[2], 0.12),
        (SAAS_INDUSTRIES[3], 0.10),
        (SAAS_INDUSTRIES[4], 0.12),
        (SAAS_INDUSTRIES[5], 0.08),
        (SAAS_INDUSTRIES[6], 0.08),
        (SAAS_INDUSTRIES[7], 0.10),
    ]);
    let country = *rng.pick(&[
        ("US", 0.35),
        ("DE", 0.12),
        ("GB", 0.10),
        ("FR", 0.08),
        ("IN", 0.08),
        ("BR", 0.06),
        ("JP", 0.05),
        ("CA", 0.06),
        ("AU", 0.04),
        ("NL", 0.06),
    ]);
    let (low, high) = [(1.0f64, 20.0f64), (5.0, 100.0), (20.0, 1000.0), (500.0, 20000.0)][plan as usize];
    let employees = (low * (high / low).powf(rng.unit())).round() as u32;
    // Signups grow over the window: later days are a little more likely.
    let signup_day = ((rng.unit().powf(0.8)) * end_day as f64) as i64;
    Account {
        plan,
        industry,
        employees,
        country,
        signup_day: signup_day.min(end_day - 1),
        treated: false,
        billing: Billing::Month,
    }
}

fn seconds_of_day(rng: &mut Rng) -> i64 {
    // Working hours, mostly: 07:00–21:59 UTC.
    7 * 3600 + rng.below(15 * 3600) as i64
}

/// An account's life; returns the day its activity stops (`end_day` when it never does).
fn simulate(
    rng: &mut Rng,
    index: u32,
    account: &Account,
    end_day: i64,
    start: i64,
    rows: &mut Vec<Row>,
) -> i64 {
    let plan = account.plan as usize;
    let push = |rows: &mut Vec<Row>,
                day: i64,
                seconds: i64,
                event: u8,
                agent: u8,
                plan: u8,
                score: u8,
                cents: u32| {
        rows.push(Row {
            seconds: start + day * 86_400 + seconds,
            account: index,
            event,
            plan,
            agent,
            score,
            amount_cents: cents,
        });
    };
    let agent = [0u8, 1, 2, 3][rng.below(4) as usize];
    let signup_day = account.signup_day;
    let signup_second = seconds_of_day(rng);
    push(rows, signup_day, signup_second, 0, agent, account.plan, 0, 0);
    let activates = rng.chance([0.45, 0.62, 0.75, 0.85][plan] + if account.treated { 0.10 } else { 0.0 });
    let activation_day = signup_day + rng.exponential(2.5) as i64;
    let lifetime = if activates {
        rng.exponential([45.0, 110.0, 200.0, 400.0][plan])
    } else {
        rng.exponential(4.0)
    } as i64;
    let churn_day = (activation_day + lifetime).min(end_day);
    if activates && activation_day < end_day {
        push(
            rows,
            activation_day,
            seconds_of_day(rng).max(if activation_day == signup_day {
                signup_second + 60
            } else {
                0
            }),
            2,
            agent,
            account.plan,
            0,
            0,
        );
    }
    let base_activity = [0.25, 0.40, 0.55, 0.70][plan];
    for day in signup_day + 1..churn_day {
        let age = (day - signup_day) as f64;
        let weekday = (day + 3).rem_euclid(7); // 0 = Monday for a start on a Thursday (2025-01-01)
        let weekend = if weekday >= 5 { 0.45 } else { 1.0 };
        let p = base_activity * (0.55 + 0.45 * (-age / 30.0).exp()) * weekend;
        if !rng.chance(p) {
            continue;
        }
        for _ in 0..1 + rng.poisson(0.6) {
            push(rows, day, seconds_of_day(rng), 1, agent, account.plan, 0, 0);
        }
        if activates && day >= activation_day {
            for _ in 0..rng.poisson(0.7) {
                push(rows, day, seconds_of_day(rng), 2, agent, account.plan, 0, 0);
            }
            if plan > 0 {
                for _ in 0..rng.poisson([0.0, 1.5, 4.0, 9.0][plan]) {
                    push(rows, day, seconds_of_day(rng), 3, 4, account.plan, 0, 0);
                }
            }
            for _ in 0..rng.poisson(0.25) {
                push(rows, day, seconds_of_day(rng), 4, agent, account.plan, 0, 0);
            }
        }
    }
    simulate_billing(rng, index, account, activates, churn_day, end_day, start, rows);
    churn_day
}

/// Support tickets (now and then, and three times as often in the 30 days before an account
/// stops) and, for paying plans, a failed payment or two in those days: signals a health score
/// can read before churn shows.
fn simulate_trouble(
    rng: &mut Rng,
    index: u32,
    account: &Account,
    churn_day: i64,
    end_day: i64,
    start: i64,
    rows: &mut Vec<Row>,
) {
    let churns = churn_day < end_day;
    let mut push = |rng: &mut Rng, day: i64, event: u8| {
        rows.push(Row {
            seconds: start + day * 86_400 + seconds_of_day(rng),
            account: index,
            event,
            plan: account.plan,
            agent: 0,
            score: 0,
            amount_cents: 0,
        })
    };
    for day in account.signup_day + 1..churn_day {
        let near_end = churns && churn_day - day <= 30;
        if rng.chance(if near_end { 0.06 } else { 0.02 }) {
            push(rng, day, 10);
        }
        if near_end && account.plan > 0 && rng.chance(0.04) {
            push(rng, day, 11);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn simulate_billing(
    rng: &mut Rng,
    index: u32,
    account: &Account,
    activates: bool,
    churn_day: i64,
    end_day: i64,
    start: i64,
    rows: &mut Vec<Row>,
) {
    let mut plan = account.plan as usize;
    let mut price = [0.0, 49.0, 199.0, 990.0][plan] * (1.0 + (account.employees as f64).ln() / 20.0);
    // The invoices a monthly payer would get; other intervals are made from them afterwards, so
    // that every account draws the same random numbers whatever its interval.
    let mut invoices = Vec::new();
    let mut day = account.signup_day + 14; // a two-week trial, then monthly invoices
    let mut active_until = churn_day;
    let mut came_back = false;
    while day < end_day {
        if day >= active_until {
            // 6% of churned payers come back one to three months later, once.
            if !came_back && plan > 0 && rng.chance(0.06) {
                came_back = true;
                day += 30 + rng.below(60) as i64;
                active_until = day + rng.exponential(120.0) as i64;
                continue;
            }
            break;
        }
        if plan == 0 && activates && rng.chance(0.06) {
            plan = 1;
            price = 49.0;
        }
        if plan > 0 {
            if rng.chance(0.08) {
                price *= 1.25 + rng.unit() * 0.5; // seats added
            } else if rng.chance(0.04) {
                price *= 0.6 + rng.unit() * 0.3; // seats removed
            }
            let cents = (price * 100.0).round() as u32;
            invoices.push(Row {
                seconds: start + day * 86_400 + 3 * 3600 + rng.below(3600) as i64,
                account: index,
                event: 5,
                plan: plan as u8,
                agent: 4,
                score: 0,
                amount_cents: cents,
            });
        }
        if rng.chance(0.12) {
            let score = match plan {
                0 => rng.below(9) as u8 + 1,
                _ => (rng.below(6) as u8 + 5).min(10),
            };
            rows.push(Row {
                seconds: start + day * 86_400 + seconds_of_day(rng),
                account: index,
                event: 6,
                plan: plan as u8,
                agent: 0,
                score: score + 1,
                amount_cents: 0,
            });
        }
        day += days_in_month_from(start / 86_400 + day);
    }
    rebill(account.billing, &invoices, start + end_day * 86_400, rows);
}

/// Appends to `rows` the invoices of an account billed at `billing` that would have paid
/// `monthly` (in time order) as a monthly payer: the same rows for a monthly payer; for a yearly
/// one the first invoice of each run of twelve, at ten times its price (a run restarts after a
/// gap of more than 45 days, when a churned payer comes back); for a weekly one, from each monthly
/// invoice on, 12/52 of its price every seven days for the month it covered, before `end`.
fn rebill(billing: Billing, monthly: &[Row], end: i64, rows: &mut Vec<Row>) {
    const DAY: i64 = 86_400;
    match billing {
        Billing::Month => rows.extend_from_slice(monthly),
        Billing::Year => {
            let mut in_run = 0;
            for (index, invoice) in monthly.iter().enumerate() {
                let gap = index
                    .checked_sub(1)
                    .map_or(0, |previous| invoice.seconds - monthly[previous].seconds);
                if gap > 45 * DAY {
                    in_run = 0;
                }
                if in_run % 12 == 0 {
                    rows.push(Row {
                        amount_cents: invoice.amount_cents.saturating_mul(10),
                        ..*invoice
                    });
                }
                in_run += 1;
            }
        }
        Billing::Week => {
            for invoice in monthly {
                let covered = days_in_month_from(invoice.seconds.div_euclid(DAY)) * DAY;
                let cents = (f64::from(invoice.amount_cents) * 12.0 / 52.0).round() as u32;
                let mut at = invoice.seconds;
                while at < (invoice.seconds + covered).min(end) {
                    rows.push(Row {
                        seconds: at,
                        amount_cents: cents,
                        ..*invoice
                    });
                    at += 7 * DAY;
                }
            }
        }
    }
}

/// Days from `day` (since the Unix epoch) to the same day of the next calendar month.
fn days_in_month_from(day: i64) -> i64 {
    let date = chrono::DateTime::from_timestamp(day * 86_400, 0).map(|t| t.date_naive());
    match date.and_then(|d| Some((d, d.checked_add_months(chrono::Months::new(1))?))) {
        Some((from, to)) => (to - from).num_days(),
        None => 30,
    }
}

fn add_noise(rng: &mut Rng, options: &Options, start: i64, rows: &mut Vec<Row>) {
    let real = rows.len();
    if real == 0 {
        return;
    }
    // Bots: about 2% extra rows from crawler user agents, on real accounts.
    for _ in 0..real / 50 {
        let account = rng.below(u64::from(options.accounts)) as u32;
        let day = rng.below(u64::from(options.days)) as i64;
        let event = [1u8, 7, 3, 2][rng.below(4) as usize];
        rows.push(Row {
            seconds: start + day * 86_400 + rng.below(86_400) as i64,
            account,
            event,
            plan: 0,
            agent: 5 + rng.below(2) as u8,
            score: 0,
            amount_cents: 0,
        });
    }
    // Duplicates: about 1% of rows sent twice by a retrying client.
    for _ in 0..real / 100 {
        let row = rows[rng.below(real as u64) as usize];
        rows.push(row);
    }
}

/// A wholesale buyer (a shop, a café, a hotel): browses the catalogue and reorders every few
/// weeks; loyal buyers order more often and their baskets grow; most eventually stop.
fn simulate_buyer(
    rng: &mut Rng,
    index: u32,
    account: &Account,
    end_day: i64,
    start: i64,
    rows: &mut Vec<Row>,
) {
    let tier = account.plan as usize;
    let push = |rows: &mut Vec<Row>, day: i64, event: u8, agent: u8, cents: u32, seconds: i64| {
        rows.push(Row {
            seconds: start + day * 86_400 + seconds,
            account: index,
            event,
            plan: account.plan,
            agent,
            score: 0,
            amount_cents: cents,
        });
    };
    let agent = [0u8, 1, 3][rng.below(3) as usize];
    let mut day = account.signup_day;
    push(rows, day, 0, agent, 0, seconds_of_day(rng));
    // Half the accounts never order; the others order until they leave.
    if !rng.chance([0.45, 0.6, 0.7, 0.8][tier]) {
        for _ in 0..rng.poisson(2.0) {
            push(
                rows,
                (day + rng.below(10) as i64).min(end_day - 1),
                9,
                agent,
                0,
                seconds_of_day(rng),
            );
        }
        return;
    }
    let leave_day = day + rng.exponential([90.0, 150.0, 240.0, 400.0][tier]) as i64;
    let mut basket = [180.0, 350.0, 900.0, 2400.0][tier] * (0.6 + rng.unit() * 0.8);
    let mut gap: f64 = [35.0, 25.0, 18.0, 12.0][tier];
    day += rng.below(5) as i64;
    while day < end_day.min(leave_day) {
        for _ in 0..1 + rng.poisson(1.5) {
            push(rows, day, 9, agent, 0, seconds_of_day(rng));
        }
        let cents = (basket * (0.8 + rng.unit() * 0.4) * 100.0).round() as u32;
        push(rows, day, 8, agent, cents, seconds_of_day(rng));
        // Loyal buyers widen their range: baskets grow a little and orders come a little sooner.
        basket *= 1.0 + rng.unit() * 0.05;
        gap = (gap * 0.98).max(6.0);
        day += 1 + rng.exponential(gap) as i64;
    }
}

fn account_id(index: u32) -> String {
    format!("acc_{index:06}")
}

fn timestamp(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// Writes CSV, or JSON Lines when `json`.
fn write_events(path: &Path, json: bool, rows: &[Row], plans: [&str; 4]) -> Result<(), GenError> {
    let error = |source| GenError::Write {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(path).map_err(error)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    if !json {
        writeln!(out, "account_id,ts,event,amount,plan,user_agent,score").map_err(error)?;
    }
    for row in rows {
        let amount = if row.event == 5 || row.event == 8 {
            format!("{}.{:02}", row.amount_cents / 100, row.amount_cents % 100)
        } else {
            String::new()
        };
        let score = if row.score > 0 {
            (row.score - 1).to_string()
        } else {
            String::new()
        };
        let plan = if row.agent >= 5 {
            ""
        } else {
            plans[row.plan as usize]
        };
        let agent = AGENTS[row.agent as usize];
        match json {
            false => writeln!(
                out,
                "{},{},{},{},{},\"{}\",{}",
                account_id(row.account),
                timestamp(row.seconds),
                EVENTS[row.event as usize],
                amount,
                plan,
                agent,
                score
            ),
            true => {
                let amount = if amount.is_empty() { "null".to_string() } else { amount };
                let score = if score.is_empty() { "null".to_string() } else { score };
                let plan = if plan.is_empty() { "null".to_string() } else { format!("\"{plan}\"") };
                writeln!(
                    out,
                    "{{\"account_id\":\"{}\",\"ts\":\"{}\",\"event\":\"{}\",\"amount\":{},\"plan\":{},\"user_agent\":\"{}\",\"score\":{}}}",
                    account_id(row.account),
                    timestamp(row.seconds),
                    EVENTS[row.event as usize],
                    amount,
                    plan,
                    agent,
                    score
                )
            }
        }
        .map_err(error)?;
    }
    out.flush().map_err(error)
}

/// The same columns as the CSV, typed: `ts` is a UTC timestamp, `amount` a double, `score` an
/// integer; written in row groups of one million rows.
fn write_parquet(
    path: &Path,
    rows: &[Row],
    plans: [&str; 4],
    dictionary_bytes: usize,
) -> Result<(), GenError> {
    use std::sync::Arc;

    use arrow_array::{
        ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
    };
    use arrow_schema::{DataType, Field, Schema, TimeUnit};

    let failed = |error: &dyn std::fmt::Display| GenError::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(error.to_string()),
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("account_id", DataType::Utf8, false),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("event", DataType::Utf8, false),
        Field::new("amount", DataType::Float64, true),
        Field::new("plan", DataType::Utf8, true),
        Field::new("user_agent", DataType::Utf8, false),
        Field::new("score", DataType::Int64, true),
    ]));
    let file = std::fs::File::create(path).map_err(|source| GenError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    let properties = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .set_max_row_group_row_count(Some(1 << 20))
        .set_dictionary_page_size_limit(dictionary_bytes)
        .build();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema.clone(), Some(properties))
        .map_err(|e| failed(&e))?;
    for chunk in rows.chunks(1 << 20) {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(
                chunk.iter().map(|r| account_id(r.account)),
            )),
            Arc::new(
                TimestampMicrosecondArray::from_iter_values(chunk.iter().map(|r| r.seconds * 1_000_000))
                    .with_timezone("UTC"),
            ),
            Arc::new(StringArray::from_iter_values(
                chunk.iter().map(|r| EVENTS[r.event as usize]),
            )),
            Arc::new(Float64Array::from_iter(chunk.iter().map(|r| {
                (r.event == 5 || r.event == 8).then(|| f64::from(r.amount_cents) / 100.0)
            }))),
            Arc::new(StringArray::from_iter(
                chunk
                    .iter()
                    .map(|r| (r.agent < 5).then(|| plans[r.plan as usize])),
            )),
            Arc::new(StringArray::from_iter_values(
                chunk.iter().map(|r| AGENTS[r.agent as usize]),
            )),
            Arc::new(Int64Array::from_iter(
                chunk
                    .iter()
                    .map(|r| (r.score > 0).then(|| i64::from(r.score) - 1)),
            )),
        ];
        let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| failed(&e))?;
        writer.write(&batch).map_err(|e| failed(&e))?;
    }
    writer.close().map_err(|e| failed(&e))?;
    Ok(())
}

fn write_accounts(
    path: &Path,
    accounts: &[Account],
    start: NaiveDate,
    profile: Profile,
) -> Result<(), GenError> {
    let (plans, industries): ([&str; 4], Option<[&str; 8]>) = match profile {
        Profile::Saas => (PLANS, None),
        Profile::Wholesale => (TIERS, Some(BUYER_INDUSTRIES)),
    };
    let error = |source| GenError::Write {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(path).map_err(error)?;
    let mut out = std::io::BufWriter::new(file);
    writeln!(
        out,
        "account_id,plan,industry,employees,country,created,onboarding{}",
        if profile == Profile::Saas { ",billing" } else { "" }
    )
    .map_err(error)?;
    for (index, account) in accounts.iter().enumerate() {
        let created = start + chrono::Duration::days(account.signup_day);
        writeln!(
            out,
            "{},{},{},{},{},{:04}-{:02}-{:02},{}{}",
            account_id(index as u32),
            plans[account.plan as usize],
            industries.map_or(account.industry, |names| names[SAAS_INDUSTRIES
                .iter()
                .position(|i| *i == account.industry)
                .unwrap_or(0)]),
            account.employees,
            account.country,
            created.year(),
            created.month(),
            created.day(),
            if account.treated {
                "welcome_email"
            } else {
                "control"
            },
            match profile {
                Profile::Saas => format!(",{}", account.billing.name()),
                Profile::Wholesale => String::new(),
            }
        )
        .map_err(error)?;
    }
    out.flush().map_err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes() {
        let a = tempdir();
        let b = tempdir();
        let options = Options {
            accounts: 40,
            days: 60,
            ..Options::default()
        };
        generate(&options, a.path()).unwrap();
        generate(&options, b.path()).unwrap();
        for file in ["events.csv", "accounts.csv"] {
            assert_eq!(
                std::fs::read(a.path().join(file)).unwrap(),
                std::fs::read(b.path().join(file)).unwrap()
            );
        }
        let other = tempdir();
        generate(&Options { seed: 7, ..options }, other.path()).unwrap();
        assert_ne!(
            std::fs::read(a.path().join("events.csv")).unwrap(),
            std::fs::read(other.path().join("events.csv")).unwrap()
        );
    }

    #[test]
    fn the_dictionary_limit_decides_whether_account_ids_fall_back_to_plain_pages() {
        use parquet::basic::Encoding;
        use parquet::file::reader::{FileReader, SerializedFileReader};
        // Whether every data page of the account id column is dictionary-encoded.
        let all_dictionary = |limit: usize| {
            let dir = tempdir();
            let options = Options {
                accounts: 2_000,
                days: 60,
                format: OutputFormat::Parquet,
                parquet_dictionary_bytes: limit,
                ..Options::default()
            };
            generate(&options, dir.path()).unwrap();
            let file = std::fs::File::open(dir.path().join("events.parquet")).unwrap();
            let reader = SerializedFileReader::new(file).unwrap();
            let column = reader.metadata().row_group(0).column(0).clone();
            column
                .page_encoding_stats_mask()
                .is_some_and(|mask| mask.is_only(Encoding::RLE_DICTIONARY))
        };
        // 2 000 ids of 10 bytes (and a 4-byte length each): 28 kB of dictionary.
        assert!(all_dictionary(1 << 20));
        assert!(!all_dictionary(4 << 10));
    }

    /// A fresh folder, removed with everything in it when the test ends.
    fn invoice(day: i64, cents: u32) -> Row {
        Row {
            seconds: day * 86_400,
            account: 1,
            event: 5,
            plan: 2,
            agent: 4,
            score: 0,
            amount_cents: cents,
        }
    }

    #[test]
    fn yearly_payers_pay_ten_months_once_a_year_and_again_after_a_comeback() {
        // Fourteen monthly invoices 30 days apart, then a gap of 90 days and one more.
        let mut monthly: Vec<Row> = (0..14).map(|n| invoice(30 * n, 10_000)).collect();
        monthly.push(invoice(30 * 13 + 90, 10_000));
        let mut rows = Vec::new();
        rebill(Billing::Year, &monthly, i64::MAX, &mut rows);
        // The first and the thirteenth invoice start a year; the comeback starts a new one.
        let paid: Vec<(i64, u32)> = rows
            .iter()
            .map(|r| (r.seconds / 86_400, r.amount_cents))
            .collect();
        assert_eq!(paid, [(0, 100_000), (360, 100_000), (480, 100_000)]);
    }

    #[test]
    fn weekly_payers_pay_twelve_fifty_seconds_every_seven_days_of_the_month_covered() {
        // 2025-01-01 is day 20089; January has 31 days: payments on days 0, 7, 14, 21 and 28 of
        // it, each 5200 × 12 / 52 = 1200 cents. The second invoice (February, 28 days) is cut
        // by the end of the data after two weeks.
        let january = 20_089;
        let monthly = [invoice(january, 5_200), invoice(january + 31, 5_200)];
        let mut rows = Vec::new();
        rebill(Billing::Week, &monthly, (january + 31 + 14) * 86_400, &mut rows);
        let paid: Vec<(i64, u32)> = rows
            .iter()
            .map(|r| (r.seconds / 86_400 - january, r.amount_cents))
            .collect();
        assert_eq!(
            paid,
            [
                (0, 1200),
                (7, 1200),
                (14, 1200),
                (21, 1200),
                (28, 1200),
                (31, 1200),
                (38, 1200)
            ]
        );
    }

    fn tempdir() -> tempfile::TempDir {
        tempfile::tempdir().expect("a temporary folder")
    }
}
