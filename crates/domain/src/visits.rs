//! 走访、探访、随访: who visited a child, when, how the child was, and when the next visit is due.
//!
//! The seeds: village committees visit regularly (武清 004 二(一)1 村(居)民委员会要定期走访); 党员干部上门家访、
//! 驻村干部探访、专业社会工作者随访、网格员日常关注 (景洪 000 二(二)); every file checked at least once a
//! quarter (沈阳 002 一2 每季度至少更新1次; 武清 004 二(二) 每季度更新一次). Children at the highest risk are
//! visited more often (issue 15: monthly or more), so the cadence follows the case assessment's risk
//! and the key-target flags.

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::code_enum;
use crate::eligibility::KeyTargetFlag;
use crate::input::{parse_bool, parse_date};
use crate::protection::RiskLevel;
use crate::text;
use crate::validation::ValidationErrors;

code_enum! {
    /// How the child was reached.
    pub enum VisitMethod {
        Home = ("home", "入户走访"),
        Call = ("call", "电话或视频"),
        School = ("school", "到校了解"),
        Other = ("other", "其他方式"),
    }
}

code_enum! {
    /// Who visited (景洪 000 二(二): 党员干部家访、驻村干部探访、社会工作者随访、网格员日常关注).
    pub enum VisitorRole {
        ChildDirector = ("child_director", "儿童主任"),
        Supervisor = ("supervisor", "儿童督导员"),
        VillageCadre = ("village_cadre", "驻村干部"),
        PartyCadre = ("party_cadre", "党员干部"),
        GridWorker = ("grid_worker", "网格员"),
        SocialWorker = ("social_worker", "社会工作者"),
        Teacher = ("teacher", "教师"),
        Volunteer = ("volunteer", "志愿者"),
        Other = ("other", "其他人员"),
    }
}

code_enum! {
    /// Whom the visitor saw or spoke to.
    pub enum Seen {
        Child = ("child", "儿童本人"),
        Guardian = ("guardian", "监护人或受委托照料人"),
        Parent = ("parent", "父母（含电话、视频）"),
        Teacher = ("teacher", "老师"),
        Neighbour = ("neighbour", "邻居或村干部"),
    }
}

code_enum! {
    /// How the child was found (武清 004 二(一)1: 家庭情况、生活情况、监护情况、就学情况).
    pub enum Condition {
        Good = ("good", "良好"),
        Fair = ("fair", "一般"),
        Concern = ("concern", "需要关注"),
        Danger = ("danger", "面临危险"),
        /// Sent without an assessment (`POST /api/v1/visits` with a note only); the form always
        /// asks.
        Unstated = ("unstated", "未说明"),
    }
}

impl VisitMethod {
    /// The `kind` of a visit as other systems name it: the codes and labels, and the usual
    /// words for a home visit, a call and a school visit (家访、走访、探访、电话、视频、到校).
    pub fn from_kind(kind: &str) -> Option<VisitMethod> {
        let k = text::clean(kind).to_lowercase();
        if let Some(m) = VisitMethod::parse(&k) {
            return Some(m);
        }
        Some(match k.as_str() {
            "home_visit" | "visit" | "home-visit" | "homevisit" | "in_person" | "家访" | "走访"
            | "探访" | "入户" | "随访" => VisitMethod::Home,
            "phone" | "phone_call" | "video" | "video_call" | "电话" | "视频" | "电话回访" => {
                VisitMethod::Call
            }
            "school_visit" | "到校" | "学校" => VisitMethod::School,
            _ => return None,
        })
    }
}

/// A visit as typed on a phone or sent by the API. Everything is text so that each bad value is
/// named rather than refused as a whole body.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct VisitInput {
    /// YYYY-MM-DD; today if absent; not in the future.
    pub visited_on: Option<String>,
    /// home, call, school, other.
    pub method: Option<String>,
    /// Who visited: child_director, supervisor, village_cadre, party_cadre, grid_worker,
    /// social_worker, teacher, volunteer, other.
    pub visitor_role: Option<String>,
    /// The visitor's name; the recording user's own name if absent.
    pub visitor_name: Option<String>,
    /// Where (a place name; the village by default).
    pub place: Option<String>,
    /// Where, from the phone's GPS: both or neither, in decimal degrees.
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Whom the visitor saw: child, guardian, parent, teacher, neighbour.
    pub seen: Option<Vec<String>>,
    /// good, fair, concern, danger.
    pub condition: Option<String>,
    /// What the visitor found.
    pub note: Option<String>,
    /// Nothing in the file changed ("无变化"); otherwise the changes are made through the file's
    /// ordinary edit, so its history holds them.
    pub no_change: Option<bool>,
    /// A situation that must be reported (强制报告) was found: the report form opens prefilled.
    pub reportable: Option<bool>,
    /// The protection case this visit follows up (随访), if any.
    pub case_id: Option<String>,
    /// The phone's own key for this record, so that a record sent twice is kept once (letters,
    /// digits, `-` and `_`, at most 64).
    pub client_key: Option<String>,
}

/// A visit as another system or an offline phone sends it (`POST /api/v1/visits`, with the
/// header `Idempotency-Key`): the child in the body, the time as RFC 3339, the way as `kind`.
/// Whatever it leaves out takes the sender's defaults: their role, their name, today, 未说明. A
/// field it does not know is refused, naming it, as every other body is (a misspelt field would
/// otherwise be lost without a word).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SentVisit {
    pub child_id: Option<String>,
    /// When: RFC 3339 (`2026-12-01T09:30:00+08:00`), or a date; counted on China's calendar.
    pub visited_at: Option<String>,
    /// How: home_visit (家访), phone (电话、视频), school (到校), other — or the codes of `method`.
    pub kind: Option<String>,
    pub note: Option<String>,
    pub visitor_role: Option<String>,
    pub visitor_name: Option<String>,
    pub place: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub seen: Option<Vec<String>>,
    /// good, fair, concern, danger; 未说明 (`unstated`) if absent.
    pub condition: Option<String>,
    pub no_change: Option<bool>,
    pub reportable: Option<bool>,
    pub case_id: Option<String>,
}

impl SentVisit {
    /// The child and the visit as the form's input, and what is wrong with the fields only this
    /// form has (the rest is [`VisitInput::parse`]'s, named by [`sent_field`]).
    pub fn to_input(
        &self,
        default_role: VisitorRole,
        key: &str,
    ) -> (String, VisitInput, ValidationErrors) {
        let mut e = ValidationErrors::default();
        let child_id = present(&self.child_id);
        if child_id.is_none() {
            e.add("child_id", "请指明儿童（child_id）");
        }
        let visited_on = match present(&self.visited_at) {
            None => None,
            Some(t) => match chrono::DateTime::parse_from_rfc3339(&t) {
                Ok(at) => {
                    Some(crate::clock::china_date(at.with_timezone(&chrono::Utc)).to_string())
                }
                Err(_) => match parse_date(&t) {
                    Some(d) => Some(d.to_string()),
                    None => {
                        e.add(
                            "visited_at",
                            "走访时间格式不正确，应为 RFC 3339（如 2026-12-01T09:30:00+08:00）",
                        );
                        None
                    }
                },
            },
        };
        let method = match present(&self.kind) {
            Some(k) => match VisitMethod::from_kind(&k) {
                Some(m) => Some(m),
                None => {
                    e.add(
                        "kind",
                        "走访方式应为 home_visit（家访）、phone（电话、视频）、school（到校）或 other",
                    );
                    None
                }
            },
            None => {
                e.add("kind", "请说明走访方式（kind）");
                None
            }
        };
        let input = VisitInput {
            visited_on,
            method: method.map(|m| m.code().to_owned()),
            visitor_role: Some(
                present(&self.visitor_role).unwrap_or_else(|| default_role.code().to_owned()),
            ),
            visitor_name: self.visitor_name.clone(),
            place: self.place.clone(),
            latitude: self.latitude,
            longitude: self.longitude,
            seen: self.seen.clone(),
            condition: Some(
                present(&self.condition).unwrap_or_else(|| Condition::Unstated.code().to_owned()),
            ),
            note: self.note.clone(),
            no_change: self.no_change,
            reportable: self.reportable,
            case_id: self.case_id.clone(),
            client_key: Some(key.to_owned()),
        };
        (child_id.unwrap_or_default(), input, e)
    }

    /// [`SentVisit::to_input`] and [`VisitInput::parse`] together: every bad field, named as sent.
    pub fn check(
        &self,
        default_role: VisitorRole,
        key: &str,
        today: NaiveDate,
        default_visitor: &str,
    ) -> Result<(String, VisitInput), ValidationErrors> {
        let (child_id, input, mut e) = self.to_input(default_role, key);
        if let Err(more) = input.parse(today, default_visitor) {
            for f in more.0 {
                let field = sent_field(&f.field);
                if !e.has(field) {
                    e.add(field, f.message);
                }
            }
        }
        e.into_result((child_id, input))
    }
}

/// A visit's fields as [`SentVisit`] names them, for the errors of [`VisitInput::parse`].
pub fn sent_field(field: &str) -> &str {
    match field {
        "visited_on" => "visited_at",
        "method" => "kind",
        other => other,
    }
}

/// A visit that passed validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisitRecord {
    pub visited_on: NaiveDate,
    pub method: VisitMethod,
    pub visitor_role: VisitorRole,
    pub visitor_name: String,
    pub place: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub seen: Vec<Seen>,
    pub condition: Condition,
    pub note: Option<String>,
    pub no_change: bool,
    pub reportable: bool,
}

/// The longest free text of a visit.
pub const MAX_NOTE_CHARS: usize = 2000;
/// How far back a visit may be recorded (a phone that was offline for weeks, a paper form typed in
/// later) — not further: an old date would make an overdue child look visited.
pub const MAX_BACKDATE_DAYS: i64 = 92;

fn present(v: &Option<String>) -> Option<String> {
    v.as_deref().map(text::clean).filter(|s| !s.is_empty())
}

/// A client key as the phone sends it: letters, digits, `-`, `_`; 8 to 64 of them.
pub fn parse_client_key(key: &str) -> Option<String> {
    let ok = (8..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| key.to_owned())
}

impl VisitInput {
    /// Checks every field and names each bad one. `default_visitor` is the recording user's name.
    pub fn parse(
        &self,
        today: NaiveDate,
        default_visitor: &str,
    ) -> Result<VisitRecord, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let visited_on = match present(&self.visited_on) {
            None => today,
            Some(d) => match parse_date(&d) {
                Some(d) if d > today => {
                    e.add("visited_on", "走访日期不能晚于今天");
                    today
                }
                Some(d) if (today - d).num_days() > MAX_BACKDATE_DAYS => {
                    e.add(
                        "visited_on",
                        format!("只能补录{MAX_BACKDATE_DAYS}天内的走访"),
                    );
                    today
                }
                Some(d) => d,
                None => {
                    e.add("visited_on", "走访日期格式不正确，应为 2026-12-01");
                    today
                }
            },
        };
        let method = present(&self.method).and_then(|m| VisitMethod::parse(&m));
        if method.is_none() {
            e.add("method", "请选择走访方式");
        }
        let visitor_role = present(&self.visitor_role).and_then(|m| VisitorRole::parse(&m));
        if visitor_role.is_none() {
            e.add("visitor_role", "请选择走访人身份");
        }
        let visitor_name =
            present(&self.visitor_name).unwrap_or_else(|| text::clean(default_visitor));
        if visitor_name.is_empty() || visitor_name.chars().count() > 50 {
            e.add("visitor_name", "请填写走访人姓名（50字以内）");
        }
        let place = present(&self.place);
        if place.as_ref().is_some_and(|p| p.chars().count() > 100) {
            e.add("place", "地点请不超过100字");
        }
        match (self.latitude, self.longitude) {
            (None, None) => {}
            (Some(lat), Some(lon))
                if lat.is_finite()
                    && lon.is_finite()
                    && (-90.0..=90.0).contains(&lat)
                    && (-180.0..=180.0).contains(&lon) => {}
            (Some(_), None) | (None, Some(_)) => {
                e.add("latitude", "经纬度须同时提供");
            }
            _ => e.add("latitude", "经纬度超出范围"),
        }
        let mut seen = Vec::new();
        for s in self.seen.iter().flatten() {
            match Seen::parse(s) {
                Some(v) if !seen.contains(&v) => seen.push(v),
                Some(_) => {}
                None => {
                    e.add("seen", format!("“{}”不是可选的见面对象", text::clean(s)));
                    break;
                }
            }
        }
        let condition = present(&self.condition).and_then(|c| Condition::parse(&c));
        if condition.is_none() {
            e.add("condition", "请选择儿童状况");
        }
        let note = present(&self.note);
        if note
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
        {
            e.add("note", format!("情况记录请不超过{MAX_NOTE_CHARS}字"));
        }
        let reportable = self.reportable.unwrap_or(false);
        let condition_v = condition.unwrap_or(Condition::Good);
        if (condition_v == Condition::Danger || reportable) && note.is_none() {
            e.add("note", "发现危险或应报告的情形时，请写明看到的情况");
        }
        if method == Some(VisitMethod::Home) && !seen.contains(&Seen::Child) && note.is_none() {
            e.add("note", "入户未见到儿童本人时，请写明原因");
        }
        if let Some(k) = present(&self.client_key)
            && parse_client_key(&k).is_none()
        {
            e.add("client_key", "client_key 应为8到64位字母、数字、- 或 _");
        }
        e.into_result(())?;
        Ok(VisitRecord {
            visited_on,
            method: method.expect("checked"),
            visitor_role: visitor_role.expect("checked"),
            visitor_name,
            place,
            latitude: self.latitude,
            longitude: self.longitude,
            seen,
            condition: condition_v,
            note,
            no_change: self.no_change.unwrap_or(false),
            reportable,
        })
    }
}

/// A checkbox value from a form ("on", 是, 1…), false when absent.
pub fn form_bool(v: Option<&str>) -> bool {
    v.and_then(parse_bool).unwrap_or(false)
}

code_enum! {
    /// How often a child is visited at least.
    pub enum Cadence {
        Weekly = ("weekly", "每周"),
        Monthly = ("monthly", "每月"),
        Quarterly = ("quarterly", "每季度"),
    }
}

/// The flags that put a child's guardianship in doubt: visited monthly like a high risk
/// (附件1 note 5 监护情况差; 单独居住; 遭受侵害).
const WATCHED: &[KeyTargetFlag] = &[
    KeyTargetFlag::Unsupervised,
    KeyTargetFlag::LivingAlone,
    KeyTargetFlag::ParentIncapable,
    KeyTargetFlag::EntrustedInsufficient,
    KeyTargetFlag::Victimised,
];

/// The county's visiting policy: the cadence per risk and for the watched flags. The default is
/// the seeds' quarter for everyone, monthly for high risk and the watched flags, weekly for the
/// highest risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisitPolicy {
    pub critical: Cadence,
    pub high: Cadence,
    pub watched: Cadence,
    pub other: Cadence,
}

impl Default for VisitPolicy {
    fn default() -> Self {
        Self {
            critical: Cadence::Weekly,
            high: Cadence::Monthly,
            watched: Cadence::Monthly,
            other: Cadence::Quarterly,
        }
    }
}

impl VisitPolicy {
    /// The cadence of a child of the registry's populations (`populations`, the stored
    /// `population::mask`): as [`VisitPolicy::cadence`], and a 事实无人抚养 child is watched like
    /// a child without guardianship (龙里 003 七(一)六 names 事实无人监护 among the 重点对象).
    pub fn cadence_in(&self, risk: Option<RiskLevel>, flags: i64, populations: i64) -> Cadence {
        let c = self.cadence(risk, flags);
        if populations & crate::population::DE_FACTO != 0 && self.watched < c {
            self.watched
        } else {
            c
        }
    }

    /// The cadence of a child: the most frequent its risk and flags call for.
    pub fn cadence(&self, risk: Option<RiskLevel>, flags: i64) -> Cadence {
        let mut c = self.other;
        let mut tighten = |x: Cadence| {
            if x < c {
                c = x;
            }
        };
        match risk {
            Some(RiskLevel::Critical) => tighten(self.critical),
            Some(RiskLevel::High) => tighten(self.high),
            _ => {}
        }
        if WATCHED.iter().any(|f| flags & f.bit() != 0) {
            tighten(self.watched);
        }
        c
    }
}

/// The last day of the calendar month of `d`.
fn month_end(d: NaiveDate) -> NaiveDate {
    let first = d.with_day(1).expect("day 1 exists");
    first
        .checked_add_months(chrono::Months::new(1))
        .expect("in range")
        - Duration::days(1)
}

/// The last day of the calendar quarter of `d`.
pub fn quarter_end(d: NaiveDate) -> NaiveDate {
    let last_month = (d.month() - 1) / 3 * 3 + 3;
    month_end(NaiveDate::from_ymd_opt(d.year(), last_month, 1).expect("valid month"))
}

/// The last day of the period (of `cadence`) that holds `d`. A week is counted from the visit:
/// seven days; a month and a quarter are calendar ones ("每季度至少一次" is once in each quarter).
fn period_end(d: NaiveDate, cadence: Cadence) -> NaiveDate {
    match cadence {
        Cadence::Weekly => d + Duration::days(7),
        Cadence::Monthly => month_end(d),
        Cadence::Quarterly => quarter_end(d),
    }
}

/// When the next visit is due: by the end of the period after the one of the last visit; with no
/// visit yet, by the end of the period in which the child came under watch (`since`: the file's
/// registration, or the risk's assessment).
pub fn next_due(last_visit: Option<NaiveDate>, since: NaiveDate, cadence: Cadence) -> NaiveDate {
    match last_visit {
        None => period_end(since, cadence),
        Some(last) if cadence == Cadence::Weekly => last + Duration::days(7),
        Some(last) => period_end(period_end(last, cadence) + Duration::days(1), cadence),
    }
}

code_enum! {
    /// Where a child stands with its visits on `today`.
    pub enum DueState {
        /// Visited in this period; the next is due later.
        Done = ("done", "本期已走访"),
        /// Due by the end of this period.
        Due = ("due", "待走访"),
        /// Past the due date.
        Overdue = ("overdue", "已逾期"),
    }
}

impl DueState {
    pub fn of(due: NaiveDate, last_visit: Option<NaiveDate>, today: NaiveDate, c: Cadence) -> Self {
        if today > due {
            DueState::Overdue
        } else if last_visit.is_some_and(|l| period_end(l, c) >= today && c != Cadence::Weekly)
            || (c == Cadence::Weekly && last_visit.is_some_and(|l| (today - l).num_days() < 7))
        {
            DueState::Done
        } else {
            DueState::Due
        }
    }
}

#[cfg(test)]
mod tests;

/// One field changed on a phone offline that someone else changed meanwhile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldConflict {
    pub field: String,
    /// What the phone saw when it went offline.
    pub base: Option<String>,
    /// What the file says now.
    pub theirs: Option<String>,
    /// What the phone wants.
    pub mine: Option<String>,
}

/// A file's fields as text (the registration form's names), for [`merge_offline`].
pub type Fields = std::collections::BTreeMap<String, Option<String>>;

/// Merges the changes a phone made offline into the file as it is now (a three-way merge): a field
/// nobody else touched takes the phone's value; a field already holding the phone's value needs
/// nothing (the change was sent before); a field someone else changed to something else is a
/// conflict, and with any conflict nothing is applied — the person resolves each one. Returns the
/// changes to make.
pub fn merge_offline(
    base: &Fields,
    current: &Fields,
    mine: &Fields,
) -> Result<Fields, Vec<FieldConflict>> {
    let mut changes = Fields::new();
    let mut conflicts = Vec::new();
    let norm = |v: Option<&Option<String>>| -> Option<String> {
        v.cloned()
            .flatten()
            .map(|s| text::clean(&s))
            .filter(|s| !s.is_empty())
    };
    for (field, wanted) in mine {
        let wanted = norm(Some(wanted));
        let now = norm(current.get(field));
        let seen = norm(base.get(field));
        if now == wanted {
            continue;
        }
        if now == seen {
            changes.insert(field.clone(), wanted);
        } else {
            conflicts.push(FieldConflict {
                field: field.clone(),
                base: seen,
                theirs: now,
                mine: wanted,
            });
        }
    }
    if conflicts.is_empty() {
        Ok(changes)
    } else {
        Err(conflicts)
    }
}

#[cfg(test)]
mod merge_tests {
    use super::*;

    fn fields(pairs: &[(&str, Option<&str>)]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_owned)))
            .collect()
    }

    #[test]
    fn an_offline_change_applies_unless_someone_else_changed_the_same_field() {
        let base = fields(&[
            ("guardian_phone", Some("13800000000")),
            ("schooling", Some("小学")),
        ]);
        // Someone changed the schooling meanwhile; the phone changed the guardian's phone.
        let current = fields(&[
            ("guardian_phone", Some("13800000000")),
            ("schooling", Some("初中")),
        ]);
        let mine = fields(&[("guardian_phone", Some("13900000000"))]);
        assert_eq!(
            merge_offline(&base, &current, &mine).unwrap(),
            fields(&[("guardian_phone", Some("13900000000"))])
        );
        // The same field changed both ways: a conflict naming all three values, nothing applied.
        let mine = fields(&[
            ("guardian_phone", Some("13900000000")),
            ("schooling", Some("辍学")),
        ]);
        let c = merge_offline(&base, &current, &mine).unwrap_err();
        assert_eq!(
            c,
            vec![FieldConflict {
                field: "schooling".into(),
                base: Some("小学".into()),
                theirs: Some("初中".into()),
                mine: Some("辍学".into()),
            }]
        );
        // Sent again after it was applied: nothing to do, no conflict.
        let applied = fields(&[
            ("guardian_phone", Some("13900000000")),
            ("schooling", Some("初中")),
        ]);
        let mine = fields(&[("guardian_phone", Some("13900000000"))]);
        assert!(merge_offline(&base, &applied, &mine).unwrap().is_empty());
        // Both made the same change: no conflict either; blank and absent are the same.
        let mine = fields(&[("schooling", Some(" 初中 ")), ("remarks", Some(""))]);
        assert!(merge_offline(&base, &current, &mine).unwrap().is_empty());
    }
}

/// Who visits a child, when not the village's 儿童主任: a named person and their role (景洪 000
/// 二(二)). An empty name gives the child back to the 儿童主任.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct VisitorAssignment {
    pub name: Option<String>,
    /// child_director, village_cadre, grid_worker, social_worker, volunteer…
    pub role: Option<String>,
}

impl VisitorAssignment {
    /// The person, or None to give the child back to the village's 儿童主任.
    pub fn parse(&self) -> Result<Option<(String, VisitorRole)>, ValidationErrors> {
        let name = self
            .name
            .as_deref()
            .map(crate::text::clean)
            .filter(|s| !s.is_empty());
        let Some(name) = name else {
            return Ok(None);
        };
        let mut e = ValidationErrors::default();
        if name.chars().count() > 30 || name.chars().any(|c| c.is_ascii_digit()) {
            e.add("name", "请填写走访人姓名（30字以内，不含数字）");
        }
        let role = match self
            .role
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => {
                e.add(
                    "role",
                    "请选择走访人身份（驻村干部、网格员、社会工作者、志愿者等）",
                );
                None
            }
            Some(r) => {
                let role = VisitorRole::parse(r);
                if role.is_none() {
                    e.add("role", format!("未知的走访人身份“{r}”"));
                }
                role
            }
        };
        e.into_result(())?;
        Ok(Some((name, role.expect("checked"))))
    }
}

#[cfg(test)]
mod assignment_tests {
    use super::*;

    #[test]
    fn a_visitor_is_named_with_a_role_or_given_back() {
        let a = VisitorAssignment {
            name: Some(" 刘 网格 ".into()),
            role: Some("网格员".into()),
        };
        assert_eq!(
            a.parse().unwrap(),
            Some(("刘 网格".to_owned(), VisitorRole::GridWorker))
        );
        assert_eq!(VisitorAssignment::default().parse().unwrap(), None);
        let e = VisitorAssignment {
            name: Some("张三123".into()),
            role: Some("mayor".into()),
        }
        .parse()
        .unwrap_err();
        assert!(e.has("name") && e.has("role"), "{e:?}");
        assert!(
            VisitorAssignment {
                name: Some("李芳".into()),
                role: None
            }
            .parse()
            .unwrap_err()
            .has("role")
        );
    }
}
