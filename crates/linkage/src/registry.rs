//! Children of the registry as the engine reads them: the names of their county, town and village
//! from the shipped division table (the province and city are the same for everyone compared).

use shouwang_domain::child::ChildFile;
use shouwang_domain::region::{Divisions, RegionCode};

use crate::Record;

/// A registry child as the linkage engine reads it, with the names of its county, town and
/// village (the province and city are the same for everyone compared).
pub fn registry_record(
    record_id: &str,
    name: &str,
    sex: &str,
    birth: &str,
    village: &RegionCode,
    id_number: Option<&str>,
) -> Record {
    let names: Vec<String> = Divisions::shipped()
        .lineage(village)
        .map(|l| l.iter().map(|d| d.name.to_owned()).collect())
        .unwrap_or_default();
    let tail = |k: usize| {
        names
            .len()
            .checked_sub(k)
            .and_then(|i| names.get(i))
            .cloned()
    };
    Record {
        record_id: record_id.to_owned(),
        name: Some(name.to_owned()),
        sex: Some(sex.to_owned()),
        birth_date: Some(birth.to_owned()),
        id_number: id_number.map(str::to_owned),
        county: tail(3),
        town: tail(2),
        village: tail(1),
    }
}

/// A child's file as the linkage engine reads it.
pub fn file_record(record_id: &str, f: &ChildFile) -> Record {
    registry_record(
        record_id,
        f.name.as_str(),
        f.sex.label(),
        &f.birth_date.to_string(),
        &f.village_code,
        f.id_number.as_ref().map(|n| n.as_str()),
    )
}
