//! 委托监护 — the parents' side of it: the contact log. Parents who work away must keep in touch with
//! the child and the carer at least once a week (未成年人保护法 Art. 23, `domain-research.md` §2.4:
//! 与未成年人、被委托人至少每周联系和交流一次); 景洪 000 三(二)2 and 武清 004 二(一)1 ask the village to know
//! whether they do. A lapse is a warning; a long one (监护人拒不履行监护职责六个月以上, 武清 004 二(一)1)
//! is a ground for revoking the guardian's qualification (`protection::revocation_grounds`).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::code_enum;
use crate::input::parse_date;
use crate::text;
use crate::validation::ValidationErrors;

code_enum! {
    /// Which parent.
    pub enum Parent {
        Father = ("father", "父亲"),
        Mother = ("mother", "母亲"),
        Both = ("both", "父母双方"),
    }
}

code_enum! {
    /// How the contact went: by phone, by video, a message, a visit home, money sent.
    pub enum ContactMethod {
        Phone = ("phone", "电话"),
        Video = ("video", "视频"),
        Message = ("message", "微信或短信"),
        Home = ("home", "回家探望"),
        Other = ("other", "其他"),
    }
}

/// A contact as recorded by the village or told by the carer.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ContactInput {
    /// YYYY-MM-DD; today if absent.
    pub contacted_on: Option<String>,
    /// father, mother, both.
    pub parent: Option<String>,
    /// phone, video, message, home, other.
    pub method: Option<String>,
    /// Whether the parent was reached (false: tried and could not reach them). Required: a
    /// blank is not "reached".
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub reached: Option<bool>,
    /// Whether the parent sent money or things for the child's living (抚养费、生活费).
    pub support: Option<bool>,
    pub note: Option<String>,
}

/// A contact that passed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactRecord {
    pub contacted_on: NaiveDate,
    pub parent: Parent,
    pub method: ContactMethod,
    pub reached: bool,
    pub support: bool,
    pub note: Option<String>,
}

impl ContactInput {
    pub fn parse(&self, today: NaiveDate) -> Result<ContactRecord, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let present = |v: &Option<String>| v.as_deref().map(text::clean).filter(|s| !s.is_empty());
        let contacted_on = match present(&self.contacted_on) {
            None => today,
            Some(s) => match parse_date(&s) {
                Some(d) if d <= today && (today - d).num_days() <= 366 => d,
                _ => {
                    e.add("contacted_on", "联系日期应为一年内、不晚于今天的日期");
                    today
                }
            },
        };
        let parent = present(&self.parent).and_then(|p| Parent::parse(&p));
        if parent.is_none() {
            e.add("parent", "请选择联系的是父亲、母亲还是双方");
        }
        let method = present(&self.method).and_then(|m| ContactMethod::parse(&m));
        if method.is_none() {
            e.add("method", "请选择联系方式");
        }
        let note = present(&self.note);
        if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
            e.add("note", "说明请不超过500字");
        }
        if self.reached.is_none() {
            e.add("reached", "请选择是否联系上了父母");
        }
        let reached = self.reached.unwrap_or(false);
        let support = self.support.unwrap_or(false);
        if self.reached == Some(false) && support {
            e.add("support", "未联系上父母时不能记录寄送生活费");
        }
        e.into_result(())?;
        Ok(ContactRecord {
            contacted_on,
            parent: parent.expect("checked"),
            method: method.expect("checked"),
            reached,
            support,
            note,
        })
    }
}

/// The default lapse after which the village is warned: a month without a recorded contact
/// (the law's duty is weekly; a month of silence is what a village can act on). Counties set
/// their own.
pub const DEFAULT_LAPSE_DAYS: i64 = 30;

/// Since when the parents have been silent, from the log: the last day they were reached or sent
/// support; with none ever, the first recorded attempt. `None` when nothing is recorded (a silence
/// nobody recorded is not a fact).
pub fn silent_since(log: &[(NaiveDate, bool, bool)]) -> Option<NaiveDate> {
    let last_heard = log
        .iter()
        .filter(|(_, reached, support)| *reached || *support)
        .map(|(d, _, _)| *d)
        .max();
    let first = log.iter().map(|(d, _, _)| *d).min()?;
    Some(silence_start(last_heard, first))
}

/// [`silent_since`] from a log already summed up (a database's MAX and MIN).
pub fn silence_start(last_heard: Option<NaiveDate>, first_recorded: NaiveDate) -> NaiveDate {
    last_heard.unwrap_or(first_recorded)
}

/// Days of silence on `today`, and whether they pass the county's lapse.
pub fn lapse(log: &[(NaiveDate, bool, bool)], today: NaiveDate, lapse_days: i64) -> Option<i64> {
    silent_since(log)
        .map(|since| (today - since).num_days())
        .filter(|days| *days >= lapse_days)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_contact_names_the_parent_and_the_way_and_is_not_dated_ahead() {
        let today = d("2026-12-01");
        let e = ContactInput::default().parse(today).unwrap_err();
        assert!(e.has("parent") && e.has("method") && e.has("reached"));
        let c = ContactInput {
            parent: Some("母亲".into()),
            method: Some("video".into()),
            reached: Some(true),
            support: Some(true),
            ..Default::default()
        }
        .parse(today)
        .unwrap();
        assert!(c.reached && c.support && c.contacted_on == today);
        let e = ContactInput {
            parent: Some("father".into()),
            method: Some("phone".into()),
            contacted_on: Some("2026-12-02".into()),
            reached: Some(false),
            support: Some(true),
            ..Default::default()
        }
        .parse(today)
        .unwrap_err();
        assert!(e.has("contacted_on") && e.has("support"));
    }

    #[test]
    fn silence_runs_from_the_last_contact_or_support_else_the_first_attempt() {
        assert_eq!(silent_since(&[]), None);
        let log = [
            (d("2026-05-01"), false, false),
            (d("2026-06-01"), false, false),
        ];
        assert_eq!(silent_since(&log), Some(d("2026-05-01")));
        let log = [
            (d("2026-05-01"), true, false),
            (d("2026-07-01"), false, true),
            (d("2026-08-01"), false, false),
        ];
        assert_eq!(silent_since(&log), Some(d("2026-07-01")));
    }

    #[test]
    fn a_lapse_is_reported_once_the_countys_days_have_passed() {
        let log = [(d("2026-11-01"), true, false)];
        assert_eq!(lapse(&log, d("2026-11-30"), DEFAULT_LAPSE_DAYS), None);
        assert_eq!(lapse(&log, d("2026-12-01"), DEFAULT_LAPSE_DAYS), Some(30));
        assert_eq!(lapse(&[], d("2026-12-01"), DEFAULT_LAPSE_DAYS), None);
    }
}

code_enum! {
    /// What disqualifies a carer (未成年人保护法 Art. 22 第二款).
    pub enum Disqualification {
        Crime = ("crime", "曾实施性侵害、虐待、遗弃、拐卖、暴力伤害等违法犯罪行为"),
        Vice = ("vice", "有吸毒、酗酒、赌博等恶习"),
        Neglect = ("neglect", "曾拒不履行或者长期怠于履行监护、照护职责"),
        Other = ("other", "其他不适宜担任被委托人的情形"),
    }
}

code_enum! {
    /// What the initial assessment of a carer's capacity looks at (沈阳 002 一2: 定期对受委托监护人的
    /// 监护能力进行初步评估; Art. 22: 具有照护能力).
    pub enum CapacityItem {
        Health = ("health", "身体健康状况"),
        Time = ("time", "照护时间和精力"),
        Means = ("means", "生活和经济条件"),
        Schooling = ("schooling", "督促学习的能力"),
        Safety = ("safety", "安全看护意识"),
    }
}

code_enum! {
    pub enum Rating {
        Good = ("good", "好"),
        Fair = ("fair", "一般"),
        Poor = ("poor", "差"),
    }
}

code_enum! {
    /// The outcome of a carer's check.
    pub enum CarerVerdict {
        Fit = ("fit", "具备监护能力"),
        WithSupport = ("with_support", "基本具备，需帮扶指导"),
        Unfit = ("unfit", "不具备监护能力"),
    }
}

/// A carer's check as recorded: who, the Art. 22 checklist (the disqualifications found, and how
/// it was checked), each capacity item rated.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct CarerCheckInput {
    pub carer_name: Option<String>,
    /// Codes of the disqualifications found (none found: empty).
    pub disqualifications: Vec<String>,
    /// How the checklist was checked (询问本人和邻居、查询公安机关记录…): required.
    pub checked_how: Option<String>,
    /// Each capacity item's rating: health, time, means, schooling, safety → good, fair, poor.
    pub ratings: std::collections::BTreeMap<String, String>,
    pub note: Option<String>,
}

/// A checked carer check.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CarerCheck {
    pub carer_name: String,
    pub found: Vec<Disqualification>,
    pub checked_how: String,
    pub ratings: Vec<(CapacityItem, Rating)>,
    pub verdict: CarerVerdict,
    pub note: Option<String>,
    /// When the carer is to be assessed again (none once unfit: another carer is needed).
    pub next_due: Option<NaiveDate>,
}

/// The verdict: any disqualification, or two poor ratings, is unfit; one poor or any fair rating
/// needs support; otherwise fit.
pub fn carer_verdict(
    found: &[Disqualification],
    ratings: &[(CapacityItem, Rating)],
) -> CarerVerdict {
    let poor = ratings.iter().filter(|(_, r)| *r == Rating::Poor).count();
    if !found.is_empty() || poor >= 2 {
        CarerVerdict::Unfit
    } else if poor == 1 || ratings.iter().any(|(_, r)| *r == Rating::Fair) {
        CarerVerdict::WithSupport
    } else {
        CarerVerdict::Fit
    }
}

/// Months until the next assessment: the seeds say 定期 without a period; Shouwang's default is
/// yearly, half-yearly for a carer who needs support.
pub fn reassess_after_months(v: CarerVerdict) -> Option<u32> {
    match v {
        CarerVerdict::Fit => Some(12),
        CarerVerdict::WithSupport => Some(6),
        CarerVerdict::Unfit => None,
    }
}

impl CarerCheckInput {
    pub fn parse(&self, today: NaiveDate) -> Result<CarerCheck, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let clean = |v: &Option<String>| v.as_deref().map(text::clean).filter(|s| !s.is_empty());
        let carer_name = clean(&self.carer_name).unwrap_or_default();
        if carer_name.is_empty() || carer_name.chars().count() > 50 {
            e.add("carer_name", "请填写受委托监护人姓名（50字以内）");
        }
        let mut found = Vec::new();
        for d in &self.disqualifications {
            match Disqualification::parse(d.trim()) {
                Some(x) if !found.contains(&x) => found.push(x),
                Some(_) => {}
                None => e.add(
                    "disqualifications",
                    format!("“{d}”不是《未成年人保护法》第二十二条所列情形"),
                ),
            }
        }
        let free = |v: &Option<String>| v.as_deref().map(text::free).filter(|s| !s.is_empty());
        let checked_how = free(&self.checked_how).unwrap_or_default();
        if checked_how.is_empty() || checked_how.chars().count() > 500 {
            e.add(
                "checked_how",
                "请写明如何核实（如询问本人和邻居、查询公安机关记录），500字以内",
            );
        }
        let mut ratings = Vec::new();
        for item in CapacityItem::ALL {
            match self
                .ratings
                .get(item.code())
                .map(|r| Rating::parse(r.trim()))
            {
                Some(Some(r)) => ratings.push((*item, r)),
                Some(None) => e.add(
                    &format!("ratings.{}", item.code()),
                    "应为 good、fair 或 poor",
                ),
                None => e.add(
                    &format!("ratings.{}", item.code()),
                    format!("请评估“{}”", item.label()),
                ),
            }
        }
        for k in self.ratings.keys() {
            if CapacityItem::parse(k).is_none() {
                e.add(&format!("ratings.{k}"), "不是评估项目");
            }
        }
        let note = free(&self.note);
        if note.as_ref().is_some_and(|n| n.chars().count() > 1000) {
            e.add("note", "说明请不超过1000字");
        }
        e.into_result(())?;
        let verdict = carer_verdict(&found, &ratings);
        Ok(CarerCheck {
            carer_name,
            found,
            checked_how,
            ratings,
            verdict,
            note,
            next_due: reassess_after_months(verdict)
                .and_then(|m| today.checked_add_months(chrono::Months::new(m))),
        })
    }
}

#[cfg(test)]
mod carer_tests {
    use super::*;

    fn input(ratings: &[(&str, &str)], found: &[&str]) -> CarerCheckInput {
        CarerCheckInput {
            carer_name: Some("李秀英".into()),
            disqualifications: found.iter().map(|s| s.to_string()).collect(),
            checked_how: Some("询问本人和邻居，查询派出所记录".into()),
            ratings: ratings
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            note: None,
        }
    }
    const ALL_GOOD: [(&str, &str); 5] = [
        ("health", "good"),
        ("time", "good"),
        ("means", "good"),
        ("schooling", "good"),
        ("safety", "good"),
    ];

    #[test]
    fn a_carer_is_fit_needs_support_or_is_unfit_by_the_checklist_and_the_ratings() {
        let today = NaiveDate::from_ymd_opt(2026, 8, 31).unwrap();
        let fit = input(&ALL_GOOD, &[]).parse(today).unwrap();
        assert_eq!(fit.verdict, CarerVerdict::Fit);
        assert_eq!(fit.next_due, NaiveDate::from_ymd_opt(2027, 8, 31));
        let mut one_poor = ALL_GOOD;
        one_poor[0] = ("health", "poor");
        let support = input(&one_poor, &[]).parse(today).unwrap();
        assert_eq!(support.verdict, CarerVerdict::WithSupport);
        // Six months on from 31 August is the last day of February.
        assert_eq!(support.next_due, NaiveDate::from_ymd_opt(2027, 2, 28));
        let unfit = input(&ALL_GOOD, &["vice"]).parse(today).unwrap();
        assert_eq!(unfit.verdict, CarerVerdict::Unfit);
        assert_eq!(unfit.next_due, None);
        let mut two_poor = one_poor;
        two_poor[4] = ("safety", "poor");
        assert_eq!(
            input(&two_poor, &[]).parse(today).unwrap().verdict,
            CarerVerdict::Unfit
        );
        // Each missing or bad item is named.
        let e = CarerCheckInput {
            ratings: [
                ("health".to_string(), "great".to_string()),
                ("colour".into(), "good".into()),
            ]
            .into_iter()
            .collect(),
            disqualifications: vec!["smoking".into()],
            ..Default::default()
        }
        .parse(today)
        .unwrap_err();
        for f in [
            "carer_name",
            "checked_how",
            "disqualifications",
            "ratings.health",
            "ratings.time",
            "ratings.colour",
        ] {
            assert!(e.has(f), "{f}: {e:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------

mod agreement;
pub use agreement::*;
