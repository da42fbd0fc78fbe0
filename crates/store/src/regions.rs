//! The org tree: the divisions of the regions a deployment serves, loaded from the shipped table,
//! and the agencies (schools, police stations, hospitals…) under them.

use serde::Serialize;
use sqlx::Row;

use shouwang_domain::ids::ChildId;
use shouwang_domain::region::{Divisions, RegionCode, RegionLevel};

use crate::rooms::RegionsRoom;
use crate::{Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Region {
    pub code: String,
    pub name: String,
    pub level: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegionWithChildren {
    pub code: String,
    pub name: String,
    pub level: String,
    pub children: Vec<Region>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Agency {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub region_code: String,
}

/// An agency from a row of (id, name, kind, region_code).
fn agency_of(r: &sqlx::any::AnyRow) -> Agency {
    Agency {
        id: r.get(0),
        name: r.get(1),
        kind: r.get(2),
        region_code: r.get(3),
    }
}

/// The 12-digit integer form of a code and the inclusive integer range of its subtree.
pub fn code_range(code: &RegionCode) -> (i64, i64) {
    let lo: i64 = code.padded12().parse().expect("digits");
    let hi: i64 = format!("{:9<12}", code.as_str()).parse().expect("digits");
    (lo, hi)
}

/// Counts of what `init` loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InitReport {
    pub region_name: String,
    pub counties: usize,
    pub towns: usize,
    pub villages: usize,
}

impl RegionsRoom<'_> {
    /// Loads a region (any level), its ancestors and everything below it. Idempotent.
    pub async fn init_region(&self, code: &RegionCode) -> Result<InitReport> {
        let table = Divisions::shipped();
        let lineage = table.lineage(code).map_err(|e| {
            StoreError::Validation(shouwang_domain::validation::ValidationErrors::single(
                "region",
                e.to_string(),
            ))
        })?;
        let mut rows: Vec<(String, String, RegionLevel)> = lineage
            .iter()
            .map(|d| (d.code.to_owned(), d.name.to_owned(), d.level))
            .collect();
        let mut report = InitReport {
            region_name: lineage
                .last()
                .map(|d| d.name.to_owned())
                .unwrap_or_default(),
            ..InitReport::default()
        };
        for d in table.subtree(code).expect("exists").skip(1) {
            match d.level {
                RegionLevel::County => report.counties += 1,
                RegionLevel::Town => report.towns += 1,
                RegionLevel::Village => report.villages += 1,
                _ => {}
            }
            rows.push((d.code.to_owned(), d.name.to_owned(), d.level));
        }
        let mut tx = self.pool.begin().await?;
        for chunk in rows.chunks(400) {
            let mut sql = String::from(
                "INSERT INTO regions (code, code12, name, level, parent_code) VALUES ",
            );
            for i in 0..chunk.len() {
                let b = i * 5;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5
                ));
            }
            sql.push_str(" ON CONFLICT (code) DO NOTHING");
            let mut q = sqlx::query(&sql);
            for (code, name, level) in chunk {
                let rc = RegionCode::parse(code).expect("table codes are valid");
                q = q
                    .bind(code.clone())
                    .bind(code_range(&rc).0)
                    .bind(name.clone())
                    .bind(level.as_str())
                    .bind(rc.parent().map(|p| p.as_str().to_owned()));
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(report)
    }

    pub async fn region(&self, code: &RegionCode) -> Result<Option<Region>> {
        let row = sqlx::query("SELECT code, name, level FROM regions WHERE code = $1")
            .bind(code.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| Region {
            code: r.get(0),
            name: r.get(1),
            level: r.get(2),
        }))
    }

    pub async fn region_with_children(
        &self,
        code: &RegionCode,
    ) -> Result<Option<RegionWithChildren>> {
        let Some(region) = self.region(code).await? else {
            return Ok(None);
        };
        let children = self.child_regions(code).await?;
        Ok(Some(RegionWithChildren {
            code: region.code,
            name: region.name,
            level: region.level,
            children,
        }))
    }

    pub async fn child_regions(&self, code: &RegionCode) -> Result<Vec<Region>> {
        let rows = sqlx::query(
            "SELECT code, name, level FROM regions WHERE parent_code = $1 ORDER BY code",
        )
        .bind(code.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| Region {
                code: r.get(0),
                name: r.get(1),
                level: r.get(2),
            })
            .collect())
    }

    /// Regions of one level inside `within` (e.g. all villages of a county), in code order.
    pub async fn regions_within(
        &self,
        within: &RegionCode,
        level: RegionLevel,
    ) -> Result<Vec<Region>> {
        let (lo, hi) = code_range(within);
        let rows = sqlx::query(
            "SELECT code, name, level FROM regions WHERE code12 >= $1 AND code12 <= $2 AND level = $3 ORDER BY code",
        )
        .bind(lo)
        .bind(hi)
        .bind(level.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| Region {
                code: r.get(0),
                name: r.get(1),
                level: r.get(2),
            })
            .collect())
    }

    /// Creates an agency (school, police station…) under a region, or returns the existing one.
    pub async fn ensure_agency(
        &self,
        region: &RegionCode,
        name: &str,
        kind: &str,
    ) -> Result<String> {
        if self.region(region).await?.is_none() {
            return Err(StoreError::Validation(
                shouwang_domain::validation::ValidationErrors::single(
                    "org",
                    format!("区划“{region}”尚未初始化（请先运行 shouwang init）"),
                ),
            ));
        }
        if let Some(id) = sqlx::query_scalar::<_, String>(
            "SELECT id FROM agencies WHERE region_code = $1 AND name = $2",
        )
        .bind(region.as_str())
        .bind(name)
        .fetch_optional(&self.pool)
        .await?
        {
            return Ok(id);
        }
        let id = crate::new_id();
        sqlx::query("INSERT INTO agencies (id, name, kind, region_code, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&id)
            .bind(name)
            .bind(kind)
            .bind(region.as_str())
            .bind(self.now_text())
            .execute(&self.pool)
            .await?;
        Ok(id)
    }

    /// Agencies under a region (schools, police stations, …), in name order.
    pub async fn agencies_within(&self, region: &RegionCode) -> Result<Vec<Agency>> {
        let rows = sqlx::query(
            "SELECT id, name, kind, region_code FROM agencies WHERE region_code >= $1 AND region_code < $2 ORDER BY region_code, name",
        )
        .bind(region.as_str())
        .bind(format!("{region}:"))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(agency_of).collect())
    }

    /// The agencies a child is linked to (its school…), in name order.
    pub async fn child_agencies(&self, child_id: &ChildId) -> Result<Vec<Agency>> {
        let child_id = child_id.as_str();
        let rows = sqlx::query(
            "SELECT a.id, a.name, a.kind, a.region_code FROM child_agencies ca \
             JOIN agencies a ON a.id = ca.agency_id WHERE ca.child_id = $1 ORDER BY a.name",
        )
        .bind(child_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(agency_of).collect())
    }

    /// The region an agency sits under.
    pub async fn agency_region(&self, id: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT region_code FROM agencies WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn agency_name(&self, id: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT name FROM agencies WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// An agency's kind and region.
    pub async fn agency_kind(&self, id: &str) -> Result<Option<(String, String)>> {
        let row = sqlx::query("SELECT kind, region_code FROM agencies WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row
            .map(|r| Ok::<_, sqlx::Error>((r.try_get("kind")?, r.try_get("region_code")?)))
            .transpose()?)
    }
}
