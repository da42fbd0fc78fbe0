//! The 委托监护 agreement (委托监护责任确认书 / 责任书) as a tracked document.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::CarerVerdict;
use crate::code_enum;
use crate::input::parse_date;
use crate::text;
use crate::validation::ValidationErrors;

// The 委托监护 agreement as a tracked document: printed (`print` makes the 确认书), signed by the
// parents and the carer after the carer passed the initial assessment (龙里 003 五(一)1: 在对受委托人
// 监护能力进行初步评估合格基础上，与受委托监护人签订《…确认书》《…责任书》), in force for a term, renewed
// before it lapses; the parents tell the village and the school (景洪 000 三(一): 将务工地点、联系方式
// 和委托监护等基本信息主动告知村民委员会和未成年子女就读学校).

code_enum! {
    /// Which of the seed's two documents.
    pub enum AgreementKind {
        Confirmation = ("confirmation", "委托监护责任确认书"),
        Responsibility = ("responsibility", "委托监护责任书"),
    }
}

code_enum! {
    /// Where a signed agreement stands on a day.
    pub enum AgreementState {
        InForce = ("in_force", "有效"),
        Expiring = ("expiring", "即将到期，请续签"),
        Lapsed = ("lapsed", "已到期"),
        /// A newer agreement replaced it.
        Replaced = ("replaced", "已被新协议替代"),
    }
}

/// The term when none is written: the seeds give none; a year matches the yearly re-assessment of
/// a fit carer (`reassess_after_months`).
pub const DEFAULT_TERM_MONTHS: u32 = 12;
/// The longest term taken (the child's situation changes; a longer one is a typo).
pub const MAX_TERM_MONTHS: u32 = 36;
/// Renewal is asked for this many days before the end.
pub const RENEW_WITHIN_DAYS: i64 = 30;

/// A signed agreement as recorded (the scan, when there is one, comes beside it).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct AgreementInput {
    /// confirmation (确认书) | responsibility (责任书)
    pub kind: Option<String>,
    pub carer_name: Option<String>,
    /// The day it was signed, YYYY-MM-DD.
    pub signed_on: Option<String>,
    /// The last day it is in force; empty = signed_on + the county's term (12 months unless it
    /// chose another) − 1 day, and never past the day before the child turns 16 (the printed
    /// 确认书's term, [`agreement_end`]).
    pub ends_on: Option<String>,
    /// The parents told the school (its name in `note` if you like).
    pub school_notified: Option<bool>,
    /// The parents told the village committee.
    pub village_notified: Option<bool>,
    pub note: Option<String>,
}

/// A checked [`AgreementInput`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Agreement {
    pub kind: AgreementKind,
    pub carer_name: String,
    pub signed_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub school_notified: bool,
    pub village_notified: bool,
    pub note: Option<String>,
}

/// The carer's latest check, as far as signing cares: whom, the verdict, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatestCheck {
    pub carer_name: String,
    pub verdict: CarerVerdict,
    pub on: NaiveDate,
}

impl AgreementInput {
    /// Checks the agreement; it may be recorded only for a carer whose latest check did not find
    /// them unfit.
    /// `birth_date` is the child's: an entrustment ends, at the latest, the day before they turn 16
    /// (a child of 16 is no longer a left-behind child; the printed 确认书 says so).
    pub fn parse(
        &self,
        today: NaiveDate,
        latest: Option<&LatestCheck>,
        term_months: u32,
        birth_date: NaiveDate,
    ) -> Result<Agreement, ValidationErrors> {
        let last_day = last_day_for(birth_date);
        let mut e = ValidationErrors::default();
        let clean = |v: &Option<String>| v.as_deref().map(text::clean).filter(|s| !s.is_empty());
        let kind = match clean(&self.kind) {
            None => Some(AgreementKind::Confirmation),
            Some(k) => {
                let kind = AgreementKind::parse(&k);
                if kind.is_none() {
                    e.add(
                        "kind",
                        "应为 confirmation（确认书）或 responsibility（责任书）",
                    );
                }
                kind
            }
        };
        let carer_name = clean(&self.carer_name).unwrap_or_default();
        if carer_name.is_empty() || carer_name.chars().count() > 50 {
            e.add("carer_name", "请填写受委托监护人姓名（50字以内）");
        }
        let signed_on = match clean(&self.signed_on) {
            None => {
                e.add("signed_on", "请填写签订日期");
                None
            }
            Some(v) => match parse_date(&v) {
                Some(d) if d > today => {
                    e.add("signed_on", "签订日期不能晚于今天");
                    None
                }
                // An agreement signed long ago is entered as it was (a paper kept in the village):
                // it shows as lapsed if its term is over.
                Some(d) if d < birth_date || d >= last_day => {
                    e.add(
                        "signed_on",
                        format!("签订日期应在儿童出生之后、年满十六周岁之前（{last_day}之前）"),
                    );
                    None
                }
                Some(d) => Some(d),
                None => {
                    e.add("signed_on", "日期格式不正确，应为 2026-11-16");
                    None
                }
            },
        };
        let ends_on = match (clean(&self.ends_on), signed_on) {
            (None, Some(s)) => Some(agreement_end(s, term_months, birth_date)),
            (Some(v), signed) => match (parse_date(&v), signed) {
                (Some(end), Some(s)) if end <= s => {
                    e.add("ends_on", "到期日期应晚于签订日期");
                    None
                }
                (Some(end), Some(s))
                    if s.checked_add_months(chrono::Months::new(MAX_TERM_MONTHS))
                        .is_some_and(|max| end > max) =>
                {
                    e.add("ends_on", format!("期限最长{MAX_TERM_MONTHS}个月"));
                    None
                }
                (Some(end), _) if end >= last_day => {
                    e.add(
                        "ends_on",
                        format!(
                            "委托期限最晚至儿童年满十六周岁的前一天（{}）",
                            last_day.pred_opt().unwrap_or(last_day)
                        ),
                    );
                    None
                }
                (Some(end), _) => Some(end),
                (None, _) => {
                    e.add("ends_on", "日期格式不正确，应为 2027-11-15");
                    None
                }
            },
            (None, None) => None,
        };
        let note = self
            .note
            .as_deref()
            .map(text::free)
            .filter(|s| !s.is_empty());
        if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
            e.add("note", "说明请不超过500字");
        }
        // 龙里 003 五(一)1: signed on the basis of an initial assessment that the carer passed.
        if signed_on.is_some() && !carer_name.is_empty() {
            match latest {
                None => e.add(
                    "carer_name",
                    "签订前应先对受委托监护人的监护能力进行初步评估（先记录一次监护能力评估）",
                ),
                Some(c) if text::clean(&c.carer_name) != carer_name => e.add(
                    "carer_name",
                    format!(
                        "最近一次评估的是“{}”，请先评估“{carer_name}”的监护能力",
                        c.carer_name
                    ),
                ),
                Some(c) if c.verdict == CarerVerdict::Unfit => e.add(
                    "carer_name",
                    "该受委托监护人经评估不具备监护能力，应督促父母另行确定受委托监护人",
                ),
                Some(_) => {}
            }
        }
        e.into_result(())?;
        Ok(Agreement {
            kind: kind.expect("checked"),
            carer_name,
            signed_on: signed_on.expect("checked"),
            ends_on: ends_on.expect("checked"),
            school_notified: self.school_notified.unwrap_or(false),
            village_notified: self.village_notified.unwrap_or(false),
            note,
        })
    }
}

/// The day a child turns 16, after which no entrustment runs.
fn last_day_for(birth_date: NaiveDate) -> NaiveDate {
    crate::eligibility::sixteenth_birthday(birth_date)
}

/// The last day of an agreement signed on `signed_on` when none is written: the county's term
/// ([`default_end`]) but never past the day before the child turns 16 — what the printed 确认书
/// says (委托期限 … 至 …) and what is recorded agree.
pub fn agreement_end(signed_on: NaiveDate, term_months: u32, birth_date: NaiveDate) -> NaiveDate {
    let before_sixteen = last_day_for(birth_date).pred_opt().unwrap_or(signed_on);
    default_end(signed_on, term_months).map_or(before_sixteen, |end| end.min(before_sixteen))
}

/// The last day of a term of `months` when none is written: that many months less a day (a year
/// from 29 Feb → 27 Feb next year).
pub fn default_end(signed_on: NaiveDate, months: u32) -> Option<NaiveDate> {
    signed_on
        .checked_add_months(chrono::Months::new(months))
        .and_then(|d| d.pred_opt())
}

/// Where an agreement stands on `today` (`replaced` when a newer one was recorded).
pub fn agreement_state(ends_on: NaiveDate, replaced: bool, today: NaiveDate) -> AgreementState {
    if replaced {
        AgreementState::Replaced
    } else if today > ends_on {
        AgreementState::Lapsed
    } else if (ends_on - today).num_days() < RENEW_WITHIN_DAYS {
        AgreementState::Expiring
    } else {
        AgreementState::InForce
    }
}

#[cfg(test)]
mod agreement_tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn fit(on: NaiveDate) -> LatestCheck {
        LatestCheck {
            carer_name: "李秀英".into(),
            verdict: CarerVerdict::Fit,
            on,
        }
    }

    const BORN: NaiveDate = match NaiveDate::from_ymd_opt(2016, 7, 31) {
        Some(d) => d,
        None => panic!(),
    };

    fn signed(on: &str) -> AgreementInput {
        AgreementInput {
            carer_name: Some("李秀英".into()),
            signed_on: Some(on.into()),
            ..Default::default()
        }
    }

    #[test]
    fn the_term_defaults_to_a_year_less_a_day_and_renewal_is_asked_a_month_before() {
        let today = ymd(2026, 11, 24);
        let a = signed("2026-03-01")
            .parse(
                today,
                Some(&fit(ymd(2026, 2, 20))),
                DEFAULT_TERM_MONTHS,
                BORN,
            )
            .unwrap();
        assert_eq!(a.kind, AgreementKind::Confirmation);
        assert_eq!(a.ends_on, ymd(2027, 2, 28));
        // A leap day: a year on is 28 February, less a day.
        assert_eq!(default_end(ymd(2028, 2, 29), 12), Some(ymd(2029, 2, 27)));
        assert_eq!(default_end(ymd(2027, 3, 1), 12), Some(ymd(2028, 2, 29)));
        // A county's half-year term from 31 August: the last day of February, less a day.
        assert_eq!(default_end(ymd(2026, 8, 31), 6), Some(ymd(2027, 2, 27)));
        let end = ymd(2027, 2, 28);
        assert_eq!(
            agreement_state(end, false, ymd(2027, 1, 28)),
            AgreementState::InForce
        );
        assert_eq!(
            agreement_state(end, false, ymd(2027, 1, 30)),
            AgreementState::Expiring
        );
        assert_eq!(agreement_state(end, false, end), AgreementState::Expiring);
        assert_eq!(
            agreement_state(end, false, ymd(2027, 3, 1)),
            AgreementState::Lapsed
        );
        assert_eq!(
            agreement_state(end, true, ymd(2027, 1, 1)),
            AgreementState::Replaced
        );
    }

    #[test]
    fn signing_needs_an_assessment_that_did_not_find_the_carer_unfit() {
        let today = ymd(2026, 11, 24);
        let input = signed("2026-11-20");
        assert!(
            input
                .parse(today, None, DEFAULT_TERM_MONTHS, BORN)
                .unwrap_err()
                .has("carer_name")
        );
        let unfit = LatestCheck {
            verdict: CarerVerdict::Unfit,
            ..fit(ymd(2026, 11, 1))
        };
        assert!(
            input
                .parse(today, Some(&unfit), DEFAULT_TERM_MONTHS, BORN)
                .unwrap_err()
                .has("carer_name")
        );
        let other = LatestCheck {
            carer_name: "王大山".into(),
            ..fit(ymd(2026, 11, 1))
        };
        assert!(
            input
                .parse(today, Some(&other), DEFAULT_TERM_MONTHS, BORN)
                .unwrap_err()
                .has("carer_name")
        );
        assert!(
            input
                .parse(
                    today,
                    Some(&fit(ymd(2026, 11, 1))),
                    DEFAULT_TERM_MONTHS,
                    BORN
                )
                .is_ok()
        );
    }

    #[test]
    fn each_bad_field_is_named() {
        let today = ymd(2026, 11, 24);
        let e = AgreementInput {
            kind: Some("contract".into()),
            signed_on: Some("2026-12-01".into()),
            ends_on: Some("2026-13-01".into()),
            note: Some("x".repeat(501)),
            ..Default::default()
        }
        .parse(today, None, DEFAULT_TERM_MONTHS, BORN)
        .unwrap_err();
        for f in ["kind", "carer_name", "signed_on", "ends_on", "note"] {
            assert!(e.has(f), "{f}: {e:?}");
        }
        let check = fit(ymd(2026, 1, 1));
        let mut too_long = signed("2026-02-01");
        too_long.ends_on = Some("2030-01-01".into());
        assert!(
            too_long
                .parse(today, Some(&check), DEFAULT_TERM_MONTHS, BORN)
                .unwrap_err()
                .has("ends_on")
        );
        let mut backwards = signed("2026-02-01");
        backwards.ends_on = Some("2026-01-01".into());
        assert!(
            backwards
                .parse(today, Some(&check), DEFAULT_TERM_MONTHS, BORN)
                .unwrap_err()
                .has("ends_on")
        );
        // An agreement signed long ago is entered as it was, and reads as lapsed.
        let old = signed("2025-11-01")
            .parse(today, Some(&check), DEFAULT_TERM_MONTHS, BORN)
            .unwrap();
        assert_eq!(old.ends_on, ymd(2026, 10, 31));
        assert_eq!(
            agreement_state(old.ends_on, false, today),
            AgreementState::Lapsed
        );
        assert!(
            signed("2015-01-01")
                .parse(today, Some(&check), DEFAULT_TERM_MONTHS, BORN)
                .unwrap_err()
                .has("signed_on"),
            "before the child was born"
        );
    }

    /// The printed 确认书 and the recorded agreement agree: the county's term, never past the day
    /// before the child turns 16 (a child of 16 is no longer left behind).
    #[test]
    fn an_entrustment_ends_at_the_latest_the_day_before_the_child_turns_16() {
        let today = ymd(2026, 11, 24);
        let born = ymd(2011, 1, 10);
        let check = fit(ymd(2026, 1, 1));
        let a = signed("2026-03-01")
            .parse(today, Some(&check), DEFAULT_TERM_MONTHS, born)
            .unwrap();
        assert_eq!(a.ends_on, ymd(2027, 1, 9));
        assert_eq!(agreement_end(ymd(2026, 3, 1), 12, born), ymd(2027, 1, 9));
        assert_eq!(agreement_end(ymd(2026, 3, 1), 12, BORN), ymd(2027, 2, 28));
        let mut past_sixteen = signed("2026-03-01");
        past_sixteen.ends_on = Some("2027-06-01".into());
        let e = past_sixteen
            .parse(today, Some(&check), DEFAULT_TERM_MONTHS, born)
            .unwrap_err();
        assert!(e.has("ends_on"), "{e:?}");
        assert!(
            signed("2027-01-10")
                .parse(ymd(2027, 2, 1), Some(&check), DEFAULT_TERM_MONTHS, born)
                .unwrap_err()
                .has("signed_on"),
            "signed on the 16th birthday"
        );
    }
}
