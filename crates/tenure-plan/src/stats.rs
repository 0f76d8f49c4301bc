//! The statistics of comparing two proportions: Wilson score intervals, Newcombe's hybrid score
//! interval for their difference, and the two-sided p-value of the pooled z-test
//! (docs/config.md, `type = "uplift"`).

use std::f64::consts::{PI, SQRT_2};

/// The standard normal quantile of 0.975: a 95 % two-sided interval.
pub(crate) const Z_95: f64 = 1.959_963_984_540_054;

/// The Wilson score interval of `successes` out of `trials` (`trials > 0`).
pub(crate) fn wilson(successes: u64, trials: u64, z: f64) -> (f64, f64) {
    let n = trials as f64;
    let p = successes as f64 / n;
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Newcombe's hybrid score interval (his method 10) for `p1 − p2`, from each proportion's
/// successes and trials (both with `trials > 0`).
pub(crate) fn newcombe(first: (u64, u64), second: (u64, u64), z: f64) -> (f64, f64) {
    let p1 = first.0 as f64 / first.1 as f64;
    let p2 = second.0 as f64 / second.1 as f64;
    let (l1, u1) = wilson(first.0, first.1, z);
    let (l2, u2) = wilson(second.0, second.1, z);
    let difference = p1 - p2;
    let below = ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt();
    let above = ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt();
    (difference - below, difference + above)
}

/// The two-sided p-value of the pooled two-proportion z-test of `p1 = p2` (both with
/// `trials > 0`). When every trial succeeded, or none did, the groups cannot differ: 1.
pub(crate) fn two_proportion_p_value(first: (u64, u64), second: (u64, u64)) -> f64 {
    let (n1, n2) = (first.1 as f64, second.1 as f64);
    let pooled = (first.0 + second.0) as f64 / (n1 + n2);
    let variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2);
    if variance <= 0.0 {
        return 1.0;
    }
    let z = (first.0 as f64 / n1 - second.0 as f64 / n2) / variance.sqrt();
    erfc(z.abs() / SQRT_2).min(1.0)
}

/// The complementary error function for `x ≥ 0`, to about 1e-13: its Taylor series below 3,
/// its continued fraction (evaluated by Lentz's method) from 3 on.
pub(crate) fn erfc(x: f64) -> f64 {
    if x < 3.0 {
        // erf(x) = 2/√π · Σ (−1)ⁿ x^(2n+1) / (n! (2n+1))
        let mut term = x;
        let mut sum = x;
        let mut n = 0.0;
        while term.abs() > 1e-17 * sum.abs() {
            n += 1.0;
            term *= -x * x / n;
            sum += term / (2.0 * n + 1.0);
        }
        return 1.0 - 2.0 / PI.sqrt() * sum;
    }
    // erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))
    let tiny = 1e-300;
    let mut f = x;
    let mut c = x;
    let mut d = 0.0;
    for k in 1..500 {
        let a = f64::from(k) / 2.0;
        d = x + a * d;
        d = if d.abs() < tiny { tiny } else { d };
        c = x + a / c;
        c = if c.abs() < tiny { tiny } else { c };
        d = 1.0 / d;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (-x * x).exp() / PI.sqrt() / f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erfc_matches_known_values() {
        // erfc(0) = 1, erfc(0.5) = 0.4795001221869535, erfc(1) = 0.15729920705028513,
        // erfc(2) = 0.004677734981047266, erfc(3) = 2.209049699858544e-05,
        // erfc(5) = 1.5374597944280349e-12 (tables of the error function).
        let known = [
            (0.0, 1.0),
            (0.5, 0.479_500_122_186_953_5),
            (1.0, 0.157_299_207_050_285_13),
            (2.0, 0.004_677_734_981_047_266),
            (3.0, 2.209_049_699_858_544e-5),
            (5.0, 1.537_459_794_428_035e-12),
        ];
        for (x, expected) in known {
            let got = erfc(x);
            assert!(
                ((got - expected) / expected).abs() < 1e-10,
                "erfc({x}) = {got}, expected {expected}"
            );
        }
    }

    #[test]
    fn wilson_and_newcombe_match_newcombes_worked_example() {
        // Newcombe (1998), Statistics in Medicine 17, example (a): 56/70 against 48/80.
        // Wilson 56/70: 0.6918 to 0.8770. Difference 0.2; method 10 interval 0.0524 to 0.3339.
        let (low, high) = wilson(56, 70, Z_95);
        assert!(
            (low - 0.6918).abs() < 5e-5 && (high - 0.8770).abs() < 5e-5,
            "{low} {high}"
        );
        let (low, high) = newcombe((56, 70), (48, 80), Z_95);
        assert!(
            (low - 0.0524).abs() < 5e-5 && (high - 0.3339).abs() < 5e-5,
            "{low} {high}"
        );
    }

    #[test]
    fn p_value_of_the_pooled_z_test() {
        // 56/70 against 48/80: pooled 104/150; variance = 0.69333 · 0.30667 · (1/70 + 1/80)
        // = 0.0056952; z = 0.2 / 0.075467 = 2.6502; p = erfc(2.6502 / √2) = 0.008045.
        let p = two_proportion_p_value((56, 70), (48, 80));
        assert!((p - 0.008045).abs() < 5e-6, "{p}");
        assert_eq!(two_proportion_p_value((0, 10), (0, 20)), 1.0);
        assert_eq!(two_proportion_p_value((10, 10), (20, 20)), 1.0);
    }

    /// A small deterministic generator (SplitMix64), so the coverage test needs no seed crate.
    struct SplitMix(u64);

    impl SplitMix {
        fn uniform(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        }

        fn binomial(&mut self, trials: u64, p: f64) -> u64 {
            (0..trials).filter(|_| self.uniform() < p).count() as u64
        }
    }

    #[test]
    fn identical_groups_have_an_interval_that_contains_zero_about_95_percent_of_the_time() {
        // Two groups drawn from the same retention rate: the true difference is 0, so a 95 %
        // interval should miss it in about 1 run in 20. With 4 000 runs the share covered has a
        // standard error of 0.0034: 0.94 to 0.96 is ±3 of them around 0.95.
        let mut random = SplitMix(2026);
        for (rate, treated, control) in [(0.3, 200, 200), (0.12, 400, 150), (0.55, 80, 120)] {
            let runs = 4_000;
            let mut covered = 0;
            let mut rejected = 0;
            for _ in 0..runs {
                let first = (random.binomial(treated, rate), treated);
                let second = (random.binomial(control, rate), control);
                let (low, high) = newcombe(first, second, Z_95);
                covered += usize::from(low <= 0.0 && 0.0 <= high);
                rejected += usize::from(two_proportion_p_value(first, second) < 0.05);
            }
            let coverage = covered as f64 / runs as f64;
            let size = rejected as f64 / runs as f64;
            assert!(
                (0.94..=0.96).contains(&coverage),
                "rate {rate}: coverage {coverage}"
            );
            assert!(
                (0.035..=0.065).contains(&size),
                "rate {rate}: false positives {size}"
            );
        }
    }
}
