//! Field-level change records: which fields changed, old → new. ID numbers are masked in history.

use serde::Serialize;
use serde_json::Value;

use crate::id_number::mask_id;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldChange {
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// Compares two serialisable values field by field (dotted paths), e.g. `father.phone`.
pub fn diff<T: Serialize>(old: &T, new: &T) -> Vec<FieldChange> {
    let old = serde_json::to_value(old).expect("serialisable");
    let new = serde_json::to_value(new).expect("serialisable");
    let mut a = Vec::new();
    let mut b = Vec::new();
    flatten("", &old, &mut a);
    flatten("", &new, &mut b);
    // By path (a path appears once; the first is kept if not), so a file of a hundred fields is
    // compared in one ordered walk rather than a search per field.
    let index = |pairs: Vec<(String, String)>| {
        let mut m = std::collections::BTreeMap::new();
        for (k, v) in pairs {
            m.entry(k).or_insert(v);
        }
        m
    };
    let (a, b) = (index(a), index(b));
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let mut out = Vec::new();
    for k in keys {
        let (va, vb) = (a.get(k), b.get(k));
        if va != vb {
            let masked = |v: Option<&String>| {
                if k.ends_with("id_number") {
                    v.map(|s| mask_id(s))
                } else {
                    v.cloned()
                }
            };
            out.push(FieldChange {
                field: k.clone(),
                old: masked(va),
                new: masked(vb),
            });
        }
    }
    out
}

fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::Null => {}
        Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        Value::Array(items) => out.push((
            prefix.to_owned(),
            items
                .iter()
                .map(|i| match i {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
        )),
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

/// Chinese label for a dotted field path, for the history tab: the form's label from the field
/// catalogue, or the state a lifecycle change records.
pub fn field_label(path: &str) -> String {
    if let Some(f) = crate::fields::at_path(path) {
        return f.label.to_owned();
    }
    match path {
        "status" => "状态".to_owned(),
        "exit_date" => "退出日期".to_owned(),
        other => other.to_owned(),
    }
}
