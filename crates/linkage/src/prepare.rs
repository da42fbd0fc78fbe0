//! Records as the lists give them, and their normalised form: ID numbers checked and widened to
//! 18 digits, names cleaned to half-width with toneless pinyin per character (with the surname
//! readings table), places stripped of their administrative suffixes.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use shouwang_domain::id_number::IdNumber;
use shouwang_domain::person::Sex;
use shouwang_domain::region::{Divisions, RegionCode, RegionLevel};
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

/// A record ready to compare, kept small (a million-record list is held whole): places and the
/// surname are kept as keys, since they are only ever compared for equality.
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    /// A valid ID number (18 characters, check digit verified).
    pub id: Option<Box<str>>,
    /// An ID-shaped text that failed its check (a typo): still compared digit by digit.
    pub id_raw: Option<Box<str>>,
    pub name: Option<Box<str>>,
    /// The whole name's toneless pinyin ("wangfang"), surnames read by the surname table.
    pub pinyin: Option<Box<str>>,
    /// The name's other readings where it has characters of more than one (乐 lè/yuè, 长
    /// cháng/zhǎng): a homophone written with the other reading's character still meets it.
    pub other_readings: Vec<Box<str>>,
    /// The surname's toneless pinyin.
    pub surname: Option<Key>,
    pub sex: Option<Sex>,
    pub birth: Option<NaiveDate>,
    pub county: Option<Key>,
    pub town: Option<Key>,
    pub village: Option<Key>,
}

/// A place name's core (or a surname's reading) as a key: equal texts, equal keys.
pub type Key = u64;

pub fn key_of(s: &str) -> Key {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    s.hash(&mut h);
    h.finish()
}

/// A division code as a list writes it: 6, 9 or 12 digits of a division in the shipped table.
pub fn division_code(s: &str) -> Option<RegionCode> {
    let s = s.trim();
    if !(s.len() == 6 || s.len() == 9 || s.len() == 12) || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let code = RegionCode::parse(s).ok()?;
    Divisions::shipped().get(&code).is_ok().then_some(code)
}

/// The name of a division written as its code (统计用区划代码: 522730 for 龙里县, 522730001001
/// for 冠山社区居民委员会), at the level of the column it is in: a village's full code in the
/// town column names its town.
fn division_name(s: &str, level: RegionLevel) -> Option<&'static str> {
    let code = division_code(s)?.at_level(level)?;
    Divisions::shipped().get(&code).ok().map(|d| d.name)
}

/// A place name's key: its core in simplified characters (龍山村委會 and 龙山村 are one place).
/// A list names a few thousand places a million times, so each thread remembers the keys.
fn place_key(s: &str) -> Key {
    use std::cell::RefCell;
    thread_local! {
        static KEYS: RefCell<rustc_hash::FxHashMap<Box<str>, Key>> = RefCell::default();
    }
    KEYS.with_borrow_mut(|keys| {
        if let Some(k) = keys.get(s) {
            return *k;
        }
        if keys.len() >= 100_000 {
            keys.clear();
        }
        let k = key_of(&place_core(&simplified(s.to_owned())));
        keys.insert(s.into(), k);
        k
    })
}

/// How many readings of a name are kept for blocking (the first is the usual one).
const MAX_READINGS: usize = 4;

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
        let id = parsed.as_ref().map(|n| n.as_str().into());
        let name = text(&r.name).map(|n| simplified(n.replace([' ', '·', '•'], "")));
        let (surname, pinyin, other_readings) = match &name {
            Some(n) => {
                let mut all = readings(n);
                let usual = all.remove(0);
                (
                    Some(key_of(&surname_pinyin(n))),
                    Some(usual.into_boxed_str()),
                    all.into_iter().map(String::into_boxed_str).collect(),
                )
            }
            None => (None, None, Vec::new()),
        };
        let sex = text(&r.sex)
            .and_then(|s| Sex::parse(&s))
            .or_else(|| parsed.as_ref().map(IdNumber::sex));
        let birth = birth_of(r, parsed.as_ref());
        let place = |v: &Option<String>, level: RegionLevel| {
            text(v).map(|s| match division_name(&s, level) {
                Some(name) => place_key(name),
                None => place_key(&s),
            })
        };
        Prepared {
            id,
            id_raw: id_raw.map(String::into_boxed_str),
            name: name.map(String::into_boxed_str),
            pinyin,
            other_readings,
            surname,
            sex,
            birth,
            county: place(&r.county, RegionLevel::County),
            town: place(&r.town, RegionLevel::Town),
            village: place(&r.village, RegionLevel::Village),
        }
    }

    /// The ID number as compared digit by digit: the valid one, else the damaged text.
    pub fn id_digits(&self) -> Option<&str> {
        self.id.as_deref().or(self.id_raw.as_deref())
    }

    pub fn birth_year(&self) -> Option<i32> {
        self.birth.map(|d| d.year())
    }

    /// Every reading of the name kept for blocking, the usual one first.
    pub fn all_readings(&self) -> impl Iterator<Item = &str> {
        self.pinyin
            .as_deref()
            .into_iter()
            .chain(self.other_readings.iter().map(|s| &**s))
    }
}

/// Prepares records on all cores, in order.
pub fn prepare(records: &[Record]) -> Vec<Prepared> {
    use rayon::prelude::*;
    records.par_iter().map(Prepared::of).collect()
}

/// The toneless readings of a character, its usual one first (none for a character without
/// pinyin: a letter, a rare character).
pub fn char_readings(c: char) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for r in readings_of(c) {
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

/// Two names sound alike: as many characters, and each pair the same character or sharing a
/// reading (王/汪; 乐/悦 through 乐's reading yuè).
pub fn same_sound(x: &str, y: &str) -> bool {
    x.chars().count() == y.chars().count()
        && x.chars()
            .zip(y.chars())
            .all(|(a, b)| a == b || readings_of(a).any(|r| readings_of(b).any(|s| s == r)))
}

/// A character's toneless readings, without collecting them (repeats possible).
fn readings_of(c: char) -> impl Iterator<Item = &'static str> {
    use pinyin::{ToPinyin, ToPinyinMulti};
    c.to_pinyin()
        .map(|p| p.plain())
        .into_iter()
        .chain(c.to_pinyin_multi().into_iter().flatten().map(|p| p.plain()))
}

/// A name's whole readings: the usual one (the surname by the surname table) first, then the
/// others its characters allow, at most [`MAX_READINGS`] in all.
fn readings(name: &str) -> Vec<String> {
    let (usual, _) = name_pinyin(name);
    let mut out = vec![usual];
    let per_char: Vec<Vec<&'static str>> = name.chars().map(char_readings).collect();
    if per_char.iter().all(|r| r.len() <= 1) {
        return out;
    }
    // The products of the characters' readings, in order, until the cap.
    let mut partial: Vec<String> = vec![String::new()];
    for (c, rs) in name.chars().zip(&per_char) {
        let choices: Vec<String> = if rs.is_empty() {
            vec![c.to_lowercase().collect()]
        } else {
            rs.iter().map(|r| (*r).to_owned()).collect()
        };
        partial = partial
            .iter()
            .flat_map(|p| choices.iter().map(move |r| format!("{p}{r}")))
            .take(MAX_READINGS * 4)
            .collect();
    }
    for p in partial {
        if out.len() >= MAX_READINGS {
            break;
        }
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
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

/// A place name's core: 石河村委会 → 石河. Suffixes come off until none is left, so the
/// register's 新坡村村民委员会 and a school's 新坡村 are one place (新坡), and 冠山社区居民委员会 is
/// 冠山社区 is 冠山. Division codes stay as they are.
pub fn place_core(s: &str) -> String {
    let mut s = s.trim();
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s.to_owned();
    }
    while let Some(core) = PLACE_SUFFIXES.iter().find_map(|suffix| {
        s.strip_suffix(suffix)
            .filter(|core| core.chars().count() >= 2)
    }) {
        s = core;
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
        assert_eq!(p.surname, Some(key_of("shan")));
        assert_eq!(p.pinyin.as_deref(), Some("shanxiaoming"));
        assert_eq!(p.birth, NaiveDate::from_ymd_opt(2016, 7, 31));
        assert_eq!(p.sex, Some(Sex::Male));
        // A typo breaks the check digit: kept for digit-by-digit comparison, not as an ID.
        let mut typo = id.clone().into_bytes();
        typo[10] = if typo[10] == b'9' { b'8' } else { typo[10] + 1 };
        let p = Prepared::of(&rec("王芳", std::str::from_utf8(&typo).unwrap()));
        assert_eq!(p.id, None);
        assert_eq!(p.id_raw.as_deref().map(str::len), Some(18));
        for v in [
            "石河村民委员会",
            "石河村委会",
            "石河村",
            "石河",
            "石河村村民委员会",
            "石河村村",
        ] {
            assert_eq!(place_core(v), "石河");
        }
        assert_eq!(place_core("冠山社区居民委员会"), place_core("冠山社区"));
        // A core is never cut below two characters: 新村 is 新村.
        assert_eq!(place_core("新村村民委员会"), "新村");
        // A suffix that would leave one character gives way to a shorter one: 东社区居委会 is 东社区.
        assert_eq!(place_core("东社区居委会"), place_core("东社区"));
        assert_eq!(place_core("新村"), "新村");
        // Place names in traditional characters are the same places.
        let at = |village: &str| {
            Prepared::of(&Record {
                village: Some(village.into()),
                ..Default::default()
            })
            .village
        };
        assert_eq!(at("龍山村委會"), at("龙山村"));
        assert_ne!(at("龙山村"), at("石河村"));
        // A division code is the place it names, at its column's level.
        assert_eq!(at("522730001001"), at("冠山社区"));
        let town = |town: &str| {
            Prepared::of(&Record {
                town: Some(town.into()),
                ..Default::default()
            })
            .town
        };
        assert_eq!(town("522730001001"), town("冠山街道"));
        assert_eq!(town("522730001"), town("冠山街道办事处"));
        // Digits that are no division stay digits.
        assert_ne!(at("999999999999"), at("冠山社区"));
    }

    #[test]
    fn heteronyms_give_other_readings_and_sound_alike() {
        // 乐 reads lè or yuè: 王乐 and 王悦 sound alike, and 王乐 is also blocked as wangyue.
        assert!(same_sound("王乐", "王悦"));
        assert!(same_sound("王小明", "汪晓鸣"));
        assert!(!same_sound("王乐", "王磊"));
        assert!(!same_sound("王乐", "王乐乐"));
        let p = Prepared::of(&rec("王乐", ""));
        let all: Vec<&str> = p.all_readings().collect();
        assert_eq!(all[0], "wangle");
        assert!(all.contains(&"wangyue"), "{all:?}");
        assert!(all.len() <= MAX_READINGS);
        // A name of single-reading characters has just the one.
        assert!(Prepared::of(&rec("李华", "")).other_readings.is_empty());
        // The surname table still decides the usual reading: 曾 is Zēng as a surname.
        let z = Prepared::of(&rec("曾小明", ""));
        assert_eq!(z.pinyin.as_deref(), Some("zengxiaoming"));
    }
}
