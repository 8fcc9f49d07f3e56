//! `OAuthStates`, one per platform: the nonces of the Connect OAuth `state`s it issued,
//! each claimable once before it expires. SQLite storage calls are synchronous, so a
//! claim is one step that no other request can interleave with.

use serde::{Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, Request, Response, SqlStorage, State};

/// Worker → `OAuthStates`: `/issue` remembers a nonce until `expires_at`; `/claim`
/// answers whether it was issued, unexpired and unclaimed, and forgets it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NonceCommand {
    pub nonce: String,
    pub expires_at: i64,
    pub now: i64,
}

#[durable_object(fetch)]
pub struct OAuthStates {
    state: State,
}

#[derive(Deserialize)]
struct Row {
    n: i64,
}

impl DurableObject for OAuthStates {
    fn new(state: State, _env: Env) -> Self {
        let created = state.storage().sql().exec(
            "CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)",
            None,
        );
        if let Err(e) = created {
            worker::console_error!("OAuthStates storage: {e}");
        }
        Self { state }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let command: NonceCommand = req.json().await?;
        let sql = self.state.storage().sql();
        match req.path().as_str() {
            "/issue" => {
                forget_expired(&sql, command.now)?;
                sql.exec(
                    "INSERT INTO nonces (nonce, expires_at) VALUES (?, ?)",
                    vec![command.nonce.into(), command.expires_at.into()],
                )?;
                Response::from_json(&true)
            }
            "/claim" => {
                forget_expired(&sql, command.now)?;
                let rows: Vec<Row> = sql
                    .exec(
                        "SELECT COUNT(*) AS n FROM nonces WHERE nonce = ?",
                        vec![command.nonce.clone().into()],
                    )?
                    .to_array()?;
                sql.exec("DELETE FROM nonces WHERE nonce = ?", vec![command.nonce.into()])?;
                Response::from_json(&rows.first().is_some_and(|r| r.n > 0))
            }
            other => Response::error(format!("no such command: {other}"), 404),
        }
    }
}

fn forget_expired(sql: &SqlStorage, now: i64) -> worker::Result<()> {
    sql.exec("DELETE FROM nonces WHERE expires_at <= ?", vec![now.into()])?;
    Ok(())
}
