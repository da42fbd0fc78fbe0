//! The town's assessment: the areas of concern and the risk they add up to.

use super::*;

code_enum! {
    /// What the town's assessment looks at (景洪 000 三(二)4 评估帮扶机制: 安全、监护、身心健康).
    pub enum AssessmentArea {
        Safety = ("safety", "人身安全"),
        Guardianship = ("guardianship", "监护状况"),
        PhysicalHealth = ("physical_health", "身体健康"),
        MentalHealth = ("mental_health", "心理健康"),
    }
}

code_enum! {
    /// How an area stands, from no concern to danger.
    pub enum Concern {
        NoConcern = ("none", "无明显问题"),
        Some = ("some", "存在问题"),
        Serious = ("serious", "问题严重"),
        Danger = ("danger", "面临危险"),
    }
}

code_enum! {
    /// The assessment's result: it sets how often the child is visited.
    pub enum RiskLevel {
        Low = ("low", "低"),
        Medium = ("medium", "中"),
        High = ("high", "高"),
        Critical = ("critical", "极高"),
    }
}

/// The risk an assessment's areas add up to: the worst area, and critical when two or more are
/// serious or worse (several serious problems at once leave no margin).
pub fn risk_level(concerns: &[Concern]) -> RiskLevel {
    let serious = concerns
        .iter()
        .filter(|c| matches!(c, Concern::Serious | Concern::Danger))
        .count();
    match concerns.iter().max() {
        Some(Concern::Danger) => RiskLevel::Critical,
        _ if serious >= 2 => RiskLevel::Critical,
        Some(Concern::Serious) => RiskLevel::High,
        Some(Concern::Some) => RiskLevel::Medium,
        _ => RiskLevel::Low,
    }
}

impl RiskLevel {
    /// Days between visits the risk calls for: weekly for the highest, monthly for high, quarterly
    /// for the others (沈阳 002 一2 每季度至少一次; the highest more often).
    pub fn visit_interval_days(self) -> u32 {
        match self {
            RiskLevel::Critical => 7,
            RiskLevel::High => 30,
            RiskLevel::Medium | RiskLevel::Low => 90,
        }
    }
}

/// An assessment as recorded (the API's body, the page's form).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct AssessmentInput {
    /// Each area's concern: none, some, serious, danger.
    pub safety: Option<String>,
    pub guardianship: Option<String>,
    pub physical_health: Option<String>,
    pub mental_health: Option<String>,
    /// What was found, in words (always).
    pub findings: Option<String>,
    /// Who took part (names and units).
    pub participants: Option<String>,
    /// The child's own view (未成年人保护法 Art. 4(五): 听取未成年人的意见).
    pub child_view: Option<String>,
    /// Why the child's view could not be heard (too young, unwell…), when it was not.
    pub child_view_absent_reason: Option<String>,
}

/// An assessment that passed validation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assessment {
    pub safety: Concern,
    pub guardianship: Concern,
    pub physical_health: Concern,
    pub mental_health: Concern,
    pub findings: String,
    pub participants: String,
    pub child_view: Option<String>,
    pub child_view_absent_reason: Option<String>,
    pub risk: RiskLevel,
}

impl AssessmentInput {
    pub fn parse(&self) -> Result<Assessment, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let present = |v: &Option<String>| v.as_deref().map(text::clean).filter(|s| !s.is_empty());
        let mut area =
            |field: &str, v: &Option<String>| match present(v).map(|c| Concern::parse(&c)) {
                Some(Some(c)) => c,
                _ => {
                    e.add(field, "请选择该项的评估结果");
                    Concern::NoConcern
                }
            };
        let safety = area("safety", &self.safety);
        let guardianship = area("guardianship", &self.guardianship);
        let physical_health = area("physical_health", &self.physical_health);
        let mental_health = area("mental_health", &self.mental_health);
        let long = |v: Option<String>, field: &str, e: &mut ValidationErrors| {
            if v.as_ref().is_some_and(|t| t.chars().count() > 2000) {
                e.add(field, "请不超过2000字");
            }
            v
        };
        let findings = long(present(&self.findings), "findings", &mut e).unwrap_or_default();
        if findings.is_empty() {
            e.add("findings", "请写明评估发现的情况");
        }
        let participants =
            long(present(&self.participants), "participants", &mut e).unwrap_or_default();
        if participants.is_empty() {
            e.add("participants", "请填写参与评估的人员");
        }
        let child_view = long(present(&self.child_view), "child_view", &mut e);
        let absent = long(
            present(&self.child_view_absent_reason),
            "child_view_absent_reason",
            &mut e,
        );
        if child_view.is_none() && absent.is_none() {
            e.add("child_view", "请记录儿童本人的意见；无法听取时请说明原因");
        }
        e.into_result(())?;
        Ok(Assessment {
            risk: risk_level(&[safety, guardianship, physical_health, mental_health]),
            safety,
            guardianship,
            physical_health,
            mental_health,
            findings,
            participants,
            child_view,
            child_view_absent_reason: absent,
        })
    }
}
