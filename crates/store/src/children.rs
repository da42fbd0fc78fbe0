//! The child registry: register, read, edit, exit, transfer, history. Every function takes the
//! acting user, checks the role's permission and the jurisdiction, and audits in the same
//! transaction as the change.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use shouwang_domain::authz::{Action, Actor, Scope};
use shouwang_domain::child::ChildFile;
use shouwang_domain::eligibility::{self, Eligibility, FlagReason};
use shouwang_domain::history::{self, FieldChange};
use shouwang_domain::id_number::IdNumber;
use shouwang_domain::input::{ChildInput, ParseContext};
use shouwang_domain::lifecycle::{self, ChildStatus, ExitReason, RosterStanding};
use shouwang_domain::region::{Divisions, RegionCode, RegionLevel};
use shouwang_domain::validation::ValidationErrors;

use shouwang_linkage::prepare::Prepared;
use shouwang_linkage::registry::{file_record, registry_record};
use shouwang_linkage::single;

use crate::audit;
use crate::db::{Backend, Params};
use crate::regions::code_range;
use crate::{Result, Store, StoreError};

/// A child's file as a user may see it. ID numbers inside `file` are present only when the user
/// asked to reveal them and may; `ids_masked` always holds the masked forms.
#[derive(Debug, Clone, Serialize)]
pub struct ChildRecord {
    pub id: String,
    pub file: ChildFile,
    pub ids_masked: MaskedIds,
    pub status: ChildStatus,
    pub exit_reason: Option<ExitReason>,
    pub exit_date: Option<NaiveDate>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    pub standing: RosterStanding,
    pub eligibility: Eligibility,
    pub flags: Vec<FlagReason>,
    /// Province → village names of where the child lives.
    pub place: Vec<String>,
    pub revealed: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct MaskedIds {
    pub child: Option<String>,
    pub father: Option<String>,
    pub mother: Option<String>,
    pub guardian: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub version: i64,
    pub at: String,
    pub username: String,
    pub kind: String,
    pub changes: Vec<FieldChange>,
}

/// A possible duplicate found at registration.
#[derive(Debug, Clone, Serialize)]
pub struct Duplicate {
    /// Set only when the existing record is inside the user's jurisdiction.
    pub child_id: Option<String>,
    pub reason: String,
    /// How likely the same child (the linkage engine's score); none for the same ID number.
    pub probability: Option<f64>,
}

/// How an edit's input relates to the stored file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditMode {
    /// Only the fields present change (API PATCH).
    Patch,
    /// The whole form was submitted (HTML edit form); empty ID-number fields keep the stored
    /// numbers, which the form never shows in full.
    Replace,
}

pub(crate) struct StoredRow {
    pub id: String,
    pub file: ChildFile,
    pub status: ChildStatus,
    pub exit_reason: Option<ExitReason>,
    pub exit_date: Option<NaiveDate>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

fn masked_ids(f: &ChildFile) -> MaskedIds {
    MaskedIds {
        child: f.id_number.as_ref().map(IdNumber::masked),
        father: f.father.id_number.as_ref().map(IdNumber::masked),
        mother: f.mother.id_number.as_ref().map(IdNumber::masked),
        guardian: f
            .entrusted_guardian
            .as_ref()
            .and_then(|g| g.id_number.as_ref().map(IdNumber::masked)),
    }
}

fn strip_ids(mut f: ChildFile) -> ChildFile {
    f.id_number = None;
    f.father.id_number = None;
    f.mother.id_number = None;
    if let Some(g) = f.entrusted_guardian.as_mut() {
        g.id_number = None;
    }
    f
}

fn not_in_jurisdiction(field: &str) -> StoreError {
    StoreError::Validation(ValidationErrors::single(
        field,
        "所选村（社区）不在您的管辖范围内",
    ))
}

impl Store {
    fn parse_context(&self) -> ParseContext<'static> {
        ParseContext {
            today: self.today(),
            divisions: Divisions::shipped(),
        }
    }

    /// A stored, encrypted file.
    pub(crate) fn decrypt_file(&self, doc: &str) -> Result<ChildFile> {
        crate::codec::decrypt_doc(&self.cipher, doc)
    }

    pub(crate) async fn load_row(
        &self,
        conn: &mut AnyConnection,
        id: &str,
    ) -> Result<Option<StoredRow>> {
        let row = sqlx::query(
            "SELECT c.id, d.doc, c.status, c.exit_reason, c.exit_date, c.version, c.created_at, c.updated_at \
             FROM children c JOIN child_docs d ON d.child_id = c.id WHERE c.id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let file = self.decrypt_file(&r.try_get::<String, _>(1)?)?;
        let status: String = r.try_get(2)?;
        let exit_reason: Option<String> = r.try_get(3)?;
        let exit_date: Option<String> = r.try_get(4)?;
        Ok(Some(StoredRow {
            id: r.try_get(0)?,
            file,
            status: ChildStatus::parse(&status).unwrap_or(ChildStatus::Active),
            exit_reason: exit_reason.as_deref().and_then(ExitReason::parse),
            exit_date: exit_date.as_deref().and_then(|d| d.parse().ok()),
            version: r.try_get(5)?,
            created_at: r.try_get(6)?,
            updated_at: r.try_get(7)?,
        }))
    }

    /// Whether the actor's jurisdiction includes this stored child.
    pub(crate) async fn in_scope(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        row: &StoredRow,
    ) -> Result<bool> {
        Ok(match actor.scope() {
            Scope::Region { code } => code.contains(&row.file.village_code),
            Scope::Agency { agency_id } => {
                sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM child_agencies WHERE agency_id = $1 AND child_id = $2",
                )
                .bind(agency_id)
                .bind(&row.id)
                .fetch_one(&mut *conn)
                .await?
                    > 0
            }
        })
    }

    fn record_from(&self, row: StoredRow, reveal: bool) -> ChildRecord {
        let today = self.today();
        let definition = eligibility::Definition::of(&row.file);
        let standing = RosterStanding::of(row.status, definition, row.file.birth_date, today);
        let eligibility = eligibility::assess(&row.file, today);
        let flags = eligibility::key_target_flags(&row.file);
        let ids_masked = masked_ids(&row.file);
        let place = Divisions::shipped()
            .lineage(&row.file.village_code)
            .map(|l| l.iter().map(|d| d.name.to_owned()).collect())
            .unwrap_or_default();
        ChildRecord {
            id: row.id,
            file: if reveal {
                row.file
            } else {
                strip_ids(row.file)
            },
            ids_masked,
            status: row.status,
            exit_reason: row.exit_reason,
            exit_date: row.exit_date,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
            standing,
            eligibility,
            flags,
            place,
            revealed: reveal,
        }
    }

    /// Reads a child's file (audited). Out of scope and missing are the same `NotFound`.
    /// `reveal` asks for full ID numbers; it is refused for roles that do not need them, and
    /// logged when granted.
    pub async fn get_child(&self, actor: &Actor, id: &str, reveal: bool) -> Result<ChildRecord> {
        if reveal && !actor.may(Action::UnmaskIdNumber) {
            return Err(StoreError::Forbidden);
        }
        let mut tx = self.pool.begin().await?;
        audit::lock_head(&mut tx).await?;
        let row = self
            .load_row(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        if !self.in_scope(&mut tx, actor, &row).await? {
            return Err(StoreError::NotFound);
        }
        let region = row.file.village_code.as_str().to_owned();
        audit::record(
            &mut tx,
            &self.now_text(),
            actor.into(),
            if reveal { "id_unmask" } else { "child_read" },
            "child",
            Some(id),
            Some(&region),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(self.record_from(row, reveal))
    }

    /// Possible duplicates of a file: the same ID number anywhere (details only inside the
    /// jurisdiction), or a child of the same town the linkage engine finds likely the same
    /// (a homophone name, the birth date's day and month swapped…), most likely first.
    pub async fn find_duplicates(
        &self,
        actor: &Actor,
        file: &ChildFile,
        exclude: Option<&str>,
    ) -> Result<Vec<Duplicate>> {
        let mut out = Vec::new();
        let exclude = exclude.unwrap_or("");
        if let Some(idn) = &file.id_number {
            let rows = sqlx::query(
                "SELECT id, village_code FROM children WHERE id_hash = $1 AND id <> $2",
            )
            .bind(self.cipher.blind_index(idn.as_str()))
            .bind(exclude)
            .fetch_all(&self.pool)
            .await?;
            for r in rows {
                let village: i64 = r.try_get(1)?;
                let inside = RegionCode::parse(&format!("{village:012}"))
                    .map(|v| actor.region.contains(&v))
                    .unwrap_or(false);
                out.push(Duplicate {
                    probability: None,
                    child_id: inside.then(|| r.get(0)),
                    reason: if inside {
                        "相同身份证号码的儿童已登记".to_owned()
                    } else {
                        "相同身份证号码的儿童已在其他地区登记，请联系上级民政部门核实".to_owned()
                    },
                });
            }
        }
        // The same child typed differently, scored by the linkage engine's fixed registry model:
        // candidates in the county with the same name sound, or a birth date equal, with day
        // and month swapped, or a day or one digit off.
        let town = file
            .village_code
            .at_level(RegionLevel::Town)
            .expect("village codes have a town");
        let county = file
            .village_code
            .at_level(RegionLevel::County)
            .expect("village codes have a county");
        let (lo, hi) = code_range(&county);
        let (pinyin, _) = file.name_pinyin();
        let dates = near_dates(file.birth_date);
        let mut rows = sqlx::query(
            "SELECT id, village_code, name, sex, birth_date, id_hash FROM children \
             WHERE name_pinyin = $1 AND village_code >= $2 AND village_code <= $3 AND id <> $4",
        )
        .bind(&pinyin)
        .bind(lo)
        .bind(hi)
        .bind(exclude)
        .fetch_all(&self.pool)
        .await?;
        let mut marks = Params::new(self.backend);
        let date_list = marks.list(dates.len());
        let (a, b, c) = (marks.one(), marks.one(), marks.one());
        let sql = format!(
            "SELECT id, village_code, name, sex, birth_date, id_hash FROM children \
             WHERE birth_date IN ({date_list}) AND village_code >= {a} AND village_code <= {b} AND id <> {c}"
        );
        let mut q = sqlx::query(&sql);
        for d in &dates {
            q = q.bind(d.to_string());
        }
        rows.extend(
            q.bind(lo)
                .bind(hi)
                .bind(exclude)
                .fetch_all(&self.pool)
                .await?,
        );
        let model = single::registry_model();
        let new_id_hash = file
            .id_number
            .as_ref()
            .map(|n| self.cipher.blind_index(n.as_str()));
        let new = Prepared::of(&file_record("", file));
        let mut near: Vec<(f64, Duplicate)> = Vec::new();
        // Each child once, though both queries may find it (and outside the user's area its id
        // is not in the warning to compare by).
        let mut seen = std::collections::HashSet::new();
        for r in rows {
            let id: String = r.try_get(0)?;
            if !seen.insert(id.clone())
                || out
                    .iter()
                    .any(|d| d.child_id.as_deref() == Some(id.as_str()))
            {
                continue;
            }
            let village: i64 = r.try_get(1)?;
            let Ok(village) = RegionCode::parse(&format!("{village:012}")) else {
                continue;
            };
            let id_hash: Option<String> = r.try_get(5)?;
            if id_hash.is_some() && id_hash == new_id_hash {
                continue; // reported above
            }
            let (name, sex, birth): (String, String, String) =
                (r.try_get(2)?, r.try_get(3)?, r.try_get(4)?);
            let old = Prepared::of(&registry_record("", &name, &sex, &birth, &village, None));
            let same_id = match (&new_id_hash, &id_hash) {
                (Some(x), Some(y)) => Some(x == y),
                _ => None,
            };
            let like = single::likeness(&model, &new, &old, same_id);
            if like.probability < single::WARN_PROBABILITY {
                continue;
            }
            let inside = actor.region.contains(&village);
            let percent = (like.probability * 100.0).floor();
            near.push((
                like.probability,
                Duplicate {
                    reason: if inside {
                        let place = Divisions::shipped()
                            .get(&village)
                            .map(|d| d.name.to_owned())
                            .unwrap_or_default();
                        format!(
                            "疑似与已登记的{name}（{birth}，{place}）为同一儿童：{}，相似度{percent}%",
                            like.summary()
                        )
                    } else if town.contains(&village) {
                        format!(
                            "同一乡镇其他村已有疑似同一儿童（{}，相似度{percent}%），请与乡镇核实",
                            like.summary()
                        )
                    } else {
                        format!(
                            "本县其他乡镇已有疑似同一儿童（{}，相似度{percent}%），请与县民政部门核实",
                            like.summary()
                        )
                    },
                    child_id: inside.then_some(id),
                    probability: Some(like.probability),
                },
            ));
        }
        near.sort_by(|x, y| y.0.total_cmp(&x.0));
        out.extend(near.into_iter().map(|(_, d)| d));
        Ok(out)
    }

    /// Registers a child. Same ID number → conflict; likely the same child in the county (see
    /// [`Store::find_duplicates`]) → a warning that `confirm_duplicate` overrides.
    pub async fn register_child(
        &self,
        actor: &Actor,
        input: &ChildInput,
        confirm_duplicate: bool,
    ) -> Result<ChildRecord> {
        if !actor.may(Action::RegisterChild) {
            return Err(StoreError::Forbidden);
        }
        let file = input.parse(&self.parse_context())?;
        if !actor.covers(&file.village_code) {
            return Err(not_in_jurisdiction("village_code"));
        }
        let today = self.today();
        if eligibility::age_on(file.birth_date, today) >= 16 {
            // 国发〔2016〕13号: the roster covers children under 16.
            return Err(ValidationErrors::single(
                "birth_date",
                "该儿童已满16周岁，不属于农村留守儿童登记范围",
            )
            .into());
        }
        if self.region(&file.village_code).await?.is_none() {
            return Err(
                ValidationErrors::single("village_code", "该村（社区）尚未在系统中初始化").into(),
            );
        }
        let dups = self.find_duplicates(actor, &file, None).await?;
        if let Some(d) = dups.iter().find(|d| d.probability.is_none()) {
            return Err(StoreError::Conflict {
                field: Some("id_number".into()),
                message: d.reason.clone(),
            });
        }
        if !dups.is_empty() && !confirm_duplicate {
            return Err(StoreError::Conflict {
                field: Some("name".into()),
                message: format!("{}。确认不是同一人后请勾选“确认登记”再提交", dups[0].reason),
            });
        }
        let id = crate::new_id();
        let now = self.now_text();
        let mut tx = self.pool.begin().await?;
        audit::lock_head(&mut tx).await?;
        crate::summary::insert(
            &mut tx,
            self.backend,
            &self.cipher,
            &[(id.clone(), &file)],
            &now,
        )
        .await?;
        let changes = history::diff(&None::<ChildFile>, &Some(file.clone()));
        insert_history(&mut tx, &id, 1, &now, actor, "register", &changes).await?;
        audit::record(
            &mut tx,
            &now,
            actor.into(),
            "child_register",
            "child",
            Some(&id),
            Some(file.village_code.as_str()),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        self.get_child_unaudited(actor, &id).await
    }

    async fn get_child_unaudited(&self, actor: &Actor, id: &str) -> Result<ChildRecord> {
        let mut conn = self.pool.acquire().await?;
        let row = self
            .load_row(&mut conn, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let _ = actor;
        Ok(self.record_from(row, false))
    }

    /// Edits a file. `expected_version` is the version the user's form was based on; if someone
    /// else saved in between, the edit is refused with a conflict instead of overwriting.
    pub async fn update_child(
        &self,
        actor: &Actor,
        id: &str,
        expected_version: i64,
        input: ChildInput,
        mode: EditMode,
    ) -> Result<ChildRecord> {
        if !actor.may(Action::EditChild) {
            // Reads are allowed to more roles than edits; hide existence only when out of scope.
            self.get_child_unaudited_scoped(actor, id).await?;
            return Err(StoreError::Forbidden);
        }
        let now = self.now_text();
        let mut tx = self.pool.begin().await?;
        audit::lock_head(&mut tx).await?;
        self.edit_in(
            &mut tx,
            actor,
            id,
            Some(expected_version),
            input,
            mode,
            &now,
        )
        .await?;
        tx.commit().await?;
        self.get_child_unaudited(actor, id).await
    }

    /// An edit inside the caller's transaction (audit head locked): checks scope, status and
    /// version (`None`: whatever is stored), validates, writes, keeps history and audits.
    /// Returns whether anything changed.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn edit_in(
        &self,
        tx: &mut AnyConnection,
        actor: &Actor,
        id: &str,
        expected_version: Option<i64>,
        input: ChildInput,
        mode: EditMode,
        now: &str,
    ) -> Result<bool> {
        let row = self
            .load_row(&mut *tx, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        if !self.in_scope(&mut *tx, actor, &row).await? {
            return Err(StoreError::NotFound);
        }
        if row.status == ChildStatus::Exited {
            return Err(StoreError::Conflict {
                field: None,
                message: "该儿童已退出，不能修改档案".into(),
            });
        }
        let expected_version = expected_version.unwrap_or(row.version);
        if row.version != expected_version {
            return Err(version_conflict(row.version));
        }
        let current = ChildInput::from_file(&row.file);
        let merged = match mode {
            EditMode::Patch => current.overlay(input),
            EditMode::Replace => {
                let mut i = input;
                let keep = |new: &mut Option<String>, old: &Option<String>| {
                    if new.as_deref().map(str::trim).unwrap_or("").is_empty() {
                        *new = old.clone();
                    }
                };
                keep(&mut i.id_number, &current.id_number);
                keep(&mut i.father_id_number, &current.father_id_number);
                keep(&mut i.mother_id_number, &current.mother_id_number);
                keep(&mut i.guardian_id_number, &current.guardian_id_number);
                i
            }
        };
        let file = merged.parse(&self.parse_context())?;
        if file.village_code != row.file.village_code {
            return Err(ValidationErrors::single(
                "village_code",
                "更换所在村请使用“转移”功能，以保留转移记录",
            )
            .into());
        }
        if file.id_number != row.file.id_number {
            let dups = self.find_duplicates(actor, &file, Some(id)).await?;
            if let Some(d) = dups.iter().find(|d| d.probability.is_none()) {
                return Err(StoreError::Conflict {
                    field: Some("id_number".into()),
                    message: d.reason.clone(),
                });
            }
        }
        let changes = history::diff(&row.file, &file);
        if changes.is_empty() {
            return Ok(false);
        }
        let version = row.version + 1;
        self.write_file(&mut *tx, id, &file, expected_version, now)
            .await?;
        insert_history(&mut *tx, id, version, now, actor, "edit", &changes).await?;
        let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        audit::record(
            &mut *tx,
            now,
            actor.into(),
            "child_edit",
            "child",
            Some(id),
            Some(file.village_code.as_str()),
            serde_json::json!({"fields": fields}),
        )
        .await?;
        Ok(true)
    }

    async fn get_child_unaudited_scoped(&self, actor: &Actor, id: &str) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        let row = self
            .load_row(&mut conn, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        if self.in_scope(&mut conn, actor, &row).await? {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }

    async fn write_file(
        &self,
        conn: &mut AnyConnection,
        id: &str,
        file: &ChildFile,
        expected_version: i64,
        now: &str,
    ) -> Result<()> {
        if crate::summary::update(conn, &self.cipher, id, file, expected_version, now).await? {
            Ok(())
        } else {
            Err(version_conflict(expected_version + 1))
        }
    }

    /// Takes a child off the roster with a reason and date (dynamic management).
    pub async fn exit_child(
        &self,
        actor: &Actor,
        id: &str,
        expected_version: i64,
        reason: ExitReason,
        date: NaiveDate,
        note: Option<String>,
    ) -> Result<ChildRecord> {
        if !actor.may(Action::ExitChild) {
            self.get_child_unaudited_scoped(actor, id).await?;
            return Err(StoreError::Forbidden);
        }
        let now = self.now_text();
        let mut tx = self.pool.begin().await?;
        audit::lock_head(&mut tx).await?;
        let row = self
            .load_row(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        if !self.in_scope(&mut tx, actor, &row).await? {
            return Err(StoreError::NotFound);
        }
        if row.version != expected_version {
            return Err(version_conflict(row.version));
        }
        lifecycle::check_exit(
            row.status,
            row.exit_date,
            row.file.birth_date,
            date,
            self.today(),
        )
        .map_err(|e| ValidationErrors::single("date", e.to_string()))?;
        let done = sqlx::query(
            "UPDATE children SET status = 'exited', exit_reason = $1, exit_date = $2, version = version + 1, updated_at = $3 WHERE id = $4 AND version = $5",
        )
        .bind(reason.code())
        .bind(date.to_string())
        .bind(&now)
        .bind(id)
        .bind(expected_version)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(version_conflict(expected_version + 1));
        }
        let mut changes = vec![
            FieldChange {
                field: "status".into(),
                old: Some("在册".into()),
                new: Some(format!("已退出（{}）", reason.label())),
            },
            FieldChange {
                field: "exit_date".into(),
                old: None,
                new: Some(date.to_string()),
            },
        ];
        if let Some(n) = note.filter(|n| !n.trim().is_empty()) {
            changes.push(FieldChange {
                field: "remarks".into(),
                old: None,
                new: Some(n),
            });
        }
        insert_history(&mut tx, id, row.version + 1, &now, actor, "exit", &changes).await?;
        audit::record(
            &mut tx,
            &now,
            actor.into(),
            "child_exit",
            "child",
            Some(id),
            Some(row.file.village_code.as_str()),
            serde_json::json!({"reason": reason.code(), "date": date}),
        )
        .await?;
        tx.commit().await?;
        self.get_child_unaudited(actor, id).await
    }

    /// Moves a child to another village (in this county or elsewhere); the history keeps where
    /// they came from. The receiving village must be set up in this deployment.
    pub async fn transfer_child(
        &self,
        actor: &Actor,
        id: &str,
        expected_version: i64,
        to_village: &str,
    ) -> Result<ChildRecord> {
        if !actor.may(Action::TransferChild) {
            self.get_child_unaudited_scoped(actor, id).await?;
            return Err(StoreError::Forbidden);
        }
        let target = Divisions::shipped()
            .parse_existing(to_village)
            .map_err(|e| ValidationErrors::single("to_village", e.to_string()))?;
        if target.level() != RegionLevel::Village {
            return Err(
                ValidationErrors::single("to_village", "转入地应为村级区划（12位代码）").into(),
            );
        }
        if self.region(&target).await?.is_none() {
            return Err(ValidationErrors::single(
                "to_village",
                format!("转入地“{target}”尚未在本系统初始化"),
            )
            .into());
        }
        let now = self.now_text();
        let mut tx = self.pool.begin().await?;
        audit::lock_head(&mut tx).await?;
        let row = self
            .load_row(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        if !self.in_scope(&mut tx, actor, &row).await? {
            return Err(StoreError::NotFound);
        }
        if row.version != expected_version {
            return Err(version_conflict(row.version));
        }
        if row.status == ChildStatus::Exited {
            return Err(ValidationErrors::single(
                "to_village",
                lifecycle::LifecycleError::TransferOfExited.to_string(),
            )
            .into());
        }
        if row.file.village_code == target {
            return Err(ValidationErrors::single(
                "to_village",
                lifecycle::LifecycleError::TransferToSameVillage.to_string(),
            )
            .into());
        }
        let mut file = row.file.clone();
        file.village_code = target.clone();
        self.write_file(&mut tx, id, &file, expected_version, &now)
            .await?;
        let changes = vec![FieldChange {
            field: "village_code".into(),
            old: Some(row.file.village_code.to_string()),
            new: Some(target.to_string()),
        }];
        insert_history(
            &mut tx,
            id,
            row.version + 1,
            &now,
            actor,
            "transfer",
            &changes,
        )
        .await?;
        audit::record(
            &mut tx,
            &now,
            actor.into(),
            "child_transfer",
            "child",
            Some(id),
            Some(row.file.village_code.as_str()),
            serde_json::json!({"from": row.file.village_code, "to": target}),
        )
        .await?;
        tx.commit().await?;
        self.get_child_unaudited(actor, id).await
    }

    pub async fn child_history(&self, actor: &Actor, id: &str) -> Result<Vec<HistoryEntry>> {
        self.get_child_unaudited_scoped(actor, id).await?;
        let rows = sqlx::query("SELECT version, at, username, kind, changes FROM child_history WHERE child_id = $1 ORDER BY version DESC")
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(HistoryEntry {
                    version: r.try_get(0)?,
                    at: r.try_get(1)?,
                    username: r.try_get(2)?,
                    kind: r.try_get(3)?,
                    changes: serde_json::from_str(&r.try_get::<String, _>(4)?).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Links a child to an agency (e.g. the school they attend), so that agency's users see them.
    pub async fn link_child_agency(
        &self,
        actor: &Actor,
        child_id: &str,
        agency_id: &str,
    ) -> Result<()> {
        if !actor.may(Action::EditChild) {
            self.get_child_unaudited_scoped(actor, child_id).await?;
            return Err(StoreError::Forbidden);
        }
        // The agency must be inside the actor's jurisdiction too.
        let agency_region = self
            .agency_region(agency_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let agency_region =
            RegionCode::parse(&agency_region).map_err(|e| StoreError::Config(e.to_string()))?;
        if !actor.region.contains(&agency_region) && !agency_region.contains(&actor.region) {
            return Err(StoreError::NotFound);
        }
        let mut tx = self.pool.begin().await?;
        audit::lock_head(&mut tx).await?;
        let row = self
            .load_row(&mut tx, child_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        if !self.in_scope(&mut tx, actor, &row).await? {
            return Err(StoreError::NotFound);
        }
        sqlx::query("INSERT INTO child_agencies (child_id, agency_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(child_id)
            .bind(agency_id)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            &self.now_text(),
            actor.into(),
            "child_link_agency",
            "child",
            Some(child_id),
            Some(row.file.village_code.as_str()),
            serde_json::json!({"agency": agency_id}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn version_conflict(current: i64) -> StoreError {
    StoreError::Conflict {
        field: Some("version".into()),
        message: format!("该档案已被他人修改（当前版本{current}），请刷新后重新编辑"),
    }
}

/// Inserts history entries `(child id, version, changes)` in one multi-row statement.
pub(crate) async fn insert_history_rows(
    conn: &mut AnyConnection,
    backend: Backend,
    entries: &[(String, i64, Vec<FieldChange>)],
    at: &str,
    who: impl Into<crate::audit::Who<'_>>,
    kind: &str,
) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let who = who.into();
    let sql = format!(
        "INSERT INTO child_history (id, child_id, version, at, user_id, username, kind, changes) VALUES {}",
        Params::new(backend).rows(entries.len(), 8)
    );
    let mut q = sqlx::query(&sql);
    for (child, version, changes) in entries {
        q = q
            .bind(crate::new_id())
            .bind(child.clone())
            .bind(*version)
            .bind(at.to_owned())
            .bind(who.user_id.unwrap_or("system").to_owned())
            .bind(who.username.to_owned())
            .bind(kind.to_owned())
            .bind(serde_json::to_string(changes).expect("serialisable"));
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

async fn insert_history(
    conn: &mut AnyConnection,
    child_id: &str,
    version: i64,
    at: &str,
    actor: &Actor,
    kind: &str,
    changes: &[FieldChange],
) -> Result<()> {
    sqlx::query("INSERT INTO child_history (id, child_id, version, at, user_id, username, kind, changes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(crate::new_id())
        .bind(child_id)
        .bind(version)
        .bind(at)
        .bind(&actor.user_id)
        .bind(&actor.username)
        .bind(kind)
        .bind(serde_json::to_string(changes).expect("serialisable"))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The birth date, its day and month swapped, and every valid date one digit away.
fn near_dates(d: NaiveDate) -> Vec<NaiveDate> {
    let mut out = vec![d];
    let digits: Vec<u8> = d.format("%Y%m%d").to_string().into_bytes();
    for i in 0..digits.len() {
        for c in b'0'..=b'9' {
            if c == digits[i] {
                continue;
            }
            let mut v = digits.clone();
            v[i] = c;
            let s = String::from_utf8(v).expect("digits");
            if let Ok(x) = NaiveDate::parse_from_str(&s, "%Y%m%d") {
                out.push(x);
            }
        }
    }
    if let Some(x) = NaiveDate::from_ymd_opt(d.year(), d.day(), d.month())
        && x != d
    {
        out.push(x);
    }
    // A day off, across a month or a year (04-30 / 05-01).
    out.extend([d.pred_opt(), d.succ_opt()].into_iter().flatten());
    out.sort_unstable();
    out.dedup();
    out
}
