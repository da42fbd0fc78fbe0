//! 农村留守老人: the register of left-behind elderly people that the town's 社会事业办 and the
//! village keep (龙里 003 二: 农村留守儿童困境儿童留守老人关爱救助; 四 names 留守老人 among those it
//! protects; 五(一)1: 社会事业办 verify the 花名册 and send it to 公安、卫计、妇联 and the towns;
//! 五(一)4: 司法 legal help, 卫计 health checks, 公安 act on 不赡养、虐待; 七(二): 附件6 花名册 and 附件7
//! 基本情况登记表 go into each quarter's report).
//!
//! The seed gives the annexes' titles only (003 l.161–163), not their fields, and no age. The age
//! is the law's: 《老年人权益保障法》第二条 "老年人是指六十周岁以上的公民". The fields are what the
//! annexes' titles and 五(一) ask to know: who, where they live and with whom, their children away
//! (where, how to reach them), health and self-care, income and assistance, care and needs.
//!
//! A blank is unknown: an elder whose children away or whose living arrangement nobody stated is on
//! the register "待补充", not refused.

pub mod input;

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::child::{Assistance, Contact};
use crate::code_enum;
use crate::id_number::IdNumber;
use crate::person::{PersonName, PhoneNumber, Sex};
use crate::region::RegionCode;

pub use input::{ChildAwayInput, ElderInput, HealthDetail, HealthInput};

/// 《老年人权益保障法》第二条: 老年人是指六十周岁以上的公民.
pub const ELDER_MIN_AGE: i32 = 60;

/// At most this many children away on one record (a family's; a list past it is not a family).
pub const MAX_CHILDREN_AWAY: usize = 12;

code_enum! {
    /// With whom the elder lives.
    pub enum LivingWith {
        Alone = ("alone", "独居"),
        Spouse = ("spouse", "与配偶同住"),
        Grandchildren = ("grandchildren", "与孙辈同住"),
        Other = ("other", "其他"),
    }
}

code_enum! {
    /// The elder's health as the village states it.
    pub enum ElderHealthStatus {
        Healthy = ("healthy", "健康"),
        Chronic = ("chronic_illness", "患慢性病"),
        Serious = ("serious_illness", "患重病"),
        Disabled = ("disabled", "残疾"),
    }
}

code_enum! {
    /// 生活自理能力.
    pub enum SelfCare {
        Full = ("full", "生活能自理"),
        Partial = ("partial", "部分自理"),
        None = ("none", "不能自理"),
    }
}

code_enum! {
    /// 经济来源.
    pub enum ElderIncome {
        Pension = ("pension", "养老金"),
        Children = ("children", "子女供养"),
        Farming = ("farming", "种养殖业"),
        Labour = ("labour", "务工收入"),
        GovernmentAid = ("government_aid", "政府救助"),
        Other = ("other", "其他"),
    }
}

code_enum! {
    /// Where an elder's record stands.
    pub enum ElderStatus {
        Active = ("active", "在册"),
        Exited = ("exited", "已退出"),
    }
}

code_enum! {
    /// Why an elder leaves the register.
    pub enum ElderExitReason {
        ChildrenReturned = ("children_returned", "子女返乡"),
        MovedAway = ("moved_away", "迁出本村（社区）"),
        Died = ("died", "去世"),
        Other = ("other", "其他"),
    }
}

/// Checks an exit's day: not in the future, not before the elder was born.
pub fn exit_date(file: &ElderFile, date: NaiveDate, today: NaiveDate) -> Result<(), String> {
    if date > today {
        Err("退出日期不能晚于今天".to_owned())
    } else if date < file.birth_date {
        Err("退出日期不能早于出生日期".to_owned())
    } else {
        Ok(())
    }
}

/// One of the elder's children away from home.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildAway {
    pub name: Option<PersonName>,
    /// 务工地点 as people say it (广东省深圳市).
    pub work_place: Option<String>,
    pub phone: Option<PhoneNumber>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElderHealth {
    pub status: Option<ElderHealthStatus>,
    pub self_care: Option<SelfCare>,
    /// 所患疾病.
    pub illness: Option<String>,
}

/// The record of one left-behind elder (附件7 基本情况登记表 as Shouwang keeps it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElderFile {
    pub name: PersonName,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub id_number: Option<IdNumber>,
    /// The village (12-digit code) whose committee looks after them.
    pub village_code: RegionCode,
    pub address: Option<String>,
    pub phone: Option<PhoneNumber>,
    /// Blank when nobody said (待补充).
    pub living_with: Option<LivingWith>,
    /// Empty when nobody said (待补充): never "no child away".
    pub children_away: Vec<ChildAway>,
    pub health: ElderHealth,
    pub income_sources: BTreeSet<ElderIncome>,
    pub assistance: BTreeSet<Assistance>,
    /// 照料情况: who looks in on them.
    pub care: Option<String>,
    /// 主要需求.
    pub needs: Option<String>,
    /// 村(居)委会联系人.
    pub contact: Contact,
    pub remarks: Option<String>,
}

/// What the register still needs to know of an elder, by the form's labels (待补充).
pub fn missing(file: &ElderFile) -> Vec<&'static str> {
    let mut out = Vec::new();
    if file.living_with.is_none() {
        out.push("居住情况");
    }
    if file.children_away.is_empty() {
        out.push("外出子女");
    }
    if file.health.status.is_none() {
        out.push("身体状况");
    }
    if file.health.self_care.is_none() {
        out.push("生活自理能力");
    }
    out
}

/// The age on `on` (the reference date of a list or of registration).
pub fn age(file: &ElderFile, on: NaiveDate) -> i32 {
    crate::eligibility::age_on(file.birth_date, on)
}

/// A watched elder: living alone, or unable to care for themselves — the first to be visited
/// (寂寞有排解、生病能求助、困难能化解).
pub fn watched(file: &ElderFile) -> bool {
    file.living_with == Some(LivingWith::Alone)
        || matches!(
            file.health.self_care,
            Some(SelfCare::None | SelfCare::Partial)
        )
}

#[cfg(test)]
mod tests;
