//! 发现报告: a school, hospital, village or any working unit reports a child it has found; the
//! report lands in the town's queue to be registered (景洪 000 三(一) 建立发现报告机制; 龙里 003).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use shouwang_domain::authz::{Action, Actor};
use shouwang_domain::input::parse_date;
use shouwang_domain::person::{PersonName, PhoneNumber, Sex};
use shouwang_domain::region::{Divisions, RegionCode, RegionLevel};
use shouwang_domain::text;
use shouwang_domain::validation::ValidationErrors;

use crate::audit;
use crate::regions::code_range;
use crate::{Result, Store, StoreError};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct DiscoveryInput {
    pub town_code: Option<String>,
    pub village_code: Option<String>,
    pub child_name: Option<String>,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    pub situation: Option<String>,
    pub reporter_phone: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DiscoveryReport {
    pub id: String,
    pub created_at: String,
    pub reporter_org: String,
    pub town_code: String,
    pub village_code: Option<String>,
    pub child_name: String,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    pub situation: String,
    pub reporter_phone: Option<String>,
    pub status: String,
    pub child_id: Option<String>,
}

fn present(v: &Option<String>) -> Option<String> {
    v.as_deref().map(text::clean).filter(|s| !s.is_empty())
}

/// A report that passed validation.
struct Discovery {
    town: RegionCode,
    village: Option<RegionCode>,
    name: PersonName,
    sex: Option<Sex>,
    birth: Option<NaiveDate>,
    situation: String,
    phone: Option<PhoneNumber>,
}

impl DiscoveryInput {
    fn parse(&self, today: NaiveDate) -> Result<Discovery, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let divisions = Divisions::shipped();
        let town = match present(&self.town_code) {
            None => {
                e.add("town_code", "请选择儿童所在乡镇（街道）");
                None
            }
            Some(s) => match divisions.parse_existing(&s) {
                Ok(c) if c.level() == RegionLevel::Town => Some(c),
                Ok(_) => {
                    e.add("town_code", "应选择乡镇（街道）级区划");
                    None
                }
                Err(err) => {
                    e.add("town_code", err.to_string());
                    None
                }
            },
        };
        let village = match present(&self.village_code) {
            None => None,
            Some(s) => match divisions.parse_existing(&s) {
                Ok(c)
                    if c.level() == RegionLevel::Village
                        && town.as_ref().is_none_or(|t| t.contains(&c)) =>
                {
                    Some(c)
                }
                Ok(_) => {
                    e.add("village_code", "所选村（社区）不属于所选乡镇");
                    None
                }
                Err(err) => {
                    e.add("village_code", err.to_string());
                    None
                }
            },
        };
        let name = match present(&self.child_name) {
            None => {
                e.add("child_name", "请填写儿童姓名（不知道全名可填“姓+某”）");
                None
            }
            Some(s) => PersonName::parse(&s)
                .map_err(|err| e.add("child_name", err.to_string()))
                .ok(),
        };
        let sex = present(&self.sex).and_then(|s| {
            let r = Sex::parse(&s);
            if r.is_none() {
                e.add("sex", "性别应为“男”或“女”");
            }
            r
        });
        let birth = present(&self.birth_date).and_then(|s| match parse_date(&s) {
            Some(d) if d <= today => Some(d),
            Some(_) => {
                e.add("birth_date", "出生日期不能晚于今天");
                None
            }
            None => {
                e.add("birth_date", format!("出生日期“{s}”不是有效日期"));
                None
            }
        });
        let situation = match present(&self.situation) {
            None => {
                e.add("situation", "请简要说明发现的情况");
                None
            }
            Some(s) if s.chars().count() > 1000 => {
                e.add("situation", "情况说明过长（最多1000字）");
                None
            }
            Some(s) => Some(s),
        };
        let phone = present(&self.reporter_phone).and_then(|s| {
            PhoneNumber::parse(&s)
                .map_err(|err| e.add("reporter_phone", err.to_string()))
                .ok()
        });
        if !e.is_empty() {
            return Err(e);
        }
        Ok(Discovery {
            town: town.expect("checked"),
            village,
            name: name.expect("checked"),
            sex,
            birth,
            situation: situation.expect("checked"),
            phone,
        })
    }
}

impl Store {
    pub async fn file_discovery(&self, actor: &Actor, input: &DiscoveryInput) -> Result<String> {
        if !actor.may(Action::ReportDiscovery) {
            return Err(StoreError::Forbidden);
        }
        let now = self.now_text();
        let mut tx = self.pool.begin().await?;
        audit::lock_head(&mut tx).await?;
        let id = self.discovery_in(&mut tx, actor, input, &now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Files a report inside the caller's transaction (audit head locked).
    pub(crate) async fn discovery_in(
        &self,
        tx: &mut sqlx::AnyConnection,
        actor: &Actor,
        input: &DiscoveryInput,
        now: &str,
    ) -> Result<String> {
        let Discovery {
            town,
            village,
            name,
            sex,
            birth,
            situation,
            phone,
        } = input.parse(self.today())?;
        if self.region(&town).await?.is_none() {
            return Err(ValidationErrors::single("town_code", "该乡镇不在本系统服务范围内").into());
        }
        let org = match &actor.agency_id {
            Some(a) => self.agency_name(a).await?.unwrap_or_default(),
            None => self
                .region(&actor.region)
                .await?
                .map(|r| r.name)
                .unwrap_or_default(),
        };
        let id = crate::new_id();
        sqlx::query(
            "INSERT INTO discovery_reports (id, created_at, reporter_user_id, reporter_org, town_code, village_code, child_name, sex, birth_date, situation, reporter_phone, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'open')",
        )
        .bind(&id)
        .bind(now)
        .bind(&actor.user_id)
        .bind(format!("{org}（{}）", actor.username))
        .bind(town.as_str())
        .bind(village.as_ref().map(|v| v.as_str().to_owned()))
        .bind(name.as_str())
        .bind(sex.map(|s| s.label().to_owned()))
        .bind(birth.map(|b| b.to_string()))
        .bind(&situation)
        .bind(phone.map(|p| p.as_str().to_owned()))
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut *tx,
            now,
            actor.into(),
            "discovery_file",
            "discovery",
            Some(&id),
            Some(town.as_str()),
            serde_json::json!({}),
        )
        .await?;
        Ok(id)
    }

    /// Open reports for towns inside the actor's jurisdiction.
    pub async fn discovery_queue(&self, actor: &Actor) -> Result<Vec<DiscoveryReport>> {
        if !actor.may(Action::HandleDiscovery) {
            return Ok(vec![]);
        }
        let rows = sqlx::query(
            "SELECT id, created_at, reporter_org, town_code, village_code, child_name, sex, birth_date, situation, reporter_phone, status, child_id \
             FROM discovery_reports WHERE town_code >= $1 AND town_code < $2 AND status = 'open' ORDER BY created_at",
        )
        .bind(actor.region.as_str())
        .bind(format!("{}:", actor.region))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DiscoveryReport {
                    id: r.try_get(0)?,
                    created_at: r.try_get(1)?,
                    reporter_org: r.try_get(2)?,
                    town_code: r.try_get(3)?,
                    village_code: r.try_get(4)?,
                    child_name: r.try_get(5)?,
                    sex: r.try_get(6)?,
                    birth_date: r.try_get(7)?,
                    situation: r.try_get(8)?,
                    reporter_phone: r.try_get(9)?,
                    status: r.try_get(10)?,
                    child_id: r.try_get(11)?,
                })
            })
            .collect()
    }

    pub(crate) async fn open_discovery_count(&self, actor: &Actor) -> Result<i64> {
        if !actor.may(Action::HandleDiscovery) {
            return Ok(0);
        }
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM discovery_reports WHERE town_code >= $1 AND town_code < $2 AND status = 'open'")
            .bind(actor.region.as_str())
            .bind(format!("{}:", actor.region))
            .fetch_one(&self.pool)
            .await?)
    }

    /// Closes a report: registered as `child_id`, or dismissed with a note.
    pub async fn close_discovery(
        &self,
        actor: &Actor,
        id: &str,
        child_id: Option<&str>,
        note: &str,
    ) -> Result<()> {
        if !actor.may(Action::HandleDiscovery) {
            return Err(StoreError::Forbidden);
        }
        let mut tx = self.pool.begin().await?;
        audit::lock_head(&mut tx).await?;
        let town: Option<String> = sqlx::query_scalar(
            "SELECT town_code FROM discovery_reports WHERE id = $1 AND status = 'open'",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let town = town.ok_or(StoreError::NotFound)?;
        let town_code = RegionCode::parse(&town).map_err(|e| StoreError::Config(e.to_string()))?;
        if !actor.region.contains(&town_code) {
            return Err(StoreError::NotFound);
        }
        if let Some(c) = child_id {
            let row = self
                .load_row(&mut tx, c)
                .await?
                .ok_or(StoreError::NotFound)?;
            let (lo, hi) = code_range(&town_code);
            let v = code_range(&row.file.village_code).0;
            if v < lo || v > hi {
                return Err(
                    ValidationErrors::single("child_id", "登记的儿童不在该报告所属乡镇").into(),
                );
            }
        } else if note.trim().is_empty() {
            return Err(ValidationErrors::single("note", "不予登记时请说明原因").into());
        }
        let now = self.now_text();
        sqlx::query("UPDATE discovery_reports SET status = $1, child_id = $2, handled_by = $3, handled_at = $4, handling_note = $5 WHERE id = $6")
            .bind(if child_id.is_some() { "registered" } else { "dismissed" })
            .bind(child_id.map(str::to_owned))
            .bind(&actor.username)
            .bind(&now)
            .bind(note)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            &now,
            actor.into(),
            "discovery_close",
            "discovery",
            Some(id),
            Some(&town),
            serde_json::json!({"child_id": child_id}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
