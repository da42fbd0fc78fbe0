//! The registration form as submitted (web form or JSON): flat, text-valued fields, parsed into a
//! [`ChildFile`] with an error per offending field. PATCH requests overlay their fields on the
//! current file's input, so creation and edits share one parser.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::child::*;
use crate::eligibility::age_on;
use crate::fields;
use crate::id_number::IdNumber;
use crate::person::{Ethnicity, PersonName, PhoneNumber, Sex};
use crate::region::{Divisions, RegionCode, RegionLevel};
use crate::text;
use crate::validation::ValidationErrors;

mod back;

/// What the parser needs to know about the world.
pub struct ParseContext<'a> {
    pub today: NaiveDate,
    pub divisions: &'a Divisions,
}

/// Every field of the registration form as text. Absent fields are `None`.
///
/// The field catalogue (`crate::fields`) describes each one; the OpenAPI schema is built from it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChildInput {
    pub name: Option<String>,
    pub sex: Option<String>,
    pub ethnicity: Option<String>,
    pub birth_date: Option<String>,
    pub id_number: Option<String>,
    pub hukou_registered: Option<String>,
    pub hukou_rural: Option<String>,
    pub hukou_place: Option<String>,
    pub village_code: Option<String>,
    pub residence_address: Option<String>,
    pub health: Option<String>,
    pub disability_category: Option<String>,
    pub disability_grade: Option<String>,
    pub illness: Option<String>,
    pub boarding: Option<String>,
    pub schooling: Option<String>,
    pub school_name: Option<String>,
    pub living_alone: Option<String>,
    pub paternal_grandfather_status: Option<String>,
    pub paternal_grandfather_name: Option<String>,
    pub paternal_grandfather_birth_date: Option<String>,
    pub paternal_grandmother_status: Option<String>,
    pub paternal_grandmother_name: Option<String>,
    pub paternal_grandmother_birth_date: Option<String>,
    pub maternal_grandfather_status: Option<String>,
    pub maternal_grandfather_name: Option<String>,
    pub maternal_grandfather_birth_date: Option<String>,
    pub maternal_grandmother_status: Option<String>,
    pub maternal_grandmother_name: Option<String>,
    pub maternal_grandmother_birth_date: Option<String>,
    pub father_status: Option<String>,
    pub father_name: Option<String>,
    pub father_birth_date: Option<String>,
    pub father_id_number: Option<String>,
    pub father_situation: Option<String>,
    pub father_incapacity: Option<String>,
    pub father_work_place: Option<String>,
    pub father_phone: Option<String>,
    pub mother_status: Option<String>,
    pub mother_name: Option<String>,
    pub mother_birth_date: Option<String>,
    pub mother_id_number: Option<String>,
    pub mother_situation: Option<String>,
    pub mother_incapacity: Option<String>,
    pub mother_work_place: Option<String>,
    pub mother_phone: Option<String>,
    pub entrusted: Option<String>,
    pub guardian_name: Option<String>,
    pub guardian_phone: Option<String>,
    pub guardian_id_number: Option<String>,
    pub guardian_relation: Option<String>,
    pub guardian_address: Option<String>,
    pub guardianship_type: Option<String>,
    pub income_sources: Option<Vec<String>>,
    pub assistance: Option<Vec<String>>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub manual_flags: Option<Vec<String>>,
    pub harm: Option<Vec<String>>,
    pub remarks: Option<String>,
}

/// Parses dates as people write them: 2016-07-31, 2016/7/31, 2016.7.31, 20160731, 2016年7月31日.
pub fn parse_date(input: &str) -> Option<NaiveDate> {
    let s = text::clean(input);
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(&s, "%Y%m%d").ok();
    }
    let parts: Vec<&str> = s
        .split(['-', '/', '.', '年', '月', '日'])
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() != 3 {
        return None;
    }
    let y: i32 = parts[0].parse().ok()?;
    let m: u32 = parts[1].parse().ok()?;
    let d: u32 = parts[2].parse().ok()?;
    if !(1900..=2200).contains(&y) {
        return None;
    }
    NaiveDate::from_ymd_opt(y, m, d)
}

/// 是/否 as typed: 是, 否, √, ✓, true/false, 1/0, yes/no, on (an HTML checkbox).
pub fn parse_bool(input: &str) -> Option<bool> {
    match text::clean(input).to_lowercase().as_str() {
        "是" | "有" | "√" | "✓" | "✔" | "true" | "1" | "yes" | "y" | "on" => Some(true),
        "否" | "无" | "×" | "false" | "0" | "no" | "n" | "off" | "" => Some(false),
        _ => None,
    }
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Collects the parsed fields and the errors of one submission.
struct Parser<'a> {
    input: &'a ChildInput,
    ctx: &'a ParseContext<'a>,
    errors: ValidationErrors,
}

impl Parser<'_> {
    fn required<T>(
        &mut self,
        field: &str,
        value: &Option<String>,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match present(value) {
            None => {
                self.errors
                    .add(field, format!("请填写{}", fields::label(field)));
                None
            }
            Some(s) => self.parsed(field, s, parse),
        }
    }

    fn optional<T>(
        &mut self,
        field: &str,
        value: &Option<String>,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        present(value).and_then(|s| self.parsed(field, s, parse))
    }

    fn parsed<T>(
        &mut self,
        field: &str,
        s: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match parse(s) {
            Ok(v) => Some(v),
            Err(msg) => {
                self.errors.add(field, msg);
                None
            }
        }
    }

    fn flag(&mut self, field: &str, value: &Option<String>) -> bool {
        self.optional(field, value, |s| {
            parse_bool(s).ok_or_else(|| format!("{}应填“是”或“否”", fields::label(field)))
        })
        .unwrap_or(false)
    }

    fn date(&mut self, field: &str, value: &Option<String>) -> Option<NaiveDate> {
        let today = self.ctx.today;
        self.optional(field, value, |s| {
            date_not_future(s, fields::label(field), today)
        })
    }

    fn enum_value<T: Copy>(
        &mut self,
        field: &str,
        value: &Option<String>,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        self.optional(field, value, |s| {
            parse(s).ok_or_else(|| not_a_choice(field, s))
        })
    }

    fn set<T: Ord + Copy>(
        &mut self,
        field: &str,
        values: &Option<Vec<String>>,
        parse: impl Fn(&str) -> Option<T>,
    ) -> BTreeSet<T> {
        let label = fields::label(field);
        let mut out = BTreeSet::new();
        for v in values.iter().flatten() {
            if v.trim().is_empty() {
                continue;
            }
            match parse(v) {
                Some(x) => {
                    out.insert(x);
                }
                None => self.errors.add(field, format!("{label}“{v}”不是可选值")),
            }
        }
        out
    }

    fn name(&mut self, field: &str, value: &Option<String>) -> Option<PersonName> {
        self.optional(field, value, |s| {
            PersonName::parse(s).map_err(|e| e.to_string())
        })
    }

    fn phone(&mut self, field: &str, value: &Option<String>) -> Option<PhoneNumber> {
        self.optional(field, value, |s| {
            PhoneNumber::parse(s).map_err(|e| e.to_string())
        })
    }

    fn id_number(&mut self, field: &str, value: &Option<String>) -> Option<IdNumber> {
        let today = self.ctx.today;
        let child = field == "id_number";
        self.optional(field, value, |s| {
            let id = if child {
                IdNumber::parse_child(s)
            } else {
                IdNumber::parse(s)
            }
            .map_err(|e| e.to_string())?;
            id.check_not_future(today).map_err(|e| e.to_string())?;
            Ok(id)
        })
    }

    fn text(&mut self, field: &str, value: &Option<String>) -> Option<String> {
        let max = match fields::field(field).map(|f| f.kind) {
            Some(fields::Kind::Text(max)) => max,
            _ => 100,
        };
        self.optional(field, value, |s| {
            let s = text::clean(s);
            if s.chars().count() > max {
                Err(format!("内容过长（最多{max}个字）"))
            } else {
                Ok(s)
            }
        })
    }

    fn kin(&mut self, prefix: &str, label: &str) -> Kin {
        let (status, name, birth) = match prefix {
            "paternal_grandfather" => (
                &self.input.paternal_grandfather_status,
                &self.input.paternal_grandfather_name,
                &self.input.paternal_grandfather_birth_date,
            ),
            "paternal_grandmother" => (
                &self.input.paternal_grandmother_status,
                &self.input.paternal_grandmother_name,
                &self.input.paternal_grandmother_birth_date,
            ),
            "maternal_grandfather" => (
                &self.input.maternal_grandfather_status,
                &self.input.maternal_grandfather_name,
                &self.input.maternal_grandfather_birth_date,
            ),
            _ => (
                &self.input.maternal_grandmother_status,
                &self.input.maternal_grandmother_name,
                &self.input.maternal_grandmother_birth_date,
            ),
        };
        let name_v = self.name(&format!("{prefix}_name"), name);
        let birth_v = self.date(&format!("{prefix}_birth_date"), birth);
        let status_v =
            self.kin_status(&format!("{prefix}_status"), status, label, name_v.is_some());
        Kin {
            status: if status_v == KinStatus::Unknown && name_v.is_some() {
                KinStatus::Alive
            } else {
                status_v
            },
            name: name_v,
            birth_date: birth_v,
        }
    }

    fn kin_status(
        &mut self,
        field: &str,
        value: &Option<String>,
        label: &str,
        has_name: bool,
    ) -> KinStatus {
        // 附件1 note 4: "—" in the name field means deceased.
        if present(value).is_none() && !has_name {
            return KinStatus::Unknown;
        }
        let parsed = self.optional(field, value, |s| {
            if matches!(s, "—" | "-" | "--" | "——") {
                return Ok(KinStatus::Deceased);
            }
            KinStatus::parse(s)
                .ok_or_else(|| format!("{label}状况“{s}”不是可选值（健在、已故、不详）"))
        });
        parsed.unwrap_or(if has_name {
            KinStatus::Alive
        } else {
            KinStatus::Unknown
        })
    }

    fn parent(&mut self, which: WhichParent) -> Parent {
        let i = self.input;
        let (prefix, label, status, name, birth, id, situation, incapacity, work, phone) =
            match which {
                WhichParent::Father => (
                    "father",
                    "父亲",
                    &i.father_status,
                    &i.father_name,
                    &i.father_birth_date,
                    &i.father_id_number,
                    &i.father_situation,
                    &i.father_incapacity,
                    &i.father_work_place,
                    &i.father_phone,
                ),
                WhichParent::Mother => (
                    "mother",
                    "母亲",
                    &i.mother_status,
                    &i.mother_name,
                    &i.mother_birth_date,
                    &i.mother_id_number,
                    &i.mother_situation,
                    &i.mother_incapacity,
                    &i.mother_work_place,
                    &i.mother_phone,
                ),
            };
        let name_v = self.name(&format!("{prefix}_name"), name);
        let status_v =
            self.kin_status(&format!("{prefix}_status"), status, label, name_v.is_some());
        let birth_v = self.date(&format!("{prefix}_birth_date"), birth);
        let id_v = self.id_number(&format!("{prefix}_id_number"), id);
        let situation_v = self.enum_value(
            &format!("{prefix}_situation"),
            situation,
            ParentSituation::parse,
        );
        let incapacity_v = self.enum_value(
            &format!("{prefix}_incapacity"),
            incapacity,
            IncapacityReason::parse,
        );
        let divisions = self.ctx.divisions;
        let work_v = self.optional(&format!("{prefix}_work_place"), work, |s| {
            let code = RegionCode::parse(s).map_err(|e| e.to_string())?;
            if code.level() > RegionLevel::Prefecture {
                return Err("务工地点填到省（区、市）和市即可，请选择市级区划".to_owned());
            }
            divisions.get(&code).map_err(|e| e.to_string())?;
            Ok(code)
        });
        let phone_v = self.phone(&format!("{prefix}_phone"), phone);
        if status_v == KinStatus::Alive {
            // A living parent whose situation is blank is unknown, not an error: the file is
            // saved and waits on the 信息不全 list (eligibility::missing_facts).
            // A work place not stated (附件1 note 7 asks for “XXX省(区、市)XXX市”) is unknown too:
            // the file is 待补充 (`eligibility::missing_fields`), never refused for a column
            // the roster does not have.
            // So is the reason a parent at home cannot care (附件1 records only which parent):
            // blank, the file is 待补充; it decides 事实无人抚养 (重病、重残), so it is never assumed.
        }
        if let (Some(id), Some(b)) = (&id_v, birth_v)
            && id.birth_date() != b
        {
            self.errors.add(
                &format!("{prefix}_birth_date"),
                format!(
                    "{label}出生日期与身份证号码不一致（身份证为{}）",
                    id.birth_date()
                ),
            );
        }
        let expected_sex = match which {
            WhichParent::Father => Sex::Male,
            WhichParent::Mother => Sex::Female,
        };
        if let Some(id) = &id_v
            && id.sex() != expected_sex
        {
            self.errors.add(
                &format!("{prefix}_id_number"),
                format!("{label}身份证号码的性别位为{}，请核对", id.sex().label()),
            );
        }
        let alive = status_v == KinStatus::Alive;
        Parent {
            status: status_v,
            name: name_v,
            birth_date: birth_v,
            id_number: id_v,
            situation: if alive { situation_v } else { None },
            incapacity: if alive && situation_v == Some(ParentSituation::Incapable) {
                incapacity_v
            } else {
                None
            },
            work_place: if alive && situation_v == Some(ParentSituation::AwayForWork) {
                work_v
            } else {
                None
            },
            phone: phone_v,
        }
    }
}

pub(crate) fn date_not_future(s: &str, label: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let d = parse_date(s).ok_or_else(|| format!("{label}“{s}”不是有效日期（例：2016-07-31）"))?;
    if d > today {
        Err(format!("{label}不能晚于今天"))
    } else {
        Ok(d)
    }
}

/// "监护类型“x”不是可选值（…）", the choices from the field catalogue.
fn not_a_choice(field: &str, s: &str) -> String {
    let choices: Vec<&str> = fields::options(field).iter().map(|(_, l)| *l).collect();
    format!(
        "{}“{s}”不是可选值（{}）",
        fields::label(field),
        choices.join("、")
    )
}

impl ChildInput {
    /// Parses and checks the whole form; on failure returns every offending field.
    pub fn parse(&self, ctx: &ParseContext<'_>) -> Result<ChildFile, ValidationErrors> {
        let mut p = Parser {
            input: self,
            ctx,
            errors: ValidationErrors::default(),
        };
        let name = p.required("name", &self.name, |s| {
            PersonName::parse(s).map_err(|e| e.to_string())
        });
        let sex = p.required("sex", &self.sex, |s| {
            Sex::parse(s).ok_or_else(|| format!("性别“{s}”不是可选值（男、女）"))
        });
        // 民族 left blank is 信息不全, not an error (eligibility::missing_fields).
        let ethnicity = p.optional("ethnicity", &self.ethnicity, |s| {
            Ethnicity::parse(s).ok_or_else(|| format!("民族“{s}”不在56个民族之列"))
        });
        let today = ctx.today;
        let birth_date = p.required("birth_date", &self.birth_date, |s| {
            date_not_future(s, "出生日期", today)
        });
        let id_number = p.id_number("id_number", &self.id_number);
        // Blank is unknown, never assumed: not "has a hukou" because an ID number is there or
        // "no hukou" because it is not, and not "rural" (the definition requires it).
        let hukou_registered = present(&self.hukou_registered)
            .map(|_| p.flag("hukou_registered", &self.hukou_registered));
        let hukou_rural =
            present(&self.hukou_rural).map(|_| p.flag("hukou_rural", &self.hukou_rural));
        let hukou_place = p.text("hukou_place", &self.hukou_place);
        let village_code = p.required("village_code", &self.village_code, |s| {
            let code = RegionCode::parse(s).map_err(|e| e.to_string())?;
            if code.level() != RegionLevel::Village {
                return Err(format!("“{s}”不是村级区划代码（应为12位）"));
            }
            ctx.divisions.get(&code).map_err(|e| e.to_string())?;
            Ok(code)
        });
        let residence_address = p.text("residence_address", &self.residence_address);
        let health_status = p.enum_value("health", &self.health, HealthStatus::parse);
        let disability_category = p.enum_value(
            "disability_category",
            &self.disability_category,
            DisabilityCategory::parse,
        );
        let disability_grade = p.enum_value(
            "disability_grade",
            &self.disability_grade,
            DisabilityGrade::parse,
        );
        let illness = p.text("illness", &self.illness);
        // A disability's category and grade, or an illness's kind, left blank are unknown: the
        // file is 待补充 (`eligibility::missing_fields`), not refused (a roster often says only
        // 残疾 or 患病).
        let boarding = present(&self.boarding).map(|_| p.flag("boarding", &self.boarding));
        // 就学情况 and 监护类型 left blank make the file 待补充, not invalid (only identity and place
        // are needed to create it).
        let schooling = p.enum_value("schooling", &self.schooling, Schooling::parse);
        let school_name = p.text("school_name", &self.school_name);
        let living_alone =
            present(&self.living_alone).map(|_| p.flag("living_alone", &self.living_alone));
        let paternal_grandfather = p.kin("paternal_grandfather", "祖父");
        let paternal_grandmother = p.kin("paternal_grandmother", "祖母");
        let maternal_grandfather = p.kin("maternal_grandfather", "外祖父");
        let maternal_grandmother = p.kin("maternal_grandmother", "外祖母");
        let father = p.parent(WhichParent::Father);
        let mother = p.parent(WhichParent::Mother);
        // 是否委托: as stated; a carer named says yes; otherwise not known (待补充), never "no".
        let entrusted = match present(&self.entrusted) {
            Some(_) => Some(p.flag("entrusted", &self.entrusted)),
            None => (present(&self.guardian_name).is_some()
                || present(&self.guardian_relation).is_some())
            .then_some(true),
        };
        // A word of kinship where the name goes (监护人：奶奶) is the relation, and the name is
        // not known; a missing name or relation leaves the file 待补充, it is not refused.
        let named_by_relation = present(&self.guardian_name).and_then(GuardianRelation::from_word);
        let guardian_name = match named_by_relation {
            Some(_) => None,
            None => p.name("guardian_name", &self.guardian_name),
        };
        let guardian_phone = p.phone("guardian_phone", &self.guardian_phone);
        let guardian_id = p.id_number("guardian_id_number", &self.guardian_id_number);
        let guardian_relation = p
            .enum_value("guardian_relation", &self.guardian_relation, |s| {
                GuardianRelation::parse(s).or_else(|| GuardianRelation::from_word(s))
            })
            .or(named_by_relation);
        let guardian_address = p.text("guardian_address", &self.guardian_address);
        let entrusted_guardian = (entrusted == Some(true)).then_some(EntrustedGuardian {
            name: guardian_name,
            phone: guardian_phone,
            id_number: guardian_id,
            relation: guardian_relation,
            address: guardian_address,
        });
        let guardianship_type = p.enum_value(
            "guardianship_type",
            &self.guardianship_type,
            GuardianshipType::parse,
        );
        let income_sources = p.set("income_sources", &self.income_sources, IncomeSource::parse);
        let assistance = p.set("assistance", &self.assistance, Assistance::parse);
        let manual_flags = p.set("manual_flags", &self.manual_flags, ManualFlag::parse);
        let harm = p.set("harm", &self.harm, Harm::parse);
        let contact_name = p.name("contact_name", &self.contact_name);
        let contact_phone = p.phone("contact_phone", &self.contact_phone);
        let remarks = p.text("remarks", &self.remarks);

        let (Some(name), Some(sex), Some(birth_date), Some(village_code)) =
            (name, sex, birth_date, village_code)
        else {
            return Err(p.errors);
        };

        // Cross-field rules.
        if let Some(id) = &id_number {
            if id.birth_date() != birth_date {
                p.errors.add(
                    "birth_date",
                    format!("出生日期与身份证号码不一致（身份证为{}）", id.birth_date()),
                );
            }
            if id.sex() != sex {
                p.errors.add(
                    "sex",
                    format!("性别与身份证号码不一致（身份证为{}）", id.sex().label()),
                );
            }
        }
        let age = age_on(birth_date, ctx.today);
        // 附件1 note 6: 不在学 applies to children aged 14–16; younger children out of school are 辍学
        // (compulsory education) or 未入园.
        if schooling == Some(Schooling::NotInSchool) && age < 14 {
            p.errors.add(
                "schooling",
                "“不在学”仅适用于14—16周岁儿童；义务教育阶段未上学请选“辍学”",
            );
        }
        if schooling == Some(Schooling::DroppedOut) && age < 6 {
            p.errors.add(
                "schooling",
                "6周岁以下儿童不属于“辍学”，请选“未入园”或“幼儿园”",
            );
        }
        if boarding == Some(true) && schooling.is_some_and(|s| !s.in_school()) {
            p.errors.add("boarding", "未在学的儿童不能登记为学校寄宿");
        }
        if guardianship_type == Some(GuardianshipType::ParentIncapable)
            && !(father.situation == Some(ParentSituation::Incapable)
                || mother.situation == Some(ParentSituation::Incapable))
        {
            p.errors.add(
                "guardianship_type",
                "监护类型为“父或母无监护能力”时，父亲或母亲的情况应为“在家但无监护能力”",
            );
        }
        // Stated facts only: a parent left blank may well be at home, so it contradicts nothing.
        let nobody_at_home = !father.capable_at_home()
            && !mother.capable_at_home()
            && !father.is_unknown()
            && !mother.is_unknown();
        if nobody_at_home
            && entrusted == Some(false)
            && matches!(
                guardianship_type,
                Some(GuardianshipType::Good | GuardianshipType::Fair)
            )
        {
            p.errors.add(
                "guardianship_type",
                "父母均不在家且未委托其他监护人，监护类型应为“无人监护”或“父或母无监护能力”",
            );
        }

        let file = ChildFile {
            name,
            sex,
            ethnicity,
            birth_date,
            id_number,
            hukou_registered,
            hukou_rural,
            hukou_place,
            village_code,
            residence_address,
            health: Health {
                status: health_status,
                disability_category: (health_status == Some(HealthStatus::Disabled))
                    .then_some(disability_category)
                    .flatten(),
                disability_grade: (health_status == Some(HealthStatus::Disabled))
                    .then_some(disability_grade)
                    .flatten(),
                illness: (health_status == Some(HealthStatus::Ill))
                    .then_some(illness)
                    .flatten(),
            },
            boarding,
            schooling,
            school_name,
            living_alone,
            paternal_grandfather,
            paternal_grandmother,
            maternal_grandfather,
            maternal_grandmother,
            father,
            mother,
            entrusted,
            entrusted_guardian,
            guardianship_type,
            income_sources,
            assistance,
            contact: Contact {
                name: contact_name,
                phone: contact_phone,
            },
            manual_flags,
            harm,
            remarks,
        };
        p.errors.into_result(file)
    }
}
