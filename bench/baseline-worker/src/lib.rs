//! The benchmark's two reference points, on the same runtime as the api worker:
//!
//! - `GET /`: the smallest useful workers-rs worker, answering a fixed JSON body. Track's
//!   targets are ratios to it.
//! - `POST /floor`: the least a track can cost under the contract's storage layout
//!   (`API.md`, "One writer per piece of platform state"): one Durable Object per
//!   platform, asked once with the api worker's own client (`dream_edge::objects`),
//!   adding one to a SQLite row of the end-user and answering. It has no keys, tiers,
//!   windows or JSON errors, so track/floor is what dream-api's own code adds on top of
//!   that layout.

use dream_core::command::Command;
use dream_edge::objects;
use serde::{Deserialize, Serialize};
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
    if req.inner().url().ends_with("/floor") {
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
    let platform = objects::stub(env, "FLOOR_COUNTER", "platform")?;
    let count = objects::send(&platform, &AddOne { user }).await?;
    Response::from_json(&serde_json::json!({ "user": user, "count": count.n }))
}

/// The floor's one command: add one to an end-user's row.
#[derive(Serialize, Deserialize)]
struct AddOne {
    user: u32,
}

impl Command for AddOne {
    const PATH: &'static str = "/add";
    type Reply = CountRow;
}

#[derive(Serialize, Deserialize)]
struct CountRow {
    n: u64,
}

/// A count per end-user in one SQLite table, added to atomically: a platform's object
/// with nothing else.
#[durable_object]
pub struct FloorCounter {
    state: State,
}

impl DurableObject for FloorCounter {
    fn new(state: State, _env: Env) -> Self {
        let created = state.storage().sql().exec(
            "CREATE TABLE IF NOT EXISTS counter (user INTEGER PRIMARY KEY, n INTEGER NOT NULL)",
            None,
        );
        if let Err(e) = created {
            worker::console_error!("creating the counter table: {e}");
        }
        Self { state }
    }

    async fn fetch(&self, _req: Request) -> Result<Response> {
        objects::not_by_fetch()
    }
}

dream_edge::rpc_object!(FloorCounter);

impl objects::Answer for FloorCounter {
    async fn answer(&self, _path: &str, body: &str) -> Result<String> {
        let command: AddOne = objects::parse(body)?;
        let rows: Vec<CountRow> = self
            .state
            .storage()
            .sql()
            .exec(
                "INSERT INTO counter (user, n) VALUES (?, 1) ON CONFLICT(user) DO UPDATE SET n = n + 1 RETURNING n",
                vec![i64::from(command.user).into()],
            )?
            .to_array()?;
        let n = rows.first().map_or(0, |r| r.n);
        objects::answer::<AddOne>(Ok(CountRow { n }))
    }
}
