//! A comparison's findings as their reviewers read them: one item, the list with its filters, and the
//! names of who it is assigned to.

use super::*;

use crate::rooms::ReconcileRoom;

/// Which items a list reads: those of the comparisons run within a region (the county that ran
/// them), or those assigned to the actor's unit (the jurisdiction predicate of the assignment).
#[derive(Clone, Copy)]
pub enum ItemReach<'a> {
    Within(&'a RegionCode),
    AssignedTo(&'a Actor),
}

impl ReconcileRoom<'_> {
    pub(super) fn item_from(&self, r: &sqlx::any::AnyRow) -> Result<ItemRow> {
        let role: Option<String> = r.try_get("assignee_role")?;
        let region: Option<String> = r.try_get("assignee_region")?;
        let agency: Option<String> = r.try_get("assignee_agency")?;
        Ok(ItemRow {
            id: r.try_get("id")?,
            run_id: r.try_get("run_id")?,
            list_kind: crate::decode::code(r, "list_kind", ListKind::parse)?,
            seq: r.try_get("seq")?,
            kind: crate::decode::code(r, "kind", FindingKind::parse)?,
            region_code: r.try_get("region_code")?,
            child_id: r
                .try_get::<Option<String>, _>("child_id")?
                .map(ChildId::new),
            status: crate::decode::code(r, "status", ItemStatus::parse)?,
            assignee: role.as_deref().and_then(Role::parse).map(|role| Assignee {
                role,
                region: region.as_deref().and_then(|s| RegionCode::parse(s).ok()),
                agency,
            }),
            doc: RECONCILE_ITEM.open(
                &self.cipher,
                &r.try_get::<String, _>("id")?,
                &r.try_get::<String, _>("doc")?,
            )?,
            decided_by: r.try_get("decided_by")?,
            decided_at: r.try_get("decided_at")?,
            note: r.try_get("note")?,
        })
    }

    /// Who an item is assigned to, in words: the unit's name and its role.
    pub async fn assignee_label(&self, a: &Assignee) -> Result<String> {
        let place = match (&a.agency, &a.region) {
            (Some(agency), _) => self
                .regions()
                .agency_name(agency)
                .await?
                .unwrap_or_default(),
            (None, Some(r)) => Divisions::shipped()
                .get(r)
                .map(|d| d.name.to_owned())
                .unwrap_or_default(),
            _ => String::new(),
        };
        Ok(format!("{}（{}）", place, a.role.label()))
    }

    /// An item as its reader sees it, with what the use case decided: whether the reader sees
    /// whole ID numbers (`whole_ids`) and what they may do with it (`access`).
    pub async fn item_view(
        &self,
        item: ItemRow,
        whole_ids: bool,
        access: Access,
    ) -> Result<ItemView> {
        let show_id = |s: Option<&str>| match s {
            Some(s) if whole_ids => s.to_owned(),
            Some(s) => mask_id(s),
            None => String::new(),
        };
        // A list's other columns and its own numbers (a 学籍号 is "G" and the ID number) may hold
        // ID numbers too: masked as the ID number is.
        let show_text = |title: &str, v: &str| {
            if whole_ids {
                v.to_owned()
            } else if ["身份证", "证件", "学籍号"]
                .iter()
                .any(|t| title.contains(t))
            {
                mask_id(v)
            } else {
                shouwang_domain::id_number::mask_id_in_text(v)
            }
        };
        let person = |r: &Record, place: String| PersonView {
            record_id: show_text("", &r.record_id),
            row: None,
            name: r.name.clone().unwrap_or_default(),
            sex: r.sex.clone().unwrap_or_default(),
            birth_date: r.birth_date.clone().unwrap_or_default(),
            id_number: show_id(r.id_number.as_deref()),
            place,
            hukou: None,
            parents_away: None,
            extra: Vec::new(),
        };
        let join = |r: &Record| {
            [&r.county, &r.town, &r.village]
                .into_iter()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(" ")
        };
        let assignee_label = match &item.assignee {
            Some(a) => Some(self.assignee_label(a).await?),
            None => None,
        };
        Ok(ItemView {
            may_decide: access.may_decide(item.status),
            may_assign: access.may_assign(item.status),
            child: item.doc.child.as_ref().map(|c| person(c, join(c))),
            entry: item.doc.entry.as_ref().map(|e| PersonView {
                row: Some(e.row),
                hukou: e.hukou.map(|h| h.label()),
                parents_away: e.parents_away,
                extra: e
                    .extra
                    .iter()
                    .map(|(title, v)| (title.clone(), show_text(title, v)))
                    .collect(),
                ..person(
                    &e.record,
                    item.doc.place.clone().unwrap_or_else(|| join(&e.record)),
                )
            }),
            fix: item.doc.fix.as_ref().map(|f| FixView {
                side: f.side.clone(),
                to: f.to.as_deref().map(|t| show_id(Some(t))),
                note: f.note.clone(),
            }),
            id: item.id,
            run_id: item.run_id,
            list_kind: item.list_kind,
            seq: item.seq,
            kind: item.kind,
            kind_label: item.kind.label(),
            status: item.status,
            status_label: item.status.label(),
            region_code: item.region_code,
            child_id: item.child_id.map(ChildId::into_string),
            probability: item.doc.probability,
            reasons: item.doc.reasons,
            assignee: item
                .assignee
                .as_ref()
                .map(|a| match (&a.agency, &a.region) {
                    (Some(g), _) => format!("{}:{g}", a.role.code()),
                    (None, Some(r)) => format!("{}:{r}", a.role.code()),
                    _ => a.role.code().to_owned(),
                }),
            assignee_label,
            decided_by: item.decided_by,
            decided_at: item.decided_at,
            note: item.note,
        })
    }

    /// Items within `reach` (the use case decides which), filtered and paged.
    pub async fn reconcile_items(
        &self,
        reach: ItemReach<'_>,
        filter: &ItemFilter,
    ) -> Result<(Vec<ItemRow>, i64)> {
        let mut sql =
            String::from("FROM reconcile_items i JOIN reconcile_runs r ON r.id = i.run_id WHERE ");
        let mut binds: Vec<String> = Vec::new();
        let arg = |v: String, binds: &mut Vec<String>| {
            binds.push(v);
            format!("${}", binds.len())
        };
        match reach {
            ItemReach::Within(region) => {
                let (lo, hi) = text_range(region.as_str());
                let (a, b) = (arg(lo, &mut binds), arg(hi, &mut binds));
                sql.push_str(&format!("i.region_code >= {a} AND i.region_code < {b}"));
            }
            ItemReach::AssignedTo(actor) => {
                let role = arg(actor.role.code().to_owned(), &mut binds);
                // The assigned unit covers the item's place (an assignment made before that was
                // checked gives nothing away).
                sql.push_str(
                    "substr(i.region_code, 1, length(i.assignee_region)) = i.assignee_region AND ",
                );
                match actor.scope() {
                    Scope::CasesOnly => sql.push_str("1 = 0"),
                    Scope::Agency { agency_id } => {
                        let g = arg(agency_id, &mut binds);
                        sql.push_str(&format!(
                            "i.assignee_role = {role} AND i.assignee_agency = {g}"
                        ));
                    }
                    Scope::Region { code } => {
                        // Assigned to a region that holds the user's, or one inside it.
                        let prefixes: Vec<String> = [6usize, 9, 12]
                            .into_iter()
                            .filter(|n| *n <= code.as_str().len())
                            .map(|n| arg(code.as_str()[..n].to_owned(), &mut binds))
                            .collect();
                        let (lo, hi) = text_range(code.as_str());
                        let (a, b) = (arg(lo, &mut binds), arg(hi, &mut binds));
                        sql.push_str(&format!(
                        "i.assignee_role = {role} AND i.assignee_agency IS NULL AND \
                         (i.assignee_region IN ({}) OR (i.assignee_region >= {a} AND i.assignee_region < {b}))",
                        prefixes.join(", ")
                    ));
                    }
                }
            }
        }
        if let Some(run) = filter.run_id.as_deref().filter(|s| !s.is_empty()) {
            let a = arg(run.to_owned(), &mut binds);
            sql.push_str(&format!(" AND i.run_id = {a}"));
        }
        if let Some(kind) = filter.kind.as_deref().filter(|s| !s.is_empty()) {
            let kind = FindingKind::parse(kind).ok_or_else(|| invalid("kind", "未知的差异类型"))?;
            let a = arg(kind.code().to_owned(), &mut binds);
            sql.push_str(&format!(" AND i.kind = {a}"));
        }
        match filter.status.as_deref().filter(|s| !s.is_empty()) {
            Some("pending") => sql.push_str(" AND i.status IN ('open', 'assigned')"),
            Some(s) => {
                let status = ItemStatus::parse(s).ok_or_else(|| invalid("status", "未知的状态"))?;
                let a = arg(status.code().to_owned(), &mut binds);
                sql.push_str(&format!(" AND i.status = {a}"));
            }
            None => {}
        }
        let count_sql = format!("SELECT COUNT(*) {sql}");
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
        for b in &binds {
            count = count.bind(b.clone());
        }
        let total = count.fetch_one(&self.pool).await?;
        let limit = if filter.limit <= 0 {
            50
        } else {
            filter.limit.min(500)
        };
        let list_sql = format!(
            "SELECT {ITEM_COLUMNS} {sql} ORDER BY r.created_at DESC, i.run_id, i.seq LIMIT {limit} OFFSET {}",
            filter.offset.max(0)
        );
        let mut q = sqlx::query(&list_sql);
        for b in &binds {
            q = q.bind(b.clone());
        }
        let rows = q.fetch_all(&self.pool).await?;
        let items = rows
            .iter()
            .map(|r| self.item_from(r))
            .collect::<Result<_>>()?;
        Ok((items, total))
    }

    pub(super) async fn load_item(
        &self,
        conn: &mut AnyConnection,
        id: &str,
    ) -> Result<Option<ItemRow>> {
        let row = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS} FROM reconcile_items i JOIN reconcile_runs r ON r.id = i.run_id WHERE i.id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        row.as_ref().map(|r| self.item_from(r)).transpose()
    }

    /// One item by its id, whoever may see it (the use case decides that with `review::Access`).
    pub async fn item_row(&self, id: &str) -> Result<Option<ItemRow>> {
        let mut conn = self.pool.acquire().await?;
        self.load_item(&mut conn, id).await
    }
}
