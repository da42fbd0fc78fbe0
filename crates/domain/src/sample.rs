//! A filled-in registration form for tests and examples: a boy in 龙里县冠山街道 whose parents
//! both work in 广州 and whose grandmother looks after him. Change fields to build other cases.

use chrono::NaiveDate;

use crate::id_number::check_char;
use crate::input::ChildInput;

/// A valid 18-digit number for an address code, birth date and sequence (odd = male).
pub fn id_number_for(area: &str, birth: NaiveDate, seq: u16) -> String {
    let mut s = format!("{area}{}{seq:03}", birth.format("%Y%m%d")).into_bytes();
    s.push(check_char(&s));
    String::from_utf8(s).expect("ascii")
}

pub fn left_behind_boy(village_code: &str, birth: NaiveDate) -> ChildInput {
    let some = |s: &str| Some(s.to_owned());
    ChildInput {
        name: some("王小明"),
        sex: some("男"),
        ethnicity: some("布依族"),
        birth_date: Some(birth.to_string()),
        id_number: Some(id_number_for(&village_code[..6], birth, 13)),
        hukou_registered: some("是"),
        hukou_rural: some("是"),
        hukou_place: some("贵州省龙里县冠山街道"),
        village_code: some(village_code),
        residence_address: some("冠山街道某组12号"),
        health: some("健康"),
        boarding: some("否"),
        schooling: some("小学"),
        school_name: some("龙里县冠山小学"),
        living_alone: some("否"),
        paternal_grandfather_status: some("已故"),
        paternal_grandmother_status: some("健在"),
        paternal_grandmother_name: some("李秀英"),
        paternal_grandmother_birth_date: some("1958-03-02"),
        father_status: some("健在"),
        father_name: some("王建国"),
        father_birth_date: some("1985-06-01"),
        father_situation: some("外出务工"),
        father_work_place: some("4401"),
        father_phone: some("13800138000"),
        mother_status: some("健在"),
        mother_name: some("张丽"),
        mother_situation: some("外出务工"),
        mother_work_place: some("4401"),
        entrusted: some("是"),
        guardian_name: some("李秀英"),
        guardian_phone: some("13900139000"),
        guardian_relation: some("祖父母"),
        guardian_address: some("冠山街道某组12号"),
        guardianship_type: some("监护情况一般"),
        income_sources: Some(vec!["打工收入".to_owned(), "种养殖业".to_owned()]),
        assistance: Some(vec![]),
        contact_name: some("陈红"),
        contact_phone: some("13700137000"),
        ..ChildInput::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::child::*;
    use crate::eligibility::*;
    use crate::input::ParseContext;
    use crate::region::Divisions;

    const VILLAGE: &str = "522730001001";

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }
    fn ctx() -> ParseContext<'static> {
        ParseContext {
            today: ymd(2026, 11, 24),
            divisions: Divisions::shipped(),
        }
    }
    fn boy() -> ChildInput {
        left_behind_boy(VILLAGE, ymd(2016, 7, 31))
    }

    #[test]
    fn the_sample_parses_and_qualifies_because_both_parents_work_away() {
        let file = boy().parse(&ctx()).unwrap();
        assert_eq!(file.actual_guardianship(), ActualGuardianship::BothAway);
        assert_eq!(file.assessment(), Some(GuardianshipAssessment::Fair));
        let e = assess(&file, ymd(2026, 11, 24));
        assert!(e.qualifies, "{}", e.summary());
        assert_eq!(e.age, 10);
        assert_eq!(e.age_band, Some(AgeBand::School));
        assert!(e.summary().contains("父母双方外出务工"));
        assert_eq!(e.ages_out_on, ymd(2032, 7, 31));
    }

    #[test]
    fn wrong_checksum_is_reported_on_the_id_field() {
        let mut i = boy();
        let mut id = i.id_number.clone().unwrap();
        id.replace_range(17..18, if id.ends_with('0') { "1" } else { "0" });
        i.id_number = Some(id);
        let e = i.parse(&ctx()).unwrap_err();
        assert!(e.message_for("id_number").unwrap().contains("校验位"));
    }

    #[test]
    fn birth_date_and_sex_must_match_the_id_number() {
        let mut i = boy();
        i.birth_date = Some("2016-08-01".into());
        i.sex = Some("女".into());
        let e = i.parse(&ctx()).unwrap_err();
        assert!(e.message_for("birth_date").unwrap().contains("2016-07-31"));
        assert!(e.message_for("sex").unwrap().contains("男"));
    }

    #[test]
    fn every_missing_required_field_is_named() {
        let e = ChildInput::default().parse(&ctx()).unwrap_err();
        // 民族 is not among them: left blank it makes the file 信息不全, not invalid.
        assert!(!e.has("ethnicity"));
        for f in ["name", "sex", "birth_date", "village_code"] {
            assert!(e.has(f), "{f} missing from {e:?}");
        }
        // Nor are 就学情况 and 监护类型: a file without them is 待补充.
        assert!(!e.has("schooling") && !e.has("guardianship_type"));
    }

    #[test]
    fn unknown_village_code_is_named() {
        let mut i = boy();
        i.village_code = Some("522730001999".into());
        let e = i.parse(&ctx()).unwrap_err();
        assert_eq!(
            e.message_for("village_code"),
            Some("区划代码“522730001999”不存在")
        );
        i.village_code = Some("522730".into());
        assert!(
            i.parse(&ctx())
                .unwrap_err()
                .message_for("village_code")
                .unwrap()
                .contains("村级")
        );
    }

    #[test]
    fn unknown_enum_values_are_rejected_with_the_choices() {
        let mut i = boy();
        i.schooling = Some("大学".into());
        i.income_sources = Some(vec!["彩票".into()]);
        let e = i.parse(&ctx()).unwrap_err();
        assert!(e.message_for("schooling").unwrap().contains("辍学"));
        assert!(e.has("income_sources"));
    }

    #[test]
    fn father_at_home_and_capable_means_not_left_behind() {
        let mut i = boy();
        i.father_situation = Some("在家".into());
        i.father_work_place = None;
        let file = i.parse(&ctx()).unwrap();
        let e = assess(&file, ymd(2026, 11, 24));
        assert!(!e.qualifies);
        assert!(e.summary().starts_with("不属于农村留守儿童"));
        assert!(!qualifies_except_age(&file));
    }

    #[test]
    fn one_away_and_the_other_incapable_qualifies_and_is_flagged() {
        let mut i = boy();
        i.mother_situation = Some("在家但无监护能力".into());
        i.mother_work_place = None;
        i.mother_incapacity = Some("重残".into());
        i.guardianship_type = Some("父或母无监护能力".into());
        let file = i.parse(&ctx()).unwrap();
        assert_eq!(
            file.actual_guardianship(),
            ActualGuardianship::OneAwayOtherUnable(WhichParent::Mother)
        );
        assert!(
            assess(&file, ymd(2026, 11, 24))
                .summary()
                .contains("母亲无监护能力")
        );
        let flags = key_target_flags(&file);
        assert!(
            flags
                .iter()
                .any(|f| f.flag == KeyTargetFlag::ParentIncapable && f.derived)
        );
        assert_eq!(file.assessment(), Some(GuardianshipAssessment::Poor));
    }

    #[test]
    fn an_incapable_parent_without_a_reason_is_to_complete_not_refused() {
        let mut i = boy();
        i.mother_situation = Some("在家但无监护能力".into());
        i.mother_work_place = None;
        // 附件1 records only which parent: the reason left blank is 待补充, never assumed (it
        // decides 事实无人抚养: 重病、重残).
        let file = i.parse(&ctx()).unwrap();
        assert_eq!(file.mother.incapacity, None);
        assert!(crate::eligibility::missing_fields(&file).contains(&"母亲无监护能力原因"));
        // Still a left-behind child: the mother at home cannot care, whatever the reason.
        assert!(crate::eligibility::qualifies_except_age(&file));
    }

    #[test]
    fn away_parent_needs_a_work_place_at_city_level() {
        let mut i = boy();
        // Not stated: the file waits on the 待补充 list for it (a roster without the column is
        // not refused row by row).
        i.father_work_place = None;
        let file = i.parse(&ctx()).unwrap();
        assert!(crate::eligibility::missing_fields(&file).contains(&"父亲外出务工地点"));
        i.father_work_place = Some("440106".into());
        assert!(
            i.parse(&ctx())
                .unwrap_err()
                .message_for("father_work_place")
                .unwrap()
                .contains("市级")
        );
    }

    #[test]
    fn urban_hukou_does_not_qualify() {
        let mut i = boy();
        i.hukou_rural = Some("否".into());
        let file = i.parse(&ctx()).unwrap();
        let e = assess(&file, ymd(2026, 11, 24));
        assert!(!e.qualifies);
        assert!(e.summary().contains("非农村户籍"));
    }

    #[test]
    fn a_child_leaves_the_roster_on_the_sixteenth_birthday() {
        let file = boy().parse(&ctx()).unwrap();
        assert!(assess(&file, ymd(2032, 7, 30)).qualifies);
        let e = assess(&file, ymd(2032, 7, 31));
        assert!(!e.qualifies);
        assert!(e.summary().contains("已满16周岁"));
        use crate::lifecycle::{ChildStatus, RosterStanding};
        assert_eq!(
            RosterStanding::of(
                ChildStatus::Active,
                crate::eligibility::Definition::Met,
                file.birth_date,
                ymd(2032, 7, 31)
            ),
            RosterStanding::AgedOut
        );
    }

    #[test]
    fn leap_day_children_turn_sixteen_on_first_of_march() {
        assert_eq!(sixteenth_birthday(ymd(2012, 2, 29)), ymd(2028, 2, 29));
        assert_eq!(sixteenth_birthday(ymd(2016, 2, 29)), ymd(2032, 2, 29));
        assert_eq!(birth_anniversary(ymd(2016, 2, 29), 15), ymd(2031, 3, 1));
    }

    #[test]
    fn age_bands_follow_the_2016_census() {
        assert_eq!(AgeBand::of_age(0), Some(AgeBand::Infant));
        assert_eq!(AgeBand::of_age(5), Some(AgeBand::Infant));
        assert_eq!(AgeBand::of_age(6), Some(AgeBand::School));
        assert_eq!(AgeBand::of_age(13), Some(AgeBand::School));
        assert_eq!(AgeBand::of_age(14), Some(AgeBand::Teen));
        assert_eq!(AgeBand::of_age(16), None);
        let on = ymd(2026, 11, 24);
        let (after, upto) = AgeBand::School.birth_range(on);
        assert_eq!(age_on(upto, on), 6);
        assert_eq!(age_on(after, on), 14);
        assert_eq!(age_on(after.succ_opt().unwrap(), on), 13);
    }

    #[test]
    fn unsupervised_is_derived_when_nobody_cares_for_the_child() {
        let mut i = boy();
        i.entrusted = Some("否".into());
        i.guardian_name = None;
        i.guardianship_type = Some("监护情况较好".into());
        // Contradiction: nobody at home and no carer cannot be 较好.
        assert!(i.parse(&ctx()).unwrap_err().has("guardianship_type"));
        i.guardianship_type = Some("无人监护".into());
        i.living_alone = Some("是".into());
        let file = i.parse(&ctx()).unwrap();
        let flags: Vec<_> = key_target_flags(&file)
            .into_iter()
            .map(|f| f.flag)
            .collect();
        assert!(flags.contains(&KeyTargetFlag::Unsupervised));
        assert!(flags.contains(&KeyTargetFlag::LivingAlone));
    }

    #[test]
    fn schooling_rules_follow_the_form_notes() {
        let mut i = boy();
        i.schooling = Some("不在学".into());
        assert!(
            i.parse(&ctx())
                .unwrap_err()
                .message_for("schooling")
                .unwrap()
                .contains("14")
        );
        i.schooling = Some("辍学".into());
        let file = i.parse(&ctx()).unwrap();
        assert!(
            key_target_flags(&file)
                .iter()
                .any(|f| f.flag == KeyTargetFlag::DroppedOut)
        );
    }

    #[test]
    fn deceased_grandparent_is_distinct_from_unknown() {
        let file = boy().parse(&ctx()).unwrap();
        assert_eq!(file.paternal_grandfather.status, KinStatus::Deceased);
        assert_eq!(file.maternal_grandfather.status, KinStatus::Unknown);
        let mut i = boy();
        i.maternal_grandmother_name = Some("—".into());
        // "—" is not a name: the status field carries death.
        assert!(i.parse(&ctx()).is_err());
    }

    #[test]
    fn edit_round_trip_through_the_form_changes_nothing() {
        let file = boy().parse(&ctx()).unwrap();
        let again = ChildInput::from_file(&file).parse(&ctx()).unwrap();
        assert_eq!(file, again);
        let patched = ChildInput::from_file(&file).overlay(ChildInput {
            school_name: Some("龙里县第二小学".into()),
            ..ChildInput::default()
        });
        let changed = patched.parse(&ctx()).unwrap();
        let changes = crate::history::diff(&file, &changed);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].field, "school_name");
        assert_eq!(changes[0].new.as_deref(), Some("龙里县第二小学"));
    }

    #[test]
    fn id_numbers_are_masked_in_history() {
        let file = boy().parse(&ctx()).unwrap();
        let mut other = file.clone();
        other.id_number = None;
        let changes = crate::history::diff(&file, &other);
        assert_eq!(changes[0].field, "id_number");
        assert!(changes[0].old.as_ref().unwrap().contains("**********"));
    }
}
