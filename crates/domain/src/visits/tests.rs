use super::*;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn input() -> VisitInput {
    VisitInput {
        method: Some("home".into()),
        visitor_role: Some("儿童主任".into()),
        seen: Some(vec!["child".into(), "guardian".into()]),
        condition: Some("good".into()),
        ..Default::default()
    }
}

#[test]
fn a_sent_visit_reads_rfc3339_on_chinas_calendar_and_the_usual_kinds() {
    let sent = SentVisit {
        child_id: Some("c1".into()),
        visited_at: Some("2026-11-30T17:30:00Z".into()),
        kind: Some("家访".into()),
        note: Some("孩子在家写作业".into()),
        ..SentVisit::default()
    };
    let (child, input) = sent
        .check(
            VisitorRole::ChildDirector,
            "k-12345678",
            NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            "王主任",
        )
        .unwrap();
    assert_eq!(child, "c1");
    // 17:30 UTC is 01:30 the next day in China.
    assert_eq!(input.visited_on.as_deref(), Some("2026-12-01"));
    assert_eq!(input.method.as_deref(), Some("home"));
    assert_eq!(input.condition.as_deref(), Some("unstated"));
    assert_eq!(input.visitor_role.as_deref(), Some("child_director"));
    for (kind, method) in [
        ("home_visit", VisitMethod::Home),
        ("PHONE", VisitMethod::Call),
        ("视频", VisitMethod::Call),
        ("school", VisitMethod::School),
        ("入户走访", VisitMethod::Home),
    ] {
        assert_eq!(VisitMethod::from_kind(kind), Some(method), "{kind}");
    }
    let bad = SentVisit {
        visited_at: Some("yesterday".into()),
        kind: Some("carrier pigeon".into()),
        ..SentVisit::default()
    };
    let e = bad
        .check(
            VisitorRole::Other,
            "k-12345678",
            NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            "王主任",
        )
        .unwrap_err();
    for f in ["child_id", "visited_at", "kind"] {
        assert!(e.has(f), "{f}: {e:?}");
    }
    assert_eq!(sent_field("visited_on"), "visited_at");
    // A time ahead of today is named by the form's rule, as the sender named the field.
    let ahead = SentVisit {
        visited_at: Some("2026-12-24T10:30:00+08:00".into()),
        ..sent
    };
    let e = ahead
        .check(
            VisitorRole::Other,
            "k-12345678",
            NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            "王主任",
        )
        .unwrap_err();
    assert!(e.has("visited_at") && !e.has("visited_on"), "{e:?}");
}

#[test]
fn a_visit_needs_how_who_and_the_childs_condition_and_names_each_missing_field() {
    let e = VisitInput::default()
        .parse(d("2026-12-01"), "")
        .unwrap_err();
    for f in ["method", "visitor_role", "visitor_name", "condition"] {
        assert!(e.has(f), "{f}: {e:?}");
    }
    let v = input().parse(d("2026-12-01"), "王芳").unwrap();
    assert_eq!(v.visitor_name, "王芳");
    assert_eq!(v.visited_on, d("2026-12-01"));
    assert_eq!(v.seen, vec![Seen::Child, Seen::Guardian]);
}

#[test]
fn a_visit_is_not_dated_in_the_future_nor_too_far_back() {
    let today = d("2026-12-01");
    let mut i = input();
    i.visited_on = Some("2026-12-02".into());
    assert!(i.parse(today, "王芳").unwrap_err().has("visited_on"));
    i.visited_on = Some("2026-08-01".into());
    assert!(i.parse(today, "王芳").unwrap_err().has("visited_on"));
    i.visited_on = Some("2026年11月3日".into());
    assert_eq!(i.parse(today, "王芳").unwrap().visited_on, d("2026-11-03"));
}

#[test]
fn danger_or_a_reportable_finding_must_say_what_was_seen() {
    let today = d("2026-12-01");
    let mut i = input();
    i.condition = Some("danger".into());
    assert!(i.parse(today, "王芳").unwrap_err().has("note"));
    i.condition = Some("good".into());
    i.reportable = Some(true);
    assert!(i.parse(today, "王芳").unwrap_err().has("note"));
    i.note = Some("孩子一人在家，已两天未见大人".into());
    assert!(i.parse(today, "王芳").unwrap().reportable);
}

#[test]
fn a_home_visit_that_did_not_see_the_child_says_why() {
    let mut i = input();
    i.seen = Some(vec!["guardian".into()]);
    assert!(i.parse(d("2026-12-01"), "王芳").unwrap_err().has("note"));
}

#[test]
fn gps_is_both_coordinates_in_range_or_none() {
    let today = d("2026-12-01");
    let mut i = input();
    i.latitude = Some(26.2);
    assert!(i.parse(today, "王芳").unwrap_err().has("latitude"));
    i.longitude = Some(f64::NAN);
    assert!(i.parse(today, "王芳").unwrap_err().has("latitude"));
    i.longitude = Some(107.5);
    assert!(i.parse(today, "王芳").is_ok());
    i.latitude = Some(91.0);
    assert!(i.parse(today, "王芳").unwrap_err().has("latitude"));
}

#[test]
fn unknown_codes_and_bad_client_keys_are_named() {
    let mut i = input();
    i.seen = Some(vec!["child".into(), "alien".into()]);
    i.client_key = Some("x'; DROP".into());
    let e = i.parse(d("2026-12-01"), "王芳").unwrap_err();
    assert!(e.has("seen") && e.has("client_key"));
    assert!(parse_client_key("0f5c2a9e-1b7d-4c1e-9a3f-2d8e6b7c1a00").is_some());
    assert!(parse_client_key("short").is_none());
}

#[test]
fn cadence_follows_the_highest_risk_and_the_watched_flags() {
    let p = VisitPolicy::default();
    assert_eq!(p.cadence(None, 0), Cadence::Quarterly);
    assert_eq!(p.cadence(Some(RiskLevel::Medium), 0), Cadence::Quarterly);
    assert_eq!(p.cadence(Some(RiskLevel::High), 0), Cadence::Monthly);
    assert_eq!(p.cadence(Some(RiskLevel::Critical), 0), Cadence::Weekly);
    let alone = KeyTargetFlag::LivingAlone.bit();
    assert_eq!(p.cadence(None, alone), Cadence::Monthly);
    assert_eq!(
        p.cadence(None, KeyTargetFlag::Disabled.bit()),
        Cadence::Quarterly
    );
    // A county that visits everyone monthly.
    let monthly = VisitPolicy {
        other: Cadence::Monthly,
        ..p
    };
    assert_eq!(monthly.cadence(None, 0), Cadence::Monthly);
    assert_eq!(
        monthly.cadence(Some(RiskLevel::Critical), alone),
        Cadence::Weekly
    );
}

#[test]
fn quarterly_means_once_in_each_calendar_quarter() {
    // 沈阳 002 一2 每季度至少一次: visited in November → next due by the end of March.
    let q = Cadence::Quarterly;
    assert_eq!(
        next_due(Some(d("2026-11-20")), d("2026-01-01"), q),
        d("2027-03-31")
    );
    assert_eq!(
        next_due(Some(d("2026-12-31")), d("2026-01-01"), q),
        d("2027-03-31")
    );
    assert_eq!(
        next_due(Some(d("2026-01-01")), d("2026-01-01"), q),
        d("2026-06-30")
    );
    // Never visited: by the end of the quarter the file was registered in.
    assert_eq!(next_due(None, d("2026-08-15"), q), d("2026-09-30"));
}

#[test]
fn monthly_due_dates_cross_leap_years() {
    let m = Cadence::Monthly;
    assert_eq!(
        next_due(Some(d("2028-01-31")), d("2027-01-01"), m),
        d("2028-02-29")
    );
    assert_eq!(
        next_due(Some(d("2027-01-31")), d("2026-01-01"), m),
        d("2027-02-28")
    );
    assert_eq!(
        next_due(Some(d("2026-12-15")), d("2026-01-01"), m),
        d("2027-01-31")
    );
    assert_eq!(next_due(None, d("2028-02-10"), m), d("2028-02-29"));
    assert_eq!(quarter_end(d("2028-02-29")), d("2028-03-31"));
}

#[test]
fn weekly_counts_seven_days_from_the_visit() {
    let w = Cadence::Weekly;
    assert_eq!(
        next_due(Some(d("2028-02-25")), d("2028-01-01"), w),
        d("2028-03-03")
    );
    assert_eq!(next_due(None, d("2026-12-29"), w), d("2027-01-05"));
}

#[test]
fn due_state_is_done_in_the_visited_period_due_until_its_end_then_overdue() {
    let q = Cadence::Quarterly;
    let last = Some(d("2026-10-10"));
    let due = next_due(last, d("2026-01-01"), q);
    assert_eq!(DueState::of(due, last, d("2026-12-01"), q), DueState::Done);
    assert_eq!(DueState::of(due, last, d("2027-02-01"), q), DueState::Due);
    assert_eq!(
        DueState::of(due, last, d("2027-04-01"), q),
        DueState::Overdue
    );
    let never = next_due(None, d("2026-11-01"), q);
    assert_eq!(DueState::of(never, None, d("2026-12-01"), q), DueState::Due);
    assert_eq!(
        DueState::of(never, None, d("2027-01-01"), q),
        DueState::Overdue
    );
    let w = Cadence::Weekly;
    let last = Some(d("2026-11-28"));
    let due = next_due(last, d("2026-01-01"), w);
    assert_eq!(DueState::of(due, last, d("2026-12-01"), w), DueState::Done);
    assert_eq!(
        DueState::of(due, last, d("2026-12-06"), w),
        DueState::Overdue
    );
}

#[test]
fn a_de_facto_unsupported_child_is_visited_like_a_watched_one() {
    let p = VisitPolicy::default();
    let de_facto = crate::population::DE_FACTO;
    assert_eq!(p.cadence_in(None, 0, de_facto), Cadence::Monthly);
    assert_eq!(
        p.cadence_in(None, 0, crate::population::POVERTY),
        Cadence::Quarterly
    );
    assert_eq!(
        p.cadence_in(Some(RiskLevel::Critical), 0, de_facto),
        Cadence::Weekly
    );
}
