//! Temporary guardianship (临时监护) and other placements: why, where, from when, and how they end.

use super::*;

code_enum! {
    /// Why civil affairs takes a child into temporary guardianship (未成年人保护法 Art. 92).
    pub enum TemporaryGuardianshipReason {
        UnknownIdentity = ("unknown_identity", "流浪乞讨或者身份不明，暂时查找不到父母或者其他监护人"),
        GuardianMissing = ("guardian_missing", "监护人下落不明且无其他人可以担任监护人"),
        GuardianUnable = ("guardian_unable", "监护人因自身客观原因或者因发生自然灾害、事故灾难、公共卫生事件等突发事件不能履行监护职责，导致未成年人监护缺失"),
        GuardianRefuses = ("guardian_refuses", "监护人拒绝或者怠于履行监护职责，导致未成年人处于无人照料的状态"),
        UsedForCrime = ("used_for_crime", "监护人教唆、利用未成年人实施违法犯罪行为，未成年人需要被带离安置"),
        HarmedByGuardian = ("harmed_by_guardian", "未成年人遭受监护人严重伤害或者面临人身安全威胁，需要被紧急安置"),
        Other = ("other", "法律规定的其他情形"),
    }
}

code_enum! {
    /// Where a child in temporary guardianship lives (未成年人保护法 Art. 93).
    pub enum Placement {
        Relatives = ("relatives", "委托亲属抚养"),
        FosterFamily = ("foster_family", "家庭寄养"),
        ProtectionInstitution = ("protection_institution", "未成年人救助保护机构"),
        WelfareInstitution = ("welfare_institution", "儿童福利机构"),
    }
}

/// A temporary guardianship as recorded: why, where, from when; its end says where the child went
/// and rests on an assessment (Art. 93: returned to the guardian after civil affairs assessed it).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct PlacementInput {
    pub reason: Option<String>,
    pub placement: Option<String>,
    /// Who or which institution cares for the child.
    pub carer: Option<String>,
    /// YYYY-MM-DD; today if absent.
    pub start_date: Option<String>,
    pub note: Option<String>,
}

/// A placement that passed validation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlacementRecord {
    pub reason: TemporaryGuardianshipReason,
    pub placement: Placement,
    pub carer: String,
    pub start_date: NaiveDate,
    pub note: Option<String>,
    /// Set when it ends.
    pub end_date: Option<NaiveDate>,
    /// The assessment before the child returns, and where the child went.
    pub end_assessment: Option<String>,
}

impl PlacementInput {
    pub fn parse(&self, today: NaiveDate) -> Result<PlacementRecord, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let present = |v: &Option<String>| v.as_deref().map(text::clean).filter(|s| !s.is_empty());
        let reason = present(&self.reason).and_then(|r| TemporaryGuardianshipReason::parse(&r));
        if reason.is_none() {
            e.add("reason", "请选择临时监护的法定情形");
        }
        let placement = present(&self.placement).and_then(|p| Placement::parse(&p));
        if placement.is_none() {
            e.add("placement", "请选择安置方式");
        }
        let carer = present(&self.carer).unwrap_or_default();
        if carer.is_empty() || carer.chars().count() > 100 {
            e.add("carer", "请填写照料人或机构名称（100字以内）");
        }
        let start_date = match present(&self.start_date) {
            None => today,
            Some(d) => match crate::input::parse_date(&d) {
                Some(d) if d <= today => d,
                _ => {
                    e.add("start_date", "开始日期应为不晚于今天的日期");
                    today
                }
            },
        };
        let note = present(&self.note);
        if note.as_ref().is_some_and(|n| n.chars().count() > 1000) {
            e.add("note", "说明请不超过1000字");
        }
        e.into_result(())?;
        Ok(PlacementRecord {
            reason: reason.expect("checked"),
            placement: placement.expect("checked"),
            carer,
            start_date,
            note,
            end_date: None,
            end_assessment: None,
        })
    }
}

impl PlacementRecord {
    /// Ends the placement: on a date not before its start nor after today, with the assessment
    /// that lets the child go home or says where the child goes (Art. 93).
    pub fn ended(
        &self,
        end: Option<&str>,
        assessment: &str,
        today: NaiveDate,
    ) -> Result<PlacementRecord, ValidationErrors> {
        let mut e = ValidationErrors::default();
        if self.end_date.is_some() {
            e.add("end_date", "该临时监护已结束");
        }
        let end_date = match end.map(text::clean).filter(|s| !s.is_empty()) {
            None => today,
            Some(d) => match crate::input::parse_date(&d) {
                Some(d) if d <= today && d >= self.start_date => d,
                _ => {
                    e.add("end_date", "结束日期应在开始日期之后、不晚于今天");
                    today
                }
            },
        };
        let assessment = text::clean(assessment);
        if assessment.is_empty() {
            e.add(
                "assessment",
                "请填写评估意见（儿童返回监护人家庭前须经民政部门评估）及去向",
            );
        } else if assessment.chars().count() > 1000 {
            e.add("assessment", "评估意见请不超过1000字");
        }
        e.into_result(())?;
        Ok(PlacementRecord {
            end_date: Some(end_date),
            end_assessment: Some(assessment),
            ..self.clone()
        })
    }
}
