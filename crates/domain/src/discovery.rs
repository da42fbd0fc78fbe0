//! 发现报告: a school, hospital, village or any working unit reports a child it has found; the
//! report lands in the town's queue to be registered (景洪 000 三(一) 建立发现报告机制; 龙里 003).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::input::parse_date;
use crate::person::{PersonName, PhoneNumber, Sex};
use crate::region::{Divisions, RegionCode, RegionLevel};
use crate::text;
use crate::validation::ValidationErrors;

crate::code_enum! {
    /// Where a report stands: waiting in the town's queue, registered as a child, or dismissed
    /// with a reason.
    pub enum DiscoveryStatus {
        Open = ("open", "待处理"),
        Registered = ("registered", "已登记"),
        Dismissed = ("dismissed", "不予登记"),
    }
}

/// How a town closes an open report. Registering names the child's file, which must lie in the
/// report's town; dismissing must say why (the reporter and the county can read it later).
pub fn closing(
    child_in_town: Option<bool>,
    note: &str,
) -> Result<DiscoveryStatus, ValidationErrors> {
    match child_in_town {
        Some(true) => Ok(DiscoveryStatus::Registered),
        Some(false) => Err(ValidationErrors::single(
            "child_id",
            "登记的儿童不在该报告所属乡镇",
        )),
        None if note.trim().is_empty() => {
            Err(ValidationErrors::single("note", "不予登记时请说明原因"))
        }
        None => Ok(DiscoveryStatus::Dismissed),
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct DiscoveryInput {
    pub town_code: Option<String>,
    pub village_code: Option<String>,
    pub child_name: Option<String>,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    pub situation: Option<String>,
    pub reporter_phone: Option<String>,
}

fn present(v: &Option<String>) -> Option<String> {
    v.as_deref().map(text::clean).filter(|s| !s.is_empty())
}

/// A report that passed validation.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub town: RegionCode,
    pub village: Option<RegionCode>,
    pub name: PersonName,
    pub sex: Option<Sex>,
    pub birth: Option<NaiveDate>,
    pub situation: String,
    pub phone: Option<PhoneNumber>,
}

impl DiscoveryInput {
    /// Checks a report: the town is required (the queue it lands in), the child's name and what
    /// was found; the rest as far as known.
    pub fn parse(&self, today: NaiveDate) -> Result<Discovery, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let divisions = Divisions::shipped();
        let town = match present(&self.town_code) {
            None => {
                e.add("town_code", "请选择儿童所在乡镇（街道）");
                None
            }
            Some(s) => match divisions.parse_existing(&s) {
                Ok(c) if c.level() == RegionLevel::Town => Some(c),
                Ok(_) => {
                    e.add("town_code", "应选择乡镇（街道）级区划");
                    None
                }
                Err(err) => {
                    e.add("town_code", err.to_string());
                    None
                }
            },
        };
        let village = match present(&self.village_code) {
            None => None,
            Some(s) => match divisions.parse_existing(&s) {
                Ok(c)
                    if c.level() == RegionLevel::Village
                        && town.as_ref().is_none_or(|t| t.contains(&c)) =>
                {
                    Some(c)
                }
                Ok(_) => {
                    e.add("village_code", "所选村（社区）不属于所选乡镇");
                    None
                }
                Err(err) => {
                    e.add("village_code", err.to_string());
                    None
                }
            },
        };
        let name = match present(&self.child_name) {
            None => {
                e.add("child_name", "请填写儿童姓名（不知道全名可填“姓+某”）");
                None
            }
            Some(s) => PersonName::parse(&s)
                .map_err(|err| e.add("child_name", err.to_string()))
                .ok(),
        };
        let sex = present(&self.sex).and_then(|s| {
            let r = Sex::parse(&s);
            if r.is_none() {
                e.add("sex", "性别应为“男”或“女”");
            }
            r
        });
        let birth = present(&self.birth_date).and_then(|s| match parse_date(&s) {
            Some(d) if d <= today => Some(d),
            Some(_) => {
                e.add("birth_date", "出生日期不能晚于今天");
                None
            }
            None => {
                e.add("birth_date", format!("出生日期“{s}”不是有效日期"));
                None
            }
        });
        let situation = match present(&self.situation) {
            None => {
                e.add("situation", "请简要说明发现的情况");
                None
            }
            Some(s) if s.chars().count() > 1000 => {
                e.add("situation", "情况说明过长（最多1000字）");
                None
            }
            Some(s) => Some(s),
        };
        let phone = present(&self.reporter_phone).and_then(|s| {
            PhoneNumber::parse(&s)
                .map_err(|err| e.add("reporter_phone", err.to_string()))
                .ok()
        });
        if !e.is_empty() {
            return Err(e);
        }
        Ok(Discovery {
            town: town.expect("checked"),
            village,
            name: name.expect("checked"),
            sex,
            birth,
            situation: situation.expect("checked"),
            phone,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_registered_only_as_a_child_of_its_town() {
        assert_eq!(closing(Some(true), ""), Ok(DiscoveryStatus::Registered));
        let e = closing(Some(false), "已登记").unwrap_err();
        assert!(e.has("child_id"));
    }

    #[test]
    fn dismissing_a_report_needs_a_reason() {
        assert_eq!(closing(None, " 查无此人 "), Ok(DiscoveryStatus::Dismissed));
        assert!(closing(None, "  ").unwrap_err().has("note"));
    }

    #[test]
    fn a_report_needs_its_town_the_name_and_what_was_found() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let e = DiscoveryInput::default().parse(today).unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(fields, ["town_code", "child_name", "situation"]);
    }
}
