//! Local stand-ins for the services dream-api calls, speaking their wire formats, so
//! that everything runs and is tested on one machine with no internet. A development
//! and test tool: it binds loopback addresses only, and keeps its state in memory.
//!
//! - [`clerk`]: Clerk's JWKS, users and metadata endpoints, and a sign-in page that
//!   mints RS256 session tokens.
//! - [`stripe`]: products, prices, hosted checkout and billing portal, subscriptions,
//!   and signed webhook deliveries.

pub mod clerk;
pub mod stripe;

use std::net::SocketAddr;

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
    fn only_loopback_addresses_are_accepted() {
        assert!(ensure_loopback("127.0.0.1:8791".parse().expect("addr")).is_ok());
        assert!(ensure_loopback("[::1]:8791".parse().expect("addr")).is_ok());
        assert!(ensure_loopback("0.0.0.0:8791".parse().expect("addr")).is_err());
        assert!(ensure_loopback("192.168.1.10:8791".parse().expect("addr")).is_err());
    }
}
