//! Shouwang's web front end: the Chinese server-rendered UI (askama + htmx) and the JSON API,
//! both calling the same store. Build with [`router`] and serve with [`serve`].

pub mod api;
pub mod auth;
pub mod error;
pub mod pages;
pub mod reconcile;
pub mod transfer;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use shouwang_exchange::forms::FormPrinter;
use shouwang_store::Store;

/// Largest accepted request body (a full registration form is a few kB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Set the cookie's Secure flag (off only for plain HTTP on loopback, e.g. the demo).
    pub secure_cookies: bool,
    /// Spreadsheet imports in progress or waiting for a decision.
    pub jobs: Arc<transfer::Jobs>,
    /// 三方比对 lists waiting for their columns or being compared.
    pub reconcile_jobs: Arc<reconcile::Jobs>,
    /// Prints the PDF forms; `None` when the server runs without fonts (PDF routes then fail).
    pub printer: Option<Arc<dyn FormPrinter>>,
}

pub fn router(state: AppState) -> Router {
    let headers = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
        (
            header::HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=()",
        ),
    ];
    let mut app = Router::new()
        .merge(api::router())
        .merge(pages::router())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Uploads carry their own, larger limit (set inside, so it wins over the one above).
        .merge(transfer::router())
        .merge(reconcile::router())
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ));
    for (name, value) in headers {
        app = app.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    // Pages and API answers hold personal data: never cache them (static files set their own).
    app = app.layer(SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    ));
    app.with_state(state)
}

/// Serves until Ctrl-C. `secure_cookies: None` means: secure unless bound to loopback.
pub async fn serve(
    store: Store,
    bind: SocketAddr,
    secure_cookies: Option<bool>,
    printer: Option<Arc<dyn FormPrinter>>,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    serve_with(store, listener, secure_cookies, printer).await
}

pub async fn serve_on(
    store: Store,
    listener: tokio::net::TcpListener,
    secure_cookies: Option<bool>,
) -> std::io::Result<()> {
    serve_with(store, listener, secure_cookies, None).await
}

/// Serves with a PDF printer for the printed forms.
pub async fn serve_with(
    store: Store,
    listener: tokio::net::TcpListener,
    secure_cookies: Option<bool>,
    printer: Option<Arc<dyn FormPrinter>>,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let secure = secure_cookies.unwrap_or(!addr.ip().is_loopback());
    let app = router(AppState {
        store,
        secure_cookies: secure,
        jobs: Arc::default(),
        reconcile_jobs: Arc::default(),
        printer,
    });
    tracing::info!(%addr, "守望 Shouwang listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
