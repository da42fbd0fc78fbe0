//! Reports (强制报告): the situations found, who may report and who sees the reporter, a report as filed and checked.

use super::*;

code_enum! {
    /// What was found. The first seven are the seeds' list (景洪 000 三(二)3: 脱离监护单独居住生活或失踪、
    /// 监护人丧失监护能力或不履行监护责任、疑似遭受家庭暴力、遭受意外伤害或不法侵害); the rest are the
    /// categories of 强制报告意见 Art. 4 that the seeds' list does not already name (its 6 and 7 are
    /// `abandoned` and `missing`). Several may apply to one report.
    pub enum Situation {
        LivingAlone = ("living_alone", "脱离监护单独居住生活"),
        Missing = ("missing", "失踪、来源不明或被拐卖、收买"),
        GuardianIncapable = ("guardian_incapable", "监护人丧失监护能力"),
        GuardianNeglect = ("guardian_neglect", "监护人不履行监护责任"),
        DomesticViolence = ("domestic_violence", "疑似遭受家庭暴力"),
        AccidentalInjury = ("accidental_injury", "疑似遭受意外伤害"),
        UnlawfulHarm = ("unlawful_harm", "疑似遭受不法侵害"),
        PrivatePartsInjury = ("private_parts_injury", "生殖器官或隐私部位遭受或疑似遭受非正常损伤"),
        SexualAssault = ("sexual_assault", "遭受或疑似遭受性侵害、怀孕、流产"),
        AbuseSigns = ("abuse_signs", "身体多处损伤、严重营养不良、意识不清，疑似受到欺凌、虐待、殴打或被麻醉"),
        AbnormalInjuryOrDeath = ("abnormal_injury_or_death", "因自杀、自残、工伤、中毒、被麻醉、殴打等非正常原因导致伤残、死亡"),
        Abandoned = ("abandoned", "被遗弃或长期处于无人照料状态"),
        OrganisedBegging = ("organised_begging", "被组织乞讨"),
        OtherSeriousHarm = ("other_serious_harm", "其他严重侵害身心健康的情形或正在面临不法侵害危险"),
    }
}

code_enum! {
    /// How urgent the reporter judges it.
    pub enum Severity {
        Urgent = ("urgent", "紧急：正在面临危险"),
        Serious = ("serious", "严重"),
        General = ("general", "一般"),
    }
}

/// The smallest count of reports by one kind of reporter that figures show to someone who may not
/// see reporters: fewer could name the reporter of a case (强制报告意见 keeps the reporter's
/// identity confidential, as [`sees_reporter`] does; the figures must not undo it).
pub const MIN_REPORTER_CELL: i64 = 5;

/// Who sees the reporter's name, unit and contact: the police handling the report and the county's
/// civil affairs bureau (强制报告意见: the reporter's identity is kept confidential), and the reporter.
/// Everyone else working on the case reads 报告人信息已保密.
pub fn sees_reporter(actor: &Actor, handling_org: &RegionCode, reporter_user_id: &str) -> bool {
    actor.user_id == reporter_user_id
        || (actor.role == Role::Police && actor.region.contains(handling_org))
        || (matches!(actor.role, Role::County | Role::CountyAdmin)
            && handling_org
                .at_level(RegionLevel::County)
                .is_some_and(|c| actor.region.contains(&c)))
}

/// Who may file a mandatory report: the units the seeds and 强制报告意见 Art. 3 name — village
/// committees (儿童主任), town offices, schools, hospitals, social-work and welfare bodies and mass
/// organisations (agency users), the county's staff, and the police themselves.
pub fn may_report(role: Role) -> bool {
    !matches!(role, Role::Oversight | Role::Court | Role::Procuratorate)
}

/// A child not yet on the registry, with whatever is known.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct NewChildInput {
    pub name: Option<String>,
    /// 男 / 女, or male / female
    pub sex: Option<String>,
    /// YYYY-MM-DD, if known
    pub birth_date: Option<String>,
    /// The 12-digit code of the village where the child is.
    pub village_code: Option<String>,
}

/// A report as filed (the API's body, and the page's form).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ReportInput {
    /// A child on the registry …
    pub child_id: Option<String>,
    /// … or a child not on it, with whatever is known (then also queued for registration).
    pub child: Option<NewChildInput>,
    /// One or more situation codes.
    pub situations: Vec<String>,
    /// What happened.
    pub description: Option<String>,
    /// urgent, serious (default) or general
    pub severity: Option<String>,
    /// Where the child is now.
    pub place: Option<String>,
    /// When it was found (RFC 3339); now if absent.
    pub discovered_at: Option<String>,
    /// How the police reach the reporter (kept confidential).
    pub reporter_phone: Option<String>,
}

/// Who the report is about, checked.
#[derive(Debug, Clone)]
pub enum ReportedChild {
    Registered(crate::ids::ChildId),
    New {
        name: PersonName,
        sex: Option<Sex>,
        birth: Option<NaiveDate>,
        village: RegionCode,
    },
}

/// A report that passed validation.
#[derive(Debug, Clone)]
pub struct Report {
    pub child: ReportedChild,
    pub situations: Vec<Situation>,
    pub description: String,
    pub severity: Severity,
    pub place: Option<String>,
    pub discovered_at: DateTime<Utc>,
    pub reporter_phone: Option<String>,
}

pub const MAX_DESCRIPTION_CHARS: usize = 2000;

impl ReportInput {
    /// Checks a report: who (a registered child or a new one with a village), at least one known
    /// situation, what happened; when, if given, not in the future.
    pub fn parse(&self, now: DateTime<Utc>) -> Result<Report, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let present = |v: &Option<String>| v.as_deref().map(text::clean).filter(|s| !s.is_empty());
        let child = match (present(&self.child_id), &self.child) {
            (Some(id), None) => Some(ReportedChild::Registered(crate::ids::ChildId::new(id))),
            (None, Some(c)) => {
                let name = match present(&c.name).map(|n| PersonName::parse(&n)) {
                    Some(Ok(n)) => Some(n),
                    Some(Err(err)) => {
                        e.add("child.name", err.to_string());
                        None
                    }
                    None => match PersonName::parse("姓名不详") {
                        Ok(n) => Some(n),
                        Err(err) => {
                            e.add("child.name", err.to_string());
                            None
                        }
                    },
                };
                let sex = match present(&c.sex) {
                    None => None,
                    Some(s) => match Sex::parse(&s) {
                        Some(x) => Some(x),
                        None => {
                            e.add("child.sex", "性别应为“男”或“女”");
                            None
                        }
                    },
                };
                let birth = match present(&c.birth_date) {
                    None => None,
                    Some(d) => match crate::input::parse_date(&d) {
                        Some(b) if b <= now.date_naive() => Some(b),
                        _ => {
                            e.add(
                                "child.birth_date",
                                "出生日期应为不晚于今天的日期，如 2016-07-31",
                            );
                            None
                        }
                    },
                };
                let village = match present(&c.village_code) {
                    None => {
                        e.add("child.village_code", "请选择儿童所在的村（社区）");
                        None
                    }
                    Some(v) => match Divisions::shipped().parse_existing(&v) {
                        Ok(r) if r.level() == RegionLevel::Village => Some(r),
                        Ok(_) => {
                            e.add("child.village_code", "请选择到村（社区）一级");
                            None
                        }
                        Err(err) => {
                            e.add("child.village_code", err.to_string());
                            None
                        }
                    },
                };
                match (name, village) {
                    (Some(name), Some(village)) => Some(ReportedChild::New {
                        name,
                        sex,
                        birth,
                        village,
                    }),
                    _ => None,
                }
            }
            (Some(_), Some(_)) => {
                e.add(
                    "child_id",
                    "请只填写 child_id（已登记儿童）或 child（未登记儿童）之一",
                );
                None
            }
            (None, None) => {
                e.add("child_id", "请选择已登记的儿童，或填写未登记儿童的情况");
                None
            }
        };
        let mut situations = Vec::new();
        for code in &self.situations {
            match Situation::parse(code) {
                Some(s) if !situations.contains(&s) => situations.push(s),
                Some(_) => {}
                None => e.add(
                    "situations",
                    format!("未知的情形代码“{}”", text::clean(code)),
                ),
            }
        }
        if self.situations.is_empty() {
            e.add("situations", "请至少选择一种情形");
        }
        let description = present(&self.description).unwrap_or_default();
        if description.is_empty() {
            e.add("description", "请简要说明发现的情况");
        } else if description.chars().count() > MAX_DESCRIPTION_CHARS {
            e.add(
                "description",
                format!("情况说明请不超过{MAX_DESCRIPTION_CHARS}字"),
            );
        }
        let severity = match present(&self.severity) {
            None => Severity::Serious,
            Some(s) => Severity::parse(&s).unwrap_or_else(|| {
                e.add("severity", "紧急程度应为 urgent、serious 或 general");
                Severity::Serious
            }),
        };
        let place = present(&self.place);
        if place.as_ref().is_some_and(|p| p.chars().count() > 200) {
            e.add("place", "地点请不超过200字");
        }
        let discovered_at = match present(&self.discovered_at) {
            None => now,
            Some(t) => match DateTime::parse_from_rfc3339(&t) {
                // A phone's clock may run a few minutes ahead.
                Ok(t) if t.with_timezone(&Utc) <= now + Duration::minutes(10) => {
                    t.with_timezone(&Utc)
                }
                Ok(_) => {
                    e.add("discovered_at", "发现时间不能晚于现在");
                    now
                }
                Err(_) => {
                    e.add(
                        "discovered_at",
                        "发现时间应为 RFC 3339 格式，如 2026-11-24T09:30:00+08:00",
                    );
                    now
                }
            },
        };
        let reporter_phone = match present(&self.reporter_phone) {
            None => None,
            Some(p) => match crate::person::PhoneNumber::parse(&p) {
                Ok(p) => Some(p.as_str().to_owned()),
                Err(err) => {
                    e.add("reporter_phone", err.to_string());
                    None
                }
            },
        };
        e.into_result(())?;
        Ok(Report {
            child: child.expect("checked"),
            situations,
            description,
            severity,
            place,
            discovered_at,
            reporter_phone,
        })
    }
}
