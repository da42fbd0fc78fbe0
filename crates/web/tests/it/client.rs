//! A typed client for the JSON API: a test says what it sends with the types the handlers read
//! (the domain's inputs and enums) and checks the answer with [`Reply`], instead of building JSON
//! by hand and matching status codes line by line. A misspelt field or code does not compile.
//!
//! Add an operation here when a test needs it; keep `post_json` for what a test means to send
//! malformed (an unknown field, a wrong type).

use reqwest::StatusCode;
use serde::Serialize;
use serde_json::{Value, json};

use shouwang_domain::protection::{PoliceRecord, ReportInput, Step, StepOutcome};
use shouwang_domain::visits::VisitInput;

use crate::helpers::User;

/// What the API answered.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    /// The body of a 200; fails the test with the body otherwise.
    #[track_caller]
    pub fn ok(self) -> Value {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        self.body
    }

    /// The body of a 201.
    #[track_caller]
    pub fn created(self) -> Value {
        assert_eq!(self.status, StatusCode::CREATED, "{}", self.body);
        self.body
    }

    /// A 422 whose errors name `field`.
    #[track_caller]
    pub fn refused_on(&self, field: &str) {
        assert_eq!(
            self.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            self.body
        );
        let named = self.body["errors"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["field"] == field));
        assert!(named, "no error on {field}: {}", self.body);
    }

    /// Any other status the test expects (403, 404, 409…).
    #[track_caller]
    pub fn is(&self, status: StatusCode) {
        assert_eq!(self.status, status, "{}", self.body);
    }
}

impl User {
    /// POSTs a typed body.
    pub async fn send<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> Reply {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, body }
    }

    /// Files a mandatory report (`POST /api/v1/reports`).
    pub async fn file_report(&self, report: &ReportInput) -> Reply {
        self.send("/api/v1/reports", report).await
    }

    /// The police receive a report.
    pub async fn receive(&self, report: &str) -> Reply {
        self.send(&format!("/api/v1/reports/{report}/receive"), &json!({}))
            .await
    }

    /// A step of the emergency response.
    pub async fn step(&self, case: &str, step: Step, outcome: StepOutcome, note: &str) -> Reply {
        self.send(
            &format!("/api/v1/cases/{case}/steps"),
            &json!({"step": step, "outcome": outcome, "note": note}),
        )
        .await
    }

    /// What the police record on a case.
    pub async fn police_record(&self, case: &str, record: PoliceRecord, note: &str) -> Reply {
        self.send(
            &format!("/api/v1/cases/{case}/police-records"),
            &json!({"record": record, "note": note}),
        )
        .await
    }

    /// The police notify the town.
    pub async fn notify_town(&self, case: &str, note: &str) -> Reply {
        self.send(
            &format!("/api/v1/cases/{case}/notify-town"),
            &json!({"note": note}),
        )
        .await
    }

    /// Records a visit of a child (`POST /api/v1/children/{id}/visits`).
    pub async fn record_visit(&self, child: &str, visit: &VisitInput) -> Reply {
        self.send(&format!("/api/v1/children/{child}/visits"), visit)
            .await
    }
}
