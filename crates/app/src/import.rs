//! An import, from file to registry: read the sheet on its own thread (streamed in batches),
//! match every row against the registry, check it with the registration form's rules, and show
//! the plan — rows to create, rows that update a child (with the fields that change), rows left
//! unchanged and rows in error with the reason per cell. Nothing is written until the plan is
//! committed, whole or its valid rows only, in one transaction.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::Serialize;

use shouwang_domain::audit::AuditAction;
use shouwang_domain::authz::{Action, Actor};
use shouwang_domain::child::ChildFile;
use shouwang_domain::fields;
use shouwang_domain::history::FieldChange;
use shouwang_domain::id_number::IdNumber;
use shouwang_domain::input::{ChildInput, ParseContext, parse_date};
use shouwang_domain::lifecycle::ChildStatus;
use shouwang_domain::person::PersonName;
use shouwang_domain::region::Divisions;
use shouwang_exchange::columns::Mapping;
use shouwang_exchange::fill::{self, Fill};
use shouwang_exchange::places::Places;
use shouwang_exchange::read::{self, Problem, RowInput};
use shouwang_exchange::roster_file::{Message, ReadError, spawn_reader};
use shouwang_exchange::sheet::{self, Format, SheetError};
use shouwang_exchange::xlsx::{ErrorRow, write_error_workbook};
use shouwang_store::StoreError;
use shouwang_store::import::{ImportUpdate, MatchKey, Matched, changes};

/// The views this capability hands a front end.
pub use shouwang_store::import::ImportCounts;

use crate::{App, Error, Result};

pub use shouwang_exchange::roster_file::{
    Progress, SheetInfo, columns_to_complete, missing_columns,
};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("表格中没有儿童数据")]
    NoRows,
    #[error("您的账号没有导入儿童信息的权限")]
    Forbidden,
    #[error("导入未执行：有{0}行存在错误。请修正后重新导入，或选择只导入无误的行")]
    HasErrors(usize),
    #[error(transparent)]
    Store(#[from] Error),
    #[error("写出错误清单失败：{0}")]
    Write(String),
}

impl From<StoreError> for ImportError {
    fn from(e: StoreError) -> Self {
        ImportError::Store(e.into())
    }
}

impl From<SheetError> for ImportError {
    fn from(e: SheetError) -> Self {
        ImportError::Read(ReadError::Sheet(e))
    }
}

/// What the plan does with a row.
#[derive(Debug, Clone)]
pub enum Outcome {
    Create(Box<ChildFile>),
    Update(Box<ImportUpdate>),
    Unchanged { child_id: String },
    Error { problems: Vec<Problem> },
}

#[derive(Debug, Clone)]
pub struct PlannedRow {
    pub row: u32,
    pub name: String,
    pub outcome: Outcome,
    /// The row's cells as shown, kept for rows in error (for the error workbook).
    pub cells: Vec<String>,
    /// The sheet the row is on, when several were read.
    pub sheet: Option<Arc<str>>,
    /// What the reader inferred, e.g. where the village came from.
    pub notes: Vec<String>,
    /// A row whose ID number is registered outside the user's area: what the county is told when
    /// the import is committed (the user is told only that a record exists).
    pub registered_elsewhere: Option<shouwang_store::import::MatchKey>,
    /// The fields the file's fills stated for this row (`--fill`): recorded in a new file's first
    /// history entry as stated at import by the importing user.
    pub filled: Vec<FieldChange>,
}

impl PlannedRow {
    /// "第5行" or "余下村 第5行" when several sheets were read.
    pub fn place(&self) -> String {
        match &self.sheet {
            Some(sheet) => format!("{sheet} 第{}行", self.row),
            None => format!("第{}行", self.row),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanCounts {
    pub create: usize,
    pub update: usize,
    pub unchanged: usize,
    pub error: usize,
}

/// The checked import, ready to commit.
#[derive(Debug, Clone)]
pub struct Plan {
    pub info: SheetInfo,
    pub source: String,
    pub rows: Vec<PlannedRow>,
    /// Columns a new child needs that the sheet does not have (its new rows are refused).
    pub missing_columns: Vec<&'static str>,
    /// Columns of the form the sheet does not have: its new children are saved 待补充.
    pub columns_to_complete: Vec<&'static str>,
}

impl Plan {
    pub fn counts(&self) -> PlanCounts {
        let mut c = PlanCounts::default();
        for r in &self.rows {
            match r.outcome {
                Outcome::Create(_) => c.create += 1,
                Outcome::Update(_) => c.update += 1,
                Outcome::Unchanged { .. } => c.unchanged += 1,
                Outcome::Error { .. } => c.error += 1,
            }
        }
        c
    }

    /// Writes the rows in error as a workbook to fix and import again; returns how many.
    pub fn write_errors(&self, path: &Path) -> Result<usize, ImportError> {
        let rows: Vec<ErrorRow<'_>> = self
            .rows
            .iter()
            .filter_map(|r| match &r.outcome {
                Outcome::Error { problems } => Some(ErrorRow {
                    row: r.row,
                    cells: &r.cells,
                    problems,
                }),
                _ => None,
            })
            .collect();
        write_error_workbook(&self.info.mapping, &rows, path)
            .map_err(|e| ImportError::Write(e.to_string()))
    }

    /// Each problem of each row in error, as "C5（出生日期）：…".
    pub fn error_lines(&self) -> Vec<(u32, String)> {
        self.rows
            .iter()
            .filter_map(|r| match &r.outcome {
                Outcome::Error { problems } => Some((r, problems)),
                _ => None,
            })
            .flat_map(|(r, problems)| {
                problems.iter().map(move |p| {
                    let text = read::describe(p, r.row, &self.info.mapping);
                    (
                        r.row,
                        match &r.sheet {
                            Some(sheet) => format!("{sheet}：{text}"),
                            None => text,
                        },
                    )
                })
            })
            .collect()
    }
}

/// "受委托监护人·电话：13800138000 → 13800138001；…" — what an update changes, for people.
pub fn describe_changes(changes: &[FieldChange]) -> String {
    changes
        .iter()
        .map(|c| {
            format!(
                "{}：{} → {}",
                shouwang_domain::history::field_label(&c.field),
                c.old.as_deref().unwrap_or("（空）"),
                c.new.as_deref().unwrap_or("（空）")
            )
        })
        .collect::<Vec<_>>()
        .join("；")
}

/// Whether to write the whole file or only its valid rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitMode {
    /// Nothing is written if any row has an error.
    All,
    /// Rows in error are skipped.
    Valid,
}

/// Imports for one user.
pub struct Importer<'a> {
    app: &'a App,
    actor: &'a Actor,
    /// What the whole file states once (`--fill 户籍性质=农业户口`).
    fills: Vec<Fill>,
    /// Named in the history of every file the commit writes: the job's id on the web, a new
    /// one otherwise.
    import_id: String,
}

impl<'a> Importer<'a> {
    pub fn new(app: &'a App, actor: &'a Actor) -> Result<Importer<'a>, ImportError> {
        if !actor.may(Action::RegisterChild) || !actor.may(Action::EditChild) {
            return Err(ImportError::Forbidden);
        }
        Ok(Importer {
            app,
            actor,
            fills: Vec::new(),
            import_id: uuid::Uuid::now_v7().to_string(),
        })
    }

    /// The id the written files' history names (the web's import job).
    pub fn for_import(mut self, id: &str) -> Self {
        id.clone_into(&mut self.import_id);
        self
    }

    /// What the roster's `import` filter takes to list the files this import wrote.
    pub fn import_id(&self) -> &str {
        &self.import_id
    }

    /// Fields every row that leaves them blank takes (see [`shouwang_exchange::fill`]).
    pub fn with_fills(mut self, fills: Vec<Fill>) -> Self {
        self.fills = fills;
        self
    }

    /// Reads and checks a file without writing anything.
    pub async fn plan(
        &self,
        path: &Path,
        source: &str,
        choices: &BTreeMap<String, String>,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<Plan, ImportError> {
        let expected = match sheet::sniff_format(path)? {
            Format::Csv => sheet::estimate_rows(path),
            _ => None,
        };
        let (saved_tx, saved_rx) = std::sync::mpsc::channel();
        let mut rx = spawn_reader(
            path.to_owned(),
            choices.clone(),
            // Only reading needs the jurisdiction's place names; a commit does not.
            Arc::new(Places::new(Divisions::shipped(), &self.actor.region)),
            saved_rx,
        );
        let mut plan: Option<Plan> = None;
        let mut seen_ids: HashMap<String, u32> = HashMap::new();
        let mut seen_people: HashMap<(String, NaiveDate, String), (u32, bool)> = HashMap::new();
        let mut read_count = 0u64;
        let mut ended = false;
        while let Some(message) = rx.recv().await {
            match message? {
                Message::Detected(signature) => {
                    let saved = self
                        .app
                        .store
                        .imports()
                        .import_mapping(self.actor, &signature)
                        .await?
                        .unwrap_or_default();
                    let _ = saved_tx.send(saved);
                }
                Message::Opened(info) => {
                    plan = Some(Plan {
                        missing_columns: missing_columns(&info.mapping),
                        columns_to_complete: columns_to_complete(&info.mapping),
                        info,
                        source: source.to_owned(),
                        rows: Vec::new(),
                    });
                }
                Message::End => ended = true,
                Message::Batch(batch) => {
                    let plan = plan
                        .as_mut()
                        .expect("the sheet is opened before rows arrive");
                    read_count += batch.len() as u64;
                    let planned = self
                        .check_batch(batch, &plan.info.mapping, &mut seen_ids, &mut seen_people)
                        .await?;
                    plan.rows.extend(planned);
                    progress(Progress {
                        rows_read: read_count,
                        rows_expected: expected,
                    });
                }
            }
        }
        let plan = plan.ok_or(ImportError::Read(ReadError::NoHeader))?;
        if !ended {
            return Err(ImportError::Read(ReadError::Interrupted));
        }
        if plan.rows.is_empty() {
            return Err(ImportError::NoRows);
        }
        Ok(plan)
    }

    async fn check_batch(
        &self,
        batch: Vec<RowInput>,
        mapping: &Mapping,
        seen_ids: &mut HashMap<String, u32>,
        seen_people: &mut HashMap<(String, NaiveDate, String), (u32, bool)>,
    ) -> Result<Vec<PlannedRow>, ImportError> {
        let today = self.app.store.today();
        let mut batch = batch;
        let filled: Vec<Vec<FieldChange>> = batch
            .iter_mut()
            .map(|row| {
                fill::apply(&self.fills, &mut row.input)
                    .into_iter()
                    .map(|f| FieldChange {
                        field: fields::field(f.key).map_or(f.key, |x| x.path).to_owned(),
                        old: None,
                        new: Some(f.value.clone()),
                    })
                    .collect()
            })
            .collect();
        let ctx = ParseContext {
            today,
            divisions: Divisions::shipped(),
        };
        // Who each row is, where the row says enough to tell.
        let keys: Vec<Option<MatchKey>> = batch.iter().map(match_key).collect();
        let wanted: Vec<MatchKey> = keys.iter().flatten().cloned().collect();
        let found = self
            .app
            .store
            .imports()
            .match_children(self.actor, &wanted)
            .await?;
        // Numbers registered outside the user's area came up: the look-up is audited (how many,
        // which, masked), so a file probing for them leaves a trace for the county.
        let elsewhere: Vec<String> = wanted
            .iter()
            .zip(&found)
            .filter(|(_, m)| matches!(m, Some(Matched::Elsewhere)))
            .filter_map(|(k, _)| k.id_number.as_ref().map(IdNumber::masked))
            .collect();
        if !elsewhere.is_empty() {
            let mut tx = self.app.store.begin().await?;
            tx.audit(
                self.actor,
                AuditAction::ImportIdDuplicateElsewhere,
                shouwang_store::Subject {
                    entity: "import",
                    id: None,
                    region: Some(self.actor.region.as_str()),
                },
                serde_json::json!({"count": elsewhere.len(), "id_numbers": &elsewhere[..elsewhere.len().min(100)]}),
            )
            .await?;
            tx.commit().await?;
        }
        let mut matches = found.into_iter();
        let mut out = Vec::with_capacity(batch.len());
        for ((row, key), filled) in batch.into_iter().zip(keys).zip(filled) {
            let matched = if key.is_some() {
                matches.next().flatten()
            } else {
                None
            };
            let mut problems = row.problems.clone();
            let blame = |field: &str, message: String| Problem {
                column: read::column_for(mapping, field),
                field: field.to_owned(),
                message,
            };
            // The same child twice in one file: the same ID number, or the same name, birth date
            // and village where one of the two rows has no ID number (two different ID numbers
            // are two children, whatever their names — as in the registry's matching).
            if let Some(k) = &key {
                let has_id = k.id_number.is_some();
                let by_id = k
                    .id_number
                    .as_ref()
                    .and_then(|id| seen_ids.insert(id.as_str().to_owned(), row.row));
                let person = (
                    k.name.as_str().to_owned(),
                    k.birth_date,
                    k.village_code.to_string(),
                );
                let by_person = match seen_people.get(&person) {
                    Some(&(first, first_has_id)) if !(has_id && first_has_id) => Some(first),
                    _ => None,
                };
                seen_people.entry(person).or_insert((row.row, has_id));
                if let Some(first) = by_id.or(by_person) {
                    problems.push(blame(
                        if by_id.is_some() { "id_number" } else { "name" },
                        format!("与第{first}行是同一名儿童，请删除重复的行"),
                    ));
                }
            }
            let name = row.input.name.clone().unwrap_or_default();
            let elsewhere = matches!(matched, Some(Matched::Elsewhere));
            let outcome = match matched {
                Some(Matched::Elsewhere) => {
                    problems.push(blame(
                        "id_number",
                        "该身份证号码已有登记记录，不能重复登记；请联系县民政部门核实".to_owned(),
                    ));
                    None
                }
                Some(Matched::Inside { status, .. }) if status != ChildStatus::Active => {
                    problems.push(blame(
                        "name",
                        "该儿童已退出花名册，不能通过导入修改；如需恢复请在系统中办理".to_owned(),
                    ));
                    None
                }
                Some(Matched::Inside {
                    id, version, file, ..
                }) => {
                    let merged = ChildInput::from_file(&file).overlay(row.input.clone());
                    match merged.parse(&ctx) {
                        Ok(new) if problems.is_empty() => {
                            let changed: Vec<FieldChange> = changes(&file, &new);
                            Some(if changed.is_empty() {
                                Outcome::Unchanged { child_id: id }
                            } else {
                                Outcome::Update(Box::new(ImportUpdate {
                                    child_id: id,
                                    version,
                                    file: new,
                                    changes: changed,
                                }))
                            })
                        }
                        Ok(_) => None,
                        Err(errors) => {
                            add_form_errors(&mut problems, errors, mapping);
                            None
                        }
                    }
                }
                None => match row.input.clone().parse(&ctx) {
                    Ok(file) => {
                        // 国发〔2016〕13号: the roster covers children under 16.
                        if let Some(why) = crate::children::too_old(file.birth_date, today) {
                            problems.push(blame("birth_date", why));
                        }
                        problems.is_empty().then(|| Outcome::Create(Box::new(file)))
                    }
                    Err(errors) => {
                        add_form_errors(&mut problems, errors, mapping);
                        None
                    }
                },
            };
            let outcome = outcome.unwrap_or(Outcome::Error { problems });
            let cells = match outcome {
                Outcome::Error { .. } => row.cells,
                _ => Vec::new(),
            };
            out.push(PlannedRow {
                registered_elsewhere: if elsewhere { key.clone() } else { None },
                row: row.row,
                name,
                outcome,
                cells,
                sheet: row.sheet,
                notes: row.notes,
                filled,
            });
        }
        Ok(out)
    }

    /// Rows whose ID numbers are registered outside the user's area go to the town's discovery
    /// queue, which the county sees, to be resolved there (at most [`MAX_RAISED`] an import).
    async fn raise_registered_elsewhere(&self, plan: &Plan) -> Result<(), ImportError> {
        let keys: Vec<&shouwang_store::import::MatchKey> = plan
            .rows
            .iter()
            .filter_map(|r| r.registered_elsewhere.as_ref())
            .filter(|k| self.actor.covers(&k.village_code))
            .take(MAX_RAISED)
            .collect();
        if keys.is_empty() || !self.actor.may(Action::ReportDiscovery) {
            return Ok(());
        }
        let mut tx = self.app.store.begin().await?;
        for k in keys {
            let Some(town) = k
                .village_code
                .at_level(shouwang_domain::region::RegionLevel::Town)
            else {
                continue;
            };
            let input = shouwang_domain::discovery::DiscoveryInput {
                town_code: Some(town.to_string()),
                village_code: Some(k.village_code.to_string()),
                child_name: Some(k.name.as_str().to_owned()),
                sex: None,
                birth_date: Some(k.birth_date.to_string()),
                situation: Some(format!(
                    "导入《{}》时发现身份证号码（{}）已在其他地区登记，请县民政部门核实是否同一儿童、应由何地登记",
                    plan.source,
                    k.id_number
                        .as_ref()
                        .map(IdNumber::masked)
                        .unwrap_or_default()
                )),
                reporter_phone: None,
            };
            crate::discoveries::file_in(&mut tx, self.actor, &input).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Saves a column mapping (chosen on the preview) for the next file with the same header.
    pub async fn save_columns(
        &self,
        signature: &str,
        choices: &std::collections::BTreeMap<String, String>,
    ) -> Result<(), ImportError> {
        Ok(self
            .app
            .store
            .imports()
            .save_import_mapping(self.actor, signature, choices)
            .await?)
    }

    /// Saves the plan's column mapping for the next file with the same header.
    pub async fn save_mapping(&self, plan: &Plan) -> Result<(), ImportError> {
        let m = &plan.info.mapping;
        Ok(self
            .app
            .store
            .imports()
            .save_import_mapping(self.actor, &m.signature(), &m.saved_form())
            .await?)
    }

    /// Writes a plan. `All` refuses a plan with errors; `Valid` skips the rows in error. Every
    /// file it writes carries the import's id in its history (the roster's `import` filter lists
    /// them).
    pub async fn commit(&self, plan: &Plan, mode: CommitMode) -> Result<ImportCounts, ImportError> {
        let counts = plan.counts();
        if mode == CommitMode::All && counts.error > 0 {
            return Err(ImportError::HasErrors(counts.error));
        }
        let mut creates = Vec::with_capacity(counts.create);
        let mut updates = Vec::with_capacity(counts.update);
        for r in &plan.rows {
            match &r.outcome {
                Outcome::Create(f) => creates.push((&**f, &r.filled[..])),
                Outcome::Update(u) => updates.push(&**u),
                _ => {}
            }
        }
        self.raise_registered_elsewhere(plan).await?;
        if let Some(v) = creates
            .iter()
            .map(|(f, _)| &f.village_code)
            .chain(updates.iter().map(|u| &u.file.village_code))
            .find(|v| !self.actor.covers(v))
        {
            return Err(Error::Conflict {
                field: Some("village_code".into()),
                message: format!("村（社区）{v}不在您的管辖范围内"),
            }
            .into());
        }
        Ok(self
            .app
            .store
            .imports()
            .import_children(
                self.actor,
                &plan.source,
                &self.import_id,
                &creates,
                &updates,
            )
            .await?)
    }
}

/// Rows registered elsewhere one import raises to the county (a larger number is a list to
/// reconcile, not cases to queue one by one).
const MAX_RAISED: usize = 200;

fn match_key(row: &RowInput) -> Option<MatchKey> {
    let i = &row.input;
    Some(MatchKey {
        id_number: i.id_number.as_deref().and_then(|s| IdNumber::parse(s).ok()),
        name: PersonName::parse(i.name.as_deref()?).ok()?,
        birth_date: parse_date(i.birth_date.as_deref()?)?,
        village_code: read::village_of(i)?,
    })
}

/// Adds the registration form's errors, skipping fields already reported from their cells.
fn add_form_errors(
    problems: &mut Vec<Problem>,
    errors: shouwang_domain::validation::ValidationErrors,
    mapping: &Mapping,
) {
    for e in errors.0 {
        let sources = read::source_columns(&e.field);
        if problems
            .iter()
            .any(|p| p.field == e.field || sources.contains(&p.field.as_str()))
        {
            continue;
        }
        let column = read::column_for(mapping, &e.field);
        let message = if column.is_none() {
            format!("{}（表中没有对应的列，请补充）", e.message)
        } else {
            e.message
        };
        problems.push(Problem {
            column,
            field: e.field,
            message,
        });
    }
}
