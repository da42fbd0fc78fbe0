use super::*;

fn actor(role: Role, region: &str, id: &str) -> Actor {
    Actor {
        user_id: id.into(),
        username: id.into(),
        role,
        region: RegionCode::parse(region).unwrap(),
        agency_id: None,
    }
}

#[test]
fn living_alone_orders_the_parents_back_admonishes_them_and_escorts_the_child_if_unreachable() {
    // 景洪 000 三(二)5.
    let steps = playbook(&[Situation::LivingAlone]);
    assert_eq!(
        steps,
        vec![
            Step::OrderParentsBack,
            Step::AdmonishParents,
            Step::EscortToTemporaryCare,
            Step::KeepContactingParents,
            Step::NotifyTown
        ]
    );
}

#[test]
fn several_situations_merge_their_steps_once_each_with_the_town_notified_last() {
    let steps = playbook(&[Situation::DomesticViolence, Situation::GuardianNeglect]);
    assert_eq!(steps.first(), Some(&Step::StopViolence));
    assert_eq!(steps.last(), Some(&Step::NotifyTown));
    let mut unique = steps.clone();
    unique.dedup();
    assert_eq!(unique.len(), steps.len());
    assert!(steps.contains(&Step::ShelterPlacement) && steps.contains(&Step::ContactParents));
}

/// 对于上述情形，要按照有关规定调查取证，协助其就医、鉴定伤情 (内蒙古 001 四(二); 武清 004 二(五)):
/// violence and injuries expect evidence, medical care and an injury assessment.
#[test]
fn violence_and_injuries_expect_evidence_medical_care_and_an_injury_assessment() {
    for situation in [
        Situation::DomesticViolence,
        Situation::AccidentalInjury,
        Situation::AbnormalInjuryOrDeath,
    ] {
        let steps = playbook(&[situation]);
        for step in [
            Step::PreserveEvidence,
            Step::MedicalTreatment,
            Step::InjuryAssessment,
        ] {
            assert!(steps.contains(&step), "{situation:?} lacks {step:?}");
        }
    }
}

#[test]
fn the_police_receive_respond_and_notify_the_town_which_closes_with_another_users_approval() {
    use CaseAction::*;
    use CaseStatus::*;
    assert_eq!(transition(Reported, Receive, Role::Police), Ok(Responding));
    assert_eq!(
        transition(Responding, Respond, Role::Police),
        Ok(Responding)
    );
    assert_eq!(
        transition(Responding, NotifyTown, Role::Police),
        Ok(Assessing)
    );
    assert_eq!(transition(Assessing, RequestClose, Role::Town), Ok(Closing));
    assert_eq!(transition(Closing, RejectClose, Role::Town), Ok(Assessing));
    assert_eq!(transition(Closing, ApproveClose, Role::County), Ok(Closed));
    assert_eq!(transition(Closed, Reopen, Role::Town), Ok(Assessing));
}

#[test]
fn a_transition_out_of_order_or_by_the_wrong_role_is_refused() {
    use CaseAction::*;
    use CaseStatus::*;
    assert!(matches!(
        transition(Reported, NotifyTown, Role::Police),
        Err(CaseError::OutOfOrder(..))
    ));
    assert!(matches!(
        transition(Responding, RequestClose, Role::Town),
        Err(CaseError::OutOfOrder(..))
    ));
    assert_eq!(
        transition(Reported, Receive, Role::School),
        Err(CaseError::Role("受理"))
    );
    assert_eq!(
        transition(Responding, NotifyTown, Role::Town),
        Err(CaseError::Role("通报乡镇"))
    );
    // An escalated report is received by the county's civil affairs.
    assert_eq!(transition(Reported, Receive, Role::County), Ok(Responding));
}

#[test]
fn the_worst_area_sets_the_risk_and_two_serious_ones_make_it_critical() {
    use Concern::*;
    assert_eq!(risk_level(&[NoConcern, NoConcern]), RiskLevel::Low);
    assert_eq!(risk_level(&[Some, NoConcern]), RiskLevel::Medium);
    assert_eq!(risk_level(&[Serious, Some]), RiskLevel::High);
    assert_eq!(risk_level(&[Serious, Serious]), RiskLevel::Critical);
    assert_eq!(risk_level(&[Danger]), RiskLevel::Critical);
    assert_eq!(RiskLevel::Critical.visit_interval_days(), 7);
    assert_eq!(RiskLevel::Low.visit_interval_days(), 90);
}

#[test]
fn an_assessment_hears_the_child_or_says_why_not() {
    let mut input = AssessmentInput {
        safety: Some("some".into()),
        guardianship: Some("serious".into()),
        physical_health: Some("none".into()),
        mental_health: Some("bad".into()),
        findings: Some("姑姑临时照料，父亲未返乡".into()),
        participants: Some("镇儿童督导员、村儿童主任".into()),
        ..Default::default()
    };
    let e = input.parse().unwrap_err();
    assert!(e.message_for("mental_health").is_some());
    assert!(e.message_for("child_view").is_some());
    input.mental_health = Some("some".into());
    input.child_view = Some("想和爸爸一起住".into());
    assert_eq!(input.parse().unwrap().risk, RiskLevel::High);
}

#[test]
fn a_provider_accepts_or_declines_then_delivers_and_silence_becomes_overdue() {
    use ReferralAction::*;
    use ReferralStatus::*;
    assert_eq!(referral_transition(Pending, Accept), Ok(Accepted));
    assert_eq!(referral_transition(Pending, Decline), Ok(Declined));
    assert_eq!(
        referral_transition(Accepted, Deliver { complete: false }),
        Ok(Accepted)
    );
    assert_eq!(
        referral_transition(Accepted, Deliver { complete: true }),
        Ok(Delivered)
    );
    assert!(referral_transition(Declined, Accept).is_err());
    assert!(referral_transition(Pending, Deliver { complete: true }).is_err());
    let d = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    assert!(!referral_overdue(Pending, d, None, d + Duration::days(7)));
    assert!(referral_overdue(Pending, d, None, d + Duration::days(8)));
    assert!(referral_overdue(
        Accepted,
        d,
        Some(d),
        d + Duration::days(31)
    ));
    assert!(!referral_overdue(
        Delivered,
        d,
        Some(d),
        d + Duration::days(300)
    ));
}

#[test]
fn a_temporary_guardianship_names_its_legal_ground_and_ends_on_an_assessment() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    let e = PlacementInput::default().parse(today).unwrap_err();
    assert!(e.message_for("reason").is_some() && e.message_for("placement").is_some());
    let p = PlacementInput {
        reason: Some("guardian_refuses".into()),
        placement: Some("relatives".into()),
        carer: Some("姑姑王某".into()),
        start_date: Some("2026-11-20".into()),
        ..Default::default()
    }
    .parse(today)
    .unwrap();
    assert!(p.ended(None, "", today).is_err());
    assert!(p.ended(Some("2026-11-19"), "父亲返乡", today).is_err());
    let ended = p
        .ended(Some("2026-11-24"), "父亲返乡，评估具备监护能力", today)
        .unwrap();
    assert_eq!(ended.end_date, Some(today));
    assert!(ended.ended(None, "再次", today).is_err());
}

#[test]
fn a_warning_letter_is_issued_served_and_told_to_the_village_before_follow_ups() {
    use Stage::*;
    let m = Measure::WarningLetter;
    assert!(next_stage(m, &[], Issued).is_ok());
    assert!(next_stage(m, &[], Served).unwrap_err().contains("已出具"));
    assert!(next_stage(m, &[Issued], Served).is_ok());
    assert!(next_stage(m, &[Issued, Served], Issued).is_err());
    assert!(next_stage(m, &[Issued, Served, VillageTold], FollowUp).is_ok());
    assert!(next_stage(m, &[Issued, Served, VillageTold, FollowUp], FollowUp).is_ok());
    assert!(next_stage(m, &[], Judged).is_err());
    // A one-step measure is recorded once.
    assert!(next_stage(Measure::Admonition, &[Done], Done).is_err());
}

#[test]
fn the_police_admonish_and_civil_affairs_apply_to_revoke() {
    use crate::authz::Role;
    assert!(Measure::Admonition.recorded_by(Stage::Done, Role::Police));
    assert!(!Measure::Admonition.recorded_by(Stage::Done, Role::Town));
    assert!(Measure::Revocation.recorded_by(Stage::Applied, Role::County));
    assert!(!Measure::Revocation.recorded_by(Stage::Applied, Role::School));
    // The court records its decisions, not the application.
    assert!(Measure::Revocation.recorded_by(Stage::Judged, Role::Court));
    assert!(!Measure::Revocation.recorded_by(Stage::Applied, Role::Court));
    assert!(Measure::CriminalReferral.recorded_by(Stage::Filed, Role::Procuratorate));
    assert!(!Measure::CriminalReferral.recorded_by(Stage::Done, Role::Procuratorate));
}

#[test]
fn a_hundred_and_eighty_days_of_temporary_guardianship_meet_a_ground_until_someone_applies() {
    let today = NaiveDate::from_ymd_opt(2027, 6, 1).unwrap();
    let mut facts = GuardianshipFacts {
        placement_since: Some(today - Duration::days(179)),
        ..Default::default()
    };
    assert!(revocation_grounds(&facts, today).is_empty());
    facts.placement_since = Some(today - Duration::days(180));
    let grounds = revocation_grounds(&facts, today);
    assert_eq!(grounds[0].0, RevocationGround::NeglectInDanger);
    facts.protection_order_breached = true;
    assert_eq!(revocation_grounds(&facts, today).len(), 2);
    facts.revocation_applied = true;
    assert!(revocation_grounds(&facts, today).is_empty());
}

#[test]
fn a_finding_is_reported_by_a_case_opened_from_the_start_of_its_day_in_china() {
    let found = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    let t = |s: &str| Some(s.parse::<DateTime<Utc>>().unwrap());
    assert!(!reported_since(found, None));
    // 07:00 in China on the day is 23:00 UTC the day before.
    assert!(reported_since(found, t("2026-11-23T23:00:00Z")));
    assert!(!reported_since(found, t("2026-11-23T15:59:00Z")));
    assert!(reported_since(found, t("2026-11-30T02:00:00Z")));
}

#[test]
fn steps_that_stop_harm_are_due_in_two_hours_the_parents_in_a_day() {
    let received = "2026-11-24T02:00:00Z".parse::<DateTime<Utc>>().unwrap();
    let at = |h: i64| received + Duration::hours(h);
    assert!(!step_overdue(Step::StopViolence, received, at(2)));
    assert!(step_overdue(Step::StopViolence, received, at(3)));
    assert!(!step_overdue(Step::OrderParentsBack, received, at(24)));
    assert!(step_overdue(Step::OrderParentsBack, received, at(25)));
    assert!(!step_overdue(Step::PreserveEvidence, received, at(72)));
    assert!(step_overdue(Step::PreserveEvidence, received, at(73)));
}

#[test]
fn parents_silent_for_a_hundred_and_eighty_days_meet_a_ground() {
    // 武清 004 二(一)1: 监护人拒不履行监护职责六个月以上 → 申请撤销监护人资格.
    let today = NaiveDate::from_ymd_opt(2028, 3, 1).unwrap();
    let mut facts = GuardianshipFacts {
        parents_silent_since: Some(today - Duration::days(179)),
        ..Default::default()
    };
    assert!(revocation_grounds(&facts, today).is_empty());
    facts.parents_silent_since = Some(today - Duration::days(180));
    let grounds = revocation_grounds(&facts, today);
    assert_eq!(grounds.len(), 1);
    assert_eq!(grounds[0].0, RevocationGround::NeglectInDanger);
    assert!(grounds[0].1.contains("180天"));
}

#[test]
fn evidence_is_what_its_bytes_say_within_the_size() {
    assert_eq!(EvidenceKind::sniff(b"%PDF-1.7\n..."), Ok(EvidenceKind::Pdf));
    assert_eq!(
        EvidenceKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]),
        Ok(EvidenceKind::Jpeg)
    );
    assert!(EvidenceKind::sniff(b"<html><script>").is_err());
    assert!(EvidenceKind::sniff(b"").is_err());
    assert!(EvidenceKind::sniff(&vec![0xFF; MAX_EVIDENCE_BYTES + 1]).is_err());
    assert_eq!(evidence_name("C:\\fakepath\\伤情.jpg"), "伤情.jpg");
    assert_eq!(evidence_name("../../etc/passwd"), "passwd");
    assert_eq!(evidence_name("\u{0}\n"), "附件");
}

#[test]
fn an_unreceived_report_escalates_after_the_delay() {
    let filed = DateTime::parse_from_rfc3339("2026-11-24T09:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    assert!(!escalation_due(
        filed,
        filed + Duration::minutes(59),
        DEFAULT_ESCALATION
    ));
    assert!(escalation_due(
        filed,
        filed + Duration::minutes(60),
        DEFAULT_ESCALATION
    ));
}

#[test]
fn feedback_is_due_three_days_after_the_case_is_accepted() {
    let d = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    assert_eq!(
        feedback_due(d),
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
    );
}

#[test]
fn only_the_handling_police_the_county_bureau_and_the_reporter_see_who_reported() {
    let town = RegionCode::parse("522730001").unwrap();
    let teacher = actor(Role::School, "522730001", "teacher");
    assert!(sees_reporter(&teacher, &town, "teacher"));
    assert!(sees_reporter(
        &actor(Role::Police, "522730001", "p"),
        &town,
        "teacher"
    ));
    assert!(sees_reporter(
        &actor(Role::Police, "522730", "cp"),
        &town,
        "teacher"
    ));
    assert!(sees_reporter(
        &actor(Role::County, "522730", "c"),
        &town,
        "teacher"
    ));
    assert!(!sees_reporter(
        &actor(Role::Town, "522730001", "t"),
        &town,
        "teacher"
    ));
    assert!(!sees_reporter(
        &actor(Role::Village, "522730001001", "v"),
        &town,
        "teacher"
    ));
    assert!(!sees_reporter(
        &actor(Role::Police, "522730100", "p2"),
        &town,
        "teacher"
    ));
    assert!(!sees_reporter(
        &actor(Role::County, "522731", "c2"),
        &town,
        "teacher"
    ));
}

#[test]
fn a_report_names_its_child_known_situations_and_what_happened() {
    let now = Utc::now();
    let ok = ReportInput {
        child: Some(NewChildInput {
            name: Some("李某".into()),
            village_code: Some("522730001001".into()),
            ..Default::default()
        }),
        situations: vec!["living_alone".into(), "脱离监护单独居住生活".into()],
        description: Some("独自在家三天".into()),
        ..Default::default()
    }
    .parse(now)
    .unwrap();
    assert_eq!(ok.situations, vec![Situation::LivingAlone]);
    assert_eq!(ok.severity, Severity::Serious);
    let bad = ReportInput {
        child_id: Some("x".into()),
        situations: vec!["alone".into()],
        discovered_at: Some("2099-01-01T00:00:00Z".into()),
        ..Default::default()
    }
    .parse(now)
    .unwrap_err();
    assert!(bad.message_for("situations").unwrap().contains("alone"));
    assert!(bad.message_for("description").is_some());
    assert!(bad.message_for("discovered_at").is_some());
}
