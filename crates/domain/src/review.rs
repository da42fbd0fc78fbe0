//! Deciding a 三方比对 finding (seeds/004 二(四) 比对核实，形成真实、统一数据; seeds/000 三(二)1): the county
//! that ran the comparison accepts it, rejects it, or assigns it to the town, the school or the
//! police, who then accept or reject it. A decided item is closed.

use crate::authz::{Action, Actor, Role, Scope};
use crate::code_enum;
use crate::region::{RegionCode, RegionLevel};

code_enum! {
    /// Where an item stands.
    pub enum ItemStatus {
        Open = ("open", "待处理"),
        Assigned = ("assigned", "已交办"),
        Accepted = ("accepted", "已确认"),
        Rejected = ("rejected", "已否定"),
        /// The county withdrew the comparison before anyone decided it.
        Withdrawn = ("withdrawn", "已撤回"),
    }
}

impl ItemStatus {
    /// Waiting for a decision (open, or with the unit it was assigned to).
    pub fn pending(self) -> bool {
        matches!(self, ItemStatus::Open | ItemStatus::Assigned)
    }
}

code_enum! {
    /// What a person decides on an item.
    pub enum Decision {
        Accept = ("accept", "确认"),
        Reject = ("reject", "否定"),
        Assign = ("assign", "交办"),
    }
}

/// The unit an item is assigned to: a town office, a police unit over a region, or a school.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignee {
    pub role: Role,
    pub region: Option<RegionCode>,
    pub agency: Option<String>,
}

/// An assignee as written in a request: `town:<乡镇代码>`, `police:<区划代码>` or
/// `school:<机构ID>`, checked for form only (whether the unit lies in the county is the use
/// case's look-up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssigneeRef {
    Region(Role, RegionCode),
    School(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    /// Neither the county that ran the comparison nor the unit it was assigned to: to this user
    /// the item does not exist.
    #[error("记录不存在")]
    NotVisible,
    #[error("该条目已处理（{}）", .0.label())]
    AlreadyDecided(ItemStatus),
    #[error("只有县民政部门可以交办")]
    OnlyTheCountyAssigns,
    #[error("请选择交办对象（乡镇、学校或公安），格式如 town:522730001")]
    BadAssignee,
    #[error("交办乡镇时应选择乡镇（街道）级区划")]
    TownNotATown,
}

/// How a user stands to an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// The user's county ran the comparison (and they may compare).
    pub manages: bool,
    /// The item was assigned to the user's unit.
    pub assigned: bool,
}

impl Access {
    /// `item_region` is the division the item belongs to; `assignee` whom it was assigned to.
    pub fn of(actor: &Actor, item_region: &str, assignee: Option<&Assignee>) -> Access {
        let manages =
            actor.may(Action::Reconcile) && item_region.starts_with(actor.region.as_str());
        let assigned = match assignee {
            Some(a) if a.role == actor.role => match (&a.agency, actor.scope()) {
                (Some(agency), Scope::Agency { agency_id }) => *agency == agency_id,
                (None, Scope::Region { code }) => a
                    .region
                    .as_ref()
                    .is_some_and(|r| r.contains(&code) || code.contains(r)),
                _ => false,
            },
            _ => false,
        } && assignee
            .and_then(|a| a.region.as_ref())
            // An assignment stored before the check at assigning: the unit must cover the place.
            .is_some_and(|r| item_region.starts_with(r.as_str()));
        Access { manages, assigned }
    }
    pub fn sees(self) -> bool {
        self.manages || self.assigned
    }
    pub fn may_decide(self, status: ItemStatus) -> bool {
        status.pending() && self.sees()
    }
    pub fn may_assign(self, status: ItemStatus) -> bool {
        status.pending() && self.manages
    }
}

/// The item's status after a decision, or why the decision is refused.
pub fn decide(
    status: ItemStatus,
    decision: Decision,
    access: Access,
) -> Result<ItemStatus, ReviewError> {
    if !access.sees() {
        return Err(ReviewError::NotVisible);
    }
    if !status.pending() {
        return Err(ReviewError::AlreadyDecided(status));
    }
    match decision {
        Decision::Assign if !access.manages => Err(ReviewError::OnlyTheCountyAssigns),
        Decision::Assign => Ok(ItemStatus::Assigned),
        Decision::Accept => Ok(ItemStatus::Accepted),
        Decision::Reject => Ok(ItemStatus::Rejected),
    }
}

impl AssigneeRef {
    pub fn parse(s: &str) -> Result<AssigneeRef, ReviewError> {
        let (role, target) = s.trim().split_once(':').ok_or(ReviewError::BadAssignee)?;
        let target = target.trim();
        match Role::parse(role.trim()).ok_or(ReviewError::BadAssignee)? {
            role @ (Role::Town | Role::Police) => {
                let code = RegionCode::parse(target).map_err(|_| ReviewError::BadAssignee)?;
                if role == Role::Town && code.level() != RegionLevel::Town {
                    return Err(ReviewError::TownNotATown);
                }
                Ok(AssigneeRef::Region(role, code))
            }
            Role::School if !target.is_empty() => Ok(AssigneeRef::School(target.to_owned())),
            _ => Err(ReviewError::BadAssignee),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, region: &str, agency: Option<&str>) -> Actor {
        Actor {
            user_id: "u".into(),
            username: "u".into(),
            role,
            region: RegionCode::parse(region).unwrap(),
            agency_id: agency.map(str::to_owned),
        }
    }
    const COUNTY: Access = Access {
        manages: true,
        assigned: false,
    };
    const UNIT: Access = Access {
        manages: false,
        assigned: true,
    };
    const NOBODY: Access = Access {
        manages: false,
        assigned: false,
    };

    #[test]
    fn the_county_that_compared_accepts_rejects_or_assigns() {
        for (d, to) in [
            (Decision::Accept, ItemStatus::Accepted),
            (Decision::Reject, ItemStatus::Rejected),
            (Decision::Assign, ItemStatus::Assigned),
        ] {
            assert_eq!(decide(ItemStatus::Open, d, COUNTY), Ok(to));
        }
    }

    #[test]
    fn the_unit_assigned_accepts_or_rejects_but_does_not_pass_it_on() {
        assert_eq!(
            decide(ItemStatus::Assigned, Decision::Accept, UNIT),
            Ok(ItemStatus::Accepted)
        );
        assert_eq!(
            decide(ItemStatus::Assigned, Decision::Assign, UNIT),
            Err(ReviewError::OnlyTheCountyAssigns)
        );
    }

    #[test]
    fn a_decided_item_is_closed() {
        for s in [ItemStatus::Accepted, ItemStatus::Rejected] {
            assert_eq!(
                decide(s, Decision::Reject, COUNTY),
                Err(ReviewError::AlreadyDecided(s))
            );
            assert!(!COUNTY.may_decide(s) && !COUNTY.may_assign(s));
        }
        // An assigned item can still be taken back and assigned elsewhere by the county.
        assert_eq!(
            decide(ItemStatus::Assigned, Decision::Assign, COUNTY),
            Ok(ItemStatus::Assigned)
        );
    }

    #[test]
    fn others_do_not_see_the_item() {
        assert_eq!(
            decide(ItemStatus::Open, Decision::Accept, NOBODY),
            Err(ReviewError::NotVisible)
        );
    }

    #[test]
    fn access_follows_the_county_and_the_assigned_unit() {
        let county = actor(Role::County, "522730", None);
        assert!(Access::of(&county, "522730101201", None).manages);
        assert!(!Access::of(&county, "522731101201", None).manages);
        let town = actor(Role::Town, "522730101", None);
        let to_town = Assignee {
            role: Role::Town,
            region: Some(RegionCode::parse("522730101").unwrap()),
            agency: None,
        };
        assert_eq!(Access::of(&town, "522730101201", Some(&to_town)), UNIT);
        let other_town = actor(Role::Town, "522730102", None);
        assert_eq!(
            Access::of(&other_town, "522730101201", Some(&to_town)),
            NOBODY
        );
        // A police user of the same town is not the town office it was assigned to.
        let police = actor(Role::Police, "522730101", None);
        assert_eq!(Access::of(&police, "522730101201", Some(&to_town)), NOBODY);
        let school = actor(Role::School, "522730101", Some("s1"));
        let to_school = Assignee {
            role: Role::School,
            region: RegionCode::parse("522730101").ok(),
            agency: Some("s1".into()),
        };
        assert_eq!(Access::of(&school, "522730101201", Some(&to_school)), UNIT);
        let other_school = actor(Role::School, "522730101", Some("s2"));
        assert_eq!(
            Access::of(&other_school, "522730101201", Some(&to_school)),
            NOBODY
        );
    }

    #[test]
    fn an_assignee_is_a_town_a_police_unit_or_a_school() {
        assert_eq!(
            AssigneeRef::parse(" town:522730101 "),
            Ok(AssigneeRef::Region(
                Role::Town,
                RegionCode::parse("522730101").unwrap()
            ))
        );
        assert_eq!(
            AssigneeRef::parse("town:522730"),
            Err(ReviewError::TownNotATown)
        );
        assert!(matches!(
            AssigneeRef::parse("police:522730"),
            Ok(AssigneeRef::Region(Role::Police, _))
        ));
        assert_eq!(
            AssigneeRef::parse("school:abc"),
            Ok(AssigneeRef::School("abc".into()))
        );
        for bad in ["", "town", "village:522730101201", "school:", "town:xyz"] {
            assert!(AssigneeRef::parse(bad).is_err(), "{bad}");
        }
    }
}
