//! What the Stripe stand-in's tests share: a stand-in on a spare port, a webhook
//! receiver that checks every signature with dream-core's verifier, and calls made as
//! the platform or a connected account.

// Each test file uses its own part of this.
#![allow(dead_code)]

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use dream_core::stripe::{verify, WebhookSecret};
use dream_core::stripe_form;
use dream_standins::stripe::{Delivery, Stripe, DEV_CLIENT_ID, DEV_SECRET_KEY, DEV_WEBHOOK_SECRET};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Events received, in arrival order; the first `fail_first` deliveries get a 500.
#[derive(Clone, Default)]
pub struct Receiver {
    pub events: Arc<Mutex<Vec<Value>>>,
    pub fail_first: Arc<Mutex<usize>>,
}

pub async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    {
        let mut fail = r.fail_first.lock().expect("lock");
        if *fail > 0 {
            *fail -= 1;
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
    }
    let signature = headers["stripe-signature"].to_str().expect("ascii");
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs()
            as i64;
    if verify(&WebhookSecret::new(DEV_WEBHOOK_SECRET), signature, &body, now).is_err() {
        return StatusCode::BAD_REQUEST;
    }
    r.events.lock().expect("lock").push(serde_json::from_slice(&body).expect("JSON event"));
    StatusCode::OK
}

pub struct Setup {
    pub base: String,
    pub http: reqwest::Client,
    pub received: Receiver,
}

pub async fn listen(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

impl Setup {
    pub async fn start(delivery: Delivery, fail_first: usize) -> Self {
        let received =
            Receiver { fail_first: Arc::new(Mutex::new(fail_first)), ..Receiver::default() };
        let hook =
            listen(axum::Router::new().route("/hook", post(receive)).with_state(received.clone()))
                .await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let stripe = Stripe::new(
            DEV_SECRET_KEY.into(),
            DEV_WEBHOOK_SECRET.into(),
            vec![format!("{hook}/hook")],
            base.clone(),
            delivery,
        );
        let app = stripe.router();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self { base, http, received }
    }

    pub async fn post(
        &self,
        path: &str,
        params: Value,
        idempotency_key: Option<&str>,
    ) -> (StatusCode, Value, HeaderMap) {
        self.post_as(None, path, params, idempotency_key).await
    }

    /// A `/v1` POST as the platform (`None`) or with `Stripe-Account: account`.
    pub async fn post_as(
        &self,
        account: Option<&str>,
        path: &str,
        params: Value,
        idempotency_key: Option<&str>,
    ) -> (StatusCode, Value, HeaderMap) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(DEV_SECRET_KEY)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(stripe_form::encode(&params));
        if let Some(key) = idempotency_key {
            req = req.header("Idempotency-Key", key);
        }
        if let Some(account) = account {
            req = req.header("Stripe-Account", account);
        }
        let resp = req.send().await.expect("answer");
        let (status, headers) = (resp.status(), resp.headers().clone());
        (status, resp.json().await.expect("JSON"), headers)
    }

    /// A `/v1` GET as the platform (`None`) or with `Stripe-Account: account`.
    pub async fn get_as(&self, account: Option<&str>, path: &str) -> (StatusCode, Value) {
        let mut req = self.http.get(format!("{}{path}", self.base)).bearer_auth(DEV_SECRET_KEY);
        if let Some(account) = account {
            req = req.header("Stripe-Account", account);
        }
        let resp = req.send().await.expect("answer");
        (resp.status(), resp.json().await.expect("JSON"))
    }

    pub async fn price(&self, cents: u32) -> String {
        self.price_as(None, cents).await
    }

    pub async fn price_as(&self, account: Option<&str>, cents: u32) -> String {
        let (_, product, _) =
            self.post_as(account, "/v1/products", json!({"name": "Pro"}), None).await;
        let (status, price, _) = self
            .post_as(
                account,
                "/v1/prices",
                json!({"product": product["id"], "unit_amount": cents, "currency": "usd", "recurring": {"interval": "month"}}),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{price}");
        price["id"].as_str().expect("id").to_string()
    }

    pub async fn checkout(&self, price: &str) -> Value {
        self.checkout_as(None, price).await
    }

    pub async fn checkout_as(&self, account: Option<&str>, price: &str) -> Value {
        let (status, session, _) = self
            .post_as(
                account,
                "/v1/checkout/sessions",
                json!({
                    "mode": "subscription",
                    "line_items": [{"price": price, "quantity": 1}],
                    "success_url": "http://127.0.0.1:8790/done?session={CHECKOUT_SESSION_ID}",
                    "cancel_url": "http://127.0.0.1:8790/cancelled",
                    "client_reference_id": "user_1",
                    "subscription_data": {"metadata": {"reference": "user_1"}},
                }),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{session}");
        session
    }

    pub async fn pay(&self, session: &Value) -> String {
        let url = session["url"].as_str().expect("url");
        let page = self.http.get(url).send().await.expect("page").text().await.expect("html");
        assert!(page.contains("Pay") && page.contains("$9.00"), "{page}");
        let resp = self.http.post(url).send().await.expect("pay");
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        resp.headers()["location"].to_str().expect("ascii").to_string()
    }

    pub async fn wait_for_events(&self, n: usize) -> Vec<Value> {
        for _ in 0..100 {
            let events = self.received.events.lock().expect("lock").clone();
            if events.len() >= n {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} events, got {:?}", self.received.events.lock().expect("lock"));
    }
}

pub fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().expect("type")).collect()
}
pub const REDIRECT: &str = "http://127.0.0.1:8790/connect/callback";

impl Setup {
    /// A new connected account, made by the platform through `POST /v1/accounts`.
    pub async fn connected_account(&self) -> String {
        let (status, account, _) = self
            .post(
                "/v1/accounts",
                json!({"email": "dev@example.com", "metadata": {"platformId": "plt_1"}}),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{account}");
        account["id"].as_str().expect("id").to_string()
    }

    /// A form POST to a Connect endpoint, with `bearer` in `Authorization` if given.
    pub async fn connect_post(
        &self,
        path: &str,
        form: Value,
        bearer: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(stripe_form::encode(&form));
        if let Some(key) = bearer {
            req = req.bearer_auth(key);
        }
        req.send().await.expect("answer")
    }

    /// The authorization request's parameters, as a platform would send them.
    pub fn authorize_params(state: &str) -> Value {
        json!({
            "response_type": "code",
            "client_id": DEV_CLIENT_ID,
            "scope": "read_write",
            "state": state,
            "redirect_uri": REDIRECT,
        })
    }

    /// Opens the approval page, then answers it with `decision`: where it redirects.
    pub async fn authorize(&self, state: &str, decision: &str) -> reqwest::Url {
        let page = self
            .http
            .get(format!("{}/oauth/authorize", self.base))
            .query(&Self::authorize_params(state))
            .send()
            .await
            .expect("page");
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.expect("html");
        assert!(html.contains(DEV_CLIENT_ID), "the page names the client: {html}");
        assert!(html.contains(r#"action="/oauth/authorize""#), "{html}");
        assert!(html.contains(r#"name="decision" value="approve""#), "{html}");
        assert!(html.contains(r#"name="decision" value="deny""#), "{html}");
        assert!(html.contains(&format!(r#"name="state" value="{state}""#)), "{html}");
        let mut form = Self::authorize_params(state);
        form["decision"] = json!(decision);
        let resp = self.connect_post("/oauth/authorize", form, None).await;
        assert_eq!(resp.status(), StatusCode::FOUND);
        reqwest::Url::parse(resp.headers()["location"].to_str().expect("ascii")).expect("a URL")
    }

    /// Approves, exchanges the code: the token answer.
    pub async fn oauth_connect(&self) -> Value {
        let callback = self.authorize("st_1", "approve").await;
        let code = query(&callback, "code").expect("a code");
        let resp = self
            .connect_post(
                "/oauth/token",
                json!({"grant_type": "authorization_code", "code": code}),
                Some(DEV_SECRET_KEY),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.expect("JSON")
    }

    pub async fn dev_connect(&self) -> Value {
        self.http
            .get(format!("{}/dev/connect", self.base))
            .send()
            .await
            .expect("answer")
            .json()
            .await
            .expect("JSON")
    }
}

pub fn query(url: &reqwest::Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

impl Setup {
    /// Presses "Cancel" for `subscription` on a billing portal page: where it leads.
    pub async fn cancel_in_portal(&self, portal: &Value, subscription: &str) -> String {
        let resp = self
            .http
            .post(format!("{}/cancel/{subscription}", portal["url"].as_str().expect("url")))
            .send()
            .await
            .expect("cancel");
        resp.headers()["location"].to_str().expect("ascii").to_string()
    }
}
