//! A child's place on the roster over time: active, exited (with reason and date), transferred.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::code_enum;
use crate::eligibility::Definition;

code_enum! {
    /// Why a child leaves the roster (国发〔2016〕13号 dynamic management; 内蒙古 001 三(二)).
    pub enum ExitReason {
        AgedSixteen = ("aged_sixteen", "年满16周岁"),
        ParentsReturned = ("parents_returned", "父母返乡"),
        MovedWithParents = ("moved_with_parents", "随父母迁出"),
        HukouChanged = ("hukou_changed", "户籍性质改变"),
        CapacityRestored = ("capacity_restored", "另一方恢复监护能力"),
        Died = ("died", "死亡"),
        Other = ("other", "其他"),
    }
}

code_enum! {
    /// The stored status of a file. Ageing out is computed from the birth date, not stored.
    pub enum ChildStatus {
        Active = ("active", "在册"),
        Exited = ("exited", "已退出"),
    }
}

/// What the roster shows for a file on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RosterStanding {
    /// Active and meets the definition.
    OnRoster,
    /// Active, but does not meet the definition (recorded as a discovered child).
    NotEligible,
    /// Active, but the file does not say enough to decide (信息不全): waits to be completed.
    Incomplete,
    /// Turned 16: leaves the roster on the birthday without an edit; shown as due for exit.
    AgedOut,
    Exited,
}

impl RosterStanding {
    pub fn label(self) -> &'static str {
        match self {
            RosterStanding::OnRoster => "在册",
            RosterStanding::NotEligible => "已登记（不属于留守儿童）",
            RosterStanding::Incomplete => "信息不全（待补充）",
            RosterStanding::AgedOut => "已满16周岁（待退出）",
            RosterStanding::Exited => "已退出",
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            RosterStanding::OnRoster => "on_roster",
            RosterStanding::NotEligible => "not_eligible",
            RosterStanding::Incomplete => "incomplete",
            RosterStanding::AgedOut => "aged_out",
            RosterStanding::Exited => "exited",
        }
    }

    pub fn of(
        status: ChildStatus,
        definition: Definition,
        birth: NaiveDate,
        on: NaiveDate,
    ) -> Self {
        if status == ChildStatus::Exited {
            RosterStanding::Exited
        } else if crate::eligibility::sixteenth_birthday(birth) <= on {
            RosterStanding::AgedOut
        } else {
            match definition {
                Definition::Met => RosterStanding::OnRoster,
                Definition::NotMet => RosterStanding::NotEligible,
                Definition::Undecided => RosterStanding::Incomplete,
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("该儿童已于{0}退出，不能重复退出")]
    AlreadyExited(NaiveDate),
    #[error("退出日期不能晚于今天")]
    ExitInFuture,
    #[error("退出日期不能早于出生日期")]
    ExitBeforeBirth,
    #[error("该儿童已退出，不能修改档案")]
    EditOfExited,
    #[error("该儿童已退出，不能转移")]
    TransferOfExited,
    #[error("转入地与现居住村相同")]
    TransferToSameVillage,
}

/// Checks an exit request against the current state.
pub fn check_exit(
    status: ChildStatus,
    exited_on: Option<NaiveDate>,
    birth: NaiveDate,
    date: NaiveDate,
    today: NaiveDate,
) -> Result<(), LifecycleError> {
    if status == ChildStatus::Exited {
        return Err(LifecycleError::AlreadyExited(exited_on.unwrap_or(date)));
    }
    if date > today {
        return Err(LifecycleError::ExitInFuture);
    }
    if date < birth {
        return Err(LifecycleError::ExitBeforeBirth);
    }
    Ok(())
}

/// An exited file is closed: it is kept, printed and counted as exited, but no longer edited
/// (a child who comes back is a new registration, so the exit stays on record).
pub fn check_edit(status: ChildStatus) -> Result<(), LifecycleError> {
    match status {
        ChildStatus::Exited => Err(LifecycleError::EditOfExited),
        ChildStatus::Active => Ok(()),
    }
}

/// A transfer moves an active child to another village; the history keeps where they came from
/// (内蒙古 001 三(二) 动态管理: 迁出、迁入).
pub fn check_transfer(
    status: ChildStatus,
    from: &crate::region::RegionCode,
    to: &crate::region::RegionCode,
) -> Result<(), LifecycleError> {
    if status == ChildStatus::Exited {
        return Err(LifecycleError::TransferOfExited);
    }
    if from == to {
        return Err(LifecycleError::TransferToSameVillage);
    }
    Ok(())
}

/// What the history says of an exit: the status, the date and, if given, the note.
pub fn exit_changes(
    reason: ExitReason,
    date: NaiveDate,
    note: Option<&str>,
) -> Vec<crate::history::FieldChange> {
    use crate::history::FieldChange;
    let mut changes = vec![
        FieldChange {
            field: "status".into(),
            old: Some(ChildStatus::Active.label().into()),
            new: Some(format!("已退出（{}）", reason.label())),
        },
        FieldChange {
            field: "exit_date".into(),
            old: None,
            new: Some(date.to_string()),
        },
    ];
    if let Some(n) = note.map(str::trim).filter(|n| !n.is_empty()) {
        changes.push(FieldChange {
            field: "remarks".into(),
            old: None,
            new: Some(n.to_owned()),
        });
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::region::RegionCode;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_child_exits_once() {
        let e = check_exit(
            ChildStatus::Exited,
            Some(d("2026-03-01")),
            d("2015-01-01"),
            d("2026-11-01"),
            d("2026-12-01"),
        );
        assert_eq!(e, Err(LifecycleError::AlreadyExited(d("2026-03-01"))));
    }

    #[test]
    fn an_exit_is_dated_between_birth_and_today() {
        let birth = d("2015-01-01");
        let today = d("2026-12-01");
        let check = |date| check_exit(ChildStatus::Active, None, birth, d(date), today);
        assert_eq!(check("2026-12-02"), Err(LifecycleError::ExitInFuture));
        assert_eq!(check("2014-12-31"), Err(LifecycleError::ExitBeforeBirth));
        assert_eq!(check("2026-12-01"), Ok(()));
    }

    #[test]
    fn an_exited_file_is_not_edited() {
        assert_eq!(
            check_edit(ChildStatus::Exited),
            Err(LifecycleError::EditOfExited)
        );
        assert_eq!(check_edit(ChildStatus::Active), Ok(()));
    }

    #[test]
    fn only_an_active_child_moves_and_only_to_another_village() {
        let a = RegionCode::parse("522730101201").unwrap();
        let b = RegionCode::parse("522730101202").unwrap();
        assert_eq!(
            check_transfer(ChildStatus::Exited, &a, &b),
            Err(LifecycleError::TransferOfExited)
        );
        assert_eq!(
            check_transfer(ChildStatus::Active, &a, &a),
            Err(LifecycleError::TransferToSameVillage)
        );
        assert_eq!(check_transfer(ChildStatus::Active, &a, &b), Ok(()));
    }

    #[test]
    fn an_exit_is_recorded_with_its_reason_date_and_note() {
        let c = exit_changes(ExitReason::ParentsReturned, d("2026-11-30"), Some("  "));
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].new.as_deref(), Some("已退出（父母返乡）"));
        let c = exit_changes(ExitReason::Other, d("2026-11-30"), Some("随祖父母迁往县城"));
        assert_eq!(c[2].field, "remarks");
    }
}
