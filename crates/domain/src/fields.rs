//! The registration form's fields, defined once: the 《农村留守儿童基本情况登记表》 (民发〔2016〕42号
//! 附件1) as Shouwang keeps it. Each field's key (the web form's and the API's name, see
//! [`crate::input::ChildInput`]), where it is stored in a [`crate::child::ChildFile`], its
//! Chinese label, its type and allowed values, its group on the form, whether a file needs it,
//! and which printed outputs carry it. The input parser's messages, the history's labels, the
//! importer's column targets, the form page and the OpenAPI schema all read it from here.

use crate::child::{
    Assistance, DisabilityCategory, DisabilityGrade, GuardianRelation, GuardianshipType, Harm,
    HealthStatus, IncapacityReason, IncomeSource, KinStatus, ManualFlag, ParentSituation,
    Schooling,
};

/// What a field holds and how it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Free text, at most this many characters.
    Text(usize),
    /// A person's name (Chinese characters, ·, or a foreign name in letters).
    Name,
    /// A date: 2016-07-31 (also 2016/7/31, 2016.7.31, 20160731, 2016年7月31日).
    Date,
    /// A 18-character 公民身份号码 (GB 11643) with a valid check character.
    IdNumber,
    /// A mobile (11 digits) or landline number.
    Phone,
    /// A 12-digit village (社区) division code.
    Village,
    /// A province or prefecture division code (附件1 note 7: 务工地点填到省、市).
    WorkPlace,
    /// 男 / 女.
    Sex,
    /// One of the 56 ethnic groups, by name or two-digit GB 3304 code.
    Ethnicity,
    /// 是 / 否.
    YesNo,
    /// One of these `(code, label)` values; either is accepted.
    Choice(&'static [(&'static str, &'static str)]),
    /// Any number of these `(code, label)` values.
    Choices(&'static [(&'static str, &'static str)]),
}

/// Where a field sits on the form (the 登记表's sections).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    Child,
    Family,
    Guardian,
    Guardianship,
    Support,
    Contact,
}

impl Group {
    pub const ALL: [Group; 6] = [
        Group::Child,
        Group::Family,
        Group::Guardian,
        Group::Guardianship,
        Group::Support,
        Group::Contact,
    ];
    /// The section's name in templates and requests.
    pub fn key(self) -> &'static str {
        match self {
            Group::Child => "child",
            Group::Family => "family",
            Group::Guardian => "guardian",
            Group::Guardianship => "guardianship",
            Group::Support => "support",
            Group::Contact => "contact",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Group::Child => "一、个人基本情况",
            Group::Family => "二、家庭情况",
            Group::Guardian => "三、受委托监护人",
            Group::Guardianship => "四、监护类型",
            Group::Support => "五、家庭经济来源与救助帮扶",
            Group::Contact => "六、村（居）委会联系人与其他",
        }
    }
}

/// One field of the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The name in a web form or an API body (`father_work_place`).
    pub key: &'static str,
    /// Where a file keeps it, as a history entry names it (`father.work_place`).
    pub path: &'static str,
    /// The label on its own, as a message or a column title says it (父亲务工地点).
    pub label: &'static str,
    /// The label under its heading on the form (务工地点 under 父亲).
    pub short: &'static str,
    pub kind: Kind,
    pub group: Group,
    /// Needed to create a file at all: what identifies and places the child. Everything else
    /// left blank makes the file 待补充 (`eligibility::missing_fields`).
    pub required: bool,
    /// Printed on the 花名册 (the 登记表 prints every field).
    pub on_roster: bool,
}

macro_rules! fields {
    ($($key:literal @ $path:literal => ($label:literal, $short:literal, $kind:expr, $group:ident $(, $flag:ident)*)),+ $(,)?) => {
        /// Every field of the registration form, in the form's order.
        pub const FIELDS: &[Field] = &[$(Field {
            key: $key,
            path: $path,
            label: $label,
            short: $short,
            kind: $kind,
            group: Group::$group,
            required: fields!(@has required $($flag)*),
            on_roster: fields!(@has roster $($flag)*),
        }),+];
    };
    (@has $want:ident) => { false };
    (@has required required $($rest:ident)*) => { true };
    (@has roster roster $($rest:ident)*) => { true };
    (@has $want:ident $other:ident $($rest:ident)*) => { fields!(@has $want $($rest)*) };
}

use Kind::*;

const KIN: &[(&str, &str)] = KinStatus::OPTIONS;

fields! {
    "name" @ "name" => ("姓名", "姓名", Name, Child, required, roster),
    "sex" @ "sex" => ("性别", "性别", Sex, Child, required, roster),
    "ethnicity" @ "ethnicity" => ("民族", "民族", Ethnicity, Child, roster),
    "birth_date" @ "birth_date" => ("出生日期", "出生日期", Date, Child, required, roster),
    "id_number" @ "id_number" => ("公民身份号码", "公民身份号码", IdNumber, Child, roster),
    "hukou_registered" @ "hukou_registered" => ("是否登记户口", "是否登记户口", YesNo, Child),
    "hukou_rural" @ "hukou_rural" => ("是否农村户籍", "是否农村户籍", YesNo, Child),
    "hukou_place" @ "hukou_place" => ("户籍所在地", "户籍所在地", Text(100), Child),
    "village_code" @ "village_code" => ("现居住村（社区）", "现居住村（社区）", Village, Child, required, roster),
    "residence_address" @ "residence_address" => ("现居住地址", "现居住地址", Text(100), Child),
    "health" @ "health.status" => ("身体情况", "身体情况", Choice(HealthStatus::OPTIONS), Child, roster),
    "disability_category" @ "health.disability_category" => ("残疾类别", "残疾类别", Choice(DisabilityCategory::OPTIONS), Child, roster),
    "disability_grade" @ "health.disability_grade" => ("残疾等级", "残疾等级", Choice(DisabilityGrade::OPTIONS), Child, roster),
    "illness" @ "health.illness" => ("患病类型", "患病类型", Text(50), Child, roster),
    "schooling" @ "schooling" => ("就学情况", "就学情况", Choice(Schooling::OPTIONS), Child, roster),
    "school_name" @ "school_name" => ("就读学校", "就读学校", Text(60), Child, roster),
    "boarding" @ "boarding" => ("是否学校寄宿", "是否学校寄宿", YesNo, Child, roster),
    "living_alone" @ "living_alone" => ("是否脱离监护单独居住", "是否脱离监护单独居住", YesNo, Child),
    "paternal_grandfather_status" @ "paternal_grandfather.status" => ("祖父状况", "祖父状况", Choice(KIN), Family),
    "paternal_grandfather_name" @ "paternal_grandfather.name" => ("祖父姓名", "祖父姓名", Name, Family),
    "paternal_grandfather_birth_date" @ "paternal_grandfather.birth_date" => ("祖父出生日期", "祖父出生日期", Date, Family),
    "paternal_grandmother_status" @ "paternal_grandmother.status" => ("祖母状况", "祖母状况", Choice(KIN), Family),
    "paternal_grandmother_name" @ "paternal_grandmother.name" => ("祖母姓名", "祖母姓名", Name, Family),
    "paternal_grandmother_birth_date" @ "paternal_grandmother.birth_date" => ("祖母出生日期", "祖母出生日期", Date, Family),
    "maternal_grandfather_status" @ "maternal_grandfather.status" => ("外祖父状况", "外祖父状况", Choice(KIN), Family),
    "maternal_grandfather_name" @ "maternal_grandfather.name" => ("外祖父姓名", "外祖父姓名", Name, Family),
    "maternal_grandfather_birth_date" @ "maternal_grandfather.birth_date" => ("外祖父出生日期", "外祖父出生日期", Date, Family),
    "maternal_grandmother_status" @ "maternal_grandmother.status" => ("外祖母状况", "外祖母状况", Choice(KIN), Family),
    "maternal_grandmother_name" @ "maternal_grandmother.name" => ("外祖母姓名", "外祖母姓名", Name, Family),
    "maternal_grandmother_birth_date" @ "maternal_grandmother.birth_date" => ("外祖母出生日期", "外祖母出生日期", Date, Family),
    "father_status" @ "father.status" => ("父亲状况", "父亲状况", Choice(KIN), Family),
    "father_name" @ "father.name" => ("父亲姓名", "父亲姓名", Name, Family, roster),
    "father_birth_date" @ "father.birth_date" => ("父亲出生日期", "父亲出生日期", Date, Family),
    "father_id_number" @ "father.id_number" => ("父亲身份证号码", "身份证号码", IdNumber, Family),
    "father_situation" @ "father.situation" => ("父亲目前情况", "父亲目前情况", Choice(ParentSituation::OPTIONS), Family, roster),
    "father_incapacity" @ "father.incapacity" => ("父亲无监护能力原因", "无监护能力原因", Choice(IncapacityReason::OPTIONS), Family),
    "father_work_place" @ "father.work_place" => ("父亲务工地点", "当前务工地点（省、市）", WorkPlace, Family, roster),
    "father_phone" @ "father.phone" => ("父亲联系电话", "联系电话", Phone, Family, roster),
    "mother_status" @ "mother.status" => ("母亲状况", "母亲状况", Choice(KIN), Family),
    "mother_name" @ "mother.name" => ("母亲姓名", "母亲姓名", Name, Family, roster),
    "mother_birth_date" @ "mother.birth_date" => ("母亲出生日期", "母亲出生日期", Date, Family),
    "mother_id_number" @ "mother.id_number" => ("母亲身份证号码", "身份证号码", IdNumber, Family),
    "mother_situation" @ "mother.situation" => ("母亲目前情况", "母亲目前情况", Choice(ParentSituation::OPTIONS), Family, roster),
    "mother_incapacity" @ "mother.incapacity" => ("母亲无监护能力原因", "无监护能力原因", Choice(IncapacityReason::OPTIONS), Family),
    "mother_work_place" @ "mother.work_place" => ("母亲务工地点", "当前务工地点（省、市）", WorkPlace, Family, roster),
    "mother_phone" @ "mother.phone" => ("母亲联系电话", "联系电话", Phone, Family, roster),
    "entrusted" @ "entrusted" => ("父母外出是否委托其他监护人", "父母外出是否委托其他监护人", YesNo, Guardian),
    "guardian_name" @ "entrusted_guardian.name" => ("受委托监护人姓名", "受委托监护人姓名", Name, Guardian, roster),
    "guardian_relation" @ "entrusted_guardian.relation" => ("与被监护人关系", "与儿童关系", Choice(GuardianRelation::OPTIONS), Guardian, roster),
    "guardian_phone" @ "entrusted_guardian.phone" => ("受委托监护人电话", "联系电话", Phone, Guardian, roster),
    "guardian_id_number" @ "entrusted_guardian.id_number" => ("受委托监护人身份证号码", "身份证号码", IdNumber, Guardian),
    "guardian_address" @ "entrusted_guardian.address" => ("受委托监护人居住地址", "居住地址", Text(100), Guardian),
    "guardianship_type" @ "guardianship_type" => ("监护类型", "监护类型", Choice(GuardianshipType::OPTIONS), Guardianship, roster),
    "income_sources" @ "income_sources" => ("家庭经济来源", "家庭经济来源", Choices(IncomeSource::OPTIONS), Support),
    "assistance" @ "assistance" => ("救助帮扶情况", "救助帮扶情况", Choices(Assistance::OPTIONS), Support),
    "contact_name" @ "contact.name" => ("村（居）委会联系人", "村（居）委会联系人", Name, Contact, roster),
    "contact_phone" @ "contact.phone" => ("联系人电话", "联系电话", Phone, Contact, roster),
    "manual_flags" @ "manual_flags" => ("重点对象人工标记", "重点对象人工标记", Choices(ManualFlag::OPTIONS), Contact),
    "harm" @ "harm" => ("因监护缺失或不当遭受侵害情况", "遭受侵害情况", Choices(Harm::OPTIONS), Contact),
    "remarks" @ "remarks" => ("备注", "备注", Text(500), Contact, roster),
}

/// The field of a form or API key.
pub fn field(key: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.key == key)
}

/// The label of a form or API key; the key itself if it is not a field (never panics on a key
/// that came from outside).
pub fn label(key: &str) -> &str {
    field(key).map_or(key, |f| f.label)
}

/// The field stored at a dotted path of a file, as history entries name them.
pub fn at_path(path: &str) -> Option<&'static Field> {
    // Entries written before 是否委托 was kept on its own name the carer's whole record.
    let path = if path == "entrusted_guardian" {
        "entrusted"
    } else {
        path
    };
    FIELDS.iter().find(|f| f.path == path)
}

/// The choices a field offers, if it is a choice.
pub fn options(key: &str) -> &'static [(&'static str, &'static str)] {
    match field(key).map(|f| f.kind) {
        Some(Choice(o) | Choices(o)) => o,
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::ChildInput;

    #[test]
    fn every_input_field_is_in_the_catalogue_and_every_field_is_an_input() {
        let keys: Vec<String> = serde_json::to_value(ChildInput::default())
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        for k in &keys {
            assert!(field(k).is_some(), "{k} is not in the catalogue");
        }
        for f in FIELDS {
            assert!(keys.iter().any(|k| k == f.key), "{} is not an input", f.key);
        }
        assert_eq!(keys.len(), FIELDS.len());
    }

    #[test]
    fn keys_paths_and_labels_are_each_used_once() {
        for (i, a) in FIELDS.iter().enumerate() {
            for b in &FIELDS[i + 1..] {
                assert_ne!(a.key, b.key);
                assert_ne!(a.path, b.path);
                assert_ne!(a.label, b.label, "{} and {}", a.key, b.key);
            }
        }
    }

    #[test]
    fn a_file_needs_what_identifies_and_places_the_child() {
        let required: Vec<&str> = FIELDS
            .iter()
            .filter(|f| f.required)
            .map(|f| f.key)
            .collect();
        assert_eq!(required, ["name", "sex", "birth_date", "village_code"]);
    }

    #[test]
    fn every_path_is_where_a_file_keeps_the_field() {
        // A file with every part present; each catalogue path must name one of its leaves or
        // objects, so history entries find their labels.
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let birth = chrono::NaiveDate::from_ymd_opt(2016, 7, 31).unwrap();
        let file = crate::sample::left_behind_boy("522730001001", birth)
            .parse(&crate::input::ParseContext {
                today,
                divisions: crate::region::Divisions::shipped(),
            })
            .unwrap();
        let v = serde_json::to_value(&file).unwrap();
        for f in FIELDS {
            let mut at = &v;
            for part in f.path.split('.') {
                at = at
                    .get(part)
                    .unwrap_or_else(|| panic!("{} is not in a file", f.path));
            }
        }
    }
}
