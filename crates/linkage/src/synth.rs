//! Synthetic list pairs with known truth, for tests and benchmarks: children of the real villages
//! of 贵州 (52, about 17,000) with valid ID numbers, and a second list made from the first the way lists go
//! wrong — ID numbers missing or mistyped, surnames written as homophones (王/汪), given-name
//! characters replaced by homophones, day and month swapped, one digit of a date wrong, village
//! names with their suffixes, people in one list only. The hard variant adds twins, siblings
//! and repeated common names. Seeded: the same arguments give the same lists.

use chrono::{Datelike, Duration, NaiveDate};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashMap;

use shouwang_domain::region::{Divisions, RegionCode, RegionLevel};
use shouwang_domain::sample::id_number_for;

use crate::prepare::Record;

/// Common surnames, most frequent first (the first dozen cover about half of the population).
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "罗", "高", "郑", "梁", "谢", "宋", "唐", "许", "韩", "邓", "冯", "曹", "彭", "曾",
    "肖", "田", "董", "潘", "袁", "蔡", "蒋", "余", "于", "杜", "叶", "程", "魏", "苏", "吕", "丁",
    "任", "卢", "姚", "沈", "钟", "姜", "崔", "谭", "陆", "范", "汪", "廖", "石", "金", "韦", "贾",
    "夏", "付", "方", "邹", "熊", "白", "孟", "秦", "邱", "侯", "江", "尹", "薛", "闫", "段", "雷",
    "龙", "黎", "史", "陶", "贺", "毛", "郝", "顾", "龚", "邵", "万", "覃", "武", "钱", "戴", "严",
];

const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "英", "华", "玉", "萍", "红", "鹏", "辉", "宇", "浩", "欣",
    "怡", "佳", "子", "梓", "涵", "轩", "晨", "睿", "博", "文", "思", "雨", "彤", "嘉", "一", "诺",
    "俊", "凯", "乐", "天", "昊", "然", "宁", "悦", "可", "馨", "雪", "琳", "婷", "瑶", "晶", "鑫",
];

/// Homophones a clerk may write instead (toneless pinyin equal).
const HOMOPHONES: &[&[&str]] = &[
    &["王", "汪"],
    &["陈", "晨"],
    &["张", "章"],
    &["李", "黎"],
    &["刘", "柳"],
    &["杨", "阳"],
    &["徐", "许"],
    &["吴", "伍", "武"],
    &["周", "舟"],
    &["明", "鸣", "铭"],
    &["静", "靖"],
    &["丽", "莉", "俐"],
    &["伟", "玮", "炜"],
    &["杰", "洁"],
    &["涛", "韬"],
    &["宇", "雨", "羽"],
    &["欣", "馨", "鑫"],
    &["佳", "嘉"],
    &["婷", "庭"],
    &["晨", "辰"],
];

fn homophone(rng: &mut ChaCha8Rng, c: &str) -> Option<&'static str> {
    let group = HOMOPHONES.iter().find(|g| g.contains(&c))?;
    let others: Vec<&&str> = group.iter().filter(|x| **x != c).collect();
    others.choose(rng).map(|s| **s)
}

/// How often each kind of damage happens to a record of the second list.
#[derive(Debug, Clone)]
pub struct Damage {
    pub missing_id: f64,
    pub id_typo: f64,
    pub surname_homophone: f64,
    pub given_homophone: f64,
    pub swapped_date: f64,
    pub date_digit: f64,
    pub village_variant: f64,
    pub left_only: f64,
    pub right_only: f64,
    /// Twins, siblings and common names repeated.
    pub hard: bool,
}

impl Default for Damage {
    fn default() -> Damage {
        Damage {
            missing_id: 0.08,
            id_typo: 0.03,
            surname_homophone: 0.03,
            given_homophone: 0.03,
            swapped_date: 0.02,
            date_digit: 0.02,
            village_variant: 0.3,
            left_only: 0.05,
            right_only: 0.05,
            hard: false,
        }
    }
}

/// A record as another department's list might hold it: the ID number missing or mistyped, a
/// homophone in the name, the birth date's day and month swapped or a day off, the village
/// written another way (rates from `damage`; the one-list-only rates are the caller's).
pub fn damaged(rng: &mut ChaCha8Rng, base: &Record, damage: &Damage) -> Record {
    let mut r = base.clone();
    if rng.gen_bool(damage.missing_id) {
        r.id_number = None;
    } else if let Some(id) = base.id_number.as_ref().filter(|id| id.len() == 18)
        && rng.gen_bool(damage.id_typo)
    {
        let mut digits = id.clone().into_bytes();
        let at = rng.gen_range(6..17);
        digits[at] = b'0' + (digits[at] - b'0' + rng.gen_range(1..10)) % 10;
        r.id_number = Some(String::from_utf8(digits).expect("ascii"));
    }
    let name = base.name.clone().unwrap_or_default();
    let mut chars: Vec<String> = name.chars().map(String::from).collect();
    if !chars.is_empty()
        && rng.gen_bool(damage.surname_homophone)
        && let Some(h) = homophone(rng, &chars[0])
    {
        chars[0] = h.to_owned();
    }
    if rng.gen_bool(damage.given_homophone) && chars.len() > 1 {
        let at = rng.gen_range(1..chars.len());
        if let Some(h) = homophone(rng, &chars[at]) {
            chars[at] = h.to_owned();
        }
    }
    r.name = Some(chars.concat());
    if let Some(b) = base
        .birth_date
        .as_deref()
        .and_then(|d| d.parse::<NaiveDate>().ok())
    {
        if rng.gen_bool(damage.swapped_date) && b.day() <= 12 && b.day() != b.month() {
            r.birth_date =
                NaiveDate::from_ymd_opt(b.year(), b.day(), b.month()).map(|d| d.to_string());
        } else if rng.gen_bool(damage.date_digit) {
            let shifted = b + Duration::days(if rng.gen_bool(0.5) { 1 } else { -1 });
            r.birth_date = Some(shifted.to_string());
        }
    }
    if rng.gen_bool(damage.village_variant)
        && let Some(vname) = &base.village
    {
        let v = vname
            .trim_end_matches("村民委员会")
            .trim_end_matches("居民委员会");
        r.village = Some(match rng.gen_range(0..3) {
            0 => v.to_owned(),
            1 => format!("{v}村委会"),
            _ => format!("{v}村"),
        });
    }
    r
}

pub struct ListPair {
    pub left: Vec<Record>,
    pub right: Vec<Record>,
    /// `(left record id, right record id)` of the same person.
    pub truth: Vec<(String, String)>,
}

struct Person {
    name: String,
    male: bool,
    birth: NaiveDate,
    id: String,
    place: usize,
}

/// The villages of 贵州 with their county and town names (real division codes and names): a
/// province, so a million children spread as they would.
fn places() -> Vec<(String, String, String, String)> {
    let d = Divisions::shipped();
    let root = RegionCode::parse("52").expect("valid");
    let name = |code: &RegionCode, level| {
        code.at_level(level)
            .and_then(|c| d.get(&c).ok().map(|x| x.name.to_owned()))
            .unwrap_or_default()
    };
    d.subtree(&root)
        .expect("shipped")
        .filter(|v| v.level == RegionLevel::Village)
        .map(|v| {
            let code = RegionCode::parse(v.code).expect("shipped codes parse");
            (
                v.code[..6].to_owned(),
                name(&code, RegionLevel::County),
                name(&code, RegionLevel::Town),
                v.name.to_owned(),
            )
        })
        .collect()
}

pub fn list_pair(people: usize, seed: u64, damage: &Damage) -> ListPair {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let places = places();
    // ID sequence numbers per county (the ID's area code), birth date and sex: no two people share
    // a number.
    let mut seqs: FxHashMap<(&str, NaiveDate, bool), u16> = FxHashMap::default();
    let start = NaiveDate::from_ymd_opt(2010, 1, 1).expect("valid");
    let mut next_id = |place: usize, birth: NaiveDate, male: bool| -> Option<String> {
        let n = seqs.entry((&places[place].0, birth, male)).or_insert(0);
        *n += 1;
        let seq = *n * 2 + u16::from(male) - 2;
        (seq < 1000).then(|| id_number_for(&places[place].0, birth, seq))
    };
    let given = |rng: &mut ChaCha8Rng| -> String {
        let n = if rng.gen_bool(0.7) { 2 } else { 1 };
        (0..n)
            .map(|_| *GIVEN.choose(rng).expect("non-empty"))
            .collect()
    };
    let mut all: Vec<Person> = Vec::with_capacity(people);
    while all.len() < people {
        // Zipf-like surnames: the first ones are much more common.
        let s = SURNAMES[(rng.gen_range(0.0f64..1.0).powi(3) * SURNAMES.len() as f64) as usize];
        let male = rng.gen_bool(0.52);
        let birth = start + Duration::days(rng.gen_range(0..16 * 365));
        let place = rng.gen_range(0..places.len());
        let Some(id) = next_id(place, birth, male) else {
            continue;
        };
        let name = format!("{s}{}", given(&mut rng));
        if damage.hard && rng.gen_bool(0.1) && all.len() + 1 < people {
            // Twins: same surname, day and village; given names one character apart.
            let twin_male = rng.gen_bool(0.5);
            if let Some(twin_id) = next_id(place, birth, twin_male) {
                let first = name.chars().nth(1).map(String::from).unwrap_or_default();
                let twin = format!("{s}{first}{}", GIVEN.choose(&mut rng).expect("non-empty"));
                all.push(Person {
                    name: twin,
                    male: twin_male,
                    birth,
                    id: twin_id,
                    place,
                });
            }
        }
        if damage.hard && rng.gen_bool(0.05) && all.len() + 1 < people {
            // A namesake: the same common name in the same village, another child.
            let other = start + Duration::days(rng.gen_range(0..16 * 365));
            if let Some(other_id) = next_id(place, other, male) {
                all.push(Person {
                    name: name.clone(),
                    male,
                    birth: other,
                    id: other_id,
                    place,
                });
            }
        }
        all.push(Person {
            name,
            male,
            birth,
            id,
            place,
        });
    }
    all.truncate(people);
    let mut left = Vec::new();
    let mut right = Vec::new();
    let mut truth = Vec::new();
    for (i, p) in all.iter().enumerate() {
        let (county, cname, tname, vname) = &places[p.place];
        let _ = county;
        let base = Record {
            record_id: format!("L{i:07}"),
            name: Some(p.name.clone()),
            sex: Some(if p.male { "男" } else { "女" }.into()),
            birth_date: Some(p.birth.to_string()),
            id_number: Some(p.id.clone()),
            county: Some(cname.clone()),
            town: Some(tname.clone()),
            village: Some(vname.clone()),
        };
        let roll = rng.gen_range(0.0..1.0);
        let in_left = roll >= damage.right_only;
        let in_right = roll < damage.right_only || roll >= damage.right_only + damage.left_only;
        let mut r = damaged(&mut rng, &base, damage);
        r.record_id = String::new();
        if in_left {
            left.push(base);
        }
        if in_right {
            right.push((in_left.then(|| format!("L{i:07}")), r));
        }
    }
    right.shuffle(&mut rng);
    let right = right
        .into_iter()
        .enumerate()
        .map(|(j, (left_id, mut r))| {
            r.record_id = format!("R{j:07}");
            if let Some(l) = left_id {
                truth.push((l, r.record_id.clone()));
            }
            r
        })
        .collect();
    truth.sort();
    ListPair { left, right, truth }
}
