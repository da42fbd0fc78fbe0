//! Routings (部门转办) to the police station and the county departments — SQL only
//! (`app::routings` decides who may and what follows).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use shouwang_domain::ids::ChildId;
use shouwang_domain::region::RegionCode;
use shouwang_domain::routing::{Event, Need, Status, Unit};

use crate::By;
use crate::regions::code_range;
use crate::rooms::{RoutesRoom, RoutesTxRoom};
use crate::sealed::{self, Journal, Sealed, Text};
use crate::{Result, StoreError};

pub(crate) const ROUTING_NOTE: Sealed<Text> = sealed::listed("routings", "note");
pub(crate) const ROUTING_EVENTS: Sealed<Journal<EventRecord>> =
    sealed::listed("routings", "events");
pub(crate) const ROUTING_HUKOU: Sealed<Text> = sealed::listed("routings", "hukou_number");

/// One event of a routing, as recorded.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventRecord {
    pub event: Event,
    pub note: Option<String>,
    pub at: String,
    pub by: String,
}

/// A routing.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Routing {
    pub id: String,
    pub child_id: ChildId,
    pub village_code: String,
    pub need: Need,
    pub unit: Unit,
    pub status: Status,
    pub note: Option<String>,
    pub events: Vec<EventRecord>,
    pub registered_on: Option<NaiveDate>,
    pub hukou_number: Option<String>,
    pub dna_collected: Option<bool>,
    /// Where it came from when not sent by hand (`reconcile:<finding id>`).
    pub source: Option<String>,
    pub sent_by: String,
    pub sent_at: String,
    pub closed_at: Option<String>,
    pub version: i64,
}

const COLUMNS: &str = "id, child_id, village_code, need, unit, status, note, events, registered_on, \
     hukou_number, dna_collected, source, sent_by, sent_at, closed_at, version";

/// Which routings a list reads.
#[derive(Debug, Clone)]
pub enum Which<'a> {
    /// Those sent to `unit` for children of `area` (the receiving unit's inbox).
    Inbox { unit: Unit, area: &'a RegionCode },
    /// Those of children of `area` (the sender's side).
    Area { area: &'a RegionCode },
}

impl RoutesRoom<'_> {
    fn routing_of(&self, r: &sqlx::any::AnyRow) -> Result<Routing> {
        let bad = |w: &str| StoreError::Config(format!("routing: bad {w}"));
        let id: String = r.try_get("id")?;
        let village: i64 = r.try_get("village_code")?;
        let need: String = r.try_get("need")?;
        let unit: String = r.try_get("unit")?;
        let status: String = r.try_get("status")?;
        let note: Option<String> = r.try_get("note")?;
        let registered: Option<String> = r.try_get("registered_on")?;
        let hukou: Option<String> = r.try_get("hukou_number")?;
        let dna: Option<i64> = r.try_get("dna_collected")?;
        let events = ROUTING_EVENTS.open(&self.cipher, &id, &r.try_get::<String, _>("events")?)?;
        Ok(Routing {
            note: ROUTING_NOTE.open_opt(&self.cipher, &id, note.as_deref())?,
            hukou_number: ROUTING_HUKOU.open_opt(&self.cipher, &id, hukou.as_deref())?,
            id,
            events,
            child_id: ChildId::new(r.try_get::<String, _>("child_id")?),
            village_code: format!("{village:012}"),
            need: Need::parse(&need).ok_or_else(|| bad("need"))?,
            unit: Unit::parse(&unit).ok_or_else(|| bad("unit"))?,
            status: Status::parse(&status).ok_or_else(|| bad("status"))?,
            registered_on: registered
                .map(|d| d.parse().map_err(|_| bad("registered_on")))
                .transpose()?,
            dna_collected: dna.map(|d| d == 1),
            source: r.try_get("source")?,
            sent_by: r.try_get("sent_by")?,
            sent_at: r.try_get("sent_at")?,
            closed_at: r.try_get("closed_at")?,
            version: r.try_get("version")?,
        })
    }

    pub async fn routing(&self, id: &str) -> Result<Option<Routing>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM routings WHERE id = $1 AND {}",
            crate::scope::live_child("routings.child_id")
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| self.routing_of(&r)).transpose()
    }

    /// A child's routings, newest first.
    pub async fn child_routings(&self, child_id: &ChildId) -> Result<Vec<Routing>> {
        let child_id = child_id.as_str();
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM routings WHERE child_id = $1 ORDER BY sent_at DESC, id LIMIT 100"
        ))
        .bind(child_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| self.routing_of(r)).collect()
    }

    /// A list of routings, open ones first (oldest waiting first), then the closed newest first.
    pub async fn routings(
        &self,
        which: Which<'_>,
        open_only: bool,
        limit: i64,
    ) -> Result<Vec<Routing>> {
        let live = crate::scope::live_child("routings.child_id");
        let open = if open_only {
            format!(" AND status IN ('sent', 'accepted') AND {live}")
        } else {
            format!(" AND {live}")
        };
        let order = "ORDER BY CASE WHEN status IN ('sent', 'accepted') THEN 0 ELSE 1 END, \
                     CASE WHEN status IN ('sent', 'accepted') THEN sent_at END, sent_at DESC, id";
        let limit = limit.clamp(1, 500);
        let rows = match which {
            Which::Inbox { unit, area } => {
                let (lo, hi) = code_range(area);
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM routings WHERE unit = $1 AND village_code >= $2 \
                     AND village_code <= $3{open} {order} LIMIT {limit}"
                ))
                .bind(unit.code())
                .bind(lo)
                .bind(hi)
                .fetch_all(&self.pool)
                .await?
            }
            Which::Area { area } => {
                let (lo, hi) = code_range(area);
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM routings WHERE village_code >= $1 AND village_code <= $2\
                     {open} {order} LIMIT {limit}"
                ))
                .bind(lo)
                .bind(hi)
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(|r| self.routing_of(r)).collect()
    }

    /// How many routings of a list are open.
    pub async fn open_routings(&self, which: Which<'_>) -> Result<i64> {
        let open = format!(
            "status IN ('sent', 'accepted') AND {}",
            crate::scope::live_child("routings.child_id")
        );
        Ok(match which {
            Which::Inbox { unit, area } => {
                let (lo, hi) = code_range(area);
                sqlx::query_scalar(&format!(
                    "SELECT COUNT(*) FROM routings WHERE unit = $1 AND village_code >= $2 \
                     AND village_code <= $3 AND {open}"
                ))
                .bind(unit.code())
                .bind(lo)
                .bind(hi)
                .fetch_one(&self.pool)
                .await?
            }
            Which::Area { area } => {
                let (lo, hi) = code_range(area);
                sqlx::query_scalar(&format!(
                    "SELECT COUNT(*) FROM routings WHERE village_code >= $1 AND village_code <= $2 \
                     AND {open}"
                ))
                .bind(lo)
                .bind(hi)
                .fetch_one(&self.pool)
                .await?
            }
        })
    }

    /// The open routing of a child for a need to a unit, if any.
    pub async fn open_routing(
        &self,
        child_id: &ChildId,
        need: Need,
        unit: Unit,
    ) -> Result<Option<Routing>> {
        let child_id = child_id.as_str();
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM routings WHERE child_id = $1 AND need = $2 AND unit = $3 \
             AND status IN ('sent', 'accepted')"
        ))
        .bind(child_id)
        .bind(need.code())
        .bind(unit.code())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| self.routing_of(&r)).transpose()
    }

    /// The ids of the departments (agencies of kind `unit`) over a village: its county's, its
    /// prefecture's or its province's.
    pub async fn department_agencies(
        &self,
        unit: Unit,
        village: &RegionCode,
    ) -> Result<Vec<String>> {
        let mut over = Vec::new();
        let mut at = village.parent();
        while let Some(code) = at {
            over.push(code.as_str().to_owned());
            at = code.parent();
        }
        if over.is_empty() {
            return Ok(vec![]);
        }
        let marks = (2..over.len() + 2)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("SELECT id FROM agencies WHERE kind = $1 AND region_code IN ({marks})");
        let mut q = sqlx::query_scalar(&sql).bind(unit.code());
        for o in &over {
            q = q.bind(o);
        }
        Ok(q.fetch_all(&self.pool).await?)
    }
}

impl RoutesTxRoom<'_> {
    /// Sends a routing; a child with one open for the need to the unit already is a conflict (a
    /// unique index, so two sends at once store one).
    #[allow(clippy::too_many_arguments)]
    pub async fn add_routing(
        &mut self,
        child_id: &ChildId,
        village: &RegionCode,
        need: Need,
        unit: Unit,
        note: Option<&str>,
        source: Option<&str>,
        by: &By<'_>,
    ) -> Result<String> {
        let child_id = child_id.as_str();
        let id = crate::new_id();
        let now = self.now().to_owned();
        let events = ROUTING_EVENTS.seal(&self.store.cipher, &id, &[]);
        let note = note.map(|n| ROUTING_NOTE.seal(&self.store.cipher, &id, n));
        let (lo, _) = code_range(village);
        sqlx::query(
            "INSERT INTO routings (id, child_id, village_code, need, unit, status, note, events, source, \
             sent_by, sent_at, version) VALUES ($1, $2, $3, $4, $5, 'sent', $6, $7, $8, $9, $10, 1)",
        )
        .bind(&id)
        .bind(child_id)
        .bind(lo)
        .bind(need.code())
        .bind(unit.code())
        .bind(note)
        .bind(events)
        .bind(source)
        .bind(by.username)
        .bind(now)
        .execute(self.conn())
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict {
                field: Some("units".into()),
                message: format!("该儿童已转办{}，尚未办结", unit.label()),
            },
            e => e.into(),
        })?;
        Ok(id)
    }

    /// Writes a routing's new state if it is still at `r.version`; false if someone changed it.
    pub async fn save_routing(&mut self, r: &Routing) -> Result<bool> {
        let now = self.now().to_owned();
        let events = ROUTING_EVENTS.seal(&self.store.cipher, &r.id, &r.events);
        let hukou = r
            .hukou_number
            .as_deref()
            .map(|h| ROUTING_HUKOU.seal(&self.store.cipher, &r.id, h));
        let done = sqlx::query(
            "UPDATE routings SET status = $1, events = $2, registered_on = $3, hukou_number = $4, \
             dna_collected = $5, closed_at = $6, version = version + 1 WHERE id = $7 AND version = $8",
        )
        .bind(r.status.code())
        .bind(events)
        .bind(r.registered_on.map(|d| d.to_string()))
        .bind(hukou)
        .bind(r.dna_collected.map(i64::from))
        .bind((!r.status.is_open()).then_some(now))
        .bind(&r.id)
        .bind(r.version)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
