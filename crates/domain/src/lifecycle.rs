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
