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
    /// Whether the parent was reached (false: tried and could not reach them).
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
        let reached = self.reached.unwrap_or(true);
        let support = self.support.unwrap_or(false);
        if !reached && support {
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
        assert!(e.has("parent") && e.has("method"));
        let c = ContactInput {
            parent: Some("母亲".into()),
            method: Some("video".into()),
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
