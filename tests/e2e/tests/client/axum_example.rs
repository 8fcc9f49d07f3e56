//! The axum example (`examples/axum`), built and started as its own process on
//! 127.0.0.1 against the stack, stopped by its PID.

use dream_e2e::{base_url, Platform, Quotas};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Builds the example from the lockfile, offline, and returns its executable.
async fn build_example() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["build", "-p", "dream-api-example-axum", "--offline", "--locked"])
        .arg("--message-format=json")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::inherit())
        .output()
        .await
        .expect("cargo runs");
    assert!(output.status.success(), "the example did not build");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| message["target"]["name"] == "dream-api-example-axum")
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .expect("the example's executable")
}

/// The running example and the address it printed.
struct Example {
    child: Child,
    url: String,
}

impl Example {
    async fn start(key: &str, api: &str) -> Self {
        let mut child = Command::new(build_example().await)
            .env("DREAM_API_KEY", key)
            .env("DREAM_API_URL", api)
            .env("BIND", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the example starts");
        let stdout = child.stdout.take().expect("its stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await;
        let line = first.expect("it listens within 30 s").expect("a line").expect("not closed");
        let url = line.strip_prefix("listening on ").expect("its address").to_string();
        Self { child, url }
    }

    async fn quote(&self, user: &str) -> (u16, Value) {
        let answer = reqwest::Client::new()
            .get(format!("{}/quote", self.url))
            .header("X-User-Id", user)
            .send()
            .await
            .expect("the example answers");
        (answer.status().as_u16(), answer.json().await.expect("JSON"))
    }

    /// Stops the process by its PID and waits for it.
    async fn stop(mut self) {
        let pid = self.child.id().expect("still running");
        let status = Command::new("kill").arg(pid.to_string()).status().await.expect("kill");
        assert!(status.success());
        let exit = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
        assert!(exit.is_ok(), "the example stopped");
    }
}

#[tokio::test]
async fn the_axum_example_meters_its_route_in_dream_api_and_refuses_at_the_tier_limit() {
    let platform = Platform::with_free_limit(Quotas::Raised, 2).await;
    let example = Example::start(&platform.key, &base_url(Quotas::Raised)).await;

    for remaining in [1, 0] {
        let (status, body) = example.quote("reader").await;
        assert_eq!(status, 200, "{body}");
        assert!(body["quote"].as_str().is_some_and(|q| !q.is_empty()), "{body}");
        assert_eq!(body["remaining"], remaining);
    }
    assert_eq!(platform.count("reader").await, 2, "each quote was counted in dream-api");

    let (status, body) = example.quote("reader").await;
    assert_eq!((status, &body["error"]), (402, &Value::from("tier_limit_reached")), "{body}");
    assert_eq!(platform.count("reader").await, 2, "the refusal counted nothing");
    let (status, _) = example.quote("another-reader").await;
    assert_eq!(status, 200, "the limit is per end-user");
    example.stop().await;
}
