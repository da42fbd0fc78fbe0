//! What a whole file states once: `--fill 户籍性质=农业户口` (or the import page's same choice)
//! names a field by the field catalogue's key or label, or by a header a county uses for it, and
//! a value as a cell would hold it; every row that leaves the field blank takes it. The value is
//! read as a cell is (农业户口 → 是), so a fill says nothing a column could not.

use shouwang_domain::fields;
use shouwang_domain::input::ChildInput;

use crate::columns::{self, Kind, Target};
use crate::sheet::Cell;
use crate::values;

/// One field filled in every row that leaves it blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fill {
    /// The registration form's field key.
    pub key: &'static str,
    /// The catalogue's label, for messages and history.
    pub label: &'static str,
    /// The value as the form takes it (是 / a code list's label…; several joined by 、).
    pub value: String,
    /// The value in the form's shape: a text, or a list for a field of several choices.
    form_value: serde_json::Value,
}

/// Fields that tell one child from another: a whole file cannot state them once.
const PER_CHILD: [&str; 5] = ["name", "sex", "birth_date", "id_number", "village_code"];

/// Parses `列名=值`. The error names what is wrong, in Chinese.
pub fn parse(spec: &str) -> Result<Fill, String> {
    let Some((name, value)) = spec.split_once('=').or_else(|| spec.split_once('＝')) else {
        return Err(format!("“{spec}”应写成 字段=值，例如 户籍性质=农业户口"));
    };
    let (name, value) = (name.trim(), value.trim());
    let target = target_named(name).ok_or_else(|| format!("没有名为“{name}”的字段"))?;
    if PER_CHILD.contains(&target.key) {
        return Err(format!("{}因人而异，不能为整个文件统一填写", target.label));
    }
    if !matches!(
        target.kind,
        Kind::Text | Kind::Date | Kind::Bool | Kind::Phone | Kind::Choice | Kind::Multi
    ) {
        return Err(format!("{}不能统一填写", target.label));
    }
    if value.is_empty() {
        return Err(format!("请写出{}的值", target.label));
    }
    let cell = Cell::Text(value.to_owned());
    let (value, form_value) = if target.kind == Kind::Multi {
        let items = values::multi(target.key, &cell)
            .map_err(|e| format!("{}：{e}", target.label))?
            .ok_or_else(|| format!("请写出{}的值", target.label))?;
        (items.join("、"), serde_json::json!(items))
    } else {
        let v = values::read(target.kind, target.key, &cell)
            .map_err(|e| format!("{}：{e}", target.label))?
            .ok_or_else(|| format!("请写出{}的值", target.label))?;
        (v.clone(), serde_json::Value::String(v))
    };
    Ok(Fill {
        key: target.key,
        label: target.label,
        value,
        form_value,
    })
}

/// Parses every `--fill` (or the import page's fills): each as [`parse`], and a field named twice
/// is refused (which value would the file state?).
pub fn parse_all<S: AsRef<str>>(specs: &[S]) -> Result<Vec<Fill>, String> {
    let mut fills: Vec<Fill> = Vec::with_capacity(specs.len());
    for spec in specs {
        let f = parse(spec.as_ref())?;
        if fills.iter().any(|g| g.key == f.key) {
            return Err(format!("{}写了两次", f.label));
        }
        fills.push(f);
    }
    Ok(fills)
}

/// Fills the row's blank fields; returns the fills it took (a field the row states keeps the
/// row's value: the file's own cell is the more particular statement).
pub fn apply<'f>(fills: &'f [Fill], input: &mut ChildInput) -> Vec<&'f Fill> {
    if fills.is_empty() {
        return Vec::new();
    }
    let serde_json::Value::Object(mut fields) =
        serde_json::to_value(&*input).expect("serialisable")
    else {
        return Vec::new();
    };
    let mut taken = Vec::new();
    for f in fills {
        let blank = fields.get(f.key).is_none_or(|v| {
            v.is_null()
                || v.as_str().is_some_and(|s| s.trim().is_empty())
                || v.as_array().is_some_and(Vec::is_empty)
        });
        if blank {
            fields.insert(f.key.to_owned(), f.form_value.clone());
            taken.push(f);
        }
    }
    if taken.is_empty() {
        return taken;
    }
    // Every fill holds a value of its field's shape (text, or a list for several choices), so
    // the form takes it back.
    *input = serde_json::from_value(serde_json::Value::Object(fields))
        .expect("a fill's value has its field's shape");
    taken
}

/// A field by its key (hukou_rural), the catalogue's label or short label (是否农村户籍), or a
/// header counties use for it (户籍性质).
fn target_named(name: &str) -> Option<&'static Target> {
    columns::target(name)
        .or_else(|| {
            fields::FIELDS
                .iter()
                .find(|f| f.label == name || f.short == name)
                .and_then(|f| columns::target(f.key))
        })
        .or_else(|| columns::key_of_header(name).and_then(columns::target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_by_a_counties_header_its_label_or_key_takes_the_value_a_cell_would() {
        for spec in ["户籍性质=农业户口", "是否农村户籍=是", "hukou_rural=农村"] {
            let f = parse(spec).unwrap();
            assert_eq!((f.key, f.value.as_str()), ("hukou_rural", "是"), "{spec}");
        }
        assert_eq!(parse("是否登记户口＝是").unwrap().key, "hukou_registered");
    }

    #[test]
    fn a_fill_takes_only_the_blank_fields() {
        let fills = [
            parse("户籍性质=农业户口").unwrap(),
            parse("民族=汉族").unwrap(),
        ];
        let mut input = ChildInput {
            ethnicity: Some("苗族".into()),
            ..Default::default()
        };
        let taken = apply(&fills, &mut input);
        assert_eq!(taken.len(), 1);
        assert_eq!(input.hukou_rural.as_deref(), Some("是"));
        assert_eq!(input.ethnicity.as_deref(), Some("苗族"));
    }

    #[test]
    fn a_field_of_several_choices_is_filled_as_a_list() {
        let fills = parse_all(&["救助帮扶情况=低保、临时救助"]).unwrap();
        let mut input = ChildInput::default();
        assert_eq!(apply(&fills, &mut input).len(), 1);
        let stated = input.assistance.clone().unwrap();
        assert_eq!(stated.len(), 2, "{stated:?}");
        assert_eq!(fills[0].value, stated.join("、"));
        // A row that states its own keeps them.
        let mut own = ChildInput {
            assistance: Some(vec!["特困供养".into()]),
            ..Default::default()
        };
        assert!(apply(&fills, &mut own).is_empty());
        assert_eq!(own.assistance.unwrap(), vec!["特困供养".to_owned()]);
    }

    #[test]
    fn what_a_whole_file_cannot_state_is_refused_with_the_reason() {
        assert!(parse("户籍性质").unwrap_err().contains("字段=值"));
        assert!(
            parse("星座=白羊")
                .unwrap_err()
                .contains("没有名为“星座”的字段")
        );
        assert!(
            parse("姓名=张三")
                .unwrap_err()
                .contains("不能为整个文件统一填写")
        );
        assert!(parse("户籍性质=居民户口").unwrap_err().contains("居民户口"));
        assert!(parse("户籍性质= ").unwrap_err().contains("请写出"));
        assert!(
            parse_all(&["户籍性质=农业户口", "是否农村户籍=否"])
                .unwrap_err()
                .contains("写了两次")
        );
    }
}
