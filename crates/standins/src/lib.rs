//! Local stand-ins for the services dream-api calls, speaking their wire formats, so
//! that everything runs and is tested on one machine with no internet. A development
//! and test tool: it binds loopback addresses only, and keeps its state in memory.
//!
//! - [`clerk`]: Clerk's JWKS, users and metadata endpoints, and a sign-in page that
//!   mints RS256 session tokens.
//! - [`stripe`]: products, prices, hosted checkout and billing portal, subscriptions,
//!   and signed webhook deliveries; and Stripe Connect: connected accounts and
//!   `Stripe-Account` scoping, Account Links onboarding, and Connect OAuth
//!   (`/oauth/authorize`, `/oauth/token`, `/oauth/deauthorize`) on the same port.
//! - [`faults`]: both stand-ins fail on demand (`POST /dev/faults`: the next N requests
//!   matching a method and path prefix answer late, or with a `5xx` in the service's
//!   error shape; `DELETE /dev/faults` clears), so tests can see what the workers do
//!   when Clerk or Stripe fails.
//! - [`receiver`]: a webhook receiver, standing in for a developer's server: records
//!   what dream-api's webhooks deliver and answers scripted statuses.

pub mod clerk;
pub mod faults;
pub mod receiver;
pub mod stripe;

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Where a stand-in keeps its state between runs (`--state DIR`), if anywhere.
#[derive(Clone, Debug, Default)]
pub struct StateFile(Option<PathBuf>);

impl StateFile {
    pub fn new(path: Option<PathBuf>) -> Self {
        Self(path)
    }

    /// The saved state, when there is a file and it reads back.
    pub fn load<T: DeserializeOwned>(&self) -> Option<T> {
        let text = std::fs::read_to_string(self.0.as_ref()?).ok()?;
        match serde_json::from_str(&text) {
            Ok(state) => Some(state),
            Err(e) => {
                eprintln!("ignoring unreadable state in {:?}: {e}", self.0);
                None
            }
        }
    }

    /// Writes the state (whole, through a temporary file, so a crash never leaves half).
    pub fn save<T: Serialize>(&self, state: &T) {
        let Some(path) = &self.0 else { return };
        let tmp = path.with_extension("tmp");
        let written = serde_json::to_vec_pretty(state)
            .map_err(|e| e.to_string())
            .and_then(|bytes| std::fs::write(&tmp, bytes).map_err(|e| e.to_string()))
            .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| e.to_string()));
        if let Err(e) = written {
            eprintln!("saving state to {path:?}: {e}");
        }
    }
}

/// Text made safe to put in HTML, attribute values included.
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A whole HTML page as the stand-ins serve them, all in one layout: in English, with
/// `title`, sized for phones, `body` as its main content, and an empty icon, so that a
/// browser asks for no `/favicon.ico` (which would be a 404 in its console).
pub fn html_page(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"></head>
<body style="font-family: system-ui, sans-serif; max-width: 28rem; margin: 4rem auto; padding: 0 1rem">
<main>
{body}
</main>
</body></html>"#,
        title = html_escape(title),
    )
}

/// Refuses any address but loopback: the stand-ins mint tokens for anyone who asks.
pub fn ensure_loopback(addr: SocketAddr) -> Result<SocketAddr, String> {
    if addr.ip().is_loopback() {
        Ok(addr)
    } else {
        Err(format!("refusing to listen on {addr}: the stand-ins serve loopback addresses only"))
    }
}

/// Binds `addr` (loopback only) and serves `app` until the process ends.
pub async fn serve(addr: SocketAddr, app: axum::Router) -> Result<(), String> {
    let addr = ensure_loopback(addr)?;
    let listener =
        tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("binding {addr}: {e}"))?;
    axum::serve(listener, app).await.map_err(|e| format!("serving {addr}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_has_a_language_a_title_a_viewport_and_an_icon_that_needs_no_request() {
        let page = html_page("Pay <now>", "<h1>Subscribe</h1>");
        assert!(page.starts_with("<!doctype html>"));
        assert!(page.contains(r#"<html lang="en">"#));
        assert!(page.contains("<title>Pay &lt;now&gt;</title>"), "{page}");
        assert!(page
            .contains(r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#));
        assert!(page.contains(r#"<link rel="icon" href="data:,">"#));
        assert!(page.contains("<main>\n<h1>Subscribe</h1>\n</main>"), "{page}");
    }

    #[test]
    fn only_loopback_addresses_are_accepted() {
        assert!(ensure_loopback("127.0.0.1:8791".parse().expect("addr")).is_ok());
        assert!(ensure_loopback("[::1]:8791".parse().expect("addr")).is_ok());
        assert!(ensure_loopback("0.0.0.0:8791".parse().expect("addr")).is_err());
        assert!(ensure_loopback("192.168.1.10:8791".parse().expect("addr")).is_err());
    }
}
