//! Place names → official division codes. Villages and towns are matched inside the importing
//! user's jurisdiction, with the suffix variants people write (石河村 / 石河 / 石河村委会 /
//! 石河村民委员会); parents' work places nationwide at province and prefecture level (附件1
//! note 7: 务工地点填写到“XXX省(区、市)XXX市”).

use std::collections::HashMap;

use shouwang_domain::region::{Division, Divisions, RegionCode, RegionLevel};
use shouwang_domain::text;

const VILLAGE_SUFFIXES: &[&str] = &[
    "村民委员会",
    "居民委员会",
    "社区居委会",
    "村委会",
    "居委会",
    "社区",
    "村",
    "居",
];

const TOWN_SUFFIXES: &[&str] = &["街道办事处", "民族乡", "街道", "镇", "乡", "办事处"];

fn core<'a>(name: &'a str, suffixes: &[&str]) -> &'a str {
    let mut s = name;
    loop {
        let before = s;
        for suffix in suffixes {
            if let Some(rest) = s.strip_suffix(suffix)
                && !rest.is_empty()
            {
                s = rest;
                break;
            }
        }
        if s == before {
            return s;
        }
    }
}

fn clean(s: &str) -> String {
    text::clean(s).replace(' ', "")
}

/// The villages and towns around one jurisdiction, by their core names. Names resolve within
/// the county (a village director's sheet names their own town), and anything outside the
/// jurisdiction is refused by name.
pub struct Places {
    jurisdiction: RegionCode,
    towns: HashMap<String, Vec<RegionCode>>,
    villages: HashMap<String, Vec<RegionCode>>,
    names: HashMap<RegionCode, String>,
}

impl Places {
    pub fn new(divisions: &Divisions, jurisdiction: &RegionCode) -> Places {
        let root = jurisdiction
            .at_level(RegionLevel::County)
            .filter(|_| jurisdiction.level() > RegionLevel::County)
            .unwrap_or_else(|| jurisdiction.clone());
        let root = &root;
        let mut towns: HashMap<String, Vec<RegionCode>> = HashMap::new();
        let mut villages: HashMap<String, Vec<RegionCode>> = HashMap::new();
        let mut names = HashMap::new();
        if let Ok(tree) = divisions.subtree(root) {
            for d in tree {
                let Ok(code) = RegionCode::parse(d.code) else {
                    continue;
                };
                match d.level {
                    RegionLevel::Town => {
                        towns
                            .entry(core(d.name, TOWN_SUFFIXES).to_owned())
                            .or_default()
                            .push(code.clone());
                        names.insert(code, d.name.to_owned());
                    }
                    RegionLevel::Village => {
                        villages
                            .entry(core(d.name, VILLAGE_SUFFIXES).to_owned())
                            .or_default()
                            .push(code.clone());
                        names.insert(code, d.name.to_owned());
                    }
                    _ => {}
                }
            }
        }
        Places {
            jurisdiction: jurisdiction.clone(),
            towns,
            villages,
            names,
        }
    }

    fn name(&self, code: &RegionCode) -> String {
        self.names
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_string())
    }

    fn inside(&self, village: RegionCode) -> Result<RegionCode, String> {
        if self.jurisdiction.contains(&village) {
            Ok(village)
        } else {
            Err(format!("{}不在您的管辖范围内", self.name(&village)))
        }
    }

    /// A town by name or code, in the county.
    pub fn town(&self, input: &str) -> Result<RegionCode, String> {
        let s = clean(input);
        if s.bytes().all(|b| b.is_ascii_digit()) {
            let code = RegionCode::parse(&s).map_err(|e| e.to_string())?;
            return match code.at_level(RegionLevel::Town) {
                Some(t) if self.names.contains_key(&t) => Ok(t),
                _ => Err(format!("乡镇代码“{s}”不在您的管辖范围内")),
            };
        }
        match self.towns.get(core(&s, TOWN_SUFFIXES)).map(Vec::as_slice) {
            Some([one]) => Ok(one.clone()),
            Some(many) => Err(format!(
                "管辖范围内有{}个乡镇叫“{s}”，请改填区划代码",
                many.len()
            )),
            None => Err(format!("管辖范围内没有名为“{s}”的乡镇（街道）")),
        }
    }

    /// A village by name (with an optional town to tell apart villages of the same name), by
    /// "XX镇XX村" in one cell, or by its 12-digit code.
    pub fn village(&self, input: &str, town: Option<&RegionCode>) -> Result<RegionCode, String> {
        let s = clean(input);
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            let code = RegionCode::parse(&s).map_err(|e| e.to_string())?;
            return if self.names.contains_key(&code) {
                self.inside(code)
            } else if self.jurisdiction.contains(&code) {
                Err(format!("村级区划代码“{s}”不存在"))
            } else {
                Err(format!("村（社区）“{s}”不在您的管辖范围内"))
            };
        }
        let mut town = town.cloned();
        let mut name = s.as_str();
        if town.is_none() {
            // "冠山街道播箕村": a town name written in front of the village.
            for suffix in TOWN_SUFFIXES {
                if let Some(pos) = name.find(suffix) {
                    let (t, v) = name.split_at(pos + suffix.len());
                    if !v.is_empty()
                        && let Ok(code) = self.town(t)
                    {
                        town = Some(code);
                        name = v;
                        break;
                    }
                }
            }
        }
        let key = core(name, VILLAGE_SUFFIXES);
        let found: Vec<&RegionCode> = self
            .villages
            .get(key)
            .map(|v| {
                v.iter()
                    .filter(|c| town.as_ref().is_none_or(|t| t.contains(c)))
                    .collect()
            })
            .unwrap_or_default();
        match found.as_slice() {
            [one] => self.inside((*one).clone()),
            [] => Err(match &town {
                Some(t) => format!("{}没有名为“{name}”的村（社区）", self.name(t)),
                None => format!("管辖范围内没有名为“{name}”的村（社区）"),
            }),
            many => Err(format!(
                "“{name}”在{}都有，请填写乡镇（街道）一列",
                many.iter()
                    .filter_map(|c| c.at_level(RegionLevel::Town))
                    .map(|t| self.name(&t))
                    .collect::<Vec<_>>()
                    .join("、")
            )),
        }
    }
}

impl Places {
    /// The village a piece of text names — an address ("龙山镇余下村三组", "贵州省龙里县冠山街道
    /// 冠山社区12号") or a title ("余下村留守儿童花名册"): the villages of the county whose name
    /// appears in it with a village suffix, narrowed to a town the text names. `Ok(None)` when it
    /// names none; an error naming the candidates when it names several.
    pub fn village_in_text(
        &self,
        input: &str,
        town: Option<&RegionCode>,
    ) -> Result<Option<RegionCode>, String> {
        let s = clean(input);
        let chars: Vec<char> = s.chars().take(200).collect();
        let suffixed = |end: usize, suffixes: &[&str]| {
            suffixes.iter().any(|x| {
                let x: Vec<char> = x.chars().collect();
                chars[end..].starts_with(&x)
            })
        };
        let named = |suffixes: &[&str], map: &HashMap<String, Vec<RegionCode>>| {
            let mut found: Vec<RegionCode> = Vec::new();
            for end in 1..chars.len() {
                if !suffixed(end, suffixes) {
                    continue;
                }
                // The longest name ending here wins (石河 before 河).
                for len in (1..=end.min(8)).rev() {
                    let core: String = chars[end - len..end].iter().collect();
                    if let Some(codes) = map.get(&core) {
                        found.extend(codes.iter().cloned());
                        break;
                    }
                }
            }
            found.sort();
            found.dedup();
            found
        };
        let mut towns = named(TOWN_SUFFIXES, &self.towns);
        if let Some(t) = town {
            // The row's own 乡镇 column says more than a town written in the address.
            towns = vec![t.clone()];
        }
        let mut villages = named(VILLAGE_SUFFIXES, &self.villages);
        if villages.is_empty() {
            return Ok(None);
        }
        if !towns.is_empty() {
            villages.retain(|v| towns.iter().any(|t| t.contains(v)));
            if villages.is_empty() {
                return Err(format!(
                    "“{}”中的村（社区）不在{}",
                    input.trim(),
                    towns
                        .iter()
                        .map(|t| self.name(t))
                        .collect::<Vec<_>>()
                        .join("、")
                ));
            }
        }
        match villages.as_slice() {
            [] => Ok(None),
            // A village elsewhere in the county is an error, not a reason to guess another.
            [one] => self.inside(one.clone()).map(Some),
            many => Err(format!(
                "“{}”中的村（社区）不能确定：可能是{}，请填写村（社区）一列",
                input.trim(),
                many.iter()
                    .map(|c| {
                        let town = c
                            .at_level(RegionLevel::Town)
                            .map(|t| self.name(&t))
                            .unwrap_or_default();
                        format!("{town}{}", self.name(c))
                    })
                    .collect::<Vec<_>>()
                    .join("、")
            )),
        }
    }

    /// "龙山镇 余下村委会": a village with its town, as a person reads it.
    pub fn display(&self, code: &RegionCode) -> String {
        match code.at_level(RegionLevel::Town).filter(|t| t != code) {
            Some(t) => format!("{} {}", self.name(&t), self.name(code)),
            None => self.name(code),
        }
    }

    /// The jurisdiction itself when it is one village (a village director's own roster).
    pub fn own_village(&self) -> Option<RegionCode> {
        (self.jurisdiction.level() == RegionLevel::Village).then(|| self.jurisdiction.clone())
    }
}

/// Suffixes of provinces and prefectures, longest first.
const AREA_SUFFIXES: &[&str] = &[
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "特别行政区",
    "自治区",
    "自治州",
    "地区",
    "省",
    "市",
    "盟",
];

fn short(name: &str) -> &str {
    for s in AREA_SUFFIXES {
        if let Some(rest) = name.strip_suffix(s)
            && rest.chars().count() >= 2
        {
            // 黔南布依族苗族自治州 → 黔南
            if *s == "自治州"
                && let Some(pos) = rest.char_indices().nth(2).map(|(i, _)| i)
                && rest[pos..].ends_with('族')
            {
                return &rest[..pos];
            }
            return rest;
        }
    }
    name
}

/// Provinces and prefectures by full and short names, for parents' work places.
pub struct WorkPlaces {
    provinces: Vec<(String, String, RegionCode)>,
    prefectures: Vec<(String, String, RegionCode)>,
    /// 北京、天津、上海、重庆: the province-level city → its 市辖区 (1101, 1201, 3101, 5001).
    city_districts: HashMap<RegionCode, RegionCode>,
}

impl WorkPlaces {
    /// The table of the shipped divisions, built once (it scans the whole division list).
    pub fn shipped() -> &'static WorkPlaces {
        static TABLE: std::sync::OnceLock<WorkPlaces> = std::sync::OnceLock::new();
        TABLE.get_or_init(|| WorkPlaces::new(Divisions::shipped()))
    }

    pub fn new(divisions: &Divisions) -> WorkPlaces {
        let entry = |d: Division<'_>| {
            (
                d.name.to_owned(),
                short(d.name).to_owned(),
                RegionCode::parse(d.code).expect("shipped codes parse"),
            )
        };
        let city_districts = divisions
            .at_level(RegionLevel::Prefecture)
            .filter(|d| d.name == "市辖区")
            .filter_map(|d| {
                let code = RegionCode::parse(d.code).ok()?;
                Some((code.parent()?, code))
            })
            .collect();
        WorkPlaces {
            city_districts,
            provinces: divisions
                .at_level(RegionLevel::Province)
                .map(entry)
                .collect(),
            prefectures: divisions
                .at_level(RegionLevel::Prefecture)
                .filter(|d| {
                    !matches!(
                        d.name,
                        "市辖区" | "县" | "省直辖县级行政区划" | "自治区直辖县级行政区划"
                    )
                })
                .map(entry)
                .collect(),
        }
    }

    /// 广东省深圳市 / 广东深圳 / 深圳市 / 深圳 / 浙江省 / 北京 → a province or prefecture code.
    pub fn find(&self, input: &str) -> Result<RegionCode, String> {
        let s = clean(input);
        if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() {
            let code = RegionCode::parse(&s).map_err(|e| e.to_string())?;
            return Ok(code.at_level(RegionLevel::Prefecture).unwrap_or(code));
        }
        let strip = |text: &str, full: &str, short: &str| -> Option<usize> {
            if text.starts_with(full) {
                Some(full.len())
            } else if text.starts_with(short) {
                Some(short.len())
            } else {
                None
            }
        };
        let province = self
            .provinces
            .iter()
            .find_map(|(full, short, code)| strip(&s, full, short).map(|n| (code, n)));
        let rest = province.map_or(s.as_str(), |(_, n)| &s[n..]);
        let candidates: Vec<&RegionCode> = self
            .prefectures
            .iter()
            .filter(|(_, _, code)| province.is_none_or(|(p, _)| p.contains(code)))
            .filter(|(full, short, _)| !rest.is_empty() && strip(rest, full, short).is_some())
            .map(|(_, _, code)| code)
            .collect();
        match (candidates.as_slice(), province) {
            ([one], _) => Ok((*one).clone()),
            ([], Some((p, _))) => Ok(self.city_districts.get(p).unwrap_or(p).clone()),
            ([], None) => Err(format!(
                "务工地点“{s}”无法识别，请写到省和市，例如“广东省深圳市”"
            )),
            (_, _) => Err(format!("务工地点“{s}”有多个同名地区，请写上省份")),
        }
    }
}

#[cfg(test)]
mod village_text_tests {
    use super::*;

    fn county() -> Places {
        Places::new(Divisions::shipped(), &RegionCode::parse("522730").unwrap())
    }

    #[test]
    fn an_address_names_its_village_and_town() {
        let p = county();
        assert_eq!(
            p.village_in_text("龙山镇余下村三组", None)
                .unwrap()
                .unwrap()
                .as_str(),
            "522730100208"
        );
        assert_eq!(
            p.village_in_text("贵州省龙里县冠山街道冠山社区12号", None)
                .unwrap()
                .unwrap()
                .as_str(),
            "522730001001"
        );
        assert_eq!(p.village_in_text("龙里县人民医院对面", None).unwrap(), None);
        // A town that does not hold the village is an error, not a guess.
        let town = p.town("冠山街道").unwrap();
        assert!(
            p.village_in_text("余下村三组", Some(&town))
                .unwrap_err()
                .contains("不在")
        );
    }

    #[test]
    fn an_address_in_another_village_of_the_county_is_refused_for_a_village_director() {
        let mine = Places::new(
            Divisions::shipped(),
            &RegionCode::parse("522730100208").unwrap(),
        );
        assert!(
            mine.village_in_text("龙山镇莲花村二组", None)
                .unwrap_err()
                .contains("不在您的管辖范围内")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    #[test]
    fn villages_are_found_by_the_names_people_write() {
        let d = Divisions::shipped();
        let places = Places::new(d, &code("522730"));
        let bo = code("522730001201"); // 播箕村村民委员会
        for name in [
            "播箕村",
            "播箕",
            "播箕村委会",
            "播箕村村民委员会",
            "冠山街道播箕村",
            "522730001201",
        ] {
            assert_eq!(places.village(name, None), Ok(bo.clone()), "{name}");
        }
        assert_eq!(places.town("冠山"), Ok(code("522730001")));
        let e = places.village("石门坎", None).unwrap_err();
        assert!(e.contains("没有名为"), "{e}");
        let e = places.village("110101001001", None).unwrap_err();
        assert!(e.contains("管辖范围"), "{e}");
    }

    #[test]
    fn work_places_resolve_to_the_prefecture() {
        let w = WorkPlaces::shipped();
        for s in [
            "广东省深圳市",
            "广东深圳",
            "深圳市",
            "深圳",
            "广东省深圳市宝安区",
        ] {
            assert_eq!(w.find(s), Ok(code("4403")), "{s}");
        }
        assert_eq!(w.find("浙江省"), Ok(code("33")));
        // Municipalities: the city is its 市辖区, as the exports write it.
        assert_eq!(w.find("重庆市"), Ok(code("5001")));
        assert_eq!(w.find("北京"), Ok(code("1101")));
        assert_eq!(w.find("黔南州"), Ok(code("5227")));
        assert!(w.find("火星").is_err());
    }
}
