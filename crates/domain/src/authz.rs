//! Roles, jurisdiction and who may do what (SYSTEM.md: 属地管理、分级负责).
//!
//! A user sits at an org unit: a region (village, town, county…) or an agency under a region.
//! Region users see the children inside their region; agency users see the children linked to their
//! agency. Out-of-scope records are reported as absent (404), never as forbidden.

use serde::{Deserialize, Serialize};

use crate::code_enum;
use crate::region::{RegionCode, RegionLevel};

code_enum! {
    pub enum Role {
        Village = ("village", "儿童主任"),
        Town = ("town", "儿童督导员"),
        County = ("county", "县民政局工作人员"),
        CountyAdmin = ("county_admin", "县民政局管理员"),
        School = ("school", "学校"),
        Police = ("police", "公安"),
        Agency = ("agency", "其他机构"),
        Oversight = ("oversight", "督查"),
        Court = ("court", "人民法院"),
        Procuratorate = ("procuratorate", "人民检察院"),
        /// 教育行政部门 (县教育局): checks the 控辍保学 figures of the towns' quarterly reports
        /// (龙里 003 七(二) 县教育局…核实更新…控辍保学…数据).
        Education = ("education", "教育行政部门"),
        /// A county department that takes referred children (县人社、卫健、乡村振兴/扶贫、残联: 龙里
        /// 003 五(五)1); its agency's name says which (`routing::Unit::from_agency_name`).
        Department = ("department", "职能部门"),
    }
}

impl Role {
    /// The region level a user of this role must sit at (None = any level).
    pub fn required_level(self) -> Option<RegionLevel> {
        match self {
            Role::Village => Some(RegionLevel::Village),
            Role::Town => Some(RegionLevel::Town),
            Role::County | Role::CountyAdmin | Role::Court | Role::Procuratorate => {
                Some(RegionLevel::County)
            }
            Role::School
            | Role::Police
            | Role::Agency
            | Role::Oversight
            | Role::Education
            | Role::Department => None,
        }
    }
    /// Roles whose members belong to an agency rather than a region office.
    pub fn is_agency_role(self) -> bool {
        matches!(self, Role::School | Role::Agency | Role::Department)
    }
}

/// Which roles must sign in with a second factor (a TOTP code from an authenticator app, RFC
/// 6238) besides their password. County-level staff see and change every child of the county, so
/// a leaked county password must not be enough (issue 12 §12); the server's operator chooses the
/// roles (`shouwang serve --second-factor-roles`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecondFactorPolicy {
    roles: Vec<Role>,
}

impl SecondFactorPolicy {
    /// No role must (a user may still turn it on for themselves).
    pub fn none() -> Self {
        Self::default()
    }

    /// The county's staff and administrators.
    pub fn county_roles() -> Self {
        Self {
            roles: vec![Role::County, Role::CountyAdmin],
        }
    }

    /// `county,county_admin`, or `none`; an unknown role is an error naming it.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut roles = Vec::new();
        for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if part == "none" {
                continue;
            }
            let role = Role::parse(part).ok_or_else(|| {
                format!(
                    "未知角色“{part}”（可选：{}）",
                    Role::ALL
                        .iter()
                        .map(|r| r.code())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
        Ok(Self { roles })
    }

    pub fn requires(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn roles(&self) -> &[Role] {
        &self.roles
    }
}

/// What a query may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    /// Children whose village code starts with this region's code.
    Region { code: RegionCode },
    /// Children linked to this agency.
    Agency { agency_id: String },
    /// No child's file or list: the court and the procuratorate reach only the cases sent to them
    /// (`domain::protection`), a county department (人社、卫健、乡村振兴、残联) only the routings
    /// sent to it while they are open (`domain::routing`) — never the county's roster.
    CasesOnly,
}

/// The signed-in user as the domain sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user_id: String,
    pub username: String,
    pub role: Role,
    pub region: RegionCode,
    pub agency_id: Option<String>,
}

code_enum! {
    pub enum Action {
        ReadChild = ("read_child", "查看儿童档案"),
        RegisterChild = ("register_child", "登记儿童"),
        EditChild = ("edit_child", "修改儿童档案"),
        ExitChild = ("exit_child", "儿童退出"),
        TransferChild = ("transfer_child", "儿童转移"),
        UnmaskIdNumber = ("unmask_id_number", "查看完整身份证号码"),
        ReportDiscovery = ("report_discovery", "提交发现报告"),
        HandleDiscovery = ("handle_discovery", "处理发现报告"),
        Export = ("export", "导出"),
        ManageUsers = ("manage_users", "管理用户"),
        ReadAudit = ("read_audit", "查看审计日志"),
        Reconcile = ("reconcile", "三方比对"),
        ReadArchive = ("read_archive", "查阅归档档案"),
        RecordVisit = ("record_visit", "记录走访"),
        RecordParentContact = ("record_parent_contact", "记录父母联系情况"),
        RecordAbsence = ("record_absence", "登记缺勤"),
        WorkReturn = ("work_return", "劝返"),
        Route = ("route", "部门转办"),
        HandleRouting = ("handle_routing", "办理部门转办"),
        ConfigureCounty = ("configure_county", "设置本县参数"),
        RegisterElder = ("register_elder", "登记留守老人"),
        ReadElder = ("read_elder", "查看留守老人信息"),
    }
}

/// 龙里 003 五(一)1: the towns' 社会事业办 send the lists of 留守老人 and of 事实无人监护 children to
/// 县公安局、县卫计局、县妇联 and the towns. The police and the towns read them as they read the
/// roster; the county's 卫计 (a department whose name says health) and 妇联 (an agency so named)
/// receive those two lists only — not the roster, not a child's file.
pub fn receives_lists(role: Role, org_name: Option<&str>) -> bool {
    match role {
        Role::Department => {
            org_name.and_then(crate::routing::Unit::from_agency_name)
                == Some(crate::routing::Unit::Health)
        }
        Role::Agency => org_name.is_some_and(|n| n.contains("妇联") || n.contains("妇女联合会")),
        _ => false,
    }
}

impl Actor {
    /// Who reads a list sent to this unit (see [`receives_lists`]): the same person, reading as an
    /// overseer of its county reads — a list inside that area, nothing else. Only for those
    /// lists' queries; what is done is audited as the actor.
    pub fn list_reader(&self) -> Actor {
        Actor {
            role: Role::Oversight,
            agency_id: None,
            region: self
                .region
                .at_level(RegionLevel::County)
                .unwrap_or_else(|| self.region.clone()),
            ..self.clone()
        }
    }

    pub fn scope(&self) -> Scope {
        // A department sees what it was routed, for as long as the routing is open — not the
        // file (issue 24: a link to 县残联 opened the whole file, visit notes and photos).
        if matches!(
            self.role,
            Role::Court | Role::Procuratorate | Role::Department
        ) {
            return Scope::CasesOnly;
        }
        match (&self.agency_id, self.role.is_agency_role()) {
            (Some(id), true) => Scope::Agency {
                agency_id: id.clone(),
            },
            _ => Scope::Region {
                code: self.region.clone(),
            },
        }
    }

    /// Least privilege per role. Jurisdiction is checked separately, on every record.
    pub fn may(&self, action: Action) -> bool {
        use Action::*;
        use Role::*;
        match action {
            // The court and the procuratorate read the cases sent to them, not the roster.
            ReadChild => !matches!(self.role, Court | Procuratorate | Department),
            RegisterChild | EditChild | ExitChild | TransferChild => {
                matches!(self.role, Village | Town | County | CountyAdmin)
            }
            // 龙里 003 五(一)1: the village and the town's 社会事业办 keep the 留守老人 register
            // (the county above them); the list goes to 公安 (五(一)4: 不赡养、虐待老人), and the
            // overseers read it like the roster.
            RegisterElder => matches!(self.role, Village | Town | County | CountyAdmin),
            ReadElder => matches!(
                self.role,
                Village | Town | County | CountyAdmin | Police | Oversight
            ),
            // Police register hukou; county staff reconcile lists by ID number.
            UnmaskIdNumber => matches!(self.role, County | CountyAdmin | Police),
            // Anyone who works with children may report one (景洪 000 三(一) 发现报告).
            ReportDiscovery => !matches!(self.role, Oversight | Court | Procuratorate),
            HandleDiscovery => matches!(self.role, Town | County | CountyAdmin),
            // Villages keep their own 花名册 and print each child's 登记表 (民发〔2016〕42号: 村(居)
            // fill 登记表 + 花名册 and send them to the town).
            Export => matches!(self.role, Village | Town | County | CountyAdmin | Oversight),
            ManageUsers | ReadAudit | ConfigureCounty => matches!(self.role, CountyAdmin),
            // The county compares its roster with the education and police lists (seeds/004
            // 二(四): 民政摸排数据、教育…学籍系统…及公安机关户籍数据进行比对核实).
            Reconcile => matches!(self.role, County | CountyAdmin),
            // Files that left the roster are kept for the county only (个人信息保护法 Art. 19:
            // the least reach; `retention`).
            ReadArchive => matches!(self.role, County | CountyAdmin),
            // Those who visit (景洪 000 二(二): 家访、探访、社会工作者随访; teachers' 家访): the
            // village and town offices, the county, the children's schools and service agencies.
            RecordVisit => matches!(
                self.role,
                Village | Town | County | CountyAdmin | School | Agency
            ),
            // The village keeps the parents' contact log; the town and county may fill it in.
            RecordParentContact => matches!(self.role, Village | Town | County | CountyAdmin),
            // The school records its pupils' absences (沈阳 002 一3: 中小学校要及时了解原因).
            RecordAbsence => matches!(self.role, School),
            // The school organises the 劝返 with the village and town (龙里 003 五(三)2: 县教育局和
            // 镇（街道）要指导各中小学校、村（社区）…逐一核查); the education bureau follows it.
            WorkReturn => matches!(
                self.role,
                School | Village | Town | County | CountyAdmin | Education
            ),
            // The offices that find the children send them on (龙里 003 五(四)1, 五(五)1: 县民政
            // 指导各镇…摸底排查…通报给同级公安机关…县人社、卫计、扶贫、残联).
            Route => matches!(self.role, Village | Town | County | CountyAdmin),
            // The police register hukou; the departments give the help (五(四)2, 五(五)).
            // The education bureau takes the 14–16-year-olds out of school (五(三)3).
            HandleRouting => matches!(self.role, Police | Department | Education),
        }
    }

    /// Whether a region-scoped user's jurisdiction covers this village.
    pub fn covers(&self, village: &RegionCode) -> bool {
        self.region.contains(village)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, region: &str) -> Actor {
        Actor {
            user_id: "u".into(),
            username: "u".into(),
            role,
            region: RegionCode::parse(region).unwrap(),
            agency_id: role.is_agency_role().then(|| "a1".to_owned()),
        }
    }

    #[test]
    fn second_factor_policy_names_roles_and_refuses_unknown_ones() {
        let p = SecondFactorPolicy::parse("county, county_admin,county").unwrap();
        assert_eq!(p, SecondFactorPolicy::county_roles());
        assert!(p.requires(Role::CountyAdmin) && !p.requires(Role::Village));
        assert_eq!(
            SecondFactorPolicy::parse("none").unwrap(),
            SecondFactorPolicy::none()
        );
        assert!(
            SecondFactorPolicy::parse("county,mayor")
                .unwrap_err()
                .contains("mayor")
        );
    }

    #[test]
    fn village_director_covers_own_village_only() {
        let a = actor(Role::Village, "522730001001");
        assert!(a.covers(&RegionCode::parse("522730001001").unwrap()));
        assert!(!a.covers(&RegionCode::parse("522730001002").unwrap()));
    }

    #[test]
    fn schools_see_their_own_children_and_cannot_edit() {
        let a = actor(Role::School, "522730001");
        assert_eq!(
            a.scope(),
            Scope::Agency {
                agency_id: "a1".into()
            }
        );
        assert!(!a.may(Action::EditChild));
        assert!(a.may(Action::ReportDiscovery));
    }

    #[test]
    fn only_county_and_police_see_full_id_numbers() {
        assert!(!actor(Role::Village, "522730001001").may(Action::UnmaskIdNumber));
        assert!(!actor(Role::Town, "522730001").may(Action::UnmaskIdNumber));
        assert!(actor(Role::County, "522730").may(Action::UnmaskIdNumber));
        assert!(actor(Role::Police, "522730001").may(Action::UnmaskIdNumber));
        assert!(!actor(Role::Oversight, "522730").may(Action::EditChild));
    }
}
