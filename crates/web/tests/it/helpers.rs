//! Spawns the real app on port 0 with a fresh database per test and a settable clock.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

use shouwang_app::App;
use shouwang_domain::authz::Role;
use shouwang_domain::clock::Clock;
use shouwang_domain::input::ChildInput;
use shouwang_domain::region::RegionCode;
use shouwang_domain::sample::left_behind_boy;
use shouwang_testkit::store::users::NewUser;
use shouwang_testkit::store::{IdCipher, Store};

pub const PASSWORD: &str = "correct-horse-battery";
/// 龙里县 冠山街道 冠山社区 and another village of the same town; 龙山镇 is another town.
pub const VILLAGE_A: &str = "522730001001";
pub const VILLAGE_A2: &str = "522730001002";
pub const TOWN_A: &str = "522730001";
pub const TOWN_B: &str = "522730100";

#[derive(Clone)]
pub struct TestClock(pub Arc<Mutex<DateTime<Utc>>>);
impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}
impl TestClock {
    pub fn set(&self, d: NaiveDate) {
        *self.0.lock().unwrap() = d.and_hms_opt(4, 0, 0).unwrap().and_utc();
    }
    pub fn advance(&self, seconds: i64) {
        *self.0.lock().unwrap() += chrono::Duration::seconds(seconds);
    }
}

pub fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub struct TestApp {
    pub base: String,
    pub db: String,
    /// The store, for arranging a test's data and checking what only the database shows.
    pub store: Store,
    /// The use cases as the server runs them (its policies), for calling them directly.
    pub use_cases: App,
    pub clock: TestClock,
    _dir: tempfile::TempDir,
}

async fn fresh_db(dir: &std::path::Path) -> String {
    shouwang_testkit::fresh_db(dir).await
}

pub async fn spawn_app() -> TestApp {
    spawn_app_printing(None).await
}

/// The app as `shouwang serve` runs it by default: county roles sign in with a second factor.
pub async fn spawn_app_requiring_second_factor() -> TestApp {
    spawn_app_with(
        None,
        shouwang_domain::authz::SecondFactorPolicy::county_roles(),
    )
    .await
}

/// The app with the real PDF printer (Debian's fonts-noto-cjk), as `shouwang serve` runs it.
pub async fn spawn_app_with_printer() -> TestApp {
    let printer =
        shouwang_print::Printer::load(std::path::Path::new(shouwang_print::DEFAULT_FONT_DIR))
            .expect("fonts-noto-cjk is installed");
    spawn_app_printing(Some(Arc::new(printer))).await
}

async fn spawn_app_printing(
    printer: Option<Arc<dyn shouwang_exchange::forms::FormPrinter>>,
) -> TestApp {
    spawn_app_with(printer, shouwang_domain::authz::SecondFactorPolicy::none()).await
}

async fn spawn_app_with(
    printer: Option<Arc<dyn shouwang_exchange::forms::FormPrinter>>,
    second_factor: shouwang_domain::authz::SecondFactorPolicy,
) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_db(dir.path()).await;
    let clock = TestClock(Arc::new(Mutex::new(Utc::now())));
    clock.set(ymd(2026, 11, 24));
    let store = shouwang_testkit::county_store(
        &db,
        IdCipher::new([7; 32], [9; 32]),
        Arc::new(clock.clone()),
    )
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let use_cases = App::new(store.clone()).with_second_factor(second_factor);
    let s = use_cases.clone();
    tokio::spawn(async move { shouwang_web::serve_with(s, listener, None, printer).await });
    TestApp {
        base,
        db,
        store,
        use_cases,
        clock,
        _dir: dir,
    }
}

impl TestApp {
    /// The database itself, as someone with access to it (or an older version) would write it.
    pub async fn raw_db(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        let url = if self.db.starts_with("postgres") {
            self.db.clone()
        } else {
            format!("sqlite:{}", self.db)
        };
        sqlx::AnyPool::connect(&url).await.unwrap()
    }

    pub async fn add_user(&self, username: &str, role: Role, org: &str, agency: Option<&str>) {
        self.store
            .users()
            .add_user(NewUser {
                username: username.into(),
                display_name: username.into(),
                password: PASSWORD.into(),
                role,
                region: RegionCode::parse(org).unwrap(),
                agency: agency.map(str::to_owned),
            })
            .await
            .unwrap();
    }

    /// A cookie-holding client logged in as `username`.
    pub async fn login(&self, username: &str) -> User {
        Self::login_at(&self.base, username).await
    }

    /// The same, on a server at `base` (a second server on the same database).
    pub async fn login_at(base: &str, username: &str) -> User {
        let client = Client::builder()
            .cookie_store(true)
            .default_headers(browser_headers(base))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = client
            .post(format!("{base}/api/v1/session"))
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "login of {username}");
        let body: Value = r.json().await.unwrap();
        assert!(body["csrf_token"].as_str().is_some_and(|t| t.len() >= 32));
        User {
            client,
            base: base.to_owned(),
        }
    }

    /// Users at every level of 龙里县 for the usual tests.
    pub async fn with_standard_users(&self) {
        self.add_user("village_a", Role::Village, VILLAGE_A, None)
            .await;
        self.add_user("village_a2", Role::Village, VILLAGE_A2, None)
            .await;
        self.add_user("town_a", Role::Town, TOWN_A, None).await;
        self.add_user("town_b", Role::Town, TOWN_B, None).await;
        self.add_user("county", Role::County, "522730", None).await;
        self.add_user("admin", Role::CountyAdmin, "522730", None)
            .await;
    }

    /// Links a child to the school (or agency) of `agency_user`, as town A's supervisor does.
    pub async fn link_to_agency_of(&self, child: &str, agency_user: &str) {
        let town = self
            .store
            .users()
            .actor_by_username("town_a")
            .await
            .unwrap()
            .unwrap();
        let agency = self
            .store
            .users()
            .actor_by_username(agency_user)
            .await
            .unwrap()
            .unwrap()
            .agency_id
            .unwrap();
        shouwang_app::children::link_agency(
            &self.use_cases,
            &town,
            &shouwang_domain::ids::ChildId::from(child),
            &agency,
        )
        .await
        .unwrap();
    }

    pub async fn count_children(&self) -> i64 {
        // Through the admin's API view of everything, any status.
        let admin = self.login("admin").await;
        let v = admin.get_json("/api/v1/children?status=all").await;
        v["total"].as_i64().unwrap()
    }
}

#[derive(Clone)]
pub struct User {
    pub client: Client,
    pub base: String,
}

impl User {
    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }
    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "GET {path}");
        r.json().await.unwrap()
    }
    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .unwrap()
    }
    pub async fn patch_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .patch(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .unwrap()
    }
    /// Registers a child and returns the created file.
    pub async fn register(&self, input: &ChildInput) -> Value {
        let r = self
            .post_json("/api/v1/children", &serde_json::to_value(input).unwrap())
            .await;
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }
}

/// Town A's records of each kind (a child, a discovery report, an import waiting for its decision,
/// a comparison and one of its items), for tests that point at them.
pub struct Records {
    pub child: String,
    pub report: String,
    /// A mandatory report on the child, and its case.
    pub protection_report: String,
    pub case: String,
    pub import: String,
    pub run: String,
    pub item: String,
    /// Town A's quarterly report of 2026Q4 (frozen).
    pub quarterly: String,
    /// A 劝返 of the child, opened by its school in town A.
    pub return_task: String,
    /// A routing of the child to the departments (家庭生活困难), sent by its village.
    pub routing: String,
    /// A left-behind elder of the village, registered by it.
    pub elder: String,
}

impl TestApp {
    /// Creates [`Records`] as village_a and county (the standard users must exist).
    pub async fn town_a_records(&self) -> Records {
        let id = |v: Value| v["id"].as_str().unwrap().to_owned();
        let village = self.login("village_a").await;
        let child = id(village.register(&boy(VILLAGE_A)).await);
        let report = id(village
            .post_json(
                "/api/v1/discoveries",
                &json!({"town_code": TOWN_A, "child_name": "李某", "situation": "独自在家"}),
            )
            .await
            .json()
            .await
            .unwrap());
        let import = id(village
            .client
            .post(format!("{}/api/v1/imports?filename=花名册.csv", self.base))
            .body("姓名,性别,出生日期,村\n李小红,女,2015-02-03,冠山社区\n")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap());
        let filed: Value = village
            .post_json(
                "/api/v1/reports",
                &json!({"child_id": child, "situations": ["living_alone"], "description": "独自在家"}),
            )
            .await
            .json()
            .await
            .unwrap();
        let protection_report = filed["id"].as_str().unwrap().to_owned();
        let case = filed["case_id"].as_str().unwrap().to_owned();
        let county = self.login("county").await;
        let r = county
            .client
            .post(format!(
                "{}/api/v1/reconcile/runs?kind=education&filename=学籍.csv",
                self.base
            ))
            .body("姓名,性别,出生日期,乡镇,村\n张小军,男,2016-03-01,冠山街道,冠山社区\n")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let run = id(r.json().await.unwrap());
        let item = county.get_json("/api/v1/reconcile/items").await["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let town = self.login("town_a").await;
        let quarterly = id(town
            .post_json(
                "/api/v1/quarterly-reports",
                &json!({"region": TOWN_A, "quarter": "2026Q4"}),
            )
            .await
            .json()
            .await
            .unwrap());
        self.add_user("school_rec", Role::School, TOWN_A, Some("冠山中学"))
            .await;
        self.link_to_agency_of(&child, "school_rec").await;
        let school = self.login("school_rec").await;
        let absences: Value = school
            .post_json(
                &format!("/api/v1/children/{child}/absences"),
                &json!({"from": "2026-11-16", "to": "2026-11-24"}),
            )
            .await
            .json()
            .await
            .unwrap();
        let return_task = absences["task"]["id"].as_str().unwrap().to_owned();
        let sent: Value = village
            .post_json(
                &format!("/api/v1/children/{child}/routings"),
                &json!({"need": "hardship", "note": "父亲重病，家庭困难"}),
            )
            .await
            .json()
            .await
            .unwrap();
        let routing = sent["items"][0]["id"].as_str().unwrap().to_owned();
        let r = village
            .post_json("/api/v1/elders", &grandmother_elder(VILLAGE_A))
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let elder = id(r.json().await.unwrap());
        Records {
            child,
            report,
            protection_report,
            case,
            import,
            run,
            item,
            quarterly,
            return_task,
            routing,
            elder,
        }
    }
}

/// The body of issue 27's contract for `POST /api/v1/elders`: a grandmother whose son works away.
pub fn grandmother_elder(village: &str) -> Value {
    json!({
        "name": "李秀英",
        "sex": "女",
        "birth_date": "1950-03-02",
        "village_code": village,
        "living_with": "grandchildren",
        "children_away": [{"name": "王建国", "work_place": "广东省深圳市", "phone": "13800138000"}],
        "health": "chronic_illness"
    })
}

/// What a browser sends with every request of a page of this site: where it comes from.
pub fn browser_headers(base: &str) -> reqwest::header::HeaderMap {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(reqwest::header::ORIGIN, base.parse().unwrap());
    h
}

/// The sample boy in a village, born 2016-07-31.
pub fn boy(village: &str) -> ChildInput {
    left_behind_boy(village, ymd(2016, 7, 31))
}

pub fn boy_named(village: &str, name: &str, birth: NaiveDate, seq: u16) -> ChildInput {
    let mut i = left_behind_boy(village, birth);
    i.name = Some(name.into());
    i.id_number = Some(shouwang_domain::sample::id_number_for("522730", birth, seq));
    i
}

/// The CSRF token of a page's first form.
pub fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf_token\" value=\"").unwrap() + 25;
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

/// How many notifications of `kind` were queued for `username`.
pub async fn told(app: &TestApp, username: &str, kind: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications n JOIN users u ON u.id = n.recipient_user_id \
         WHERE u.username = $1 AND n.kind = $2",
    )
    .bind(username)
    .bind(kind)
    .fetch_one(&app.raw_db().await)
    .await
    .unwrap()
}

/// A page signed and stamped, as a scanner makes it (a PDF).
pub const SIGNED_PAGE: &[u8] = b"%PDF-1.4\n% signed and stamped\n%%EOF\n";

/// Uploads the signed and stamped page of a quarterly report waiting for its signatures.
pub async fn upload_signed_page(user: &User, id: &str) -> (StatusCode, Value) {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(SIGNED_PAGE.to_vec())
            .file_name("签字盖章页.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    );
    let r = user
        .client
        .post(format!(
            "{}/api/v1/quarterly-reports/{id}/signed-page",
            user.base
        ))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}
