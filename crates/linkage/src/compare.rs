//! Field comparisons, each into agreement levels from the strongest to the weakest, as a person
//! checking two lists would judge them: the same name, the same sound (王/汪), one character
//! different; the same birth date, day and month swapped, one digit off; and so on.

use chrono::{Datelike, NaiveDate};

use crate::prepare::{Key, Prepared};

/// The fields compared, in pattern order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Name,
    Birth,
    Id,
    Sex,
    Place,
}

pub const FIELDS: [Field; 5] = [
    Field::Name,
    Field::Birth,
    Field::Id,
    Field::Sex,
    Field::Place,
];

impl Field {
    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "姓名",
            Field::Birth => "出生日期",
            Field::Id => "身份证号码",
            Field::Sex => "性别",
            Field::Place => "住址",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Birth => "birth_date",
            Field::Id => "id_number",
            Field::Sex => "sex",
            Field::Place => "address",
        }
    }

    /// The agreement levels, strongest first; the last is "different".
    pub fn levels(self) -> &'static [&'static str] {
        match self {
            Field::Name => &["相同", "同音", "一字之差", "拼音相近", "不同"],
            // A day off crosses a month as often as not (04-09 / 04-10): as near as one digit.
            Field::Birth => &["相同", "日月颠倒", "一位数字不同或相差一天", "不同"],
            // One digit apart with one number failing its check is a typo; with both numbers
            // valid it is as likely twins or siblings (consecutive sequence numbers).
            Field::Id => &[
                "相同",
                "一位数字不同或相邻两位颠倒",
                "相近但双方均有效",
                "不同",
            ],
            Field::Sex => &["相同", "不同"],
            Field::Place => &["同村", "同乡镇", "同县", "不同"],
        }
    }
}

/// A field that one of the records lacks.
pub const MISSING: u8 = u8::MAX;

/// The agreement level of each field ([`MISSING`] where a record lacks it).
pub type Pattern = [u8; 5];

pub fn compare(a: &Prepared, b: &Prepared) -> Pattern {
    [
        name_level(a, b),
        birth_level(a.birth, b.birth),
        id_level(a, b),
        match (a.sex, b.sex) {
            (Some(x), Some(y)) => u8::from(x != y),
            _ => MISSING,
        },
        place_level(a, b),
    ]
}

fn name_level(a: &Prepared, b: &Prepared) -> u8 {
    let (Some(x), Some(y)) = (&a.name, &b.name) else {
        return MISSING;
    };
    if x == y {
        return 0;
    }
    if a.pinyin == b.pinyin || crate::prepare::same_sound(x, y) {
        return 1;
    }
    if one_char_apart(x, y) {
        return 2;
    }
    match (&a.pinyin, &b.pinyin) {
        (Some(p), Some(q)) if strsim::jaro_winkler(p, q) >= 0.9 => 3,
        _ => 4,
    }
}

/// Same length with one character different, or one character more.
fn one_char_apart(x: &str, y: &str) -> bool {
    let a: Vec<char> = x.chars().collect();
    let b: Vec<char> = y.chars().collect();
    match a.len() as isize - b.len() as isize {
        0 => a.iter().zip(&b).filter(|(p, q)| p != q).count() == 1,
        1 => (0..a.len()).any(|i| a[..i] == b[..i] && a[i + 1..] == b[i..]),
        -1 => (0..b.len()).any(|i| b[..i] == a[..i] && b[i + 1..] == a[i..]),
        _ => false,
    }
}

fn birth_level(a: Option<NaiveDate>, b: Option<NaiveDate>) -> u8 {
    let (Some(x), Some(y)) = (a, b) else {
        return MISSING;
    };
    if x == y {
        0
    } else if x.year() == y.year() && x.month() == y.day() && x.day() == y.month() {
        1
    } else if (x - y).num_days().abs() == 1
        || digits_apart(
            &x.format("%Y%m%d").to_string(),
            &y.format("%Y%m%d").to_string(),
        ) == 1
    {
        2
    } else {
        3
    }
}

fn digits_apart(x: &str, y: &str) -> usize {
    if x.len() != y.len() {
        return usize::MAX;
    }
    x.bytes().zip(y.bytes()).filter(|(p, q)| p != q).count()
}

fn id_level(a: &Prepared, b: &Prepared) -> u8 {
    let (Some(x), Some(y)) = (a.id_digits(), b.id_digits()) else {
        return MISSING;
    };
    if x == y {
        return 0;
    }
    if x.len() == y.len() {
        let diff: Vec<usize> = x
            .bytes()
            .zip(y.bytes())
            .enumerate()
            .filter(|(_, (p, q))| p != q)
            .map(|(i, _)| i)
            .collect();
        let transposed = diff.len() == 2
            && diff[1] == diff[0] + 1
            && x.as_bytes()[diff[0]] == y.as_bytes()[diff[1]]
            && x.as_bytes()[diff[1]] == y.as_bytes()[diff[0]];
        // The check digit follows from the others: a typo in one of the first 17 changes it too.
        let one_digit = diff.len() == 1 || (diff.len() == 2 && diff[1] == x.len() - 1);
        if transposed || one_digit {
            return if a.id.is_some() && b.id.is_some() {
                2
            } else {
                1
            };
        }
    }
    3
}

fn place_level(a: &Prepared, b: &Prepared) -> u8 {
    let same = |x: &Option<Key>, y: &Option<Key>| match (x, y) {
        (Some(p), Some(q)) => Some(p == q),
        _ => None,
    };
    let village = same(&a.village, &b.village);
    let town = same(&a.town, &b.town);
    let county = same(&a.county, &b.county);
    if village.is_none() && town.is_none() && county.is_none() {
        return MISSING;
    }
    if village == Some(true) && town != Some(false) && county != Some(false) {
        0
    } else if town == Some(true) && county != Some(false) {
        1
    } else if county == Some(true) {
        2
    } else {
        3
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prepare::Record;

    fn p(name: &str, birth: &str, village: &str) -> Prepared {
        Prepared::of(&Record {
            record_id: "x".into(),
            name: Some(name.into()),
            birth_date: Some(birth.into()),
            county: Some("龙里县".into()),
            town: Some("冠山街道".into()),
            village: Some(village.into()),
            ..Default::default()
        })
    }

    #[test]
    fn names_dates_and_places_compare_as_people_judge_them() {
        let a = p("王小明", "2016-07-03", "石河村");
        assert_eq!(
            compare(&a, &p("王小明", "2016-07-03", "石河村委会"))[0..2],
            [0, 0]
        );
        assert_eq!(
            compare(&a, &p("汪小明", "2016-03-07", "石河"))[0..2],
            [1, 1]
        );
        assert_eq!(
            compare(&a, &p("王晓敏", "2016-07-08", "石河"))[0..2],
            [3, 2]
        );
        assert_eq!(compare(&a, &p("李华", "2016-07-03", "石河"))[0], 4);
        // A character of two readings meets a homophone of either: 乐 (lè/yuè) and 悦.
        assert_eq!(
            compare(
                &p("王乐", "2016-07-03", "石河"),
                &p("王悦", "2016-07-03", "石河")
            )[0],
            1
        );
        assert_eq!(compare(&a, &p("王小", "2015-01-01", "石河"))[0..2], [2, 3]);
        // A day off, across a month or a year, is as near as one digit.
        assert_eq!(compare(&a, &p("王小明", "2016-07-02", "石河"))[1], 2);
        assert_eq!(
            compare(
                &p("王小明", "2016-04-30", "石河"),
                &p("王小明", "2016-05-01", "石河")
            )[1],
            2
        );
        assert_eq!(
            compare(
                &p("王小明", "2015-12-31", "石河"),
                &p("王小明", "2016-01-01", "石河")
            )[1],
            2
        );
        assert_eq!(compare(&a, &p("王小明", "2016-08-05", "石河"))[1], 3);
        assert_eq!(compare(&a, &p("王小明", "2016-07-03", "新村"))[4], 1);
        let id = |s: &str| {
            Prepared::of(&Record {
                record_id: "x".into(),
                id_number: Some(s.into()),
                ..Default::default()
            })
        };
        let born = chrono::NaiveDate::from_ymd_opt(2016, 7, 31).unwrap();
        let valid = shouwang_domain::sample::id_number_for("522730", born, 13);
        let twin = shouwang_domain::sample::id_number_for("522730", born, 15);
        let mut typo = valid.clone().into_bytes();
        typo[15] = if typo[15] == b'9' { b'8' } else { b'9' };
        let typo = String::from_utf8(typo).unwrap();
        let mut swapped = valid.clone().into_bytes();
        swapped.swap(8, 9);
        let swapped = String::from_utf8(swapped).unwrap();
        assert_eq!(id_level(&id(&valid), &id(&valid)), 0);
        // A typo fails the check: likely the same child.
        assert_eq!(id_level(&id(&valid), &id(&typo)), 1, "{valid} {typo}");
        assert_eq!(id_level(&id(&valid), &id(&swapped)), 1, "{valid} {swapped}");
        // Both valid and one digit apart: twins as likely as a typo.
        assert_eq!(id_level(&id(&valid), &id(&twin)), 2, "{valid} {twin}");
        let other = shouwang_domain::sample::id_number_for("522730", born, 997);
        assert_eq!(id_level(&id(&valid), &id(&other)), 3);
    }
}
