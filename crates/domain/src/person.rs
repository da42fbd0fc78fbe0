//! Small value types about people: sex, ethnicity, names, phone numbers.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn label(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
    /// Accepts the code (`male`), the label (男) and the GB/T 2261.1 digits (1/2).
    pub fn parse(s: &str) -> Option<Sex> {
        match text::clean(s).as_str() {
            "male" | "男" | "1" => Some(Sex::Male),
            "female" | "女" | "2" => Some(Sex::Female),
            _ => None,
        }
    }
}

/// The 56 民族 in GB 3304 order; the code is the index + 1 (汉族 = 01).
pub const ETHNICITIES: [&str; 56] = [
    "汉族",
    "蒙古族",
    "回族",
    "藏族",
    "维吾尔族",
    "苗族",
    "彝族",
    "壮族",
    "布依族",
    "朝鲜族",
    "满族",
    "侗族",
    "瑶族",
    "白族",
    "土家族",
    "哈尼族",
    "哈萨克族",
    "傣族",
    "黎族",
    "傈僳族",
    "佤族",
    "畲族",
    "高山族",
    "拉祜族",
    "水族",
    "东乡族",
    "纳西族",
    "景颇族",
    "柯尔克孜族",
    "土族",
    "达斡尔族",
    "仫佬族",
    "羌族",
    "布朗族",
    "撒拉族",
    "毛南族",
    "仡佬族",
    "锡伯族",
    "阿昌族",
    "普米族",
    "塔吉克族",
    "怒族",
    "乌孜别克族",
    "俄罗斯族",
    "鄂温克族",
    "德昂族",
    "保安族",
    "裕固族",
    "京族",
    "塔塔尔族",
    "独龙族",
    "鄂伦春族",
    "赫哲族",
    "门巴族",
    "珞巴族",
    "基诺族",
];

/// One of the 56 民族, stored as its GB 3304 two-digit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ethnicity(u8);

impl Ethnicity {
    pub const HAN: Ethnicity = Ethnicity(1);

    /// Accepts the two-digit code ("01"), the full name (汉族) or the name without 族 (汉).
    pub fn parse(s: &str) -> Option<Ethnicity> {
        let s = text::clean(s);
        if let Ok(n) = s.parse::<u8>() {
            return (1..=56).contains(&n).then_some(Ethnicity(n));
        }
        ETHNICITIES
            .iter()
            .position(|e| *e == s || e.strip_suffix('族') == Some(s.as_str()))
            .map(|i| Ethnicity(i as u8 + 1))
    }
    pub fn code(self) -> String {
        format!("{:02}", self.0)
    }
    pub fn label(self) -> &'static str {
        ETHNICITIES[usize::from(self.0) - 1]
    }
    pub fn all() -> impl Iterator<Item = Ethnicity> {
        (1..=56).map(Ethnicity)
    }
}

impl TryFrom<String> for Ethnicity {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Ethnicity::parse(&value).ok_or_else(|| format!("未知的民族：{value}"))
    }
}
impl From<Ethnicity> for String {
    fn from(value: Ethnicity) -> Self {
        value.code()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("姓名不能为空")]
    Empty,
    #[error("姓名过长（最多30个字）")]
    TooLong,
    #[error("姓名含有不允许的字符")]
    BadCharacter,
}

/// A person's name: trimmed, full-width normalised, 1–30 characters, letters, digits only where
/// ethnic-minority names are transliterated with a middle dot (·) or spaces.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(input: &str) -> Result<Self, NameError> {
        let s = text::clean(input).replace(['•', '．', '.'], "·");
        if s.is_empty() {
            return Err(NameError::Empty);
        }
        if s.chars().count() > 30 {
            return Err(NameError::TooLong);
        }
        if !s.chars().all(|c| c.is_alphabetic() || c == '·' || c == ' ') {
            return Err(NameError::BadCharacter);
        }
        Ok(PersonName(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonName({})", self.0)
    }
}
impl TryFrom<String> for PersonName {
    type Error = NameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        PersonName::parse(&value)
    }
}
impl From<PersonName> for String {
    fn from(value: PersonName) -> Self {
        value.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("电话号码格式不正确：应为11位手机号（1开头）或带区号的固定电话")]
pub struct PhoneError;

/// A mainland mobile (11 digits starting with 1) or a landline with area code (0xx-xxxxxxx).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let s: String = text::clean(input)
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
            .collect();
        let s = s.strip_prefix("+86").unwrap_or(&s).to_owned();
        let digits = s.chars().all(|c| c.is_ascii_digit());
        let mobile = digits && s.len() == 11 && s.starts_with('1');
        let landline = digits && s.starts_with('0') && (10..=12).contains(&s.len());
        if mobile || landline {
            Ok(PhoneNumber(s))
        } else {
            Err(PhoneError)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.0)
    }
}
impl TryFrom<String> for PhoneNumber {
    type Error = PhoneError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        PhoneNumber::parse(&value)
    }
}
impl From<PhoneNumber> for String {
    fn from(value: PhoneNumber) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethnicity_accepts_code_name_and_short_name() {
        assert_eq!(Ethnicity::parse("01"), Some(Ethnicity::HAN));
        assert_eq!(Ethnicity::parse("布依族").unwrap().code(), "09");
        assert_eq!(Ethnicity::parse("苗").unwrap().label(), "苗族");
        assert_eq!(Ethnicity::parse("57"), None);
        assert_eq!(Ethnicity::parse("火星族"), None);
        assert_eq!(Ethnicity::all().count(), 56);
    }

    #[test]
    fn names_are_cleaned_and_checked() {
        assert_eq!(PersonName::parse(" 王　小明 ").unwrap().as_str(), "王 小明");
        assert_eq!(
            PersonName::parse("买买提.艾力").unwrap().as_str(),
            "买买提·艾力"
        );
        assert_eq!(PersonName::parse("  "), Err(NameError::Empty));
        assert_eq!(PersonName::parse("王<b>"), Err(NameError::BadCharacter));
        assert_eq!(PersonName::parse(&"王".repeat(31)), Err(NameError::TooLong));
    }

    #[test]
    fn phone_numbers_accept_mobiles_and_landlines() {
        assert_eq!(
            PhoneNumber::parse("138 0013 8000").unwrap().as_str(),
            "13800138000"
        );
        assert_eq!(
            PhoneNumber::parse("+86 13800138000").unwrap().as_str(),
            "13800138000"
        );
        assert_eq!(
            PhoneNumber::parse("0854-5631234").unwrap().as_str(),
            "08545631234"
        );
        assert!(PhoneNumber::parse("12345").is_err());
        assert!(PhoneNumber::parse("2380013800").is_err());
    }
}

/// An e-mail address for notifications: one mailbox, nothing a mail header could be split on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let a = input.trim();
        let (local, domain) = a.split_once('@').ok_or("电子邮箱应形如 name@example.com")?;
        let fine = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
        };
        if a.len() <= 254 && fine(local) && fine(domain) && domain.contains('.') {
            Ok(EmailAddress(a.to_ascii_lowercase()))
        } else {
            Err("电子邮箱应形如 name@example.com")
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod email_tests {
    use super::EmailAddress;

    #[test]
    fn an_email_address_is_one_plain_mailbox() {
        assert_eq!(
            EmailAddress::parse(" Duty@Police.example ")
                .unwrap()
                .as_str(),
            "duty@police.example"
        );
        for bad in [
            "a@b",
            "a@b.c\r\nBcc: x@y.z",
            "a b@c.d",
            "<a@b.c>",
            "a@b.c,d@e.f",
            "no-at",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
    }
}
