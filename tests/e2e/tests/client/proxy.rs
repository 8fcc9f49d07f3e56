//! Misbehaving servers on 127.0.0.1, between the client and the api worker: a proxy
//! that drops connections or answers 503 on a script, and a server that never answers.
//! Each stops when dropped.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What the proxy does with one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Reads the request, then closes the connection without an answer.
    Drop,
    /// Forwards the request, waits for the api worker's answer to begin (so the call was
    /// decided), and answers `503` with `Retry-After: 1` instead.
    ForwardThen503,
    /// Passes bytes both ways untouched (every connection after the script).
    Forward,
}

/// A listener on 127.0.0.1 counting the connections it accepted; stopped on drop.
pub struct Server {
    pub addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Server {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Serves each accepted connection with `serve(n, socket)`, `n` counting from 0.
    async fn start<F, Fut>(serve: F) -> Self
    where
        F: Fn(usize, TcpStream) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let addr = listener.local_addr().expect("an address");
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let n = counted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(n, socket));
            }
        });
        Self { addr, connections, task }
    }

    /// A proxy to `upstream` (an `http://host:port` URL) following `script`, one step per
    /// connection.
    pub async fn flaky_proxy(upstream: &str, script: Vec<Step>) -> Self {
        let upstream: SocketAddr =
            upstream.trim_start_matches("http://").parse().expect("a host:port upstream");
        Self::start(move |n, socket| {
            let step = script.get(n).copied().unwrap_or(Step::Forward);
            relay(step, socket, upstream)
        })
        .await
    }

    /// A server that reads requests and never answers, holding each connection open.
    pub async fn silent() -> Self {
        Self::start(|_, mut socket| async move {
            let mut buf = [0u8; 4096];
            while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {}
        })
        .await
    }

    /// An address on which nothing listens (bound, then released).
    pub async fn closed_url() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let addr = listener.local_addr().expect("an address");
        drop(listener);
        format!("http://{addr}")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(step: Step, mut client: TcpStream, upstream: SocketAddr) {
    match step {
        Step::Drop => {
            let _ = read_request(&mut client).await;
        }
        Step::ForwardThen503 => {
            let request = read_request(&mut client).await;
            let mut api = TcpStream::connect(upstream).await.expect("the api worker");
            api.write_all(&request).await.expect("forwarded");
            read_until_head_ends(&mut api).await;
            let body = r#"{"error":{"code":"internal","message":"The proxy failed."}}"#;
            let answer = format!(
                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\
                 Retry-After: 1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            let _ = client.write_all(answer.as_bytes()).await;
            let _ = client.shutdown().await;
        }
        Step::Forward => {
            let mut api = TcpStream::connect(upstream).await.expect("the api worker");
            let _ = tokio::io::copy_bidirectional(&mut client, &mut api).await;
        }
    }
}

/// One whole HTTP/1.1 request: its head and `Content-Length` bytes of body.
async fn read_request(socket: &mut TcpStream) -> Vec<u8> {
    let mut request = read_until_head_ends(socket).await;
    let head_len = head_end(&request).unwrap_or(request.len());
    let head = String::from_utf8_lossy(&request[..head_len]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut buf = [0u8; 4096];
    while request.len() < head_len + length {
        match socket.read(&mut buf).await {
            Ok(n) if n > 0 => request.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    request
}

/// Bytes read until the blank line that ends a request's or an answer's head.
async fn read_until_head_ends(socket: &mut TcpStream) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    while head_end(&bytes).is_none() {
        match socket.read(&mut buf).await {
            Ok(n) if n > 0 => bytes.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    bytes
}

fn head_end(bytes: &[u8]) -> Option<usize> {
    bytes.windows(4).position(|w| w == b"\r\n\r\n").map(|at| at + 4)
}
