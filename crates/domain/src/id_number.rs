//! 公民身份号码 (GB 11643-1999) and the permits that share its layout.
//!
//! See domain-research §4: 18 characters = 6-digit address code + YYYYMMDD + 3-digit sequence
//! (odd = male) + ISO 7064 MOD 11-2 check character. Legacy 15-digit numbers (YYMMDD, no check
//! character) are converted to 18 digits. 港澳台居民居住证 use the address codes 810000 / 820000 /
//! 830000; the 2023 外国人永久居留身份证 starts with 9 and uses the same check algorithm.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::person::Sex;

/// Weights 2^(18-i) mod 11 for positions 1..=17.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: &[u8; 11] = b"10X98765432";

/// What kind of document the number belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    /// 居民身份证 (mainland citizen)
    Citizen,
    /// 港澳台居民居住证
    HkMoTwResidence,
    /// 外国人永久居留身份证 (2023 version)
    ForeignPermanentResident,
}

/// Why a string is not a valid ID number. Messages are Chinese because they reach users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("身份证号码应为18位（或15位旧号码），现为{0}位")]
    Length(usize),
    #[error("身份证号码前17位只能是数字，最后一位是数字或X")]
    Format,
    /// The check character does not fit the first 17. Which character would fit is not said:
    /// a person who mistyped a middle digit would change the last one to it and save a valid-
    /// looking wrong number.
    #[error("身份证号码校验位错误：号码中有数字输错，请对照证件逐位核对")]
    Checksum,
    /// 15-digit numbers were issued only to people born before 2000 (GB 11643-1999 replaced
    /// them), so no child has one.
    #[error("15位旧身份证号码只发给2000年以前出生的人，儿童的身份证号码应为18位")]
    LegacyForChild,
    #[error("身份证号码中的出生日期{0}不存在")]
    BirthDate(String),
    #[error("身份证号码中的出生日期晚于今天")]
    BirthInFuture,
    #[error("身份证号码中的出生年份早于1900年")]
    BirthTooEarly,
    #[error("身份证号码的地址码{0}不正确")]
    AddressCode(String),
}

/// A parsed, normalised 18-character ID number (upper-case X).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdNumber(String);

impl IdNumber {
    /// Parses an ID number as people type it: surrounding spaces, full-width digits and a lower-case
    /// x are accepted; 15-digit legacy numbers are converted to 18 digits.
    ///
    /// The date is checked for existence and ≥ 1900 only; whether it lies in the future depends on
    /// "today" and is checked by [`IdNumber::check_not_future`] with the caller's clock.
    pub fn parse(input: &str) -> Result<Self, IdNumberError> {
        let normalised = normalise(input);
        let bytes = normalised.as_bytes();
        match normalised.chars().count() {
            18 => {
                if !bytes[..17].iter().all(u8::is_ascii_digit)
                    || !(bytes[17].is_ascii_digit() || bytes[17] == b'X')
                {
                    return Err(IdNumberError::Format);
                }
                if bytes[17] != check_char(&bytes[..17]) {
                    return Err(IdNumberError::Checksum);
                }
                let id = IdNumber(normalised);
                id.validate_parts()?;
                Ok(id)
            }
            15 => {
                if !bytes.iter().all(u8::is_ascii_digit) {
                    return Err(IdNumberError::Format);
                }
                // Legacy: 6 address + YYMMDD (19YY) + 3 sequence; insert "19", append the check.
                let mut first17 = String::with_capacity(18);
                first17.push_str(&normalised[..6]);
                first17.push_str("19");
                first17.push_str(&normalised[6..]);
                let check = check_char(first17.as_bytes());
                first17.push(check as char);
                let id = IdNumber(first17);
                id.validate_parts()?;
                Ok(id)
            }
            n => Err(IdNumberError::Length(n)),
        }
    }

    /// A child's ID number: 18 characters only (see [`IdNumberError::LegacyForChild`]).
    pub fn parse_child(input: &str) -> Result<Self, IdNumberError> {
        let id = IdNumber::parse(input)?;
        if normalise(input).chars().count() == 15 {
            return Err(IdNumberError::LegacyForChild);
        }
        Ok(id)
    }

    fn validate_parts(&self) -> Result<(), IdNumberError> {
        let address = &self.0[..6];
        let first = address.as_bytes()[0];
        // Province codes start 1-6 (mainland), 7 (unused/Taiwan legacy), 8 (HK/MO/TW permits), 9 (foreigners).
        let province: u32 = address[..2].parse().unwrap_or(0);
        let address_ok = match first {
            b'1'..=b'6' => (11..=65).contains(&province),
            b'7' => province == 71,
            b'8' => matches!(address, "810000" | "820000" | "830000"),
            // 2023 外国人永久居留身份证: digits 2–3 are the accepting province (domain-research §4.2).
            b'9' => address[1..3]
                .parse::<u32>()
                .is_ok_and(|p| (11..=65).contains(&p)),
            _ => false,
        };
        if !address_ok {
            return Err(IdNumberError::AddressCode(address.to_owned()));
        }
        let date = self.birth_date_raw()?;
        if date < NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid constant") {
            return Err(IdNumberError::BirthTooEarly);
        }
        Ok(())
    }

    fn birth_date_raw(&self) -> Result<NaiveDate, IdNumberError> {
        let digits = &self.0[6..14];
        let year: i32 = digits[..4].parse().map_err(|_| IdNumberError::Format)?;
        let month: u32 = digits[4..6].parse().map_err(|_| IdNumberError::Format)?;
        let day: u32 = digits[6..8].parse().map_err(|_| IdNumberError::Format)?;
        NaiveDate::from_ymd_opt(year, month, day)
            .ok_or_else(|| IdNumberError::BirthDate(digits.to_owned()))
    }

    /// Rejects numbers whose birth date lies after `today`.
    pub fn check_not_future(&self, today: NaiveDate) -> Result<(), IdNumberError> {
        if self.birth_date() > today {
            Err(IdNumberError::BirthInFuture)
        } else {
            Ok(())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> NaiveDate {
        self.birth_date_raw()
            .expect("birth date checked when the number was parsed")
    }

    /// Digit 17 is the sequence's last digit: odd = male, even = female.
    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// The 6-digit address code at first registration (may no longer exist).
    pub fn address_code(&self) -> &str {
        &self.0[..6]
    }

    pub fn kind(&self) -> IdKind {
        match self.0.as_bytes()[0] {
            b'8' => IdKind::HkMoTwResidence,
            b'9' => IdKind::ForeignPermanentResident,
            _ => IdKind::Citizen,
        }
    }

    /// Masked for display: only the area code stays, e.g. `522730************` (see [`mask_id`]).
    pub fn masked(&self) -> String {
        mask_id(&self.0)
    }
}

/// A number as typed, as [`IdNumber::parse`] reads it: half-width, no spaces, upper-case X.
fn normalise(input: &str) -> String {
    input
        .trim()
        .chars()
        .map(crate::text::to_half_width)
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Masks any ID-like string for people who may not see it whole. An ID number keeps only its
/// six-digit area code: its middle is the birth date (which the same page shows) and its end the
/// sequence and check characters, so showing any of the end lets the number be worked out (with the
/// birth date, sex and area known, the last four characters leave one candidate). Hidden, they
/// leave 500: every sequence number of that sex, each with its own check character. Shorter
/// strings keep a third at most; eight characters or fewer are hidden whole.
pub fn mask_id(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let keep = match chars.len() {
        0..=8 => 0,
        n if n >= 15 => 6,
        n => n / 3,
    };
    let mut out = String::with_capacity(chars.len());
    out.extend(&chars[..keep]);
    out.extend(std::iter::repeat_n('*', chars.len() - keep));
    out
}

/// Text a person typed (a search), with anything that looks like an ID number (15 or more digits,
/// an X allowed last) masked: names and pinyin stay readable in a log, numbers do not.
pub fn mask_id_in_text(text: &str) -> String {
    text.split_whitespace()
        .map(|w| {
            let digits = w.chars().filter(|c| c.is_ascii_digit()).count();
            if w.len() >= 15 && digits + 1 >= w.len() {
                mask_id(w)
            } else {
                w.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// ISO 7064 MOD 11-2 check character for the first 17 digits.
pub fn check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for IdNumber {
    // Never print a full ID number into logs by accident.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

impl TryFrom<String> for IdNumber {
    type Error = IdNumberError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        IdNumber::parse(&value)
    }
}

impl From<IdNumber> for String {
    fn from(value: IdNumber) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    // The published vectors of domain-research §4.1.
    #[test]
    fn gb11643_worked_example_is_a_woman_born_1949() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.birth_date(), ymd(1949, 12, 31));
        assert_eq!(id.address_code(), "110105");
    }

    #[test]
    fn eighteen_eighty_birth_is_rejected_by_the_date_rule_though_its_check_digit_is_right() {
        assert_eq!(check_char(b"44052418800101001"), b'4');
        assert_eq!(
            IdNumber::parse("440524188001010014"),
            Err(IdNumberError::BirthTooEarly)
        );
    }

    #[test]
    fn python_stdnum_valid_vectors_parse() {
        for (s, date) in [
            ("360426199101010071", ymd(1991, 1, 1)),
            ("412723199010050012", ymd(1990, 10, 5)),
            ("110102199101010078", ymd(1991, 1, 1)),
            ("120110198012010073", ymd(1980, 12, 1)),
            ("120110199212010072", ymd(1992, 12, 1)),
            ("371001198010082394", ymd(1980, 10, 8)),
        ] {
            let id = IdNumber::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(id.birth_date(), date, "{s}");
            assert_eq!(id.sex(), Sex::Male, "{s}");
        }
    }

    #[test]
    fn lower_case_x_is_accepted_and_normalised() {
        let id = IdNumber::parse("44011320141005001x").unwrap();
        assert_eq!(id.as_str(), "44011320141005001X");
        assert_eq!(id.birth_date(), ymd(2014, 10, 5));
    }

    #[test]
    fn a_wrong_check_digit_is_refused_without_saying_which_would_fit() {
        let e = IdNumber::parse("36042619910102009X").unwrap_err();
        assert_eq!(e, IdNumberError::Checksum);
        // The right one is 3: the message must not hand it out.
        assert!(!e.to_string().contains('3'), "{e}");
        assert!(!e.to_string().contains("应为"), "{e}");
    }

    #[test]
    fn a_child_has_no_fifteen_digit_number() {
        assert!(IdNumber::parse("431389760616601").is_ok());
        assert_eq!(
            IdNumber::parse_child("431389760616601"),
            Err(IdNumberError::LegacyForChild)
        );
        assert_eq!(
            IdNumber::parse_child(" 44011320141005001x ")
                .unwrap()
                .as_str(),
            "44011320141005001X"
        );
    }

    #[test]
    fn month_thirteen_is_an_invalid_date() {
        // 360426199113010079 has a wrong check digit too; recompute it so the date rule is what fails.
        let mut s = b"36042619911301007".to_vec();
        s.push(check_char(&s));
        let s = String::from_utf8(s).unwrap();
        assert!(matches!(
            IdNumber::parse(&s),
            Err(IdNumberError::BirthDate(_))
        ));
        assert!(IdNumber::parse("360426199113010079").is_err());
    }

    #[test]
    fn letter_in_the_body_is_a_format_error() {
        assert_eq!(
            IdNumber::parse("T60426199101010078"),
            Err(IdNumberError::Format)
        );
    }

    #[test]
    fn address_code_99_is_rejected_and_345955_fails_its_checksum() {
        // 990426199112010074: a foreigner's number would need a province (11–65) in digits 2–3.
        assert!(IdNumber::parse("990426199112010074").is_err());
        assert_eq!(
            IdNumber::parse("345955198706122245"),
            Err(IdNumberError::Checksum)
        );
        let mut s = b"00042619911201007".to_vec();
        s.push(check_char(&s));
        assert!(matches!(
            IdNumber::parse(std::str::from_utf8(&s).unwrap()),
            Err(IdNumberError::AddressCode(_))
        ));
    }

    #[test]
    fn legacy_fifteen_digit_numbers_are_converted() {
        let id = IdNumber::parse("110105491231002").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        let id = IdNumber::parse("431389760616601").unwrap();
        assert_eq!(id.birth_date(), ymd(1976, 6, 16));
        assert_eq!(id.sex(), Sex::Male);
    }

    #[test]
    fn full_width_digits_and_spaces_are_normalised() {
        let id = IdNumber::parse(" １１０１０５１９４９１２３１００２ｘ ").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
    }

    #[test]
    fn hk_mo_tw_and_foreign_permits_are_recognised() {
        for (prefix, kind) in [
            ("810000", IdKind::HkMoTwResidence),
            ("820000", IdKind::HkMoTwResidence),
            ("830000", IdKind::HkMoTwResidence),
            ("911156", IdKind::ForeignPermanentResident),
        ] {
            let mut s = format!("{prefix}20100203001").into_bytes();
            s.push(check_char(&s));
            let id = IdNumber::parse(std::str::from_utf8(&s).unwrap()).unwrap();
            assert_eq!(id.kind(), kind);
        }
        let mut s = b"81000120100203001".to_vec();
        s.push(check_char(&s));
        assert!(IdNumber::parse(std::str::from_utf8(&s).unwrap()).is_err());
    }

    #[test]
    fn future_birth_date_is_rejected_against_the_given_today() {
        let id = IdNumber::parse("44011320141005001X").unwrap();
        assert!(id.check_not_future(ymd(2020, 1, 1)).is_ok());
        assert_eq!(
            id.check_not_future(ymd(2014, 10, 4)),
            Err(IdNumberError::BirthInFuture)
        );
    }

    #[test]
    fn wrong_length_says_how_long_it_was() {
        assert_eq!(IdNumber::parse("1234"), Err(IdNumberError::Length(4)));
    }

    #[test]
    fn masking_keeps_the_area_code_only() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(id.masked(), "110105************");
        assert_eq!(format!("{id:?}"), "IdNumber(110105************)");
    }

    proptest! {
        #[test]
        fn any_valid_number_round_trips(
            area in 110000u32..659999,
            days in 0i64..(365 * 120),
            seq in 0u32..1000,
        ) {
            let date = ymd(1900, 1, 1) + chrono::Duration::days(days);
            let mut s = format!("{area:06}{}{seq:03}", date.format("%Y%m%d")).into_bytes();
            s.push(check_char(&s));
            let text = String::from_utf8(s).unwrap();
            let id = IdNumber::parse(&text).unwrap();
            prop_assert_eq!(id.as_str(), text.as_str());
            prop_assert_eq!(id.birth_date(), date);
            prop_assert_eq!(id.sex() == Sex::Male, seq % 2 == 1);
            // Any single-digit change in the body breaks the checksum.
            let mut broken = text.clone().into_bytes();
            broken[10] = if broken[10] == b'9' { b'0' } else { broken[10] + 1 };
            prop_assert!(IdNumber::parse(std::str::from_utf8(&broken).unwrap()).is_err());
        }
    }

    /// How many valid ID numbers fit a masked one, given what else a user sees of the person: the
    /// area (the county the child lives in), the birth date and the sex. The count an attacker is left
    /// with.
    fn candidates(masked: &str, area: &str, birth: NaiveDate, sex: Sex) -> usize {
        let shown: Vec<char> = masked.chars().collect();
        if shown.len() != 18 || area.len() != 6 {
            return 0;
        }
        let birth = birth.format("%Y%m%d").to_string();
        (0u16..1000)
            .filter(|seq| (seq % 2 == 1) == (sex == Sex::Male))
            .map(|seq| format!("{area}{birth}{seq:03}"))
            .filter(|first17| {
                let check = check_char(first17.as_bytes()) as char;
                first17
                    .chars()
                    .chain([check])
                    .zip(&shown)
                    .all(|(f, m)| *m == '*' || *m == f)
            })
            .count()
    }

    #[test]
    fn a_masked_number_leaves_hundreds_of_candidates_to_someone_who_sees_the_rest() {
        let birth = NaiveDate::from_ymd_opt(2016, 7, 31).unwrap();
        let id = IdNumber::parse(&crate::sample::id_number_for("522730", birth, 13)).unwrap();
        assert_eq!(id.masked(), "522730************");
        assert_eq!(candidates(&id.masked(), "522730", birth, id.sex()), 500);
        // The mask it replaces (first 4 and last 4) gave the number away.
        let old = format!("{}**********{}", &id.as_str()[..4], &id.as_str()[14..]);
        assert_eq!(candidates(&old, "522730", birth, id.sex()), 1);
    }

    #[test]
    fn an_id_number_typed_in_a_search_is_masked_in_the_log() {
        assert_eq!(
            mask_id_in_text(" 52273020160731013X "),
            "522730************"
        );
        assert_eq!(mask_id_in_text("王小明 wxm"), "王小明 wxm");
    }

    #[test]
    fn short_strings_are_masked_by_at_least_two_thirds() {
        assert_eq!(mask_id("12345678"), "********");
        assert_eq!(mask_id("123456789012"), "1234********");
        assert_eq!(mask_id("522730160731123"), "522730*********");
    }
}
