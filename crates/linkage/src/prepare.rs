//! Records as the lists give them, and their normalised form: ID numbers checked and widened to
//! 18 digits, names cleaned to half-width with toneless pinyin per character (with the surname
//! readings table), places stripped of their administrative suffixes.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use shouwang_domain::id_number::IdNumber;
use shouwang_domain::person::Sex;
use shouwang_domain::text::{clean, name_pinyin, surname_pinyin};

/// A person in one of the lists. Every field but the record id may be missing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Record {
    pub record_id: String,
    pub name: Option<String>,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    pub id_number: Option<String>,
    pub county: Option<String>,
    pub town: Option<String>,
    pub village: Option<String>,
}

/// A record ready to compare.
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    /// A valid ID number (18 characters, check digit verified).
    pub id: Option<String>,
    /// An ID-shaped text that failed its check (a typo): still compared digit by digit.
    pub id_raw: Option<String>,
    pub name: Option<String>,
    /// The surname's toneless pinyin, and the whole name's ("wangfang").
    pub surname_pinyin: Option<String>,
    pub pinyin: Option<String>,
    /// Toneless pinyin of each character of the name.
    pub syllables: Vec<String>,
    pub sex: Option<Sex>,
    pub birth: Option<NaiveDate>,
    pub county: Option<String>,
    pub town: Option<String>,
    pub village: Option<String>,
}

/// A cell's text, cleaned; empty and dash-only cells are missing.
fn text(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(clean)
        .filter(|s| !s.is_empty() && s != "-" && s != "—")
}

/// A record's ID number: parsed when it passes its check, else its digits when they look like an
/// ID number (a typo, still compared digit by digit).
pub fn id_of(r: &Record) -> (Option<IdNumber>, Option<String>) {
    match text(&r.id_number) {
        Some(s) => match IdNumber::parse(&s) {
            Ok(n) => (Some(n), None),
            Err(_) => {
                let digits: String = s
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric())
                    .map(|c| c.to_ascii_uppercase())
                    .collect();
                (None, (digits.len() >= 15).then_some(digits))
            }
        },
        None => (None, None),
    }
}

/// A record's birth date: as written, else from its valid ID number.
pub fn birth_of(r: &Record, id: Option<&IdNumber>) -> Option<NaiveDate> {
    text(&r.birth_date)
        .and_then(|s| shouwang_domain::input::parse_date(&s))
        .or_else(|| id.map(IdNumber::birth_date))
}

impl Prepared {
    pub fn of(r: &Record) -> Prepared {
        let (parsed, id_raw) = id_of(r);
        let id = parsed.as_ref().map(|n| n.as_str().to_owned());
        let name = text(&r.name).map(|n| simplified(n.replace([' ', '·', '•'], "")));
        let (surname_pinyin, pinyin, syllables) = match &name {
            Some(n) => {
                let (full, _) = name_pinyin(n);
                (Some(surname_pinyin(n)), Some(full), syllables_of(n))
            }
            None => (None, None, Vec::new()),
        };
        let sex = text(&r.sex)
            .and_then(|s| Sex::parse(&s))
            .or_else(|| parsed.as_ref().map(IdNumber::sex));
        let birth = birth_of(r, parsed.as_ref());
        Prepared {
            id,
            id_raw,
            name,
            surname_pinyin,
            pinyin,
            syllables,
            sex,
            birth,
            county: text(&r.county).map(|s| place_core(&s)),
            town: text(&r.town).map(|s| place_core(&s)),
            village: text(&r.village).map(|s| place_core(&s)),
        }
    }

    /// The ID number as compared digit by digit: the valid one, else the damaged text.
    pub fn id_digits(&self) -> Option<&str> {
        self.id.as_deref().or(self.id_raw.as_deref())
    }

    pub fn birth_year(&self) -> Option<i32> {
        self.birth.map(|d| d.year())
    }
}

/// Toneless pinyin of each character (the character itself where it has none).
fn syllables_of(name: &str) -> Vec<String> {
    use pinyin::ToPinyin;
    name.chars()
        .zip(name.to_pinyin())
        .map(|(c, p)| match p {
            Some(p) => p.plain().to_owned(),
            None => c.to_lowercase().collect(),
        })
        .collect()
}

/// Administrative suffixes, longest first: 石河村民委员会 / 石河村委会 / 石河村 / 石河 are one place.
const PLACE_SUFFIXES: &[&str] = &[
    "村民委员会",
    "居民委员会",
    "社区居委会",
    "村委会",
    "居委会",
    "街道办事处",
    "街道",
    "社区",
    "自治县",
    "村",
    "镇",
    "乡",
    "县",
    "区",
    "市",
];

/// The name in simplified characters: a list typed in traditional characters (陳曉東, from a
/// Hong Kong or Taiwan document, or an old household register) names the same child as 陈晓东.
pub fn simplified(s: String) -> String {
    static CONVERTER: std::sync::OnceLock<Option<ferrous_opencc::OpenCC>> =
        std::sync::OnceLock::new();
    if s.is_ascii() {
        return s;
    }
    match CONVERTER.get_or_init(|| {
        ferrous_opencc::OpenCC::from_config(ferrous_opencc::config::BuiltinConfig::T2s).ok()
    }) {
        Some(cc) => cc.convert(&s),
        None => s,
    }
}

/// A place name's core: 石河村委会 → 石河. Division codes stay as they are.
pub fn place_core(s: &str) -> String {
    let s = s.trim();
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s.to_owned();
    }
    for suffix in PLACE_SUFFIXES {
        if let Some(core) = s.strip_suffix(suffix)
            && core.chars().count() >= 2
        {
            return core.to_owned();
        }
    }
    s.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(name: &str, id: &str) -> Record {
        Record {
            record_id: "1".into(),
            name: Some(name.into()),
            id_number: Some(id.into()),
            ..Default::default()
        }
    }

    #[test]
    fn ids_names_and_places_are_normalised() {
        let id = shouwang_domain::sample::id_number_for(
            "522730",
            NaiveDate::from_ymd_opt(2016, 7, 31).unwrap(),
            13,
        );
        // Traditional characters read as simplified; simplified names stay as they are.
        let t = Prepared::of(&rec("陳曉東", &id));
        assert_eq!(t.name.as_deref(), Some("陈晓东"));
        assert_eq!(t.pinyin.as_deref(), Some("chenxiaodong"));
        assert_eq!(
            Prepared::of(&rec("欧阳娜娜", &id)).name.as_deref(),
            Some("欧阳娜娜")
        );
        let p = Prepared::of(&rec(" 单 小明 ", &id));
        assert_eq!(p.id.as_deref(), Some(id.as_str()));
        assert_eq!(p.name.as_deref(), Some("单小明"));
        assert_eq!(p.surname_pinyin.as_deref(), Some("shan"));
        assert_eq!(p.pinyin.as_deref(), Some("shanxiaoming"));
        assert_eq!(p.birth, NaiveDate::from_ymd_opt(2016, 7, 31));
        assert_eq!(p.sex, Some(Sex::Male));
        // A typo breaks the check digit: kept for digit-by-digit comparison, not as an ID.
        let mut typo = id.clone().into_bytes();
        typo[10] = if typo[10] == b'9' { b'8' } else { typo[10] + 1 };
        let p = Prepared::of(&rec("王芳", std::str::from_utf8(&typo).unwrap()));
        assert_eq!(p.id, None);
        assert_eq!(p.id_raw.as_deref().map(str::len), Some(18));
        for v in ["石河村民委员会", "石河村委会", "石河村", "石河"] {
            assert_eq!(place_core(v), "石河");
        }
    }
}
