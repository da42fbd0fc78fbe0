//! "Today" comes from one clock that tests can set (SYSTEM.md: Time).

use chrono::{DateTime, NaiveDate, Utc};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
    /// The calendar date in China (UTC+8), where all the deadlines and ages are counted.
    fn today(&self) -> NaiveDate {
        china_date(self.now())
    }
}

/// The calendar date in China (UTC+8) of an instant.
pub fn china_date(t: DateTime<Utc>) -> NaiveDate {
    (t + chrono::Duration::hours(8)).date_naive()
}

/// The instant a day begins in China (midnight UTC+8): a day's records are those from this
/// instant to the next day's.
pub fn china_day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).expect("midnight").and_utc() - chrono::Duration::hours(8)
}

/// A clock that always answers the same instant (tests, reports "as of" a date).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl FixedClock {
    pub fn on(date: NaiveDate) -> Self {
        FixedClock(date.and_hms_opt(4, 0, 0).expect("valid time").and_utc())
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// An instant as the system records it: RFC 3339 in UTC (`2026-11-24T09:30:00.000Z`), parsed once
/// where it is read, so the rules compare instants and the pages show China's time without each
/// parsing the text again. It serialises as the text it was read from.
#[derive(Debug, Clone)]
pub struct At {
    text: String,
    instant: DateTime<Utc>,
}

impl At {
    /// A recorded instant; `None` if the text is not RFC 3339.
    pub fn parse(text: &str) -> Option<At> {
        let instant = DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc);
        Some(At {
            text: text.to_owned(),
            instant,
        })
    }

    /// An instant in the form the system records (milliseconds, `Z`).
    pub fn of(instant: DateTime<Utc>) -> At {
        At {
            text: instant.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            instant,
        }
    }

    pub fn instant(&self) -> DateTime<Utc> {
        self.instant
    }

    /// The text as recorded.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The calendar date in China.
    pub fn china_date(&self) -> NaiveDate {
        china_date(self.instant)
    }

    /// As people in China read it: Beijing time to the minute (`2026-11-24 17:30`).
    pub fn china_minute(&self) -> String {
        (self.instant + chrono::Duration::hours(8))
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    /// Beijing time to the second (`2026-11-24 17:30:05`), for a log where order matters.
    pub fn china_second(&self) -> String {
        (self.instant + chrono::Duration::hours(8))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    }

    /// Whole minutes from `self` to `later` (none below zero).
    pub fn minutes_to(&self, later: &At) -> i64 {
        (later.instant - self.instant).num_minutes().max(0)
    }
}

impl PartialEq for At {
    fn eq(&self, other: &At) -> bool {
        self.instant == other.instant
    }
}

impl Eq for At {}

impl PartialOrd for At {
    fn partial_cmp(&self, other: &At) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for At {
    fn cmp(&self, other: &At) -> std::cmp::Ordering {
        self.instant.cmp(&other.instant)
    }
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl serde::Serialize for At {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for At {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<At, D::Error> {
        let text = String::deserialize(d)?;
        At::parse(&text).ok_or_else(|| serde::de::Error::custom("not an RFC 3339 time"))
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for At {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::DateTime,
            )))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for At {}

#[cfg(test)]
mod at_tests {
    use super::*;

    #[test]
    fn a_recorded_time_keeps_its_text_and_reads_in_china_time() {
        let at = At::parse("2026-11-24T09:30:00.000Z").unwrap();
        assert_eq!(at.china_minute(), "2026-11-24 17:30");
        assert_eq!(
            at.china_date(),
            NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
        );
        let late = At::parse("2026-11-24T16:30:00Z").unwrap();
        // 16:30 UTC is past midnight in China.
        assert_eq!(
            late.china_date(),
            NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
        );
        assert_eq!(at.minutes_to(&late), 420);
        assert_eq!(late.minutes_to(&at), 0);
        assert_eq!(
            serde_json::to_string(&at).unwrap(),
            "\"2026-11-24T09:30:00.000Z\""
        );
        assert!(At::parse("2026-11-24 09:30").is_none());
        assert_eq!(At::of(at.instant()), at);
    }
}
