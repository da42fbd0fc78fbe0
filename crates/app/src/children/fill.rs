//! 为所选儿童填写: the 待补充 list completes many files at once with what holds for all of them
//! (`字段=值`, as an import's `--fill`). Only the fields each file leaves blank are filled; each
//! file is changed by its own edit, in its history as stated by the user, and audited.

use serde::Serialize;
use shouwang_domain::authz::{Action, Actor};
use shouwang_domain::ids::ChildId;
use shouwang_domain::input::ChildInput;
use shouwang_domain::validation::ValidationErrors;
use shouwang_exchange::fill;

use super::{EditMode, get, update};
use crate::{App, Error, Result};

/// The most files one request completes.
pub const MAX_SELECTED: usize = 200;

/// What filling the selected files did.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Filled {
    /// Files that took at least one of the values.
    pub filled: usize,
    /// Files that had every field already (nothing written).
    pub unchanged: usize,
}

/// Fills `specs` (`字段=值`, one each) into every selected file that leaves the field blank.
pub async fn fill_selected(
    app: &App,
    actor: &Actor,
    ids: &[ChildId],
    specs: &[String],
) -> Result<Filled> {
    if !actor.may(Action::EditChild) {
        return Err(Error::Forbidden);
    }
    let mut e = ValidationErrors::default();
    if ids.is_empty() {
        e.add("id", "请先勾选要填写的儿童");
    } else if ids.len() > MAX_SELECTED {
        e.add("id", format!("一次最多为 {MAX_SELECTED} 名儿童填写"));
    }
    let specs: Vec<&String> = specs.iter().filter(|s| !s.trim().is_empty()).collect();
    if specs.is_empty() {
        e.add("fill", "请写明要填写的栏目和值，如“户籍性质=农业户口”");
    }
    e.into_result(())?;
    let fills = fill::parse_all(&specs).map_err(|m| ValidationErrors::single("fill", m))?;
    let mut out = Filled::default();
    let mut seen = std::collections::HashSet::new();
    for id in ids.iter().filter(|id| seen.insert(id.as_str().to_owned())) {
        let record = get(app, actor, id, false).await?;
        // Which fields this file leaves blank (the ID numbers, never shown in full, stay out).
        let mut as_is = ChildInput::from_file(&record.file);
        let taken = fill::apply(&fills, &mut as_is);
        if taken.is_empty() {
            out.unchanged += 1;
            continue;
        }
        // Only those fields change.
        let only: Vec<fill::Fill> = taken.into_iter().cloned().collect();
        let mut patch = ChildInput::default();
        fill::apply(&only, &mut patch);
        update(app, actor, id, record.version, patch, EditMode::Patch).await?;
        out.filled += 1;
    }
    Ok(out)
}
