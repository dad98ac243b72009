//! Delivery profiles and the verdict a report ends with: each item a profile fails, with its
//! time range, and pass or fail.

use crate::events::{Event, Kind, Ns};
use crate::Profile;

/// What a profile asks of a programme.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Integrated loudness target and tolerance (LUFS, LU).
    pub loudness: Option<(f64, f64)>,
    /// The highest true peak allowed (dBTP).
    pub true_peak: Option<f64>,
    /// Runs that fail wherever they occur.
    pub fails: &'static [Kind],
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::None => "none",
            Profile::EbuR128 => "ebu-r128",
            Profile::Netflix => "netflix",
            Profile::Dpp => "dpp",
        }
    }

    /// The profile's thresholds: EBU R128 −23 LUFS ± 1 LU (the tolerance R128 allows where
    /// the target cannot be met exactly), −1 dBTP; Netflix −27 LKFS ± 2 LU, −2 dBTP (Netflix
    /// gates on dialogue; this is the programme's loudness); the UK DPP's −23 LUFS ± 0.5 LU,
    /// −1 dBTP, with photosensitive flashes (mandatory PSE), the legal range (EBU R103) and
    /// broken timing failing.
    pub fn limits(self) -> Limits {
        match self {
            Profile::None => Limits {
                loudness: None,
                true_peak: None,
                fails: &[],
            },
            Profile::EbuR128 => Limits {
                loudness: Some((-23.0, 1.0)),
                true_peak: Some(-1.0),
                fails: &[],
            },
            Profile::Netflix => Limits {
                loudness: Some((-27.0, 2.0)),
                true_peak: Some(-2.0),
                fails: &[],
            },
            Profile::Dpp => Limits {
                loudness: Some((-23.0, 0.5)),
                true_peak: Some(-1.0),
                fails: &[
                    Kind::Flash,
                    Kind::RedFlash,
                    Kind::Gamut,
                    Kind::TimestampGap,
                    Kind::TimestampJump,
                ],
            },
        }
    }
}

/// One failing item: what, when (a whole-programme measure spans the programme), and the
/// measured value where there is one (else NaN).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Failure {
    pub item: &'static str,
    pub start: Ns,
    pub end: Ns,
    pub value: f64,
}

/// Failing items kept for the verdict (more are counted, not kept).
const KEPT: usize = 256;

/// The failures seen against a profile.
#[derive(Clone, Debug)]
pub struct Verdict {
    pub profile: Profile,
    limits: Limits,
    failures: Vec<Failure>,
    more: u64,
}

impl Verdict {
    pub fn new(profile: Profile) -> Self {
        Verdict {
            profile,
            limits: profile.limits(),
            failures: Vec::with_capacity(KEPT),
            more: 0,
        }
    }

    fn fail(&mut self, f: Failure) {
        if self.failures.len() < KEPT {
            self.failures.push(f);
        } else {
            self.more += 1;
        }
    }

    /// A run as it was reported: a failure when the profile fails its kind (a truncated
    /// programme fails every profile, `none` included: nothing can be said of what is missing).
    pub fn note(&mut self, e: &Event) {
        if self.limits.fails.contains(&e.kind) || e.kind == Kind::Truncated {
            self.fail(Failure {
                item: e.kind.name(),
                start: e.start,
                end: e.end,
                value: f64::NAN,
            });
        }
    }

    /// The programme's sound over `start..end`: integrated loudness (LUFS; not finite:
    /// silence) and highest true peak (dBTP) against the profile.
    pub fn sound(&mut self, start: Ns, end: Ns, integrated: f64, true_peak: f64) {
        if let Some((target, tolerance)) = self.limits.loudness {
            // Silence throughout has no loudness: it misses any target.
            if !integrated.is_finite() || (integrated - target).abs() > tolerance {
                self.fail(Failure {
                    item: "loudness",
                    start,
                    end,
                    value: integrated,
                });
            }
        }
        if let Some(ceiling) = self.limits.true_peak {
            if true_peak > ceiling {
                self.fail(Failure {
                    item: "true-peak",
                    start,
                    end,
                    value: true_peak,
                });
            }
        }
    }

    pub fn failures(&self) -> &[Failure] {
        &self.failures
    }

    /// Failing items, kept and not.
    pub fn count(&self) -> u64 {
        self.failures.len() as u64 + self.more
    }

    pub fn passed(&self) -> bool {
        self.count() == 0
    }

    /// A measured failure's unit and what the profile allows, in words (`LUFS`, `-23 ± 1 LU`;
    /// `dBTP`, `at most -1 dBTP`); none for a run, which fails where it is.
    pub fn limit(&self, f: &Failure) -> Option<(&'static str, String)> {
        match f.item {
            "loudness" => self
                .limits
                .loudness
                .map(|(target, tolerance)| ("LUFS", format!("{target} ± {tolerance} LU"))),
            "true-peak" => self
                .limits
                .true_peak
                .map(|ceiling| ("dBTP", format!("at most {ceiling} dBTP"))),
            _ => None,
        }
    }

    /// One line per failure, for the message and the log: `item start–end s (value)`.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        for f in &self.failures {
            if !s.is_empty() {
                s.push_str("; ");
            }
            s.push_str(&format!(
                "{} {:.2}-{:.2} s",
                f.item,
                f.start as f64 / 1e9,
                f.end as f64 / 1e9
            ));
            match self.limit(f) {
                Some((unit, limit)) if f.value.is_finite() => {
                    s.push_str(&format!(" ({:.1} {unit}; allowed {limit})", f.value))
                }
                Some((_, limit)) => s.push_str(&format!(" (silence; allowed {limit})")),
                None if !f.value.is_nan() => s.push_str(&format!(" ({:.1})", f.value)),
                None => {}
            }
        }
        if self.more > 0 {
            s.push_str(&format!("; and {} more", self.more));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_fail_what_they_name() {
        let flash = Event {
            kind: Kind::Flash,
            start: 1_000_000_000,
            end: 3_000_000_000,
        };
        let mut r128 = Verdict::new(Profile::EbuR128);
        r128.note(&flash);
        r128.sound(0, 10, -23.8, -1.5);
        assert!(r128.passed(), "R128 is about sound: {:?}", r128.failures());
        r128.sound(0, 10, -21.5, -0.4);
        assert_eq!(
            r128.failures().iter().map(|f| f.item).collect::<Vec<_>>(),
            ["loudness", "true-peak"]
        );
        // Measured failures say their unit and what was allowed.
        assert_eq!(
            r128.summary(),
            "loudness 0.00-0.00 s (-21.5 LUFS; allowed -23 ± 1 LU); \
             true-peak 0.00-0.00 s (-0.4 dBTP; allowed at most -1 dBTP)"
        );
        let mut dpp = Verdict::new(Profile::Dpp);
        dpp.note(&flash);
        dpp.sound(0, 10, -23.4, -1.2);
        assert_eq!(dpp.count(), 1);
        assert_eq!(dpp.summary(), "flash 1.00-3.00 s");
        let mut netflix = Verdict::new(Profile::Netflix);
        netflix.sound(0, 10, f64::NEG_INFINITY, -90.0);
        assert_eq!(netflix.failures()[0].item, "loudness");
        let mut none = Verdict::new(Profile::None);
        none.note(&flash);
        none.sound(0, 10, -10.0, 3.0);
        assert!(none.passed());
    }
}
