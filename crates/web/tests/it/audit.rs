//! Every read of a file, every change and every login is in the append-only, hash-chained log.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn reads_changes_and_logins_are_audited_and_only_admins_browse_the_log() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let v = app.login("village_a").await;
    let id = v.register(&boy(VILLAGE_A)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    v.get_json(&format!("/api/v1/children/{id}")).await;
    v.get_json(&format!("/api/v1/children/{id}")).await;
    assert_eq!(v.get("/api/v1/audit").await.status(), StatusCode::FORBIDDEN);
    let admin = app.login("admin").await;
    let log = admin.get_json("/api/v1/audit?username=village_a").await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["child_read", "child_read", "child_register", "login"]
    );
    assert!(
        !log.to_string()
            .contains(boy(VILLAGE_A).id_number.unwrap().as_str())
    );
    assert_eq!(app.store.verify_audit_chain().await.unwrap(), None);
}

#[tokio::test]
async fn tampering_with_the_audit_log_breaks_the_chain() {
    let app = spawn_app().await;
    app.with_standard_users().await;
    let v = app.login("village_a").await;
    v.register(&boy(VILLAGE_A)).await;
    assert_eq!(app.store.verify_audit_chain().await.unwrap(), None);
    let admin = app.login("admin").await;
    let log: Value = admin.get_json("/api/v1/audit?action=child_register").await;
    let seq = log["items"][0]["seq"].as_i64().unwrap();
    // Someone with database access rewrites what a row says.
    use sqlx::Connection;
    let url = if app.db.starts_with("postgres") {
        app.db.clone()
    } else {
        format!("sqlite://{}", app.db)
    };
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    sqlx::query("UPDATE audit_events SET username = 'someone_else' WHERE seq = $1")
        .bind(seq)
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(app.store.verify_audit_chain().await.unwrap(), Some(seq));
}
