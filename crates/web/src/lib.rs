//! Shouwang's web front end: the Chinese server-rendered UI (askama + htmx) and the JSON API,
//! both calling the same use cases (`shouwang_app`). Build with [`router`] and serve with [`serve`].
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
mod elders;
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
mod uploads;
mod users;
mod visits;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use shouwang_app::App;
use shouwang_exchange::forms::FormPrinter;

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
        .merge(elders::routes())
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
    app.layer(compression()).with_state(state)
}

/// Pages, scripts, styles and JSON go out gzip-compressed to a browser that accepts it: a village
/// phone on a slow connection loads htmx in a fifth of the bytes. Files that are compressed
/// already (workbooks and zips, PDFs with compressed streams, images) go as they are, and so do
/// answers too small to gain. (Compressing pages that hold a CSRF token beside reflected input
/// is what BREACH measures; it needs the victim's cookie on requests the attacker makes, which the
/// session cookie's SameSite=Lax refuses to every cross-site request but a top-level navigation.)
fn compression() -> CompressionLayer<impl Predicate> {
    let predicate = DefaultPredicate::new()
        .and(NotForContentType::const_new("application/pdf"))
        .and(NotForContentType::const_new("application/zip"))
        .and(NotForContentType::const_new(
            "application/vnd.openxmlformats",
        ))
        .and(NotForContentType::const_new("application/octet-stream"));
    CompressionLayer::new().gzip(true).compress_when(predicate)
}

/// How the server takes connections; the defaults are `shouwang serve`'s.
#[derive(Clone)]
pub struct ServeOptions {
    /// `None`: secure unless bound to loopback.
    pub secure_cookies: Option<bool>,
    pub printer: Option<Arc<dyn FormPrinter>>,
    /// Proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`); none by default.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Connections held at once; past it new ones wait in the kernel's queue, holding no file.
    pub max_connections: usize,
    /// Connections one address may hold at once (a named proxy: any number); more are closed as
    /// they come, so one address cannot take every turn.
    pub max_per_address: usize,
    /// Time a connection has to send a request's headers (and an idle kept-alive connection to
    /// send the next); past it the connection is closed.
    pub header_timeout: std::time::Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            secure_cookies: None,
            printer: None,
            trusted_proxies: Vec::new(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_per_address: DEFAULT_MAX_PER_ADDRESS,
            header_timeout: std::time::Duration::from_secs(DEFAULT_HEADER_TIMEOUT_SECS),
        }
    }
}

/// Below the common limit of 1,024 open files, with room for the database, its journal, uploads
/// being spooled, fonts and the mail program.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// A browser opens at most six connections to a site; 64 is an office of ten people behind one
/// address, all working at once.
pub const DEFAULT_MAX_PER_ADDRESS: usize = 64;
pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 15;
/// The time for headers when the server is pressed (see `accept_loop`).
const PRESSED_HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Serves until Ctrl-C. `secure_cookies: None` means: secure unless bound to loopback.
pub async fn serve(
    app: App,
    bind: SocketAddr,
    secure_cookies: Option<bool>,
    printer: Option<Arc<dyn FormPrinter>>,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    serve_with(app, listener, secure_cookies, printer).await
}

pub async fn serve_on(
    app: App,
    listener: tokio::net::TcpListener,
    secure_cookies: Option<bool>,
) -> std::io::Result<()> {
    serve_with(app, listener, secure_cookies, None).await
}

/// Serves with a PDF printer for the printed forms.
pub async fn serve_with(
    app: App,
    listener: tokio::net::TcpListener,
    secure_cookies: Option<bool>,
    printer: Option<Arc<dyn FormPrinter>>,
) -> std::io::Result<()> {
    serve_with_options(
        app,
        listener,
        ServeOptions {
            secure_cookies,
            printer,
            ..ServeOptions::default()
        },
    )
    .await
}

/// Serves with every option.
pub async fn serve_with_options(
    app: App,
    listener: tokio::net::TcpListener,
    options: ServeOptions,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    // Work that was running when the server last stopped did not finish: say so to its owner.
    match shouwang_app::jobs::interrupt_running(&app).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(jobs = n, "jobs interrupted by the last stop marked failed"),
        Err(e) => tracing::error!(error = %e, "interrupted jobs not marked"),
    }
    let secure = options.secure_cookies.unwrap_or(!addr.ip().is_loopback());
    // A session cookie without Secure travels in clear text: only for a demo on this machine.
    if !secure && !addr.ip().is_loopback() {
        return Err(std::io::Error::other(
            "会话 Cookie 不加 Secure 只允许在本机（回环地址）运行演示；对外服务请通过 HTTPS 代理并使用 --cookie-secure auto 或 always",
        ));
    }
    let router = router(AppState {
        app,
        secure_cookies: secure,
        jobs: Arc::default(),
        exports: Arc::default(),
        uploads: Arc::new(state::Uploading::new()),
        printer: options.printer.clone(),
    });
    tracing::info!(%addr, "守望 Shouwang listening");
    accept_loop(listener, router, &options, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    Ok(())
}

/// Takes connections and serves HTTP/1.1 on each (issue 24: ~1,000 clients sending half a
/// request held their sockets for ever and the server ran out of files):
/// - a connection is taken only when one of `max_connections` turns is free; until then new
///   ones wait in the kernel's queue, holding no file of ours; one address holds at most
///   `max_per_address` (more are closed at once: one attacker cannot take every turn and make
///   everyone else wait behind the header time limit);
/// - its headers must arrive within `header_timeout` (hyper's timer, also for the idle time
///   between kept-alive requests) — two seconds when less than a quarter of the turns are free;
///   a body's time is the router's request time limit;
/// - an accept error (EMFILE: out of files) is logged and retried a moment later, never the end.
///
/// At shutdown it stops taking connections and lets those open finish (30 s at most).
async fn accept_loop(
    listener: tokio::net::TcpListener,
    app: Router,
    options: &ServeOptions,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use tower::Service as _;
    let turns = Arc::new(tokio::sync::Semaphore::new(options.max_connections.max(1)));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(options.header_timeout);
    // Under pressure (less than a quarter of the turns free), a new connection has two seconds
    // for its headers: a browser sends them at once, even on a village's weak signal, and slow
    // clients from many addresses then free their turns every two seconds, not every fifteen.
    let mut pressed = http.clone();
    pressed.header_read_timeout(options.header_timeout.min(PRESSED_HEADER_TIMEOUT));
    let pressure_at = options.max_connections.max(1) / 4;
    let trusted = extract::TrustedProxies(options.trusted_proxies.clone().into());
    let per_address: Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>> =
        Arc::default();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let turn = tokio::select! {
            t = turns.clone().acquire_owned() => match t {
                Ok(t) => t,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) if matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionRefused
                        | std::io::ErrorKind::ConnectionAborted
                        | std::io::ErrorKind::ConnectionReset
                ) => continue,
                Err(e) => {
                    tracing::error!(error = %e, "accept error; retrying in a second");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let peer = remote.ip().to_canonical();
        let address_turn = if trusted.0.contains(&peer) {
            None
        } else {
            let mut held = per_address.lock().unwrap_or_else(|e| e.into_inner());
            let n = held.entry(peer).or_default();
            if *n >= options.max_per_address.max(1) {
                // Closed as it comes: the turn goes back at once.
                drop(stream);
                continue;
            }
            *n += 1;
            Some(AddressTurn {
                of: per_address.clone(),
                peer,
            })
        };
        let _ = stream.set_nodelay(true);
        let http = if turns.available_permits() < pressure_at {
            pressed.clone()
        } else {
            http.clone()
        };
        let (app, trusted) = (app.clone(), trusted.clone());
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _turn = (turn, address_turn);
            let service = hyper::service::service_fn(
                move |mut req: axum::http::Request<hyper::body::Incoming>| {
                    req.extensions_mut()
                        .insert(axum::extract::ConnectInfo(remote));
                    req.extensions_mut().insert(trusted.clone());
                    app.clone().call(req.map(axum::body::Body::new))
                },
            );
            let conn = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = stop.changed() => {}
            }
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(std::time::Duration::from_secs(30), conn).await;
        });
    }
    drop(listener);
    let _ = stop_tx.send(());
    // Wait for the connections to finish: every turn back.
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(31),
        turns.acquire_many(options.max_connections.max(1) as u32),
    )
    .await;
}

/// One connection's count against its address, given back when the connection ends.
struct AddressTurn {
    of: Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>>,
    peer: std::net::IpAddr,
}

impl Drop for AddressTurn {
    fn drop(&mut self) {
        let mut held = self.of.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = held.get_mut(&self.peer) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.peer);
            }
        }
    }
}
