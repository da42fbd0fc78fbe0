//! An elder's record as typed (the API's body, the form's fields), checked field by field: every
//! error names its field (`children_away[1].phone`), nothing is half-taken.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::*;
use crate::child::Assistance;
use crate::eligibility::age_on;
use crate::input::{ParseContext, date_not_future};
use crate::region::RegionLevel;
use crate::text;
use crate::validation::ValidationErrors;

/// One child away, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChildAwayInput {
    #[cfg_attr(feature = "openapi", schema(max_length = 30))]
    pub name: Option<String>,
    /// 务工地点, as people say it (广东省深圳市).
    #[cfg_attr(feature = "openapi", schema(max_length = 50))]
    pub work_place: Option<String>,
    pub phone: Option<String>,
}

/// 身体状况: a word (健康, 患慢性病, 患重病, 残疾 or their codes) or the details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum HealthInput {
    #[cfg_attr(feature = "openapi", schema(value_type = ElderHealthStatus))]
    Word(String),
    Detail(HealthDetail),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthDetail {
    #[cfg_attr(feature = "openapi", schema(value_type = Option<ElderHealthStatus>))]
    pub status: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<SelfCare>))]
    pub self_care: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub illness: Option<String>,
}

/// An elder's record as typed. Absent fields are blank (unknown).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ElderInput {
    #[cfg_attr(feature = "openapi", schema(max_length = 30))]
    pub name: Option<String>,
    /// 男 / 女 (male / female).
    pub sex: Option<String>,
    /// YYYY-MM-DD; 60 or older on the day of registration.
    pub birth_date: Option<String>,
    pub id_number: Option<String>,
    /// The village's 12-digit division code.
    pub village_code: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub address: Option<String>,
    pub phone: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<LivingWith>))]
    pub living_with: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_items = 12))]
    pub children_away: Option<Vec<ChildAwayInput>>,
    pub health: Option<HealthInput>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<ElderIncome>>))]
    pub income_sources: Option<Vec<String>>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<crate::child::Assistance>>))]
    pub assistance: Option<Vec<String>>,
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub care: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub needs: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 500))]
    pub remarks: Option<String>,
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The labels of the record's fields, for messages and the history.
pub fn label(field: &str) -> &str {
    match field {
        "name" => "姓名",
        "sex" => "性别",
        "birth_date" => "出生日期",
        "id_number" => "身份证号码",
        "village_code" => "所在村（社区）",
        "address" => "居住地址",
        "phone" => "联系电话",
        "living_with" => "居住情况",
        "children_away" => "外出子女",
        "health" => "身体状况",
        "self_care" => "生活自理能力",
        "illness" => "所患疾病",
        "income_sources" => "经济来源",
        "assistance" => "救助帮扶情况",
        "care" => "照料情况",
        "needs" => "主要需求",
        "contact_name" => "村（居）委会联系人",
        "contact_phone" => "联系人电话",
        "remarks" => "备注",
        other => other,
    }
}

struct Parser {
    errors: ValidationErrors,
}

impl Parser {
    fn opt<T>(
        &mut self,
        field: &str,
        v: &Option<String>,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let s = present(v)?;
        match parse(s) {
            Ok(x) => Some(x),
            Err(m) => {
                self.errors.add(field, m);
                None
            }
        }
    }
    fn req<T>(
        &mut self,
        field: &str,
        v: &Option<String>,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        if present(v).is_none() {
            self.errors.add(field, format!("请填写{}", label(field)));
            return None;
        }
        self.opt(field, v, parse)
    }
    fn text(&mut self, field: &str, v: &Option<String>, max: usize) -> Option<String> {
        self.opt(field, v, |s| {
            let s = text::clean(s);
            if s.chars().count() > max {
                Err(format!("{}过长（最多{max}个字）", label(field)))
            } else {
                Ok(s)
            }
        })
    }
    fn choice<T>(
        &mut self,
        field: &str,
        v: &Option<String>,
        parse: impl Fn(&str) -> Option<T>,
        options: &[(&str, &str)],
    ) -> Option<T> {
        self.opt(field, v, |s| {
            parse(s).ok_or_else(|| not_a_choice(field, s, options))
        })
    }
    fn set<T: Ord>(
        &mut self,
        field: &str,
        v: &Option<Vec<String>>,
        parse: impl Fn(&str) -> Option<T>,
        options: &[(&str, &str)],
    ) -> BTreeSet<T> {
        let mut out = BTreeSet::new();
        for s in v.iter().flatten().filter(|s| !s.trim().is_empty()).take(20) {
            match parse(s) {
                Some(x) => {
                    out.insert(x);
                }
                None => self.errors.add(field, not_a_choice(field, s, options)),
            }
        }
        out
    }
    fn name(&mut self, field: &str, v: &Option<String>) -> Option<PersonName> {
        self.opt(field, v, |s| {
            PersonName::parse(s).map_err(|e| e.to_string())
        })
    }
    fn phone(&mut self, field: &str, v: &Option<String>) -> Option<PhoneNumber> {
        self.opt(field, v, |s| {
            PhoneNumber::parse(s).map_err(|e| e.to_string())
        })
    }
}

fn not_a_choice(field: &str, s: &str, options: &[(&str, &str)]) -> String {
    let labels: Vec<&str> = options.iter().map(|(_, l)| *l).collect();
    let shown: String = s.chars().take(20).collect();
    format!(
        "{}“{shown}”不是可选值（{}）",
        label(field),
        labels.join("、")
    )
}

impl ElderInput {
    /// Parses and checks the whole record; on failure returns every offending field.
    pub fn parse(&self, ctx: &ParseContext<'_>) -> Result<ElderFile, ValidationErrors> {
        let mut p = Parser {
            errors: ValidationErrors::default(),
        };
        let today = ctx.today;
        let name = p.req("name", &self.name, |s| {
            PersonName::parse(s).map_err(|e| e.to_string())
        });
        let sex = p.req("sex", &self.sex, |s| {
            Sex::parse(s).ok_or_else(|| format!("性别“{s}”不是可选值（男、女）"))
        });
        let birth_date = p.req("birth_date", &self.birth_date, |s| {
            let d = date_not_future(s, "出生日期", today)?;
            let age = age_on(d, today);
            if age < ELDER_MIN_AGE {
                // 《老年人权益保障法》第二条.
                return Err(format!(
                    "未满{ELDER_MIN_AGE}周岁（{age}周岁），不属于留守老人登记范围"
                ));
            }
            if age > 130 {
                return Err(format!("出生日期“{s}”不合理（{age}周岁）"));
            }
            Ok(d)
        });
        let id_number = p.opt("id_number", &self.id_number, |s| {
            let id = IdNumber::parse(s).map_err(|e| e.to_string())?;
            id.check_not_future(today).map_err(|e| e.to_string())?;
            Ok(id)
        });
        if let (Some(id), Some(b)) = (&id_number, birth_date)
            && id.birth_date() != b
        {
            p.errors.add(
                "birth_date",
                format!("出生日期与身份证号码不一致（身份证为{}）", id.birth_date()),
            );
        }
        if let (Some(id), Some(s)) = (&id_number, sex)
            && id.sex() != s
        {
            p.errors.add(
                "sex",
                format!("性别与身份证号码不一致（身份证为{}）", id.sex().label()),
            );
        }
        let village_code = p.req("village_code", &self.village_code, |s| {
            let code = RegionCode::parse(s).map_err(|e| e.to_string())?;
            if code.level() != RegionLevel::Village {
                return Err(format!("“{s}”不是村级区划代码（应为12位）"));
            }
            ctx.divisions.get(&code).map_err(|e| e.to_string())?;
            Ok(code)
        });
        let address = p.text("address", &self.address, 100);
        let phone = p.phone("phone", &self.phone);
        let living_with = p.choice(
            "living_with",
            &self.living_with,
            LivingWith::parse,
            LivingWith::OPTIONS,
        );
        let mut children_away = Vec::new();
        let listed = self.children_away.as_deref().unwrap_or_default();
        if listed.len() > MAX_CHILDREN_AWAY {
            p.errors.add(
                "children_away",
                format!("外出子女最多填写{MAX_CHILDREN_AWAY}人"),
            );
        }
        for (i, c) in listed.iter().take(MAX_CHILDREN_AWAY).enumerate() {
            let at = |f: &str| format!("children_away[{i}].{f}");
            let child = ChildAway {
                name: p.name(&at("name"), &c.name),
                work_place: p.opt(&at("work_place"), &c.work_place, |s| {
                    let s = text::clean(s);
                    if s.chars().count() > 50 {
                        Err("务工地点过长（最多50个字）".to_owned())
                    } else {
                        Ok(s)
                    }
                }),
                phone: p.phone(&at("phone"), &c.phone),
            };
            // A line with nothing on it is not a child.
            if child.name.is_some() || child.work_place.is_some() || child.phone.is_some() {
                children_away.push(child);
            }
        }
        let detail = match &self.health {
            None => HealthDetail::default(),
            Some(HealthInput::Word(w)) => HealthDetail {
                status: Some(w.clone()),
                ..HealthDetail::default()
            },
            Some(HealthInput::Detail(d)) => d.clone(),
        };
        let health = ElderHealth {
            status: p.choice(
                "health",
                &detail.status,
                ElderHealthStatus::parse,
                ElderHealthStatus::OPTIONS,
            ),
            self_care: p.choice(
                "self_care",
                &detail.self_care,
                SelfCare::parse,
                SelfCare::OPTIONS,
            ),
            illness: p.text("illness", &detail.illness, 100),
        };
        let income_sources = p.set(
            "income_sources",
            &self.income_sources,
            ElderIncome::parse,
            ElderIncome::OPTIONS,
        );
        let assistance = p.set(
            "assistance",
            &self.assistance,
            Assistance::parse,
            Assistance::OPTIONS,
        );
        let care = p.text("care", &self.care, 200);
        let needs = p.text("needs", &self.needs, 200);
        let contact = Contact {
            name: p.name("contact_name", &self.contact_name),
            phone: p.phone("contact_phone", &self.contact_phone),
        };
        let remarks = p.text("remarks", &self.remarks, 500);
        if !p.errors.is_empty() {
            return Err(p.errors);
        }
        let (Some(name), Some(sex), Some(birth_date), Some(village_code)) =
            (name, sex, birth_date, village_code)
        else {
            return Err(p.errors);
        };
        Ok(ElderFile {
            name,
            sex,
            birth_date,
            id_number,
            village_code,
            address,
            phone,
            living_with,
            children_away,
            health,
            income_sources,
            assistance,
            care,
            needs,
            contact,
            remarks,
        })
    }

    /// The record as it would be typed: the base an edit overlays its fields on.
    pub fn from_file(f: &ElderFile) -> ElderInput {
        let s = |v: Option<&str>| v.map(str::to_owned);
        ElderInput {
            name: Some(f.name.to_string()),
            sex: Some(f.sex.label().to_owned()),
            birth_date: Some(f.birth_date.to_string()),
            id_number: f.id_number.as_ref().map(|i| i.as_str().to_owned()),
            village_code: Some(f.village_code.padded12()),
            address: f.address.clone(),
            phone: f.phone.as_ref().map(|p| p.as_str().to_owned()),
            living_with: f.living_with.map(|l| l.code().to_owned()),
            children_away: Some(
                f.children_away
                    .iter()
                    .map(|c| ChildAwayInput {
                        name: c.name.as_ref().map(|n| n.to_string()),
                        work_place: c.work_place.clone(),
                        phone: c.phone.as_ref().map(|p| p.as_str().to_owned()),
                    })
                    .collect(),
            ),
            health: Some(HealthInput::Detail(HealthDetail {
                status: s(f.health.status.map(|h| h.code())),
                self_care: s(f.health.self_care.map(|h| h.code())),
                illness: f.health.illness.clone(),
            })),
            income_sources: Some(
                f.income_sources
                    .iter()
                    .map(|v| v.code().to_owned())
                    .collect(),
            ),
            assistance: Some(f.assistance.iter().map(|v| v.code().to_owned()).collect()),
            care: f.care.clone(),
            needs: f.needs.clone(),
            contact_name: f.contact.name.as_ref().map(|n| n.to_string()),
            contact_phone: f.contact.phone.as_ref().map(|p| p.as_str().to_owned()),
            remarks: f.remarks.clone(),
        }
    }

    /// This input with the fields `patch` states laid over it (an edit states only what changes).
    pub fn overlay(self, patch: ElderInput) -> ElderInput {
        macro_rules! pick {
            ($($f:ident),+) => {
                ElderInput { $($f: patch.$f.or(self.$f)),+ }
            };
        }
        pick!(
            name,
            sex,
            birth_date,
            id_number,
            village_code,
            address,
            phone,
            living_with,
            children_away,
            health,
            income_sources,
            assistance,
            care,
            needs,
            contact_name,
            contact_phone,
            remarks
        )
    }
}
