//! The benchmark's two reference points, on the same runtime as the api worker:
//!
//! - `GET /`: the smallest useful workers-rs worker, answering a fixed JSON body. Track's
//!   targets are ratios to it.
//! - `POST /floor`: the least a track can cost under the contract's storage layout
//!   (`API.md`, "Storage layout"): the end-user's meter and the platform's meter, two
//!   Durable Objects, asked at once with the api worker's own client
//!   (`dream_edge::meters`), each adding one to a SQLite row and answering. It has no
//!   keys, tiers, windows or JSON errors, so track/floor is what dream-api's own code
//!   adds on top of that layout.

use dream_edge::meters;
use futures_util::future::join;
use serde::Deserialize;
use std::cell::Cell;
use worker::{
    durable_object, event, wasm_bindgen, Context, DurableObject, Env, Request, Response, Result,
    State,
};

/// End-users the floor spreads its calls over, like bench/track.lua's default.
const USERS: u32 = 100;

thread_local! {
    static NEXT_USER: Cell<u32> = const { Cell::new(0) };
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    if req.path() == "/floor" {
        return floor(&env).await;
    }
    Response::from_json(&serde_json::json!({ "ok": true }))
}

async fn floor(env: &Env) -> Result<Response> {
    let user = NEXT_USER.with(|n| {
        let user = n.get();
        n.set((user + 1) % USERS);
        user
    });
    let user = meters::stub(env, "FLOOR_COUNTER", &format!("user-{user}"))?;
    let platform = meters::stub(env, "FLOOR_COUNTER", "platform")?;
    let (user, platform) = join(add_one(&user), add_one(&platform)).await;
    Response::from_json(&serde_json::json!({ "user": user?, "platform": platform? }))
}

/// One round trip to a counter, with the api worker's own client for its meters.
async fn add_one(counter: &meters::Meter) -> Result<u64> {
    let count: CountRow =
        meters::call(counter, "/add", &serde_json::json!({ "amount": 1 })).await?;
    Ok(count.n)
}

#[derive(Deserialize)]
struct CountRow {
    n: u64,
}

/// A count in one SQLite row, added to atomically: a meter with nothing else.
#[durable_object]
pub struct FloorCounter {
    state: State,
}

impl DurableObject for FloorCounter {
    fn new(state: State, _env: Env) -> Self {
        let created = state.storage().sql().exec(
            "CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)",
            None,
        );
        if let Err(e) = created {
            worker::console_error!("creating the counter table: {e}");
        }
        Self { state }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let _command = req.text().await?;
        let rows: Vec<CountRow> = self
            .state
            .storage()
            .sql()
            .exec(
                "INSERT INTO counter (id, n) VALUES (1, 1) ON CONFLICT(id) DO UPDATE SET n = n + 1 RETURNING n",
                None,
            )?
            .to_array()?;
        let n = rows.first().map_or(0, |r| r.n);
        Response::from_json(&serde_json::json!({ "n": n }))
    }
}
