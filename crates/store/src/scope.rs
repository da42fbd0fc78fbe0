//! Who sees which children, and which children are on the roster — each written once, as SQL over
//! `children c`, for every list, count, export and comparison.

use chrono::NaiveDate;

use shouwang_domain::authz::{Actor, Scope};
use shouwang_domain::child::{GuardianshipAssessment, GuardianshipType};
use shouwang_domain::eligibility::under_sixteen_born_after;
use shouwang_domain::population::{self, Population};
use shouwang_domain::region::RegionCode;

use crate::regions::code_range;

/// The one "on the roster" rule (国发〔2016〕13号; 沈阳 002 一): a file that is active, meets the
/// definition (`qualifies`, kept by the domain's `qualifies_except_age`) and is of a child under
/// 16 on the date. `cutoff` is the placeholder bound to [`roster_cutoff`] of that date; the
/// domain's `summary_table::counts_on` is the same rule for one file.
/// The record's child (the column `child`; a record without one passes) is not archived: every
/// view of a file that left the roster goes with it — cases, inboxes, routings, 劝返 (issue 24:
/// archived children were still reachable through them, parents' phones included).
pub(crate) fn live_child(child: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM children arch WHERE arch.id = {child} AND arch.archived_at IS NOT NULL)"
    )
}

pub(crate) fn on_roster(alias: &str, cutoff: &str) -> String {
    format!("{alias}.status = 'active' AND {alias}.qualifies = 1 AND {alias}.birth_date > {cutoff}")
}

/// Active files that do not meet the definition, of children under 16.
pub(crate) fn not_eligible(alias: &str, cutoff: &str) -> String {
    format!(
        "{alias}.status = 'active' AND {alias}.qualifies = 0 AND {alias}.incomplete < 2 AND {alias}.birth_date > {cutoff}"
    )
}

/// 信息不全: active files of children under 16 that leave blank a fact the definition needs
/// (the domain's `missing_facts`, stored as `incomplete = 2`); neither on the roster nor "not left
/// behind" until completed.
pub(crate) fn incomplete(alias: &str, cutoff: &str) -> String {
    format!(
        "{alias}.status = 'active' AND {alias}.qualifies = 0 AND {alias}.incomplete = 2 AND {alias}.birth_date > {cutoff}"
    )
}

/// Active files of children under 16 in a population of the registry other than 农村留守儿童
/// (issue 27: the domain's `population::mask`, stored as `populations`), `cutoff` as for
/// [`on_roster`]. 农村留守儿童 is [`on_roster`]. The masks are written as in the lists' partial
/// indexes (migration 0047), which the planners match only on the same terms.
pub(crate) fn in_population(alias: &str, population: Population, cutoff: &str) -> String {
    let active = format!("{alias}.status = 'active' AND {alias}.birth_date > {cutoff}");
    match population {
        Population::LeftBehind => on_roster(alias, cutoff),
        Population::InDifficulty => format!("{active} AND {}", population_mask(alias, population)),
        Population::DeFactoUnsupported => format!(
            "{active} AND {} AND ({alias}.populations & {}) <> 0",
            population_mask(alias, population),
            population::DE_FACTO
        ),
    }
}

/// The term of a population's partial index (migration 0047): 困境儿童 by any category; 事实无人
/// 抚养 met or undecided. 农村留守儿童 (the `qualifies` column) has none.
pub(crate) fn population_mask(alias: &str, population: Population) -> String {
    match population {
        Population::LeftBehind => format!("{alias}.qualifies = 1"),
        Population::InDifficulty => {
            format!("({alias}.populations & {}) <> 0", population::IN_DIFFICULTY)
        }
        Population::DeFactoUnsupported => format!(
            "({alias}.populations & {}) <> 0",
            population::DE_FACTO | population::DE_FACTO_UNDECIDED
        ),
    }
}

/// Active files of children under 16 whose parents' facts leave 事实无人抚养 undecided: a parent
/// left blank, none known to care or to be away for work (the domain's `population::mask`).
pub(crate) fn de_facto_undecided(alias: &str, cutoff: &str) -> String {
    format!(
        "{alias}.status = 'active' AND {alias}.birth_date > {cutoff} AND {} AND ({alias}.populations & {}) <> 0",
        population_mask(alias, Population::DeFactoUnsupported),
        population::DE_FACTO_UNDECIDED
    )
}

/// Active files of children 16 or older: they left the roster on their birthday.
/// A village code (12 digits, a number) divided by this is its province: the leading column of the
/// aged files' index (migration 0038), written the same way in the queries it serves.
pub(crate) const PROVINCE: i64 = 10_000_000_000;

pub(crate) fn aged_out(alias: &str, cutoff: &str) -> String {
    format!("{alias}.status = 'active' AND {alias}.birth_date <= {cutoff}")
}

/// Children whose 监护类型 is assessed at `level` (附件1 note 5, [`GuardianshipType::assessment`]):
/// the home page's "监护情况差" card and the list it opens are this one condition.
pub(crate) fn assessed(alias: &str, level: GuardianshipAssessment) -> String {
    let codes: Vec<String> = GuardianshipType::ALL
        .iter()
        .filter(|t| t.assessment() == level)
        .map(|t| format!("'{}'", t.code()))
        .collect();
    format!("{alias}.guardianship_type IN ({})", codes.join(", "))
}

/// Files that leave any field of the form blank (`incomplete > 0`): the 待补充 list.
pub(crate) fn to_complete(alias: &str) -> String {
    format!("{alias}.incomplete > 0")
}

/// The value bound to the cutoff placeholder of [`on_roster`], [`not_eligible`], [`aged_out`].
pub(crate) fn roster_cutoff(on: NaiveDate) -> String {
    under_sixteen_born_after(on).to_string()
}

pub(crate) enum Bind {
    I(i64),
    T(String),
}

/// WHERE-clause builder with numbered placeholders.
pub(crate) struct Where {
    pub(crate) sql: String,
    pub(crate) binds: Vec<Bind>,
}
impl Where {
    pub(crate) fn new() -> Self {
        Where {
            sql: String::from(" WHERE 1=1"),
            binds: Vec::new(),
        }
    }
    pub(crate) fn int(&mut self, clause: &str, v: i64) {
        self.binds.push(Bind::I(v));
        self.sql.push_str(&format!(
            " AND {}",
            clause.replace('?', &format!("${}", self.binds.len()))
        ));
    }
    pub(crate) fn text(&mut self, clause: &str, v: String) {
        self.binds.push(Bind::T(v));
        self.sql.push_str(&format!(
            " AND {}",
            clause.replace('?', &format!("${}", self.binds.len()))
        ));
    }
    pub(crate) fn raw(&mut self, clause: &str) {
        self.sql.push_str(&format!(" AND {clause}"));
    }
    pub(crate) fn text_range(&mut self, column: &str, prefix: &str) {
        self.text(&format!("{column} >= ?"), prefix.to_owned());
        self.text(&format!("{column} < ?"), upper_bound(prefix));
    }
    pub(crate) fn bind<'q>(
        &'q self,
        mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for b in &self.binds {
            q = match b {
                Bind::I(v) => q.bind(*v),
                Bind::T(v) => q.bind(v.as_str()),
            };
        }
        q
    }
}

/// The smallest string greater than every string starting with `prefix` (byte order).
pub(crate) fn upper_bound(prefix: &str) -> String {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = char::from_u32(last as u32 + 1) {
            chars.push(next);
            return chars.into_iter().collect();
        }
    }
    "\u{10FFFF}".to_owned()
}

/// The children an actor may see, as a WHERE clause over `c` (children).
///
/// Archived files (left the roster long enough ago, `domain::retention`) are in no working list:
/// only the county's archive reads them.
pub(crate) fn scoped(actor: &Actor, region: Option<&RegionCode>) -> Option<(Where, &'static str)> {
    let mut w = Where::new();
    w.raw("c.archived_at IS NULL");
    let join = match actor.scope() {
        Scope::Region { code } => {
            let effective = match region {
                Some(r) if code.contains(r) => r.clone(),
                Some(r) if r.contains(&code) => code,
                Some(_) => return None,
                None => code,
            };
            let (lo, hi) = code_range(&effective);
            w.int("c.village_code >= ?", lo);
            w.int("c.village_code <= ?", hi);
            ""
        }
        Scope::Agency { agency_id } => {
            if let Some(r) = region {
                let (lo, hi) = code_range(r);
                w.int("c.village_code >= ?", lo);
                w.int("c.village_code <= ?", hi);
            }
            // A link gives access only while the child lives in the agency's area.
            let (lo, hi) = code_range(&actor.region);
            w.int("c.village_code >= ?", lo);
            w.int("c.village_code <= ?", hi);
            w.text("a.agency_id = ?", agency_id);
            " JOIN child_agencies a ON a.child_id = c.id"
        }
        Scope::CasesOnly => return None,
    };
    Some((w, join))
}
