//! `Developer`, one per Clerk user: the only writer of the developer → platform claim.
//! A claim is taken in one synchronous step before the platform is created, so any
//! number of simultaneous `POST /v1/credentials` create exactly one platform.

use dream_core::command::{Auth, Command};
use dream_core::error::Refusal;
use dream_core::ids::PlatformId;
use dream_core::protocol::{Claim, ClaimPlatform, CreatePlatform, OwnedPlatform};
use dream_edge::objects;
use dream_edge::objects::{answer, bad_path, not_by_fetch, parse, Answer};
use dream_edge::store::Store;
use serde::Deserialize;
use std::cell::RefCell;
use worker::{durable_object, DurableObject, Env, Request, Response, SqlStorage, State};

#[durable_object(fetch)]
pub struct Developer {
    state: State,
    env: Env,
    /// The claim as loaded (`Some(None)`: looked, none).
    claimed: RefCell<Option<Option<PlatformId>>>,
}

#[derive(Deserialize)]
struct ClaimRow {
    platform_id: String,
}

impl DurableObject for Developer {
    fn new(state: State, env: Env) -> Self {
        let created = state.storage().sql().exec(
            "CREATE TABLE IF NOT EXISTS claim (id INTEGER PRIMARY KEY CHECK (id = 1), platform_id TEXT NOT NULL)",
            None,
        );
        if let Err(e) = created {
            worker::console_error!("Developer storage: {e}");
        }
        Self { state, env, claimed: RefCell::new(None) }
    }

    async fn fetch(&self, _req: Request) -> worker::Result<Response> {
        not_by_fetch()
    }
}

dream_edge::rpc_object!(Developer);

impl Answer for Developer {
    async fn answer(&self, path: &str, body: &str) -> worker::Result<String> {
        match path {
            ClaimPlatform::PATH => answer::<ClaimPlatform>(self.claim(parse(body)?).await),
            OwnedPlatform::PATH => answer::<OwnedPlatform>(self.owned()),
            other => Err(bad_path(other)),
        }
    }
}

impl Developer {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    fn owned(&self) -> worker::Result<Option<PlatformId>> {
        if let Some(claimed) = self.claimed.borrow().as_ref() {
            return Ok(claimed.clone());
        }
        let rows: Vec<ClaimRow> =
            self.sql().exec("SELECT platform_id FROM claim WHERE id = 1", None)?.to_array()?;
        let claimed = rows.first().and_then(|r| PlatformId::parse(&r.platform_id).ok());
        *self.claimed.borrow_mut() = Some(claimed.clone());
        Ok(claimed)
    }

    fn set_claim(&self, platform: Option<&PlatformId>) -> worker::Result<()> {
        match platform {
            Some(id) => self.sql().exec(
                "INSERT INTO claim (id, platform_id) VALUES (1, ?)",
                vec![id.as_str().into()],
            )?,
            None => self.sql().exec("DELETE FROM claim WHERE id = 1", None)?,
        };
        *self.claimed.borrow_mut() = Some(platform.cloned());
        Ok(())
    }

    /// Claims first (synchronously, so a second claim finds this one), then creates the
    /// platform; if creating fails, the claim is given back and the call can be retried.
    async fn claim(&self, command: ClaimPlatform) -> worker::Result<Result<Claim, Refusal>> {
        if let Some(existing) = self.owned()? {
            return Ok(Ok(Claim::Exists(existing)));
        }
        let record = command.record;
        let platform_id = record.platform_id.clone();
        let developer = record.developer.clone().unwrap_or_default();
        self.set_claim(Some(&platform_id))?;
        let created =
            objects::platform(&self.env, &platform_id, Auth::Verified, CreatePlatform { record })
                .await;
        if let Err(e) = created {
            self.set_claim(None)?;
            let refusal = Refusal::new(e.code, e.message);
            return Ok(Err(refusal));
        }
        if let Err(e) = Store::new(&self.env).put_developer_platform(&developer, &platform_id).await
        {
            // The claim stands (the object answers for it); the copy is only a shortcut.
            worker::console_error!("writing the developer's KV copy: {}", e.message);
        }
        Ok(Ok(Claim::Created))
    }
}
