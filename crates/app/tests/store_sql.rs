//! The store's SQL, tested directly through its rooms on a real database: SQLite by default,
//! PostgreSQL when `SHOUWANG_TEST_PG` names a server. These are the things both databases must
//! agree on whatever the use cases above them do: a sealed value opens only for its own row, an
//! aggregate read by its name decodes the same, a recorded time reads back as the instant written.

use std::sync::Arc;

use chrono::NaiveDate;

use shouwang_app::App;
use shouwang_domain::authz::{Actor, Role};
use shouwang_domain::clock::FixedClock;
use shouwang_domain::ids::ChildId;
use shouwang_domain::sample::{id_number_for, left_behind_boy};
use shouwang_store::{IdCipher, Store, StoreError};

const VILLAGE: &str = "522730100208";

struct Db {
    store: Store,
    app: App,
    url: String,
    county: Actor,
    _dir: tempfile::TempDir,
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
}

async fn db() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let path = shouwang_testkit::fresh_db(dir.path()).await;
    let store = shouwang_testkit::county_store(
        &path,
        IdCipher::new([5; 32], [6; 32]),
        Arc::new(FixedClock::on(today())),
    )
    .await;
    let county =
        shouwang_testkit::actor(&store, "county", "县民政局", Role::County, "522730").await;
    let url = if path.starts_with("postgres") {
        path
    } else {
        format!("sqlite:{path}")
    };
    Db {
        app: App::new(store.clone()),
        store,
        url,
        county,
        _dir: dir,
    }
}

impl Db {
    /// Registers `n` boys of the village through the use case; their ids.
    async fn children(&self, n: u16) -> Vec<ChildId> {
        let mut out = Vec::new();
        for i in 0..n {
            let birth =
                NaiveDate::from_ymd_opt(2012 + i32::from(i % 4), 3, 1 + u32::from(i)).unwrap();
            let mut input = left_behind_boy(VILLAGE, birth);
            input.id_number = Some(id_number_for("522730", birth, 101 + 2 * i));
            input.name = Some(format!(
                "王小{}",
                ["明", "刚", "强", "军", "华", "林"][usize::from(i % 6)]
            ));
            let r = shouwang_app::children::register(&self.app, &self.county, &input, true)
                .await
                .unwrap();
            out.push(r.id);
        }
        out
    }

    async fn raw(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(&self.url).await.unwrap()
    }
}

#[tokio::test]
async fn a_childs_sealed_file_copied_over_another_row_does_not_open() {
    let db = db().await;
    let ids = db.children(2).await;
    let (a, b) = (&ids[0], &ids[1]);
    // Someone with the database but not the keys copies B's sealed file over A's row.
    let pool = db.raw().await;
    let b_doc: String = sqlx::query_scalar("SELECT doc FROM child_docs WHERE child_id = $1")
        .bind(b.as_str())
        .fetch_one(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE child_docs SET doc = $1 WHERE child_id = $2")
        .bind(&b_doc)
        .bind(a.as_str())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    match db.store.children().child(a).await {
        Err(StoreError::Damaged { column, row, .. }) => {
            assert_eq!(column, "child_docs.doc");
            assert_eq!(row, a.as_str());
        }
        Err(e) => panic!("another error: {e}"),
        Ok(c) => panic!("A's row served a file: {}", c.file.name.as_str()),
    }
    // B's own row still opens, as B.
    let b_file = db.store.children().child(b).await.unwrap();
    assert_eq!(&b_file.id, b);
    // The use case turns it into a fault of the system, not an answer.
    let e = shouwang_app::children::get(&db.app, &db.county, a, false)
        .await
        .expect_err("refused");
    assert!(matches!(e, shouwang_app::Error::Internal(_)), "{e:?}");
}

#[tokio::test]
async fn the_kept_counts_and_counting_the_rows_read_the_same_on_both_databases() {
    let db = db().await;
    db.children(6).await;
    // The county reads the kept counts (a few rows); counting the rows decodes the aliased sums.
    let kept = db.store.rosters().counts(&db.county).await.unwrap();
    let counted = db.store.rosters().counts_counted(&db.county).await.unwrap();
    assert_eq!(kept.on_roster, 6);
    assert_eq!(counted.on_roster, 6);
    assert_eq!(kept.on_roster, counted.on_roster);
    assert_eq!(kept.not_eligible, counted.not_eligible);
    assert_eq!(kept.to_complete, counted.to_complete);
    assert_eq!(kept.incomplete, counted.incomplete);
    assert_eq!(kept.exited, counted.exited);
    assert_eq!(kept.poor_guardianship, counted.poor_guardianship);
}

#[tokio::test]
async fn a_files_history_reads_back_its_times_and_changes() {
    let db = db().await;
    let ids = db.children(1).await;
    let history = db.store.children().child_history(&ids[0]).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].version, 1);
    assert_eq!(history[0].kind, "register");
    // The stamp is the clock's instant, as RFC 3339 the other rooms parse.
    let at = shouwang_domain::clock::At::parse(&history[0].at).expect("a time");
    assert_eq!(at.china_date(), today());
    assert!(history[0].changes.iter().any(|c| c.field == "name"));
}

#[tokio::test]
async fn a_stored_code_the_store_does_not_know_is_damaged_not_a_default() {
    let db = db().await;
    let ids = db.children(1).await;
    let pool = db.raw().await;
    sqlx::query("UPDATE children SET status = 'gone' WHERE id = $1")
        .bind(ids[0].as_str())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    // Not read as 在册 (active): the column and the row are named.
    match db.store.children().child(&ids[0]).await {
        Err(StoreError::Damaged { column, row, why }) => {
            assert_eq!(column, "status");
            assert_eq!(row, ids[0].as_str());
            assert!(why.contains("gone"), "{why}");
        }
        Err(e) => panic!("another error: {e}"),
        Ok(c) => panic!("read as {:?}", c.status),
    }
}

#[tokio::test]
async fn a_roster_row_whose_birth_date_is_not_a_date_is_damaged_not_read_as_today() {
    let db = db().await;
    let ids = db.children(2).await;
    let pool = db.raw().await;
    sqlx::query("UPDATE children SET birth_date = '2016-02-30' WHERE id = $1")
        .bind(ids[1].as_str())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let query = shouwang_store::roster::RosterQuery {
        per_page: 50,
        ..Default::default()
    };
    match db.store.rosters().roster(&db.county, &query).await {
        Err(StoreError::Damaged { column, row, why }) => {
            assert_eq!(column, "birth_date");
            assert_eq!(row, ids[1].as_str());
            assert!(why.contains("2016-02-30"), "{why}");
        }
        Err(e) => panic!("another error: {e}"),
        Ok(p) => panic!("read as {:?}", p.items),
    }
}
