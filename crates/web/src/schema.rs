//! Shapes the API shares, and the registration form's schemas built from the field catalogue
//! (`domain::fields`): a request's fields with their types and allowed values, and a stored
//! file's nested shape. A capability's own bodies live in its module.

use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat,
    SchemaType, Type,
};

use shouwang_domain::fields::{FIELDS, Field, Kind};
use shouwang_domain::person::ETHNICITIES;

/// A list answer: `{"items": [...]}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

/// A file (a spreadsheet or a PDF), as its bytes.
pub struct Binary;

impl utoipa::PartialSchema for Binary {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}
impl ToSchema for Binary {}

/// What was created: `{"id": "..."}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: String,
}

fn nullable(t: Type) -> SchemaType {
    SchemaType::Array(vec![t, Type::Null])
}

fn string(nullable_: bool) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(if nullable_ {
        nullable(Type::String)
    } else {
        SchemaType::Type(Type::String)
    })
}

/// Both the codes and the Chinese labels of a choice are accepted in input.
fn codes_and_labels(options: &[(&str, &str)]) -> Vec<String> {
    let mut v: Vec<String> = options.iter().map(|(c, _)| (*c).to_owned()).collect();
    v.extend(options.iter().map(|(_, l)| (*l).to_owned()));
    v.dedup();
    v
}

fn describe(f: &Field, extra: &str) -> Option<String> {
    Some(format!("{}（{}）{extra}", f.label, f.group.label()))
}

/// One field as a request may send it (`null` or absent: not given).
fn input_property(f: &Field) -> RefOr<Schema> {
    let s = match f.kind {
        Kind::Text(max) => string(true)
            .max_length(Some(max))
            .description(describe(f, "")),
        Kind::Name => string(true)
            .max_length(Some(50))
            .description(describe(f, "")),
        Kind::Date => string(true)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .description(describe(f, "；也接受 2016/7/31、20160731、2016年7月31日")),
        Kind::IdNumber => string(true)
            .pattern(Some("^[0-9]{17}[0-9Xx]$"))
            .description(describe(f, "：18位公民身份号码，校验位须正确")),
        Kind::Phone => string(true)
            .max_length(Some(20))
            .description(describe(f, "：手机号或座机号")),
        Kind::Village => string(true)
            .pattern(Some("^[0-9]{12}$"))
            .description(describe(f, "：12位村级区划代码")),
        Kind::WorkPlace => string(true)
            .pattern(Some("^[0-9]{2}([0-9]{2}){0,2}$"))
            .description(describe(f, "：省或市级区划代码")),
        Kind::Sex => string(true)
            .enum_values(Some(["male", "female", "男", "女"]))
            .description(describe(f, "")),
        Kind::Ethnicity => {
            let mut v: Vec<String> = (1..=ETHNICITIES.len()).map(|i| format!("{i:02}")).collect();
            v.extend(ETHNICITIES.iter().map(|e| (*e).to_owned()));
            string(true)
                .enum_values(Some(v))
                .description(describe(f, "：民族名称或 GB 3304 两位代码"))
        }
        Kind::YesNo => ObjectBuilder::new()
            .schema_type(SchemaType::Array(vec![
                Type::Boolean,
                Type::String,
                Type::Null,
            ]))
            .description(describe(f, "：true/false，或“是”“否”")),
        Kind::Choice(o) => string(true)
            .enum_values(Some(codes_and_labels(o)))
            .description(describe(f, "：代码或中文名称均可")),
        Kind::Choices(o) => {
            return ArrayBuilder::new()
                .schema_type(nullable(Type::Array))
                .items(string(false).enum_values(Some(codes_and_labels(o))))
                .description(describe(f, "：可多选，代码或中文名称均可"))
                .into();
        }
    };
    s.into()
}

/// A request carrying the registration form's fields. `required` are the keys that must be
/// present; `extra` adds the request's own properties (`confirm_duplicate`, `version`).
pub fn child_input(required: &[&str], extra: Vec<(&str, RefOr<Schema>)>) -> Object {
    let mut o = ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    for f in FIELDS {
        o = o.property(f.key, input_property(f));
    }
    for (k, s) in extra {
        o = o.property(k, s);
    }
    for r in required {
        o = o.required(*r);
    }
    o.build()
}

/// The catalogue's required keys (what a new file needs).
pub fn required_to_register() -> Vec<&'static str> {
    FIELDS
        .iter()
        .filter(|f| f.required)
        .map(|f| f.key)
        .collect()
}

/// Whether a file always holds a value here (else it may be `null`): what a file needs, the
/// statuses (不详 is a value), and the facts stated as yes/no.
fn always_stored(f: &Field) -> bool {
    f.required
        || f.path.ends_with(".status")
        || matches!(
            f.path,
            "boarding" | "living_alone" | "entrusted_guardian.name" | "entrusted_guardian.relation"
        )
}

/// A stored value of one field, as a file's JSON holds it.
fn file_leaf(f: &Field) -> RefOr<Schema> {
    let null = !always_stored(f);
    let s = match f.kind {
        Kind::Date => string(null).format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))),
        Kind::Sex => string(false).enum_values(Some(["male", "female"])),
        Kind::Ethnicity => string(null).pattern(Some("^[0-9]{2}$")),
        Kind::YesNo => ObjectBuilder::new().schema_type(if null {
            nullable(Type::Boolean)
        } else {
            SchemaType::Type(Type::Boolean)
        }),
        Kind::Choice(o) => string(null).enum_values(Some(
            o.iter()
                .map(|(c, _)| serde_json::Value::from(*c))
                .chain(null.then_some(serde_json::Value::Null))
                .collect::<Vec<_>>(),
        )),
        Kind::Choices(o) => {
            return ArrayBuilder::new()
                .items(string(false).enum_values(Some(o.iter().map(|(c, _)| *c))))
                .description(Some(f.label))
                .into();
        }
        _ => string(null),
    };
    s.description(Some(f.label)).into()
}

/// A stored file (`ChildFile`): the catalogue's fields at their paths, with the codes the file
/// keeps (a choice is stored as its code, a yes/no as a boolean). For
/// `#[schema(schema_with = ...)]`.
pub fn child_file_schema() -> Object {
    #[derive(Default)]
    struct Node {
        leaves: Vec<(String, RefOr<Schema>)>,
        children: Vec<(String, Node)>,
    }
    fn insert(node: &mut Node, parts: &[&str], leaf: RefOr<Schema>) {
        if parts.len() == 1 {
            node.leaves.push((parts[0].to_owned(), leaf));
            return;
        }
        let i = match node.children.iter().position(|(k, _)| k == parts[0]) {
            Some(i) => i,
            None => {
                node.children.push((parts[0].to_owned(), Node::default()));
                node.children.len() - 1
            }
        };
        insert(&mut node.children[i].1, &parts[1..], leaf);
    }
    fn build(node: Node, nullable_: bool) -> Object {
        let mut o = ObjectBuilder::new()
            .schema_type(if nullable_ {
                nullable(Type::Object)
            } else {
                SchemaType::Type(Type::Object)
            })
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        for (k, s) in node.leaves {
            o = o.property(k.clone(), s).required(k);
        }
        for (k, n) in node.children {
            // 受委托监护人 is absent (null) when the parents entrusted no one.
            let child = build(n, k == "entrusted_guardian");
            o = o.property(k.clone(), child).required(k);
        }
        o.build()
    }
    let mut root = Node::default();
    for f in FIELDS {
        let parts: Vec<&str> = f.path.split('.').collect();
        insert(&mut root, &parts, file_leaf(f));
    }
    build(root, false)
}

/// A division code: 2, 4, 6, 9 or 12 digits (province … village).
pub struct DivisionCode;

impl utoipa::PartialSchema for DivisionCode {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$"))
            .description(Some("区划代码：2、4、6、9或12位"))
            .into()
    }
}
impl ToSchema for DivisionCode {}

/// Which files a roster query lists (default `on_roster`).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // documentation only: the handlers read the text and name a bad value
pub enum RosterStatus {
    OnRoster,
    Incomplete,
    NotEligible,
    AgedOut,
    Exited,
    All,
}

/// The roster's order (default `village`).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // documentation only
pub enum RosterSort {
    Village,
    Name,
    BirthDate,
}

/// `1`: yes; `0` or absent: no.
pub struct OneOrZero;

impl utoipa::PartialSchema for OneOrZero {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(["1", "0"]))
            .into()
    }
}
impl ToSchema for OneOrZero {}

/// Which items a 三方比对 query lists: one status, or `pending` (open and assigned).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // documentation only
pub enum ItemStatusFilter {
    Open,
    Assigned,
    Accepted,
    Rejected,
    Withdrawn,
    Pending,
}
