//! Reading a roster file for an import: the sheet whose header is recognised, its column mapping
//! (saved choices first, then the user's), and its rows as form input, streamed in batches from a
//! thread of its own. What the rows mean for the registry is the import use case's (`app`).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::columns::{self, HEADER_SEARCH_ROWS, Mapping};
use crate::places::{Places, WorkPlaces};
use crate::read::{self, ReadContext, RowInput};
use crate::sheet::{self, Row, SheetError};

/// Rows read and checked together.
pub const BATCH: usize = 1000;

/// Why a roster file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Sheet(#[from] SheetError),
    #[error(
        "没有找到表头：表格前{HEADER_SEARCH_ROWS}行中没有一行同时含有“姓名”和至少两个可识别的列名（如性别、出生日期、身份证号码）"
    )]
    NoHeader,
    #[error("列对应有误：{0}")]
    Mapping(String),
    #[error("文件读取中断，没有读完（文件可能已损坏），请检查后重新上传")]
    Interrupted,
}

/// What was found in the file.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SheetInfo {
    /// Whether a mapping saved earlier for this header was applied.
    pub saved_mapping: bool,
    pub format: &'static str,
    pub sheet: String,
    /// Every sheet read (a workbook often holds one sheet per town or village).
    pub sheets_read: Vec<String>,
    /// Sheets not read, each with the reason.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Vec<String>>))]
    pub sheets_skipped: Vec<(String, String)>,
    pub encoding: Option<&'static str>,
    /// Which column was read as which field.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub mapping: Mapping,
}

/// Progress of a long import, for a bar or a line on the terminal.
#[derive(Debug, Clone, Copy, Default, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Progress {
    pub rows_read: u64,
    /// Known for CSV (its line count); xlsx sheets report as they go.
    pub rows_expected: Option<u64>,
}

pub enum Message {
    /// The header was found; the reader waits for the saved mapping of this signature.
    Detected(String),
    Opened(SheetInfo),
    Batch(Vec<RowInput>),
    /// Every row was read. A channel that closes without it means the reader stopped early (a
    /// panic on a malformed file): the rows so far are not the file.
    End,
}

/// Reads the file on a thread of its own: the sheet readers are synchronous, and the registry
/// lookups of one batch overlap with reading the next.
pub fn spawn_reader(
    path: PathBuf,
    choices: BTreeMap<String, String>,
    places: Arc<Places>,
    saved: std::sync::mpsc::Receiver<BTreeMap<String, String>>,
) -> tokio::sync::mpsc::Receiver<Result<Message, ReadError>> {
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    std::thread::spawn(move || {
        let result = read_file(&path, &choices, &places, &saved, &mut |m| {
            tx.blocking_send(Ok(m)).is_ok()
        });
        if let Err(e) = result {
            let _ = tx.blocking_send(Err(e));
        }
    });
    rx
}

fn read_file(
    path: &Path,
    choices: &BTreeMap<String, String>,
    places: &Places,
    saved: &std::sync::mpsc::Receiver<BTreeMap<String, String>>,
    send: &mut dyn FnMut(Message) -> bool,
) -> Result<(), ReadError> {
    let mut book = sheet::open(path)?;
    let format = book.format();
    let encoding = book.encoding();
    let names = book.sheet_names().to_vec();
    // Every sheet whose header is recognised and laid out like the first such sheet is read (a
    // workbook may open with an instructions sheet, and often holds one sheet per village).
    let mut first: Option<(usize, Mapping, Vec<sheet::Merge>, Vec<Row>)> = None;
    let mut more: Vec<(usize, Vec<sheet::Merge>, Vec<Row>)> = Vec::new();
    let mut skipped: Vec<(String, String)> = Vec::new();
    for (index, name) in names.iter().enumerate() {
        let merges = book.merges(index)?;
        let mut head: Vec<Row> = Vec::new();
        {
            let mut rows = book.rows(index)?;
            for row in rows.by_ref().take(HEADER_SEARCH_ROWS + 1) {
                head.push(row?);
            }
        }
        columns::fill_merges(&mut head, &merges);
        match (columns::detect(&head), &first) {
            (Some(mapping), None) => first = Some((index, mapping, merges, head)),
            // Read with the first sheet's mapping: the same titles on the same rows.
            (Some(mapping), Some((_, m, _, _)))
                if mapping.signature() == m.signature()
                    && (mapping.header_first, mapping.header_last)
                        == (m.header_first, m.header_last) =>
            {
                more.push((index, merges, head))
            }
            (Some(mapping), Some((_, m, _, _))) if mapping.signature() == m.signature() => skipped
                .push((
                    name.clone(),
                    format!(
                        "表头在第{}行，与第一张花名册（第{}行）不在同一行，请调整后重新导入",
                        mapping.header_first + 1,
                        m.header_first + 1
                    ),
                )),
            (Some(_), Some(_)) => skipped.push((
                name.clone(),
                "表头与第一张花名册不同，请另存为单独的文件导入".to_owned(),
            )),
            (None, _)
                if head
                    .iter()
                    .all(|r| r.cells.iter().all(sheet::Cell::is_empty)) =>
            {
                skipped.push((name.clone(), "空表".to_owned()))
            }
            (None, _) => skipped.push((name.clone(), "没有找到花名册的表头".to_owned())),
        }
    }
    let Some((index, mut mapping, merges, head)) = first else {
        return Err(ReadError::NoHeader);
    };
    // A mapping saved for this header first, then what the user chose now.
    if !send(Message::Detected(mapping.signature())) {
        return Ok(());
    }
    let mut merged = saved.recv().unwrap_or_default();
    let saved_mapping = !merged.is_empty();
    merged.extend(choices.clone());
    mapping.apply(&merged).map_err(ReadError::Mapping)?;
    let mut read: Vec<(usize, Vec<sheet::Merge>, Vec<Row>)> = vec![(index, merges, head)];
    read.extend(more);
    let info = SheetInfo {
        saved_mapping,
        format: format.label(),
        sheet: names[index].clone(),
        sheets_read: read.iter().map(|(i, _, _)| names[*i].clone()).collect(),
        sheets_skipped: skipped,
        encoding,
        mapping: mapping.clone(),
    };
    if !send(Message::Opened(info)) {
        return Ok(());
    }
    let mut ctx = ReadContext::new(places, WorkPlaces::shipped());
    let several = read.len() > 1;
    let mut batch = Vec::with_capacity(BATCH);
    for (index, merges, head) in read {
        // Rows that name no village: the sheet's title over the header ("余下村留守儿童花名册"),
        // else the uploader's own village.
        ctx.default_village = head
            .iter()
            .filter(|r| r.index < mapping.header_first)
            .find_map(|r| {
                let text: String = r.cells.iter().map(sheet::Cell::display).collect();
                places.village_in_text(&text, None).ok().flatten()
            })
            .map(|code| (code, "表格标题"))
            .or_else(|| places.own_village().map(|code| (code, "上传账号所在村")));
        let sheet_name: Option<Arc<str>> = several.then(|| Arc::from(names[index].as_str()));
        // Cells merged down the body (a village written once for all its children) are filled
        // from their top-left cell as the rows pass.
        let body_merges: Vec<_> = merges
            .into_iter()
            .filter(|m| m.last_row > mapping.header_last)
            .collect();
        let mut merged_values: HashMap<(u32, u32), sheet::Cell> = HashMap::new();
        for row in book.rows(index)? {
            let mut row = row?;
            if row.index <= mapping.header_last {
                continue;
            }
            for m in &body_merges {
                if m.first_row == row.index {
                    let v = row
                        .cells
                        .get(m.first_col as usize)
                        .cloned()
                        .unwrap_or(sheet::Cell::Empty);
                    merged_values.insert((m.first_row, m.first_col), v);
                } else if (m.first_row..=m.last_row).contains(&row.index)
                    && let Some(v) = merged_values.get(&(m.first_row, m.first_col))
                {
                    for col in m.first_col..=m.last_col {
                        let col = col as usize;
                        if row.cells.len() <= col {
                            row.cells.resize(col + 1, sheet::Cell::Empty);
                        }
                        row.cells[col] = v.clone();
                    }
                }
            }
            if let Some(mut input) = read::read_row(&row, &mapping, &ctx) {
                input.sheet = sheet_name.clone();
                batch.push(input);
            }
            if batch.len() == BATCH && !send(Message::Batch(std::mem::take(&mut batch))) {
                return Ok(());
            }
        }
    }
    if !batch.is_empty() && !send(Message::Batch(batch)) {
        return Ok(());
    }
    send(Message::End);
    Ok(())
}

/// Reads a whole roster file on this thread with the header's detected mapping and `choices`
/// (no saved mapping): the rows as the importer plans them. For tests, benchmarks and fuzzing.
pub fn read_rows(
    path: &Path,
    choices: &BTreeMap<String, String>,
    places: &Places,
) -> Result<Vec<RowInput>, ReadError> {
    // No mapping was saved: the sender is gone, so the reader goes on with the detected one.
    let (_, saved) = std::sync::mpsc::channel();
    let mut rows = Vec::new();
    read_file(path, choices, places, &saved, &mut |m| {
        if let Message::Batch(batch) = m {
            rows.extend(batch);
        }
        true
    })?;
    Ok(rows)
}

/// Columns a new child cannot do without (or whose value nothing else supplies). Any other
/// missing column does not stop the import: those children are saved as 待补充
/// ([`columns_to_complete`]).
pub fn missing_columns(mapping: &Mapping) -> Vec<&'static str> {
    let has = |k: &str| mapping.column_of(k).is_some();
    let mut out = Vec::new();
    if !has("birth_date") && !has("id_number") {
        out.push("出生日期");
    }
    if !has("sex") && !has("id_number") {
        out.push("性别");
    }
    if ![
        "village",
        "village_code",
        "residence_address",
        "hukou_place",
    ]
    .iter()
    .any(|k| has(k))
    {
        out.push("村（社区）");
    }
    out
}

/// Columns of the form the sheet does not have whose values a new child's file then leaves
/// blank: saved, on the 待补充 list, not refused (a blank is unknown).
pub fn columns_to_complete(mapping: &Mapping) -> Vec<&'static str> {
    let has = |k: &str| mapping.column_of(k).is_some();
    let mut out = Vec::new();
    if !has("schooling") {
        out.push("就学情况");
    }
    if !has("guardianship_type") {
        out.push("监护类型");
    }
    if !has("father_situation") && !has("mother_situation") && !has("left_behind_type") {
        out.push("父母目前情况");
    }
    out
}
