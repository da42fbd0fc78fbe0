//! Shouwang's web front end: the Chinese server-rendered UI (askama + htmx) and the JSON API,
//! both calling the same store. Build with [`router`] and serve with [`serve`].
//!
//! One module per capability (`children`, `discoveries`, `import`, `exports`, `reconcile`,
//! `users`, `audit`, `session`, `home`, `places`), each with its pages and its API side by side
//! and its own `routes()`; [`features`] merges them and `openapi` lists their API documents.
//! Shared machinery that no feature owns: `state`, `error`, `auth`, `extract`, `render`, `ui`.

mod attendance;
mod audit;
pub mod auth;
mod charts;
mod children;
mod discoveries;
pub mod error;
mod exports;
mod extract;
mod guardianship;
mod home;
mod import;
mod openapi;
mod places;
mod protection;
mod quarterly;
mod reconcile;
mod render;
mod routings;
mod schema;
mod second_factor;
mod session;
mod settings;
mod state;
mod ui;
mod users;
mod visits;

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

pub use extract::MAX_BODY_BYTES;
pub use openapi::api_doc;
pub use state::AppState;

/// Every capability's routes. A new capability adds its line here and in [`openapi`].
fn features() -> Router<AppState> {
    Router::new()
        .merge(session::routes())
        .merge(second_factor::routes())
        .merge(home::routes())
        .merge(places::routes())
        .merge(children::routes())
        .merge(discoveries::routes())
        .merge(protection::routes())
        .merge(import::routes())
        .merge(exports::routes())
        .merge(reconcile::routes())
        .merge(users::routes())
        .merge(audit::routes())
        .merge(visits::routes())
        .merge(attendance::routes())
        .merge(routings::routes())
        .merge(guardianship::routes())
        .merge(settings::routes())
        .merge(quarterly::routes())
        .merge(ui::routes())
        .merge(openapi::routes())
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
        .merge(features())
        // An unknown address is "not found" like any other: a page for browsers, JSON under /api.
        .fallback(|| async { error::AppError::NotFound })
        // Uploads carry their own, larger limit (set on their routes, so it wins over this one).
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(axum::middleware::from_fn(error::negotiate));
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
    // Work that was running when the server last stopped did not finish: say so to its owner.
    match store
        .interrupt_running_jobs(shouwang_app::jobs::INTERRUPTED)
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::warn!(jobs = n, "jobs interrupted by the last stop marked failed"),
        Err(e) => tracing::error!(error = %e, "interrupted jobs not marked"),
    }
    let secure = secure_cookies.unwrap_or(!addr.ip().is_loopback());
    // A session cookie without Secure travels in clear text: only for a demo on this machine.
    if !secure && !addr.ip().is_loopback() {
        return Err(std::io::Error::other(
            "会话 Cookie 不加 Secure 只允许在本机（回环地址）运行演示；对外服务请通过 HTTPS 代理并使用 --cookie-secure auto 或 always",
        ));
    }
    let app = router(AppState {
        store,
        secure_cookies: secure,
        jobs: Arc::default(),
        exports: Arc::default(),
        printer,
    });
    tracing::info!(%addr, "守望 Shouwang listening");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
