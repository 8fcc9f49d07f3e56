//! Limits that protect the workers themselves, measured from outside. A test binary of
//! its own: the JWKS count is read from the Clerk stand-in, which every worker asks, so
//! nothing else may run beside it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use dream_e2e::{all_at_once, count_status, Call, Platform, Quotas};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// A session token whose header names a key Clerk never published.
fn forged_token(kid: &str) -> String {
    let header =
        URL_SAFE_NO_PAD.encode(json!({ "alg": "RS256", "kid": kid, "typ": "JWT" }).to_string());
    let claims = URL_SAFE_NO_PAD.encode(
        json!({ "sub": "user_forged", "exp": dream_e2e::now_seconds() + 60, "iat": dream_e2e::now_seconds() })
            .to_string(),
    );
    format!("{header}.{claims}.{}", URL_SAFE_NO_PAD.encode([7u8; 256]))
}

async fn jwks_requests() -> u64 {
    let base = std::env::var("DREAM_CLERK_URL").expect("set by scripts/test.sh");
    let answer: Value = reqwest::get(format!("{base}/dev/jwks-requests"))
        .await
        .expect("the Clerk stand-in answers")
        .json()
        .await
        .expect("JSON");
    answer["count"].as_u64().expect("count")
}

#[tokio::test]
async fn fifty_requests_with_forged_key_ids_fetch_the_jwks_at_most_once() {
    // One token with a real key first, so the worker holds the JWKS (that fetch is not
    // what is measured).
    let platform = Platform::register(Quotas::Raised).await;
    let clerk = dream_e2e::ClerkStandIn::from_env();
    let me = clerk.end_user_of(&platform.id).await;
    let usage = Call::new(Quotas::Raised, Method::GET, &format!("/v1/usage/{}", me.user_id))
        .key(&me.token)
        .send()
        .await;
    assert_eq!(usage.status, 200, "{}", usage.body);

    let before = jwks_requests().await;
    let answers = all_at_once(50, |i| {
        Call::new(Quotas::Raised, Method::GET, "/v1/usage/user_forged")
            .key(&forged_token(&format!("forged-{i}")))
            .send()
    })
    .await;
    assert_eq!(
        count_status(&answers, 401),
        50,
        "{:?}",
        answers.iter().map(|a| &a.body).collect::<Vec<_>>()
    );
    let fetched = jwks_requests().await - before;
    assert!(fetched <= 1, "{fetched} JWKS requests for 50 unknown key ids");
}

/// Sends up to `total` bytes in 16 KiB chunks with no `Content-Length` (chunked
/// transfer encoding), over a plain socket so that the answer is read as soon as it
/// comes, and stops sending then. Returns the answer's head (the status line and the
/// headers, so that a failure shows who answered) and how many body bytes had been
/// handed to the socket by the time the answer came, or, if the connection ended with no
/// status line, how it ended.
async fn chunked(path: &str, total: usize) -> Result<(String, usize), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const CHUNK: usize = 16 * 1024;
    let platform = Platform::register(Quotas::Raised).await;
    let base = std::env::var("DREAM_API_RAISED_URL").expect("set by scripts/test.sh");
    let host = base.trim_start_matches("http://").to_string();
    let stream = tokio::net::TcpStream::connect(&host).await.expect("the worker listens");
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        platform.key
    );
    writer.write_all(head.as_bytes()).await.expect("the head is sent");
    let answered = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = answered.clone();
    let read = tokio::spawn(async move {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        let mut ended = String::from("the connection closed");
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            match reader.read(&mut buf).await {
                Ok(0) => break,
                Err(e) => {
                    ended = format!("the connection failed: {e}");
                    break;
                }
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        flag.store(true, Ordering::SeqCst);
        let head =
            String::from_utf8_lossy(&got).split("\r\n\r\n").next().unwrap_or_default().to_string();
        if head.is_empty() {
            Err(ended)
        } else {
            Ok(head)
        }
    });
    let mut sent = 0;
    let chunk = format!("{CHUNK:x}\r\n{}\r\n", " ".repeat(CHUNK));
    while sent < total && !answered.load(Ordering::SeqCst) {
        if writer.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
        sent += CHUNK;
        // 1.6 MB/s: the refusal has 600 ms to arrive before 1 MiB is out, while a
        // worker reading all 32 MiB first would take 20 s.
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let status = tokio::time::timeout(std::time::Duration::from_secs(30), read)
        .await
        .expect("an answer within 30 s")
        .expect("the reader finished")?;
    Ok((status, sent))
}

/// The worker's answer's head and the bytes sent before it, over up to three
/// connections. A server that answers before reading the whole body and then closes the
/// connection may reset it, and a reset can overtake its answer on the way to the reader
/// (RFC 9112, 9.6). Under `wrangler dev` the same race can also end in the dev server's
/// own proxy failing the request ("Error inside ProxyWorker … Network connection lost"
/// in the worker's log) with a bare `500` that the worker never sent: every answer of the
/// worker's carries `X-Request-Id`. A connection that ends with no status line, or with
/// the proxy's `500`, is tried again, and said if it was.
async fn refused_early(path: &str) -> (String, usize) {
    let mut endings = Vec::new();
    for _ in 0..3 {
        let ended = match chunked(path, 32 << 20).await {
            Ok((head, _)) if is_dev_proxy_failure(&head) => {
                format!("the dev server's proxy answered: {}", head.replace("\r\n", " | "))
            }
            Ok(answer) => return answer,
            Err(ended) => format!("no status line ({ended})"),
        };
        eprintln!("{path}: {ended}; trying again");
        endings.push(ended);
    }
    panic!("no answer of the worker's on three connections: {endings:?}");
}

/// A `500` without the `X-Request-Id` that every answer of the worker's has.
fn is_dev_proxy_failure(head: &str) -> bool {
    let mut lines = head.lines();
    let status_500 = lines.next().is_some_and(|line| line.contains(" 500 "));
    status_500 && !lines.any(|line| line.to_ascii_lowercase().starts_with("x-request-id:"))
}

#[tokio::test]
async fn a_chunked_32_mib_track_is_refused_before_one_mib_has_been_sent() {
    let (head, sent) = refused_early("/v1/usage/track").await;
    assert!(head.lines().next().is_some_and(|line| line.contains(" 413 ")), "{head}");
    assert!(sent < 1 << 20, "{sent} bytes were sent before the refusal");
}

#[tokio::test]
async fn a_chunked_32_mib_stripe_event_is_refused_before_one_mib_has_been_sent() {
    let (head, sent) = refused_early("/webhooks/stripe").await;
    assert!(head.lines().next().is_some_and(|line| line.contains(" 413 ")), "{head}");
    assert!(sent < 1 << 20, "{sent} bytes were sent before the refusal");
}
