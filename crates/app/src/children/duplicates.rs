//! Possible duplicates: the same ID number anywhere, a likely same child in the county; the refusals and the raising to the county they lead to.

use super::*;
use shouwang_domain::audit::AuditAction;

/// Possible duplicates of a file: the same ID number anywhere (details only inside the
/// jurisdiction), or a child of the same county the linkage engine finds likely the same (a
/// homophone name, the birth date's day and month swapped…), most likely first.
pub async fn find_duplicates(
    app: &App,
    actor: &Actor,
    file: &ChildFile,
    exclude: Option<&str>,
) -> Result<Found> {
    duplicates_in(&app.store, actor, file, exclude).await
}

pub(super) async fn duplicates_in(
    store: &Store,
    actor: &Actor,
    file: &ChildFile,
    exclude: Option<&str>,
) -> Result<Found> {
    let mut out = Vec::new();
    let mut other_towns = Vec::new();
    if let Some(idn) = &file.id_number {
        for (id, village) in store
            .children()
            .children_with_id_number(idn, exclude)
            .await?
        {
            let inside = actor.region.contains(&village);
            out.push(Duplicate {
                probability: None,
                child_id: inside.then_some(id),
                // Outside the user's area: only that a record exists, not where (the register is
                // not an oracle of who lives where); `register` raises it to the county.
                reason: if inside {
                    "相同身份证号码的儿童已登记".to_owned()
                } else {
                    ELSEWHERE.to_owned()
                },
            });
        }
    }
    let town = file
        .village_code
        .at_level(RegionLevel::Town)
        .expect("village codes have a town");
    let model = single::registry_model();
    let new_id_hash = file.id_number.as_ref().map(|n| store.children().id_hash(n));
    let new = Prepared::of(&file_record("", file));
    let mut near: Vec<(f64, Duplicate)> = Vec::new();
    for c in store.children().near_children(file, exclude).await? {
        // Reported above (and outside the user's area its id is not in the warning).
        if out
            .iter()
            .any(|d| d.child_id.as_deref() == Some(c.id.as_str()))
            || (c.id_hash.is_some() && c.id_hash == new_id_hash)
        {
            continue;
        }
        let old = Prepared::of(&registry_record(
            "",
            &c.name,
            &c.sex,
            &c.birth_date,
            &c.village,
            None,
        ));
        let same_id = match (&new_id_hash, &c.id_hash) {
            (Some(x), Some(y)) => Some(x == y),
            _ => None,
        };
        let like = single::likeness(&model, &new, &old, same_id);
        if like.probability < single::WARN_PROBABILITY {
            continue;
        }
        let inside = actor.region.contains(&c.village);
        let percent = (like.probability * 100.0).floor();
        let reason = if inside {
            let place = Divisions::shipped()
                .get(&c.village)
                .map(|d| d.name.to_owned())
                .unwrap_or_default();
            format!(
                "疑似与已登记的{}（{}，{place}）为同一儿童：{}，相似度{percent}%",
                c.name,
                c.birth_date,
                like.summary()
            )
        } else if town.contains(&c.village) {
            format!(
                "同一乡镇其他村已有疑似同一儿童（{}，相似度{percent}%），请与乡镇核实",
                like.summary()
            )
        } else {
            // Another town's child: the user is told nothing that depends on it (issue 24: the
            // warning told a town that another town had registered a child of that name and
            // birth date); `register` raises it to the county and audits it.
            other_towns.push((c.id, like.probability));
            continue;
        };
        near.push((
            like.probability,
            Duplicate {
                reason,
                child_id: inside.then_some(c.id),
                probability: Some(like.probability),
            },
        ));
    }
    near.sort_by(|x, y| y.0.total_cmp(&x.0));
    out.extend(near.into_iter().map(|(_, d)| d));
    Ok(Found {
        shown: out,
        other_towns,
    })
}

/// What the duplicate check found: what the user may be told, and the likely duplicates in other
/// towns of the county, which only the county hears of.
pub struct Found {
    pub shown: Vec<Duplicate>,
    pub other_towns: Vec<(String, f64)>,
}

/// A registration that another town's file may duplicate: audited, and the county's staff told
/// (the notification names neither child; the audit event names both files).
pub(super) async fn raise_near_duplicate(
    tx: &mut Tx,
    actor: &Actor,
    new_id: &str,
    file: &ChildFile,
    others: &[(String, f64)],
) -> Result<()> {
    if others.is_empty() {
        return Ok(());
    }
    let best = others.iter().map(|o| o.1).fold(0.0, f64::max);
    tx.audit(
        actor,
        AuditAction::NearDuplicateElsewhere,
        Subject {
            entity: "child",
            id: Some(new_id),
            region: Some(file.village_code.as_str()),
        },
        serde_json::json!({
            "matches": others.iter().map(|o| o.0.as_str()).collect::<Vec<_>>(),
            "probability": (best * 100.0).floor() / 100.0,
        }),
    )
    .await?;
    let county = file
        .village_code
        .at_level(RegionLevel::County)
        .expect("village codes have a county");
    tx.notifications().notify_org(
        &county,
        &[Role::County],
        "near_duplicate",
        None,
        "登记疑似重复，请核实",
        "本县一个乡镇新登记的儿童与其他乡镇已登记的档案疑似同一儿童。请在审计日志中查看“near_duplicate_elsewhere”记录，核实后处理。",
    )
    .await?;
    Ok(())
}

/// What a user is told of an ID number registered outside their area.
pub const ELSEWHERE: &str = "该身份证号码已有登记记录，不能重复登记；已报县民政部门核实处理";

/// An ID number registered outside the user's area came up: the look-up is audited and the case
/// goes to the town's discovery queue, which the county sees, to be resolved there — the user is
/// told no more than that a record exists.
pub(super) async fn raise_duplicate_elsewhere(
    app: &App,
    actor: &Actor,
    file: &ChildFile,
) -> Result<()> {
    let masked = file.id_number.as_ref().map(IdNumber::masked);
    let town = file
        .village_code
        .at_level(RegionLevel::Town)
        .expect("village codes have a town");
    let mut tx = app.store.begin().await?;
    audit_elsewhere(
        &mut tx,
        actor,
        file.village_code.as_str(),
        masked.clone(),
        "register",
    )
    .await?;
    if actor.may(Action::ReportDiscovery) {
        let input = shouwang_domain::discovery::DiscoveryInput {
            town_code: Some(town.to_string()),
            village_code: Some(file.village_code.to_string()),
            child_name: Some(file.name.as_str().to_owned()),
            sex: Some(file.sex.label().to_owned()),
            birth_date: Some(file.birth_date.to_string()),
            situation: Some(format!(
                "登记时发现身份证号码（{}）已在其他地区登记，请县民政部门核实是否同一儿童、应由何地登记",
                masked.as_deref().unwrap_or("")
            )),
            reporter_phone: None,
        };
        crate::discoveries::file_in(&mut tx, actor, &input).await?;
    }
    Ok(tx.commit().await?)
}

/// Refuses a file whose ID number is already registered (to another child).
pub(super) fn same_id_number(dups: &[Duplicate]) -> Result<()> {
    match dups.iter().find(|d| d.probability.is_none()) {
        Some(d) => Err(Error::Conflict {
            field: Some("id_number".into()),
            message: d.reason.clone(),
        }),
        None => Ok(()),
    }
}

/// What the registration form's live check says of an ID number as it is typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdCheck {
    /// Not a child's valid number, and why (never which check character would fit).
    Invalid(String),
    /// A valid number: the sex and birth date it holds, and whether a child with it is already
    /// registered (looked up only for a user who may register).
    Valid {
        sex: shouwang_domain::person::Sex,
        birth_date: NaiveDate,
        registered: Option<Registered>,
    },
}

/// Where a number the form checks is already registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    /// In the user's area: the file, to open instead of registering again.
    Here(ChildId),
    /// Outside it: only that a record exists (the register is not an oracle of who lives where).
    Elsewhere,
}

/// Checks an ID number as typed on the form of a new child (`editing`: the child whose file is
/// being edited, whose own number is no duplicate). A number registered elsewhere is audited, as
/// at registration, so a form used to probe numbers leaves a trace for the county.
pub async fn check_id_number(
    app: &App,
    actor: &Actor,
    typed: &str,
    editing: Option<&ChildId>,
) -> Result<IdCheck> {
    let id = match IdNumber::parse_child(typed).and_then(|id| {
        id.check_not_future(app.today())?;
        Ok(id)
    }) {
        Ok(id) => id,
        Err(e) => return Ok(IdCheck::Invalid(e.to_string())),
    };
    let mut registered = None;
    if actor.may(Action::RegisterChild) {
        let found = app
            .store
            .children()
            .children_with_id_number(&id, editing.map(ChildId::as_str))
            .await?;
        registered = found
            .iter()
            .find(|(_, v)| actor.covers(v))
            .map(|(c, _)| Registered::Here(ChildId::new(c.clone())));
        if registered.is_none() && !found.is_empty() {
            registered = Some(Registered::Elsewhere);
            let mut tx = app.store.begin().await?;
            let masked = Some(id.masked());
            audit_elsewhere(&mut tx, actor, actor.region.as_str(), masked, "form_check").await?;
            tx.commit().await?;
        }
    }
    Ok(IdCheck::Valid {
        sex: id.sex(),
        birth_date: id.birth_date(),
        registered,
    })
}

/// An ID number registered outside the user's area came up (at registration or in the form's
/// live check): the county sees who looked, where and when.
async fn audit_elsewhere(
    tx: &mut Tx,
    actor: &Actor,
    region: &str,
    masked: Option<String>,
    at: &str,
) -> Result<()> {
    tx.audit(
        actor,
        AuditAction::IdDuplicateElsewhere,
        Subject {
            entity: "child",
            id: None,
            region: Some(region),
        },
        serde_json::json!({"id_number": masked, "at": at}),
    )
    .await?;
    Ok(())
}
