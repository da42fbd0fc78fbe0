use chrono::NaiveDate;

use super::*;
use crate::input::ParseContext;
use crate::region::Divisions;
use crate::sample::id_number_for;

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn ctx(today: NaiveDate) -> ParseContext<'static> {
    ParseContext {
        today,
        divisions: Divisions::shipped(),
    }
}

fn grandmother(birth: NaiveDate) -> ElderInput {
    ElderInput {
        name: Some("李秀英".into()),
        sex: Some("女".into()),
        birth_date: Some(birth.to_string()),
        village_code: Some("522730001001".into()),
        living_with: Some("grandchildren".into()),
        children_away: Some(vec![ChildAwayInput {
            name: Some("王建国".into()),
            work_place: Some("广东省深圳市".into()),
            phone: Some("13800138000".into()),
        }]),
        health: Some(HealthInput::Word("患慢性病".into())),
        ..ElderInput::default()
    }
}

#[test]
fn younger_than_sixty_on_the_reference_date_is_refused_naming_birth_date() {
    let today = ymd(2026, 12, 8);
    let e = grandmother(ymd(1966, 12, 9))
        .parse(&ctx(today))
        .unwrap_err();
    assert!(e.has("birth_date"), "{e:?}");
    assert!(e.to_string().contains("未满60周岁（59周岁）"), "{e}");
    // The day of the 60th birthday counts.
    let f = grandmother(ymd(1966, 12, 8)).parse(&ctx(today)).unwrap();
    assert_eq!(age(&f, today), 60);
}

#[test]
fn sixty_on_the_birthday_29_feb() {
    // Born on 29 February: 60 on 1 March of a common year, not on 28 February.
    let born = ymd(1964, 2, 29);
    assert!(grandmother(born).parse(&ctx(ymd(2024, 2, 28))).is_err());
    assert!(grandmother(born).parse(&ctx(ymd(2024, 2, 29))).is_ok());
    let born = ymd(1960, 2, 29);
    assert!(grandmother(born).parse(&ctx(ymd(2020, 2, 28))).is_err());
    assert!(grandmother(born).parse(&ctx(ymd(2020, 2, 29))).is_ok());
}

#[test]
fn no_child_away_stated_is_incomplete_not_refused() {
    let mut i = grandmother(ymd(1950, 1, 1));
    i.children_away = None;
    i.living_with = None;
    let f = i.parse(&ctx(ymd(2026, 12, 8))).unwrap();
    assert_eq!(missing(&f), ["居住情况", "外出子女", "生活自理能力"]);
    // A line with nothing on it is not a child.
    let mut i = grandmother(ymd(1950, 1, 1));
    i.children_away = Some(vec![ChildAwayInput::default()]);
    assert!(
        i.parse(&ctx(ymd(2026, 12, 8)))
            .unwrap()
            .children_away
            .is_empty()
    );
}

#[test]
fn health_as_code_or_object() {
    let today = ymd(2026, 12, 8);
    let f = grandmother(ymd(1950, 1, 1)).parse(&ctx(today)).unwrap();
    assert_eq!(f.health.status, Some(ElderHealthStatus::Chronic));
    let json = r#"{"name":"张德福","sex":"男","birth_date":"1948-03-02","village_code":"522730001001",
        "living_with":"alone","children_away":[],"health":{"status":"serious_illness","self_care":"部分自理","illness":"脑梗后遗症"}}"#;
    let i: ElderInput = serde_json::from_str(json).unwrap();
    let f = i.parse(&ctx(today)).unwrap();
    assert_eq!(f.health.status, Some(ElderHealthStatus::Serious));
    assert_eq!(f.health.self_care, Some(SelfCare::Partial));
    assert!(watched(&f));
    // An unknown key is refused, not dropped.
    assert!(serde_json::from_str::<ElderInput>(r#"{"name":"x","age":70}"#).is_err());
}

#[test]
fn each_error_names_its_field_and_the_id_number_must_agree() {
    let today = ymd(2026, 12, 8);
    let mut i = grandmother(ymd(1950, 1, 1));
    i.id_number = Some(id_number_for("522730", ymd(1951, 1, 1), 11));
    i.children_away = Some(vec![
        ChildAwayInput {
            phone: Some("12345".into()),
            ..ChildAwayInput::default()
        },
        ChildAwayInput::default(),
    ]);
    i.living_with = Some("室友".into());
    i.village_code = Some("522730".into());
    let e = i.parse(&ctx(today)).unwrap_err();
    for field in [
        "birth_date",
        "sex",
        "children_away[0].phone",
        "living_with",
        "village_code",
    ] {
        assert!(e.has(field), "{field}: {e:?}");
    }
    let many = ElderInput {
        children_away: Some(vec![ChildAwayInput::default(); MAX_CHILDREN_AWAY + 1]),
        ..grandmother(ymd(1950, 1, 1))
    };
    assert!(many.parse(&ctx(today)).unwrap_err().has("children_away"));
}

#[test]
fn an_edit_lays_its_fields_over_the_record() {
    let today = ymd(2026, 12, 8);
    let f = grandmother(ymd(1950, 1, 1)).parse(&ctx(today)).unwrap();
    let back = ElderInput::from_file(&f);
    assert_eq!(back.clone().parse(&ctx(today)).unwrap(), f);
    let edited = back
        .overlay(ElderInput {
            living_with: Some("alone".into()),
            care: Some("邻居每日探望".into()),
            ..ElderInput::default()
        })
        .parse(&ctx(today))
        .unwrap();
    assert_eq!(edited.living_with, Some(LivingWith::Alone));
    assert_eq!(edited.children_away, f.children_away);
}
