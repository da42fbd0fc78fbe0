//! Field-level change records: which fields changed, old → new. ID numbers are masked in history.

use serde::Serialize;
use serde_json::Value;

use crate::id_number::mask_id;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
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
    let mut out = Vec::new();
    let keys: std::collections::BTreeSet<&String> =
        a.iter().chain(b.iter()).map(|(k, _)| k).collect();
    for k in keys {
        let va = a.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone());
        let vb = b.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone());
        if va != vb {
            let masked = |v: Option<String>| {
                if k.ends_with("id_number") {
                    v.map(|s| mask_id(&s))
                } else {
                    v
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

/// Chinese label for a dotted field path, for the history tab.
pub fn field_label(path: &str) -> String {
    let (head, tail) = path.split_once('.').unwrap_or((path, ""));
    let head_label = match head {
        "name" => "姓名",
        "sex" => "性别",
        "ethnicity" => "民族",
        "birth_date" => "出生日期",
        "id_number" => "身份证号码",
        "hukou_registered" => "是否登记户口",
        "hukou_rural" => "农村户籍",
        "hukou_place" => "户籍所在地",
        "village_code" => "现居住村",
        "residence_address" => "现居住地",
        "health" => "身体情况",
        "boarding" => "是否寄宿",
        "schooling" => "就学情况",
        "school_name" => "就读学校",
        "living_alone" => "单独居住",
        "paternal_grandfather" => "祖父",
        "paternal_grandmother" => "祖母",
        "maternal_grandfather" => "外祖父",
        "maternal_grandmother" => "外祖母",
        "father" => "父亲",
        "mother" => "母亲",
        "entrusted_guardian" => "受委托监护人",
        "guardianship_type" => "监护类型",
        "income_sources" => "家庭经济来源",
        "assistance" => "救助帮扶情况",
        "contact" => "村(居)委会联系人",
        "manual_flags" => "重点对象标记",
        "remarks" => "备注",
        "status" => "状态",
        other => other,
    };
    let tail_label = match tail {
        "" => "",
        "name" => "姓名",
        "birth_date" => "出生日期",
        "status" => "状况",
        "id_number" => "身份证号码",
        "situation" => "情况",
        "incapacity" => "无监护能力原因",
        "work_place" => "务工地点",
        "phone" => "电话",
        "relation" => "关系",
        "address" => "地址",
        "disability_category" => "残疾类别",
        "disability_grade" => "残疾等级",
        "illness" => "患病类型",
        other => other,
    };
    if tail_label.is_empty() {
        head_label.to_owned()
    } else {
        format!("{head_label}·{tail_label}")
    }
}
