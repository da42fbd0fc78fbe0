//! Administrative divisions: the codes and the shipped NBS 2023 table (domain-research §3).
//!
//! Levels and code lengths: 省 2, 市/州/盟 4, 县/市/区/旗 6, 乡/镇/街道/苏木 9, 村/社区/嘎查 12.
//! A code is a prefix of the codes below it, so a jurisdiction is a code prefix.

use std::fmt;
use std::io::Read;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    Province,
    Prefecture,
    County,
    Town,
    Village,
}

impl RegionLevel {
    pub fn code_len(self) -> usize {
        match self {
            RegionLevel::Province => 2,
            RegionLevel::Prefecture => 4,
            RegionLevel::County => 6,
            RegionLevel::Town => 9,
            RegionLevel::Village => 12,
        }
    }
    fn from_len(len: usize) -> Option<Self> {
        Some(match len {
            2 => RegionLevel::Province,
            4 => RegionLevel::Prefecture,
            6 => RegionLevel::County,
            9 => RegionLevel::Town,
            12 => RegionLevel::Village,
            _ => return None,
        })
    }
    pub fn below(self) -> Option<Self> {
        Some(match self {
            RegionLevel::Province => RegionLevel::Prefecture,
            RegionLevel::Prefecture => RegionLevel::County,
            RegionLevel::County => RegionLevel::Town,
            RegionLevel::Town => RegionLevel::Village,
            RegionLevel::Village => return None,
        })
    }
    pub fn label(self) -> &'static str {
        match self {
            RegionLevel::Province => "省级",
            RegionLevel::Prefecture => "地级",
            RegionLevel::County => "县级",
            RegionLevel::Town => "乡级",
            RegionLevel::Village => "村级",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            RegionLevel::Province => "province",
            RegionLevel::Prefecture => "prefecture",
            RegionLevel::County => "county",
            RegionLevel::Town => "town",
            RegionLevel::Village => "village",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionCodeError {
    #[error("区划代码“{0}”格式不正确：应为2、4、6、9或12位数字")]
    Format(String),
    #[error("区划代码“{0}”不存在")]
    Unknown(String),
}

/// A division code in its natural length. Parsing checks the shape only; [`Divisions::get`] checks
/// that the code exists.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode(String);

impl RegionCode {
    /// Accepts the natural length, and also 6/12-digit forms padded with zeros (e.g. "520000" for
    /// 贵州省, "522730000000" for 龙里县) as they appear in other systems.
    pub fn parse(input: &str) -> Result<Self, RegionCodeError> {
        let s = crate::text::clean(input);
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RegionCodeError::Format(s));
        }
        let trimmed = match s.len() {
            12 => strip_padding(&s),
            6 if s.ends_with("0000") => &s[..2],
            6 if s.ends_with("00") => &s[..4],
            _ => &s,
        };
        if RegionLevel::from_len(trimmed.len()).is_none() || trimmed.bytes().all(|b| b == b'0') {
            return Err(RegionCodeError::Format(s));
        }
        Ok(RegionCode(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn level(&self) -> RegionLevel {
        RegionLevel::from_len(self.0.len()).expect("length checked in parse")
    }
    pub fn parent(&self) -> Option<RegionCode> {
        let len = match self.level() {
            RegionLevel::Province => return None,
            RegionLevel::Prefecture => 2,
            RegionLevel::County => 4,
            RegionLevel::Town => 6,
            RegionLevel::Village => 9,
        };
        Some(RegionCode(self.0[..len].to_owned()))
    }
    /// The code cut to a higher level ("522730001001" at county level → "522730").
    pub fn at_level(&self, level: RegionLevel) -> Option<RegionCode> {
        (level.code_len() <= self.0.len())
            .then(|| RegionCode(self.0[..level.code_len()].to_owned()))
    }
    /// True when `other` is this region or lies below it.
    pub fn contains(&self, other: &RegionCode) -> bool {
        other.0.starts_with(&self.0)
    }
    /// The 12-digit statistical form (zero-padded), as used on forms and in the API.
    pub fn padded12(&self) -> String {
        format!("{:0<12}", self.0)
    }
}

/// "522730001000" → "522730001"; "522730000000" → "522730".
fn strip_padding(s: &str) -> &str {
    if !s[9..].bytes().all(|b| b == b'0') {
        return s;
    }
    if !s[6..9].bytes().all(|b| b == b'0') {
        return &s[..9];
    }
    if !s[4..6].bytes().all(|b| b == b'0') {
        return &s[..6];
    }
    if !s[2..4].bytes().all(|b| b == b'0') {
        return &s[..4];
    }
    &s[..2]
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegionCode({})", self.0)
    }
}
impl TryFrom<String> for RegionCode {
    type Error = RegionCodeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        RegionCode::parse(&value)
    }
}
impl From<RegionCode> for String {
    fn from(value: RegionCode) -> Self {
        value.0
    }
}

/// One row of the division table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Division<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub level: RegionLevel,
}

/// The NBS 2023 division table shipped in `data/divisions.tsv.gz` (see data/NOTICE), decompressed
/// once on first use. Entries are sorted by code as text, so every subtree is a contiguous range.
pub struct Divisions {
    text: String,
    /// (code start, code end, name end) byte offsets into `text`.
    rows: Vec<(u32, u32, u32)>,
}

static SHIPPED: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/divisions.tsv.gz"
));

impl Divisions {
    /// The shipped table.
    pub fn shipped() -> &'static Divisions {
        static TABLE: OnceLock<Divisions> = OnceLock::new();
        TABLE.get_or_init(|| {
            let mut text = String::new();
            flate2::read::GzDecoder::new(SHIPPED)
                .read_to_string(&mut text)
                .expect("the shipped division table is valid gzip UTF-8");
            Divisions::from_tsv(text)
        })
    }

    /// Builds a table from `code<TAB>name` lines sorted by code.
    pub fn from_tsv(text: String) -> Divisions {
        let mut rows = Vec::with_capacity(text.len() / 24);
        let mut pos = 0usize;
        for line in text.split_inclusive('\n') {
            let body = line.trim_end_matches(['\n', '\r']);
            if let Some(tab) = body.find('\t') {
                rows.push((pos as u32, (pos + tab) as u32, (pos + body.len()) as u32));
            }
            pos += line.len();
        }
        Divisions { text, rows }
    }

    fn row(&self, i: usize) -> Division<'_> {
        let (a, b, c) = self.rows[i];
        let code = &self.text[a as usize..b as usize];
        Division {
            code,
            name: &self.text[b as usize + 1..c as usize],
            level: RegionLevel::from_len(code.len()).expect("table holds valid codes"),
        }
    }

    fn code_at(&self, i: usize) -> &str {
        let (a, b, _) = self.rows[i];
        &self.text[a as usize..b as usize]
    }

    fn position(&self, code: &str) -> Option<usize> {
        self.rows
            .binary_search_by(|(a, b, _)| self.text[*a as usize..*b as usize].cmp(code))
            .ok()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The division with this code, or an error naming the code.
    pub fn get(&self, code: &RegionCode) -> Result<Division<'_>, RegionCodeError> {
        self.position(code.as_str())
            .map(|i| self.row(i))
            .ok_or_else(|| RegionCodeError::Unknown(code.as_str().to_owned()))
    }

    /// Parses and checks existence in one step.
    pub fn parse_existing(&self, input: &str) -> Result<RegionCode, RegionCodeError> {
        let code = RegionCode::parse(input)?;
        self.get(&code)?;
        Ok(code)
    }

    /// The region and everything below it, in code order (the region first).
    pub fn subtree(
        &self,
        code: &RegionCode,
    ) -> Result<impl Iterator<Item = Division<'_>>, RegionCodeError> {
        let start = self
            .position(code.as_str())
            .ok_or_else(|| RegionCodeError::Unknown(code.as_str().to_owned()))?;
        let prefix = code.as_str();
        let end = (start..self.rows.len())
            .find(|i| !self.code_at(*i).starts_with(prefix))
            .unwrap_or(self.rows.len());
        Ok((start..end).map(|i| self.row(i)))
    }

    /// The direct children of a region.
    pub fn children(&self, code: &RegionCode) -> Result<Vec<Division<'_>>, RegionCodeError> {
        let below = code.level().below();
        Ok(self
            .subtree(code)?
            .filter(|d| Some(d.level) == below)
            .collect())
    }

    /// The region and its ancestors, from the province down.
    pub fn lineage(&self, code: &RegionCode) -> Result<Vec<Division<'_>>, RegionCodeError> {
        let mut out = Vec::new();
        let mut cur = Some(code.clone());
        while let Some(c) = cur {
            out.push(self.get(&c)?);
            cur = c.parent();
        }
        out.reverse();
        Ok(out)
    }

    /// A place as written on forms, province down, joined by `separator`: 广东省深圳市. The NBS
    /// placeholders 市辖区 and 县 under the four municipalities are left out (重庆市, not
    /// 重庆市市辖区).
    pub fn written_name(&self, code: &RegionCode, separator: &str) -> String {
        self.lineage(code)
            .map(|l| {
                l.iter()
                    .map(|d| d.name)
                    .filter(|n| !matches!(*n, "市辖区" | "县"))
                    .collect::<Vec<_>>()
                    .join(separator)
            })
            .unwrap_or_else(|_| code.to_string())
    }

    /// All rows at one level (e.g. provinces and prefectures for the work-place picker).
    pub fn at_level(&self, level: RegionLevel) -> impl Iterator<Item = Division<'_>> {
        (0..self.rows.len())
            .filter(move |i| self.code_at(*i).len() == level.code_len())
            .map(|i| self.row(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    fn counts(c: &str) -> (usize, usize) {
        let t = Divisions::shipped();
        let all: Vec<_> = t.subtree(&code(c)).unwrap().collect();
        let towns = all.iter().filter(|d| d.level == RegionLevel::Town).count();
        let villages = all
            .iter()
            .filter(|d| d.level == RegionLevel::Village)
            .count();
        (towns, villages)
    }

    #[test]
    fn shipped_table_has_the_nbs_2023_counts() {
        let t = Divisions::shipped();
        let by_level = |l| t.at_level(l).count();
        assert_eq!(by_level(RegionLevel::Province), 31);
        assert_eq!(by_level(RegionLevel::Prefecture), 342);
        assert_eq!(by_level(RegionLevel::County), 2978);
        assert_eq!(by_level(RegionLevel::Town), 41352);
        assert_eq!(by_level(RegionLevel::Village), 620573);
    }

    #[test]
    fn test_places_have_their_towns_and_villages() {
        assert_eq!(counts("522730"), (6, 82)); // 龙里县
        assert_eq!(counts("532801"), (17, 160)); // 景洪市
        assert_eq!(counts("120114"), (37, 745)); // 武清区
        assert_eq!(counts("2101"), (190, 2703)); // 沈阳市
        assert_eq!(counts("152527"), (8, 188)); // 太仆寺旗
        let t = Divisions::shipped();
        assert_eq!(t.get(&code("522730")).unwrap().name, "龙里县");
        assert_eq!(t.children(&code("2101")).unwrap().len(), 13);
    }

    #[test]
    fn unknown_codes_are_errors_naming_the_code() {
        let t = Divisions::shipped();
        assert_eq!(
            t.parse_existing("522799").unwrap_err().to_string(),
            "区划代码“522799”不存在"
        );
        assert!(matches!(
            RegionCode::parse("52273"),
            Err(RegionCodeError::Format(_))
        ));
        assert!(matches!(
            RegionCode::parse("abc"),
            Err(RegionCodeError::Format(_))
        ));
    }

    #[test]
    fn padded_codes_are_understood() {
        assert_eq!(code("522730000000").as_str(), "522730");
        assert_eq!(code("522730001000").as_str(), "522730001");
        assert_eq!(code("520000").as_str(), "52");
        assert_eq!(code("522700").as_str(), "5227");
        assert_eq!(code("522730001").padded12(), "522730001000");
    }

    #[test]
    fn lineage_and_containment() {
        let t = Divisions::shipped();
        let v = code("522730001001");
        let names: Vec<_> = t.lineage(&v).unwrap().iter().map(|d| d.name).collect();
        assert_eq!(names.len(), 5);
        assert_eq!(names[2], "龙里县");
        assert!(code("522730").contains(&v));
        assert!(!code("522731").contains(&v));
        assert_eq!(v.at_level(RegionLevel::County), Some(code("522730")));
    }
}
