//! Routing until done (转办): children found without hukou go to the police station until they are
//! registered; children of families in hardship, seriously ill or disabled go to the departments
//! that can help (人社, 卫健, 乡村振兴/扶贫, 残联) — each routing sits in the receiving unit's inbox
//! and on the sender's list until the unit closes it with its feedback.
//!
//! 龙里 003 五(四)1–3: 县民政…将摸底排查中发现的无户籍留守儿童花名册通报给同级公安机关…县公安局要…
//! 依法为无户籍留守儿童登记常住户籍…对其中非亲生落户的儿童，公安机关应当及时采集其DNA信息;
//! 龙里 003 五(五)1: 将…家庭生活困难、患重大疾病、残疾的留守儿童花名册通报给县人社、卫计、扶贫、
//! 残联…等部门，共同做好留守儿童生活、医疗等救助保障工作.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::code_enum;
use crate::text;
use crate::validation::ValidationErrors;

code_enum! {
    /// The unit a routing goes to.
    pub enum Unit {
        Police = ("police", "公安派出所"),
        Hrss = ("hrss", "人力资源和社会保障部门"),
        Health = ("health", "卫生健康部门"),
        Rural = ("rural", "乡村振兴（扶贫）部门"),
        Disability = ("disability", "残疾人联合会"),
        /// The county education bureau, for free secondary vocational education (龙里 003
        /// 五(三)3: 14岁至16岁未在学…加快推进中等职业教育免费制度的实施).
        Education = ("education", "教育行政部门"),
    }
}

impl Unit {
    /// The department a county office is, read from its official name (龙里 003 lists 县人社局,
    /// 县卫计局, 县扶贫局, 县残联; today's names 卫健局, 乡村振兴局 too). None for another name.
    pub fn from_agency_name(name: &str) -> Option<Unit> {
        let n = text::clean(name);
        const KEYS: [(&str, Unit); 10] = [
            ("人社", Unit::Hrss),
            ("人力资源", Unit::Hrss),
            ("卫健", Unit::Health),
            ("卫计", Unit::Health),
            ("卫生", Unit::Health),
            ("乡村振兴", Unit::Rural),
            ("扶贫", Unit::Rural),
            ("残联", Unit::Disability),
            ("残疾人联合会", Unit::Disability),
            ("残疾人", Unit::Disability),
        ];
        KEYS.iter().find(|(k, _)| n.contains(k)).map(|(_, u)| *u)
    }

    /// The departments a department user may belong to (not the police, who have their own role).
    pub const DEPARTMENTS: [Unit; 4] = [Unit::Hrss, Unit::Health, Unit::Rural, Unit::Disability];
}

code_enum! {
    /// Why a child is referred.
    pub enum Need {
        NoHukou = ("no_hukou", "无户籍"),
        Hardship = ("hardship", "家庭生活困难"),
        Illness = ("illness", "患重大疾病"),
        Disability = ("disability", "残疾"),
        Vocational = ("vocational", "14至16周岁未在学（中等职业教育）"),
        /// 因遭受侵害或临时监护需要转学、异地入学接受义务教育的，教育部门应给予保障 (内蒙古 001
        /// 四(二); 龙里 003 五(一)2).
        SchoolTransfer = ("school_transfer", "需转学、异地入学（临时监护或遭受侵害）"),
    }
}

impl Need {
    /// The units a need may go to, the usual one first. A child without hukou goes to the police
    /// only (国办发〔2015〕96号: the police register hukou); the others to the departments the seed
    /// names for 生活、医疗等救助保障.
    pub fn units(self) -> &'static [Unit] {
        match self {
            Need::NoHukou => &[Unit::Police],
            Need::Hardship => &[Unit::Rural, Unit::Hrss],
            Need::Illness => &[Unit::Health, Unit::Hrss],
            Need::Disability => &[Unit::Disability, Unit::Health],
            Need::Vocational | Need::SchoolTransfer => &[Unit::Education],
        }
    }
}

code_enum! {
    /// Where a routing stands.
    pub enum Status {
        Sent = ("sent", "待受理"),
        Accepted = ("accepted", "办理中"),
        Done = ("done", "已办结"),
        Declined = ("declined", "已退回"),
        Withdrawn = ("withdrawn", "已撤回"),
    }
}

impl Status {
    pub fn is_open(self) -> bool {
        matches!(self, Status::Sent | Status::Accepted)
    }
}

code_enum! {
    /// What happens to a routing.
    pub enum Event {
        Accept = ("accept", "受理"),
        Progress = ("progress", "记录进展"),
        Finish = ("finish", "办结"),
        Decline = ("decline", "退回"),
        Withdraw = ("withdraw", "撤回"),
    }
}

impl Event {
    /// Whether the receiving unit does this (else the sender's side does).
    pub fn by_receiver(self) -> bool {
        !matches!(self, Event::Withdraw)
    }
}

/// A routing as sent: the need, the units (one routing each), a note for them.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct RoutingInput {
    /// no_hukou | hardship | illness | disability (or the Chinese label).
    pub need: Option<String>,
    /// police | hrss | health | rural | disability; empty = the need's usual unit.
    pub units: Option<Vec<String>>,
    pub note: Option<String>,
}

/// A checked [`RoutingInput`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRouting {
    pub need: Need,
    pub units: Vec<Unit>,
    pub note: Option<String>,
}

const MAX_NOTE: usize = 500;

/// Free text as written (its Chinese punctuation kept), without control characters.
fn note_of(v: &Option<String>, field: &str, e: &mut ValidationErrors) -> Option<String> {
    let n = text::free(v.as_deref()?);
    if n.is_empty() {
        return None;
    }
    if n.chars().count() > MAX_NOTE {
        e.add(field, format!("请不超过{MAX_NOTE}字"));
    }
    Some(n)
}

impl RoutingInput {
    pub fn parse(&self) -> Result<NewRouting, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let need = match self
            .need
            .as_deref()
            .map(text::clean)
            .filter(|s| !s.is_empty())
        {
            None => {
                e.add("need", "请选择转办事由");
                None
            }
            Some(n) => {
                let need = Need::parse(&n);
                if need.is_none() {
                    e.add("need", format!("未知的转办事由“{n}”"));
                }
                need
            }
        };
        let mut units = Vec::new();
        let listed = self.units.as_deref().unwrap_or_default();
        if listed.len() > Unit::ALL.len() {
            e.add("units", "接收单位过多");
        } else {
            for u in listed
                .iter()
                .map(|u| text::clean(u))
                .filter(|u| !u.is_empty())
            {
                match Unit::parse(&u) {
                    Some(unit) if !units.contains(&unit) => units.push(unit),
                    Some(_) => {}
                    None => e.add("units", format!("未知的接收单位“{u}”")),
                }
            }
        }
        if let Some(need) = need {
            if units.is_empty() {
                units.push(need.units()[0]);
            }
            for u in &units {
                if !need.units().contains(u) {
                    e.add(
                        "units",
                        format!(
                            "“{}”应转办给{}",
                            need.label(),
                            need.units()
                                .iter()
                                .map(|u| u.label())
                                .collect::<Vec<_>>()
                                .join("或")
                        ),
                    );
                }
            }
        }
        let note = note_of(&self.note, "note", &mut e);
        e.into_result(NewRouting {
            need: need.unwrap_or(Need::NoHukou),
            units,
            note,
        })
    }
}

/// An event on a routing as sent.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct EventInput {
    /// accept | progress | finish | decline | withdraw
    pub event: Option<String>,
    /// What was done, the feedback, or the reason (required for progress, finish, decline, withdraw).
    pub note: Option<String>,
    /// Hukou registered: the day (finish of a police routing).
    pub registered_on: Option<String>,
    /// Hukou registered: the 户口 (常住户口登记) number noted.
    pub hukou_number: Option<String>,
    /// Whether the child was registered as not the parents' biological child (非亲生落户).
    pub not_biological: Option<bool>,
    /// DNA taken into the national database (required when not biological).
    pub dna_collected: Option<bool>,
}

/// What an event does to a routing, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub event: Event,
    pub to: Status,
    pub note: Option<String>,
    pub registered_on: Option<NaiveDate>,
    pub hukou_number: Option<String>,
    pub not_biological: Option<bool>,
    pub dna_collected: Option<bool>,
}

/// The next state of a routing (to `unit`, standing at `status`) after `input`, or each wrong
/// field named. Closed routings take nothing more.
pub fn transition(
    unit: Unit,
    status: Status,
    input: &EventInput,
    today: NaiveDate,
) -> Result<Transition, ValidationErrors> {
    let mut e = ValidationErrors::default();
    let event = input.event.as_deref().map(str::trim).and_then(Event::parse);
    let Some(event) = event else {
        return Err(ValidationErrors::single("event", "请选择要进行的操作"));
    };
    if !status.is_open() {
        return Err(ValidationErrors::single(
            "event",
            format!("该转办已{}，不能再{}", status.label(), event.label()),
        ));
    }
    let note = note_of(&input.note, "note", &mut e);
    let to = match event {
        Event::Accept if status == Status::Sent => Status::Accepted,
        Event::Accept => {
            e.add("event", "该转办已受理");
            status
        }
        Event::Progress => Status::Accepted,
        Event::Finish => Status::Done,
        Event::Decline => Status::Declined,
        Event::Withdraw => Status::Withdrawn,
    };
    if matches!(
        event,
        Event::Progress | Event::Decline | Event::Withdraw | Event::Finish
    ) && note.is_none()
        && !(event == Event::Finish && unit == Unit::Police)
    {
        e.add(
            "note",
            match event {
                Event::Progress => "请写明办理进展",
                Event::Finish => "请写明办理结果（给予了哪些救助或服务）",
                _ => "请写明原因",
            },
        );
    }
    let (mut registered_on, mut hukou_number, mut not_biological, mut dna) =
        (None, None, None, None);
    if event == Event::Finish && unit == Unit::Police {
        match input
            .registered_on
            .as_deref()
            .map(text::clean)
            .filter(|s| !s.is_empty())
        {
            None => e.add("registered_on", "请填写户口登记日期"),
            Some(v) => match crate::input::parse_date(&v) {
                Some(d) if d > today => e.add("registered_on", "不能晚于今天"),
                Some(d) => registered_on = Some(d),
                None => e.add("registered_on", "日期格式不正确，应为 2026-11-16"),
            },
        }
        match input
            .hukou_number
            .as_deref()
            .map(text::clean)
            .filter(|s| !s.is_empty())
        {
            None => e.add("hukou_number", "请填写户口登记号（户号或公民身份号码）"),
            Some(v)
                if v.chars().count() > 30
                    || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
            {
                e.add("hukou_number", "户口登记号只能是数字、字母，30位以内")
            }
            Some(v) => hukou_number = Some(v.to_ascii_uppercase()),
        }
        not_biological = Some(input.not_biological.unwrap_or(false));
        dna = Some(input.dna_collected.unwrap_or(false));
        // 龙里 003 五(四)3: 对其中非亲生落户的儿童，公安机关应当及时采集其DNA信息.
        if not_biological == Some(true) && dna != Some(true) {
            e.add(
                "dna_collected",
                "非亲生落户的儿童应采集DNA信息并录入全国打拐DNA数据库后办结",
            );
        }
    }
    e.into_result(Transition {
        event,
        to,
        note,
        registered_on,
        hukou_number,
        not_biological,
        dna_collected: dna,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn ev(event: &str, note: Option<&str>) -> EventInput {
        EventInput {
            event: Some(event.into()),
            note: note.map(Into::into),
            ..Default::default()
        }
    }

    #[test]
    fn a_need_goes_to_its_units_and_hukou_only_to_the_police() {
        let r = RoutingInput {
            need: Some("无户籍".into()),
            ..Default::default()
        }
        .parse()
        .unwrap();
        assert_eq!((r.need, r.units), (Need::NoHukou, vec![Unit::Police]));
        let r = RoutingInput {
            need: Some("illness".into()),
            units: Some(vec![
                "health".into(),
                "人力资源和社会保障部门".into(),
                "health".into(),
            ]),
            note: Some(" 白血病，化疗中 ".into()),
        }
        .parse()
        .unwrap();
        assert_eq!(r.units, vec![Unit::Health, Unit::Hrss]);
        assert_eq!(r.note.as_deref(), Some("白血病，化疗中"));
        let e = RoutingInput {
            need: Some("no_hukou".into()),
            units: Some(vec!["health".into()]),
            ..Default::default()
        }
        .parse()
        .unwrap_err();
        assert!(e.has("units"));
        let e = RoutingInput {
            need: Some("lonely".into()),
            units: Some(vec!["fire".into()]),
            note: Some("x".repeat(501)),
        }
        .parse()
        .unwrap_err();
        for f in ["need", "units", "note"] {
            assert!(e.has(f), "{f}: {e:?}");
        }
        assert!(RoutingInput::default().parse().unwrap_err().has("need"));
    }

    #[test]
    fn departments_are_known_by_their_official_names() {
        assert_eq!(Unit::from_agency_name("龙里县残联"), Some(Unit::Disability));
        assert_eq!(Unit::from_agency_name("县卫计局"), Some(Unit::Health));
        assert_eq!(
            Unit::from_agency_name("龙里县卫生健康局"),
            Some(Unit::Health)
        );
        assert_eq!(Unit::from_agency_name("县扶贫局"), Some(Unit::Rural));
        assert_eq!(Unit::from_agency_name("县乡村振兴局"), Some(Unit::Rural));
        assert_eq!(
            Unit::from_agency_name("县人力资源和社会保障局"),
            Some(Unit::Hrss)
        );
        assert_eq!(Unit::from_agency_name("县妇联"), None);
    }

    #[test]
    fn the_state_machine_runs_sent_accepted_closed_and_stops() {
        let today = ymd(2026, 11, 24);
        let t = transition(Unit::Health, Status::Sent, &ev("accept", None), today).unwrap();
        assert_eq!(t.to, Status::Accepted);
        assert!(transition(Unit::Health, Status::Accepted, &ev("accept", None), today).is_err());
        // Feedback is required to finish, a reason to decline or withdraw.
        for (event, status) in [
            ("finish", Status::Accepted),
            ("decline", Status::Sent),
            ("withdraw", Status::Sent),
            ("progress", Status::Sent),
        ] {
            assert!(
                transition(Unit::Rural, status, &ev(event, None), today)
                    .unwrap_err()
                    .has("note"),
                "{event}"
            );
        }
        let t = transition(
            Unit::Rural,
            Status::Sent,
            &ev("progress", Some("已入户核查")),
            today,
        )
        .unwrap();
        assert_eq!(t.to, Status::Accepted);
        let t = transition(
            Unit::Rural,
            Status::Accepted,
            &ev("finish", Some("已纳入低保")),
            today,
        )
        .unwrap();
        assert_eq!(t.to, Status::Done);
        for closed in [Status::Done, Status::Declined, Status::Withdrawn] {
            assert!(
                transition(Unit::Rural, closed, &ev("progress", Some("再看看")), today)
                    .unwrap_err()
                    .has("event")
            );
        }
        assert!(
            transition(Unit::Rural, Status::Sent, &ev("close", None), today)
                .unwrap_err()
                .has("event")
        );
    }

    #[test]
    fn hukou_is_done_with_the_date_the_number_and_dna_when_not_biological() {
        let today = ymd(2026, 11, 24);
        let e = transition(Unit::Police, Status::Accepted, &ev("finish", None), today).unwrap_err();
        assert!(e.has("registered_on") && e.has("hukou_number"), "{e:?}");
        let mut input = EventInput {
            event: Some("finish".into()),
            registered_on: Some("2026-11-25".into()),
            hukou_number: Some("5227<script>".into()),
            not_biological: Some(true),
            ..Default::default()
        };
        let e = transition(Unit::Police, Status::Accepted, &input, today).unwrap_err();
        for f in ["registered_on", "hukou_number", "dna_collected"] {
            assert!(e.has(f), "{f}: {e:?}");
        }
        input.registered_on = Some("2026-11-20".into());
        input.hukou_number = Some("522730201711230012".into());
        input.dna_collected = Some(true);
        let t = transition(Unit::Police, Status::Accepted, &input, today).unwrap();
        assert_eq!(t.to, Status::Done);
        assert_eq!(t.registered_on, Some(ymd(2026, 11, 20)));
        assert_eq!(t.dna_collected, Some(true));
    }
}
