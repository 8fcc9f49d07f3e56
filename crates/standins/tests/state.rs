//! `--state DIR`: the stand-ins come back after a restart as they were.

use serde_json::{json, Value};
use std::process::{Child, Command};
use std::time::Duration;

const CLERK: &str = "http://127.0.0.1:18881";
const STRIPE: &str = "http://127.0.0.1:18882";
const SECRET: &str = "sk_test_dream_standin";

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start(dir: &std::path::Path) -> Running {
    let child = Command::new(env!("CARGO_BIN_EXE_dream-standins"))
        .args(["--clerk", "127.0.0.1:18881", "--stripe", "127.0.0.1:18882", "--state"])
        .arg(dir)
        .env_remove("CLERK_SECRET_KEY")
        .env_remove("STRIPE_SECRET_KEY")
        .spawn()
        .expect("starts");
    let running = Running(child);
    for _ in 0..200 {
        if reqwest::get(format!("{CLERK}/sign-in")).await.is_ok() {
            return running;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the stand-ins did not start");
}

async fn jwks(http: &reqwest::Client) -> Value {
    http.get(format!("{CLERK}/v1/jwks"))
        .bearer_auth(SECRET)
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test]
async fn users_keys_and_stripe_objects_survive_a_restart() {
    let dir = std::env::temp_dir().join(format!("dream-standins-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let http = reqwest::Client::new();

    let (user_id, keys, product_id) = {
        let _running = start(&dir).await;
        let user: Value = http
            .post(format!("{CLERK}/v1/users"))
            .bearer_auth(SECRET)
            .json(&json!({"email_address": ["kept@example.com"]}))
            .send()
            .await
            .expect("user")
            .json()
            .await
            .expect("JSON");
        let product: Value = http
            .post(format!("{STRIPE}/v1/products"))
            .bearer_auth(SECRET)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("name=Kept")
            .send()
            .await
            .expect("product")
            .json()
            .await
            .expect("JSON");
        (
            user["id"].as_str().expect("id").to_string(),
            jwks(&http).await,
            product["id"].as_str().expect("id").to_string(),
        )
    };

    let _running = start(&dir).await;
    let user: Value = http
        .get(format!("{CLERK}/v1/users/{user_id}"))
        .bearer_auth(SECRET)
        .send()
        .await
        .expect("user")
        .json()
        .await
        .expect("JSON");
    assert_eq!(user["email_addresses"][0]["email_address"], "kept@example.com");
    assert_eq!(jwks(&http).await, keys, "the same signing keys");
    let product = http
        .get(format!("{STRIPE}/v1/products/{product_id}"))
        .bearer_auth(SECRET)
        .send()
        .await
        .expect("product");
    assert_eq!(product.status(), 200);
    let _ = std::fs::remove_dir_all(&dir);
}
