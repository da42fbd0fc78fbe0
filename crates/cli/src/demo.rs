//! `shouwang demo`: synthetic children in the real villages of a region, in the proportions of the
//! 2018 national figures (domain-research §5), and one demo user per role.

use anyhow::Result;
use chrono::{Duration, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use shouwang_domain::authz::Role;
use shouwang_domain::input::{ChildInput, ParseContext};
use shouwang_domain::region::{Divisions, RegionCode, RegionLevel};
use shouwang_domain::sample::id_number_for;
use shouwang_store::audit::Who;
use shouwang_store::users::NewUser;
use shouwang_store::{PreparedChildren, Store};

pub const DEMO_PASSWORD: &str = "shouwang-demo";

pub(crate) const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "罗", "高", "林", "郑", "梁", "谢", "宋", "唐", "韩", "冯", "邓", "曹", "彭", "曾", "肖",
    "田", "董", "潘", "袁", "蔡", "蒋", "余", "于", "杜", "叶", "程", "魏", "苏", "吕", "丁", "任",
    "卢", "姚", "沈", "钟", "姜", "崔", "谭", "陆", "范", "汪", "廖", "石", "金", "韦", "贾", "夏",
    "付", "方", "邹", "熊", "白", "孟", "秦", "邱", "侯", "江", "尹", "薛", "闫", "段", "雷", "龙",
    "黎", "史", "陶", "贺", "毛", "郝", "顾", "龚", "邵", "万", "覃", "武", "钱", "戴", "严", "莫",
    "孔", "向", "常", "汤",
];
const BOY_CHARS: &[&str] = &[
    "浩", "宇", "轩", "子", "俊", "杰", "涛", "明", "伟", "强", "磊", "鑫", "博", "文", "晨", "阳",
    "天", "泽", "睿", "铭", "嘉", "豪", "航", "鹏", "宏", "志", "建", "国", "辉", "林", "凯", "峰",
    "毅", "诚", "旭", "亮", "海", "波", "勇", "帅",
];
const GIRL_CHARS: &[&str] = &[
    "欣", "怡", "婷", "雨", "佳", "琪", "梦", "涵", "诗", "雪", "静", "丽", "敏", "倩", "颖", "慧",
    "娜", "玲", "芳", "燕", "晶", "萱", "瑶", "悦", "妍", "思", "语", "彤", "璐", "菲", "蕊", "洁",
    "雯", "露", "可", "馨", "月", "琳", "霞", "红",
];
/// Prefectures that draw many migrant workers (广州, 深圳, 东莞, 佛山, 上海, 杭州, 宁波, 苏州, 厦门,
/// 北京, 天津, 成都, 重庆, 贵阳, 昆明, 长沙, 武汉, 福州, 泉州, 温州).
const WORK_PLACES: &[&str] = &[
    "4401", "4403", "4419", "4406", "3101", "3301", "3302", "3205", "3502", "1101", "1201", "5101",
    "5001", "5201", "5301", "4301", "4201", "3501", "3505", "3303",
];

pub(crate) fn pick<'a>(rng: &mut StdRng, items: &[&'a str]) -> &'a str {
    items[rng.gen_range(0..items.len())]
}

pub(crate) fn given_name(rng: &mut StdRng, boy: bool) -> String {
    let chars = if boy { BOY_CHARS } else { GIRL_CHARS };
    let n = if rng.gen_bool(0.75) { 2 } else { 1 };
    (0..n).map(|_| pick(rng, chars)).collect()
}

/// Hands out ID-number sequence digits per (county, birth date) so that no two synthetic children
/// share a number (GB 11643: the sequence distinguishes people born on one day in one place).
#[derive(Default)]
pub struct IdSequences(std::collections::HashMap<(u32, NaiveDate), u16>, u16);

impl IdSequences {
    /// Sequences that start at the given pair (0–499): a second set of synthetic children (a
    /// roster to import into a demo database) that shares no number with the first.
    pub fn starting_at(pair: u16) -> IdSequences {
        IdSequences(Default::default(), pair.min(499))
    }

    fn next(&mut self, county: &str, birth: NaiveDate, boy: bool) -> Option<u16> {
        let start = self.1;
        let n = self
            .0
            .entry((county.parse().unwrap_or(0), birth))
            .or_insert(start);
        let seq = *n * 2 + u16::from(boy);
        *n += 1;
        (seq < 1000).then_some(seq)
    }
}

/// One synthetic registration form, valid by construction and checked by the real parser.
pub fn child_input(
    rng: &mut StdRng,
    village: &str,
    today: NaiveDate,
    ids: &mut IdSequences,
) -> ChildInput {
    let boy = rng.gen_bool(0.545);
    let surname = pick(rng, SURNAMES);
    // Ages 0–5 21.7 %, 6–13 67.4 %, 14–15 10.9 %; ~1 % just past 16 to show ageing out.
    let r: f64 = rng.r#gen();
    let age_days = if r < 0.01 {
        16 * 365 + rng.gen_range(5..300)
    } else if r < 0.01 + 0.217 * 0.99 {
        rng.gen_range(30..6 * 365)
    } else if r < 0.01 + (0.217 + 0.674) * 0.99 {
        rng.gen_range(6 * 365 + 2..14 * 365)
    } else {
        rng.gen_range(14 * 365 + 4..16 * 365 - 2)
    };
    let birth = today - Duration::days(age_days);
    let age = (age_days / 365) as i32;
    let county = &village[..6];
    let id_seq = ids.next(county, birth, boy);
    let no_hukou = rng.gen_bool(0.005) || id_seq.is_none();
    let schooling = if age < 3 {
        "未入园"
    } else if age < 6 {
        if rng.gen_bool(0.8) {
            "幼儿园"
        } else {
            "未入园"
        }
    } else if age < 12 {
        if rng.gen_bool(0.004) {
            "辍学"
        } else {
            "小学"
        }
    } else if age < 15 {
        if rng.gen_bool(0.006) {
            "辍学"
        } else {
            "初中"
        }
    } else if rng.gen_bool(0.1) {
        "不在学"
    } else if rng.gen_bool(0.7) {
        "高中"
    } else {
        "中职"
    };
    let health_r: f64 = rng.r#gen();
    let (health, dis_cat, dis_grade, illness) = if health_r < 0.005 {
        (
            "残疾",
            Some(pick(rng, &["肢体残疾", "智力残疾", "听力残疾", "视力残疾"])),
            Some(pick(rng, &["二级", "三级", "四级"])),
            None,
        )
    } else if health_r < 0.006 {
        (
            "患病",
            None,
            None,
            Some(pick(rng, &["白血病", "先天性心脏病", "肾病综合征"])),
        )
    } else {
        ("健康", None, None, None)
    };
    // 2016: both parents away for most; one away and the other unable for ~5 %; a few not left behind.
    let kind: f64 = rng.r#gen();
    let (mother_situation, mother_incapacity, father_situation) = if kind < 0.04 {
        (
            "在家但无监护能力",
            Some(pick(rng, &["重病", "重残"])),
            "外出务工",
        )
    } else if kind < 0.05 {
        ("失联", None, "外出务工")
    } else if kind < 0.07 {
        ("外出务工", None, "在家")
    } else if kind >= 0.993 {
        // 事实无人抚养 (民发〔2019〕62号): the father in prison, the mother gone.
        ("失联", None, "服刑在押")
    } else if kind >= 0.988 {
        // Left behind: the father away, the mother in compulsory rehabilitation.
        ("强制隔离戒毒", None, "外出务工")
    } else {
        ("外出务工", None, "外出务工")
    };
    // A few children whose mother went missing were stated to have been abandoned (困境儿童).
    let harm = (0.048..0.05)
        .contains(&kind)
        .then(|| vec!["遭受遗弃".to_owned()]);
    let unsupervised = rng.gen_bool(0.004);
    let grand_boy = rng.gen_bool(0.5);
    let guardian_name = format!(
        "{}{}",
        if grand_boy {
            surname
        } else {
            pick(rng, SURNAMES)
        },
        given_name(rng, grand_boy)
    );
    let guardianship_type = if unsupervised {
        "无人监护"
    } else if mother_situation == "在家但无监护能力" {
        "父或母无监护能力"
    } else if rng.gen_bool(0.03) {
        "受委托监护人监护能力不足"
    } else if rng.gen_bool(0.4) {
        "监护情况一般"
    } else {
        "监护情况较好"
    };
    let relation = if rng.gen_bool(0.96) {
        if rng.gen_bool(0.8) {
            "祖父母"
        } else {
            "外祖父母"
        }
    } else {
        "其他亲属"
    };
    let father_birth = birth - Duration::days(rng.gen_range(22 * 365..40 * 365));
    let father_id = id_number_for(
        county,
        father_birth,
        ids.next(county, father_birth, true).unwrap_or(999),
    );
    let mut assistance = vec![];
    if rng.gen_bool(0.012) {
        assistance.push("享受低保".to_owned());
    }
    if rng.gen_bool(0.001) {
        assistance.push("特困供养".to_owned());
    }
    if rng.gen_bool(0.02) {
        assistance.push("临时救助".to_owned());
    }
    let some = |s: &str| Some(s.to_owned());
    let phone = |rng: &mut StdRng| {
        format!(
            "1{}{:09}",
            pick(rng, &["3", "5", "8", "7"]),
            rng.gen_range(0..1_000_000_000u32)
        )
    };
    ChildInput {
        name: Some(format!("{surname}{}", given_name(rng, boy))),
        sex: some(if boy { "男" } else { "女" }),
        ethnicity: some(if rng.gen_bool(0.6) {
            "01"
        } else {
            pick(rng, &["09", "06", "03", "25", "16", "18"])
        }),
        birth_date: Some(birth.to_string()),
        id_number: id_seq
            .filter(|_| !no_hukou)
            .map(|seq| id_number_for(county, birth, seq)),
        hukou_registered: some(if no_hukou { "否" } else { "是" }),
        hukou_rural: some("是"),
        village_code: some(village),
        health: some(health),
        disability_category: dis_cat.map(str::to_owned),
        disability_grade: dis_grade.map(str::to_owned),
        illness: illness.map(str::to_owned),
        schooling: some(schooling),
        boarding: some(
            if matches!(schooling, "初中" | "高中" | "中职") && rng.gen_bool(0.5) {
                "是"
            } else {
                "否"
            },
        ),
        living_alone: some(if unsupervised && age >= 12 && rng.gen_bool(0.5) {
            "是"
        } else {
            "否"
        }),
        paternal_grandfather_status: some(if rng.gen_bool(0.2) {
            "已故"
        } else {
            "健在"
        }),
        paternal_grandfather_name: Some(format!("{surname}{}", given_name(rng, true))),
        paternal_grandmother_status: some("健在"),
        paternal_grandmother_name: Some(format!(
            "{}{}",
            pick(rng, SURNAMES),
            given_name(rng, false)
        )),
        father_status: some("健在"),
        father_name: Some(format!("{surname}{}", given_name(rng, true))),
        father_birth_date: Some(father_birth.to_string()),
        father_id_number: Some(father_id),
        father_situation: some(father_situation),
        father_work_place: (father_situation == "外出务工")
            .then(|| pick(rng, WORK_PLACES).to_owned()),
        father_phone: Some(phone(rng)),
        mother_status: some("健在"),
        mother_name: Some(format!("{}{}", pick(rng, SURNAMES), given_name(rng, false))),
        mother_situation: some(mother_situation),
        mother_incapacity: mother_incapacity.map(str::to_owned),
        mother_work_place: (mother_situation == "外出务工")
            .then(|| pick(rng, WORK_PLACES).to_owned()),
        mother_phone: Some(phone(rng)),
        entrusted: some(if unsupervised { "否" } else { "是" }),
        guardian_name: (!unsupervised).then_some(guardian_name),
        guardian_relation: (!unsupervised).then(|| relation.to_owned()),
        guardian_phone: (!unsupervised).then(|| phone(rng)),
        guardianship_type: some(guardianship_type),
        income_sources: Some(vec!["打工收入".to_owned()]),
        assistance: Some(assistance),
        harm,
        ..ChildInput::default()
    }
}

/// From this many children, a demo load is a bulk load: the kept counts and the child tables'
/// secondary indexes are set aside and made again once at the end (`Store::begin_bulk_load`).
pub const BULK_LOAD: usize = 50_000;

/// Files generated, prepared and written as one batch (one transaction).
const CHUNK: usize = 5_000;

pub async fn run(store: &Store, region: &RegionCode, children: usize, seed: u64) -> Result<()> {
    run_with_lists(store, region, children, seed, None).await
}

/// As [`run`]; with `lists`, also writes sample student and household lists there (三方比对).
pub async fn run_with_lists(
    store: &Store,
    region: &RegionCode,
    children: usize,
    seed: u64,
    lists: Option<&std::path::Path>,
) -> Result<()> {
    run_regions(store, std::slice::from_ref(region), children, seed, lists).await
}

/// The children shared out over several regions (the first takes what does not divide evenly;
/// the lists, when asked for, are of the first region). A large load sets the kept counts aside
/// once and counts everything once at the end, however many regions it covers.
pub async fn run_regions(
    store: &Store,
    regions: &[RegionCode],
    children: usize,
    seed: u64,
    lists: Option<&std::path::Path>,
) -> Result<()> {
    anyhow::ensure!(!regions.is_empty(), "请用 --region 指定至少一个区划代码");
    let bulk = children >= BULK_LOAD;
    if bulk {
        store.bulk().begin_bulk_load().await?;
    }
    let share = children / regions.len();
    for (i, region) in regions.iter().enumerate() {
        let n = if i == 0 {
            children - share * (regions.len() - 1)
        } else {
            share
        };
        let lists = if i == 0 { lists } else { None };
        load_region(store, region, n, seed + i as u64, lists).await?;
    }
    let t = std::time::Instant::now();
    if bulk {
        store.bulk().finish_bulk_load().await?;
        eprintln!(
            "已重建索引并重新统计汇总（{:.1} 秒）",
            t.elapsed().as_secs_f64()
        );
    } else {
        store.bulk().analyze().await?;
    }
    Ok(())
}

async fn load_region(
    store: &Store,
    region: &RegionCode,
    children: usize,
    seed: u64,
    lists: Option<&std::path::Path>,
) -> Result<()> {
    let mut lists = lists.map(|d| SampleLists::create(d, seed)).transpose()?;
    let divisions = Divisions::shipped();
    let villages: Vec<String> = divisions
        .subtree(region)?
        .filter(|d| d.level == RegionLevel::Village)
        .map(|d| d.code.to_owned())
        .collect();
    anyhow::ensure!(!villages.is_empty(), "区划 {region} 下没有村级区划");
    let today = store.today();
    let ctx = ParseContext { today, divisions };
    let first_village = RegionCode::parse(&villages[0])?;
    let first_town = first_village.parent().expect("villages have towns");
    let county = first_village
        .at_level(RegionLevel::County)
        .expect("villages have counties");

    // Demo users, one per role.
    let town_name = divisions.get(&first_town)?.name.to_owned();
    let school_name = format!("{town_name}中心小学");
    let users: Vec<(Role, RegionCode, Option<String>)> = vec![
        (Role::Village, first_village.clone(), None),
        (Role::Town, first_town.clone(), None),
        (Role::County, county.clone(), None),
        (Role::CountyAdmin, county.clone(), None),
        (Role::School, first_town.clone(), Some(school_name.clone())),
        (Role::Police, first_town.clone(), None),
        (Role::Agency, county.clone(), Some("县妇联".to_owned())),
        (Role::Department, county.clone(), Some("县残联".to_owned())),
        (Role::Oversight, county.clone(), None),
    ];
    let mut school_agency = None;
    for (role, org, agency) in &users {
        let result = store
            .users()
            .add_user(NewUser {
                username: role.code().to_owned(),
                display_name: format!("演示{}", role.label()),
                password: DEMO_PASSWORD.to_owned(),
                role: *role,
                region: org.clone(),
                agency: agency.clone(),
            })
            .await;
        match result {
            Ok(_) | Err(shouwang_store::StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(a) = store.users().actor_by_username("school").await? {
        school_agency = a.agency_id;
    }

    let village_count = villages.len();
    // The files are generated, checked, hashed and sealed on a thread of their own while the
    // database writes the batch before: the two overlap (the database works on its own thread
    // for SQLite, in its own process for PostgreSQL).
    let (send, batches) = tokio::sync::mpsc::channel::<PreparedChildren>(2);
    let generating = {
        let store = store.clone();
        let first_town = first_town.clone();
        tokio::task::spawn_blocking(move || -> Result<Option<SampleLists>> {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut ids = IdSequences::default();
            let mut done = 0usize;
            while done < children {
                let n = CHUNK.min(children - done);
                let mut files = Vec::with_capacity(n);
                let mut links = Vec::with_capacity(n);
                for _ in 0..n {
                    let village = &villages[rng.gen_range(0..villages.len())];
                    let input = child_input(&mut rng, village, today, &mut ids);
                    let file = input.parse(&ctx).map_err(|e| {
                        anyhow::anyhow!("demo generator produced an invalid file: {}", e.summary())
                    })?;
                    let at_school = first_town.contains(&file.village_code)
                        && matches!(
                            file.schooling,
                            Some(shouwang_domain::child::Schooling::Primary)
                        );
                    links.push(if at_school {
                        school_agency.clone()
                    } else {
                        None
                    });
                    if let Some(l) = lists.as_mut() {
                        l.add(&file, today)?;
                        // About one in two hundred left-behind children nobody registered yet.
                        if l.extra.gen_ratio(1, 200) {
                            let unknown =
                                child_input(&mut l.extra, village, today, &mut ids).parse(&ctx);
                            if let Ok(unknown) = unknown
                                && shouwang_linkage::discrepancy::school_age(
                                    unknown.birth_date,
                                    today,
                                )
                            {
                                l.add_unregistered(&unknown)?;
                            }
                        }
                    }
                    files.push(file);
                }
                if send
                    .blocking_send(store.bulk().prepare_children(&files, &links))
                    .is_err()
                {
                    // The writer stopped (its error is the one reported).
                    break;
                }
                done += n;
            }
            Ok(lists)
        })
    };
    let started = std::time::Instant::now();
    let batches = std::sync::Arc::new(tokio::sync::Mutex::new(batches));
    let written = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writers: Vec<_> = (0..store.bulk().bulk_writers())
        .map(|_| {
            let (store, batches, written) = (store.clone(), batches.clone(), written.clone());
            tokio::spawn(async move {
                loop {
                    let Some(batch) = batches.lock().await.recv().await else {
                        return Ok::<_, anyhow::Error>(());
                    };
                    let n = store
                        .bulk()
                        .insert_prepared(
                            Who {
                                user_id: None,
                                username: "demo",
                            },
                            batch,
                        )
                        .await?;
                    let done = written.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n;
                    if children > CHUNK && done % 100_000 < n {
                        eprintln!(
                            "已生成 {done}/{children} 名儿童（{:.0} 名/秒）",
                            done as f64 / started.elapsed().as_secs_f64()
                        );
                    }
                }
            })
        })
        .collect();
    let mut failed = None;
    for w in writers {
        if let Err(e) = w
            .await
            .map_err(|e| anyhow::anyhow!("demo writer stopped: {e}"))
            .and_then(|r| r)
        {
            // The others stop when the generator does (it stops when no one receives).
            batches.lock().await.close();
            failed.get_or_insert(e);
        }
    }
    if let Some(e) = failed {
        return Err(e);
    }
    let lists = generating
        .await
        .map_err(|e| anyhow::anyhow!("demo generator stopped: {e}"))??;
    println!(
        "已生成 {children} 名演示儿童，分布在 {} 个村（社区）",
        village_count
    );
    println!();
    if let Some(l) = lists {
        let (school, household) = l.finish()?;
        println!(
            "三方比对示例名单：{} 、{}（以 county 登录，在“三方比对”上传）",
            school.display(),
            household.display()
        );
    }
    // The accounts as stored: a second region (or a second run) keeps the first one's users, so
    // their places are read back rather than assumed.
    println!("演示账号（密码均为 {DEMO_PASSWORD}）：");
    for (role, _, _) in &users {
        let Some(actor) = store.users().actor_by_username(role.code()).await? else {
            continue;
        };
        let place = divisions
            .lineage(&actor.region)?
            .iter()
            .skip(2)
            .map(|d| d.name)
            .collect::<Vec<_>>()
            .join(" ");
        let agency = match &actor.agency_id {
            Some(id) => store.regions().agency_name(id).await?,
            None => None,
        };
        println!(
            "  {:<13} {}  {}{}",
            role.code(),
            role.label(),
            place,
            agency.map(|a| format!(" · {a}")).unwrap_or_default()
        );
    }
    Ok(())
}

/// A student list (学籍) and a household list (户籍) of the demo children, as the education
/// bureau and the police would send them for 三方比对: most children in them, a few missing
/// (possible dropouts, possible no hukou), names, dates, ID numbers and villages written with the
/// usual mistakes, some urban hukou, and a few left-behind children nobody registered.
pub struct SampleLists {
    school: csv::Writer<std::fs::File>,
    household: csv::Writer<std::fs::File>,
    rng: rand_chacha::ChaCha8Rng,
    rows: (usize, usize),
    /// Draws the unregistered children (apart from the roster's generator).
    pub extra: StdRng,
    pub paths: (std::path::PathBuf, std::path::PathBuf),
}

impl SampleLists {
    pub fn create(dir: &std::path::Path, seed: u64) -> Result<SampleLists> {
        std::fs::create_dir_all(dir)?;
        let paths = (dir.join("演示-学籍名单.csv"), dir.join("演示-户籍名单.csv"));
        let mut school = csv::Writer::from_path(&paths.0)?;
        school.write_record([
            "学籍号",
            "姓名",
            "性别",
            "出生日期",
            "身份证号",
            "县",
            "乡镇",
            "村",
            "学校",
            "是否留守",
        ])?;
        let mut household = csv::Writer::from_path(&paths.1)?;
        household.write_record([
            "编号",
            "姓名",
            "性别",
            "出生日期",
            "公民身份号码",
            "县",
            "乡镇",
            "村",
            "户口性质",
        ])?;
        Ok(SampleLists {
            school,
            household,
            rng: rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x5a5a),
            rows: (0, 0),
            extra: StdRng::seed_from_u64(seed ^ 0xa5a5),
            paths,
        })
    }

    fn write(
        w: &mut csv::Writer<std::fs::File>,
        id: String,
        r: &shouwang_linkage::Record,
        tail: &[&str],
    ) -> Result<()> {
        let cell = |v: &Option<String>| v.clone().unwrap_or_default();
        let mut row = vec![
            id,
            cell(&r.name),
            cell(&r.sex),
            cell(&r.birth_date),
            cell(&r.id_number),
            cell(&r.county),
            cell(&r.town),
            cell(&r.village),
        ];
        row.extend(tail.iter().map(|s| (*s).to_owned()));
        w.write_record(row)?;
        Ok(())
    }

    /// A registered child: in the student list if of school age (97 %), in the household list
    /// (98 %), with the lists' usual mistakes.
    pub fn add(
        &mut self,
        file: &shouwang_domain::child::ChildFile,
        today: NaiveDate,
    ) -> Result<()> {
        use shouwang_linkage::synth::{Damage, damaged};
        let base = shouwang_linkage::registry::file_record("", file);
        let school_age = shouwang_linkage::discrepancy::school_age(file.birth_date, today);
        if school_age && self.rng.gen_bool(0.97) {
            let r = damaged(&mut self.rng, &base, &Damage::default());
            self.rows.0 += 1;
            let age = shouwang_domain::eligibility::age_on(file.birth_date, today);
            let school = format!(
                "{}{}",
                base.town.as_deref().unwrap_or(""),
                if age >= 12 { "中学" } else { "中心小学" }
            );
            // The school marks the children it knows as left behind; not every registry child
            // still is (parents returned…).
            let away = if shouwang_domain::eligibility::qualifies_except_age(file) {
                "是"
            } else {
                "否"
            };
            Self::write(
                &mut self.school,
                format!("G{:06}", self.rows.0),
                &r,
                &[&school, away],
            )?;
        }
        if self.rng.gen_bool(0.98) {
            let light = Damage {
                missing_id: 0.01,
                id_typo: 0.005,
                surname_homophone: 0.01,
                given_homophone: 0.01,
                swapped_date: 0.005,
                date_digit: 0.005,
                ..Damage::default()
            };
            let r = damaged(&mut self.rng, &base, &light);
            self.rows.1 += 1;
            let hukou = if self.rng.gen_bool(0.015) {
                "非农业家庭户口"
            } else {
                "农业家庭户口"
            };
            Self::write(
                &mut self.household,
                format!("H{:06}", self.rows.1),
                &r,
                &[hukou],
            )?;
        }
        Ok(())
    }

    /// A left-behind child no village registered, known to the school.
    pub fn add_unregistered(&mut self, file: &shouwang_domain::child::ChildFile) -> Result<()> {
        let base = shouwang_linkage::registry::file_record("", file);
        self.rows.0 += 1;
        let school = format!("{}中心小学", base.town.as_deref().unwrap_or(""));
        Self::write(
            &mut self.school,
            format!("G{:06}", self.rows.0),
            &base,
            &[&school, "是"],
        )
    }

    pub fn finish(mut self) -> Result<(std::path::PathBuf, std::path::PathBuf)> {
        self.school.flush()?;
        self.household.flush()?;
        Ok(self.paths)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shouwang_domain::eligibility::{AgeBand, age_on};
    use shouwang_domain::summary_table::{Figures, cells_code, counts_on, parse_cells};

    /// The 表间勾稽关系 hold for generated children of any number, and counting the stored cells
    /// (what the database does) gives the same table as counting the files.
    #[test]
    fn the_summary_tables_rules_hold_for_generated_counties_of_any_size() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let ctx = ParseContext {
            today,
            divisions: Divisions::shipped(),
        };
        for (seed, n) in [(1_u64, 1_usize), (2, 17), (3, 400), (4, 5000)] {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut ids = IdSequences::default();
            let (mut by_file, mut by_cells) = (Figures::default(), Figures::default());
            let mut counted = 0;
            for i in 0..n {
                let village = ["522730001001", "522730001002", "522730100208"][i % 3];
                let Ok(file) = child_input(&mut rng, village, today, &mut ids).parse(&ctx) else {
                    continue;
                };
                counted += usize::from(by_file.count(&file, today));
                if counts_on(&file, today)
                    && let Some(cells) = parse_cells(&cells_code(&file))
                {
                    let band = AgeBand::of_age(age_on(file.birth_date, today)).unwrap();
                    by_cells.add_group(band, file.sex, &cells, 1);
                }
            }
            assert!(
                by_file.cross_check().is_empty(),
                "{:?}",
                by_file.cross_check()
            );
            assert_eq!(by_file, by_cells, "seed {seed}");
            assert_eq!(by_file.get(1), counted as u64);
            if n >= 400 {
                assert!(
                    counted > n / 2,
                    "most generated children are counted: {counted}"
                );
            }
        }
    }
}
