//! `OAuthStates`, one per platform: the nonces of the Connect OAuth `state`s it issued,
//! each claimable once before it expires. SQLite storage calls are synchronous, so a
//! claim is one step that no other request can interleave with.

use dream_core::command::Command;
use dream_core::protocol::{ClaimNonce, IssueNonce};
use dream_edge::objects::{answer, bad_path, not_by_fetch, parse, Answer};
use serde::Deserialize;
use worker::{durable_object, DurableObject, Env, Request, Response, SqlStorage, State};

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

    async fn fetch(&self, _req: Request) -> worker::Result<Response> {
        not_by_fetch()
    }
}

dream_edge::rpc_object!(OAuthStates);

impl Answer for OAuthStates {
    async fn answer(&self, path: &str, body: &str) -> worker::Result<String> {
        match path {
            IssueNonce::PATH => answer::<IssueNonce>(self.issue(parse(body)?)),
            ClaimNonce::PATH => answer::<ClaimNonce>(self.claim(parse(body)?)),
            other => Err(bad_path(other)),
        }
    }
}

impl OAuthStates {
    fn issue(&self, command: IssueNonce) -> worker::Result<<IssueNonce as Command>::Reply> {
        let sql = self.state.storage().sql();
        forget_expired(&sql, command.now)?;
        sql.exec(
            "INSERT INTO nonces (nonce, expires_at) VALUES (?, ?)",
            vec![command.nonce.into(), command.expires_at.into()],
        )?;
        Ok(true)
    }

    fn claim(&self, command: ClaimNonce) -> worker::Result<<ClaimNonce as Command>::Reply> {
        let sql = self.state.storage().sql();
        forget_expired(&sql, command.now)?;
        let rows: Vec<Row> = sql
            .exec(
                "SELECT COUNT(*) AS n FROM nonces WHERE nonce = ?",
                vec![command.nonce.clone().into()],
            )?
            .to_array()?;
        sql.exec("DELETE FROM nonces WHERE nonce = ?", vec![command.nonce.into()])?;
        Ok(rows.first().is_some_and(|r| r.n > 0))
    }
}

fn forget_expired(sql: &SqlStorage, now: i64) -> worker::Result<()> {
    sql.exec("DELETE FROM nonces WHERE expires_at <= ?", vec![now.into()])?;
    Ok(())
}
