//! 应报未报: children whose file or visit found a reportable situation no report followed.

use super::*;

use crate::rooms::ProtectionRoom;

/// A child whose file records a situation that must be reported and for whom no report was filed.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Unreported {
    pub child_id: String,
    pub name: String,
    pub village_code: String,
    /// When it was recorded: the file's last change (the situation was recorded then or before),
    /// or the visit that found it.
    pub recorded_at: String,
    /// `file` (单独居住, 无人监护 or 父或母无监护能力 in the file) or `visit` (a visit found a
    /// reportable situation).
    pub source: String,
}

/// A visit that found a situation to report, with the child's latest case (if any).
#[derive(Debug, Clone)]
pub struct ReportableVisit {
    pub child_id: String,
    pub name: String,
    pub village_code: String,
    pub visited_on: chrono::NaiveDate,
    pub recorded_at: String,
    pub last_case_opened: Option<String>,
    /// The file itself is on [`Store::unreported`]'s list (单独居住, 无人监护 or 父或母无监护能力, no case ever).
    pub in_file_list: bool,
}

/// 无人监护 | 单独居住 | 父或母无监护能力 as flag bits, written as a number in the partial index of
/// migration 0046, which the query must repeat to be served by it. The village reports "父母一方
/// 外出另一方无监护能力或无人监护的农村留守儿童等重点对象" to the police at any time (沈阳 002 一4;
/// 龙里 003 五(二)3), and a child found living alone at once (景洪 000 三(二)3).
const UNREPORTED_BITS: i64 = 7;

impl ProtectionRoom<'_> {
    /// Children of the actor's area on the roster whose file says 单独居住, 无人监护 or 父或母无监护能力
    /// — situations the seeds require reporting at once (景洪 000 三(二)3; 沈阳 002 一4) — and for whom no mandatory report was
    /// ever filed (未成年人保护法 Art. 117: failure to report is visible to the town and oversight).
    pub async fn unreported(
        &self,
        actor: &shouwang_domain::authz::Actor,
        region: Option<&RegionCode>,
        limit: i64,
    ) -> Result<Vec<Unreported>> {
        let Some((w, join)) = crate::scope::scoped(actor, region) else {
            return Ok(vec![]);
        };
        let bits = UNREPORTED_BITS;
        let sql = format!(
            "SELECT c.id, c.name, c.village_code, c.updated_at FROM children c{join}{} \
             AND c.status = 'active' AND (c.flags & {bits}) <> 0 AND c.reported = 0 \
             ORDER BY c.updated_at, c.id LIMIT {}",
            w.sql,
            limit.clamp(1, 1000)
        );
        let rows = w.bind(sqlx::query(&sql)).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let village: i64 = r.try_get("village_code")?;
                Ok(Unreported {
                    child_id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    village_code: format!("{village:012}"),
                    recorded_at: r.try_get("updated_at")?,
                    source: "file".into(),
                })
            })
            .collect()
    }

    /// How many children [`Store::unreported`] lists for the actor (without its limit): for a
    /// county or an area above it read from the counts the triggers keep (`roster_cube`, migration
    /// 0037), for a town, a village or an agency counted on the list's own partial index.
    pub async fn unreported_count(
        &self,
        actor: &shouwang_domain::authz::Actor,
        region: Option<&RegionCode>,
    ) -> Result<i64> {
        let bits = UNREPORTED_BITS;
        if let shouwang_domain::authz::Scope::Region { code: mine } = actor.scope() {
            let code = match region {
                None => mine,
                Some(r) if mine.contains(r) => r.clone(),
                Some(r) if r.contains(&mine) => mine,
                Some(_) => return Ok(0),
            };
            if code.level() > RegionLevel::County {
                return self.unreported_counted(actor, Some(&code)).await;
            }
            let sql = format!(
                "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM roster_cube WHERE region = $1 \
                 AND status = 'active' AND reported = 0 AND (flags & {bits}) <> 0"
            );
            return Ok(sqlx::query_scalar(&sql)
                .bind(code.as_str())
                .fetch_one(&self.pool)
                .await?);
        }
        self.unreported_counted(actor, region).await
    }

    async fn unreported_counted(
        &self,
        actor: &shouwang_domain::authz::Actor,
        region: Option<&RegionCode>,
    ) -> Result<i64> {
        let bits = UNREPORTED_BITS;
        let Some((w, join)) = crate::scope::scoped(actor, region) else {
            return Ok(0);
        };
        let sql = format!(
            "SELECT COUNT(*) AS n FROM children c{join}{} \
             AND c.status = 'active' AND (c.flags & {bits}) <> 0 AND c.reported = 0",
            w.sql
        );
        let row = w.bind(sqlx::query(&sql)).fetch_one(&self.pool).await?;
        Ok(row.try_get("n")?)
    }

    /// Visits of the actor's area that found a situation to report (the latest per child), with
    /// the child's latest case: whether it was reported is the domain's rule
    /// (`protection::reported_since`).
    pub async fn reportable_visits(
        &self,
        actor: &shouwang_domain::authz::Actor,
        region: Option<&RegionCode>,
        limit: i64,
    ) -> Result<Vec<ReportableVisit>> {
        let Some((w, join)) = crate::scope::scoped(actor, region) else {
            return Ok(vec![]);
        };
        // From the few reportable visits (their partial index, migration 0024) to the files, not
        // from every file of the area to its visits: SQLite takes a CROSS JOIN's order as written.
        let bits = UNREPORTED_BITS;
        let sql = format!(
            "SELECT c.id, c.name, c.village_code, MAX(v.visited_on) AS visited_on, \
             MAX(v.at) AS recorded_at, \
             (SELECT MAX(pc.opened_at) FROM protection_cases pc WHERE pc.child_id = c.id) \
             AS last_case_opened, \
             CASE WHEN (c.flags & {bits}) <> 0 AND c.reported = 0 THEN 1 ELSE 0 END AS in_file_list \
             FROM visits v CROSS JOIN children c{join}{} \
             AND c.id = v.child_id AND c.status = 'active' AND v.reportable = 1 \
             GROUP BY c.id, c.name, c.village_code, c.flags, c.reported ORDER BY MAX(v.at) DESC LIMIT {}",
            w.sql,
            limit.clamp(1, 1000)
        );
        let rows = w.bind(sqlx::query(&sql)).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let village: i64 = r.try_get("village_code")?;
                let on: String = r.try_get("visited_on")?;
                Ok(ReportableVisit {
                    child_id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    village_code: format!("{village:012}"),
                    visited_on: on
                        .parse()
                        .map_err(|_| StoreError::Config(format!("visit date {on}")))?,
                    recorded_at: r.try_get("recorded_at")?,
                    last_case_opened: r.try_get("last_case_opened")?,
                    in_file_list: r.try_get::<i64, _>("in_file_list")? == 1,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod unreported_tests {
    use shouwang_domain::eligibility::KeyTargetFlag;

    #[test]
    fn the_unreported_index_holds_the_living_alone_unsupervised_and_parent_incapable_bits() {
        assert_eq!(
            super::UNREPORTED_BITS,
            KeyTargetFlag::LivingAlone.bit()
                | KeyTargetFlag::Unsupervised.bit()
                | KeyTargetFlag::ParentIncapable.bit()
        );
        let sql = include_str!("../../migrations/0046_unreported_parent_incapable.sql");
        assert!(sql.contains("(flags & 7) <> 0 AND reported = 0"));
    }
}
