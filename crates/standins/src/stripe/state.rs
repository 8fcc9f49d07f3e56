//! What the Stripe stand-in holds: every object and which account owns it, idempotent
//! answers, events, and Connect's records; and what `--state` keeps of them.

use axum::http::StatusCode;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::errors::{OAuthError, StripeError};
use super::now;

/// An `Idempotency-Key` answer is kept per account, method and path: `(account or
/// None for the platform, key, method, path)`.
pub(super) type IdempotencyScope = (Option<String>, String, String, String);

/// What `--state` keeps of the account. The fields added with Connect default to empty,
/// so that a state file written before them still loads (everything the platform's).
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct SavedAccount {
    objects: BTreeMap<String, Value>,
    /// The platform's own idempotent answers: `(key, method, path, status, body)`.
    idempotent: Vec<(String, String, String, u16, Value)>,
    events: Vec<Value>,
    next_id: u64,
    /// Object id → the connected account it belongs to (the platform's are not listed).
    #[serde(default)]
    owners: BTreeMap<String, String>,
    /// Connected accounts' idempotent answers: `(account, key, method, path, status, body)`.
    #[serde(default)]
    connected_idempotent: Vec<(String, String, String, String, u16, Value)>,
    #[serde(default)]
    connect: Connect,
}

impl From<&Account> for SavedAccount {
    fn from(a: &Account) -> Self {
        let mut idempotent = Vec::new();
        let mut connected_idempotent = Vec::new();
        for ((owner, k, m, p), (status, body)) in &a.idempotent {
            let (k, m, p, status, body) =
                (k.clone(), m.clone(), p.clone(), status.as_u16(), body.clone());
            match owner {
                None => idempotent.push((k, m, p, status, body)),
                Some(owner) => connected_idempotent.push((owner.clone(), k, m, p, status, body)),
            }
        }
        Self {
            objects: a.objects.clone(),
            idempotent,
            events: a.events.clone(),
            next_id: a.next_id,
            owners: a.owners.clone(),
            connected_idempotent,
            connect: a.connect.clone(),
        }
    }
}

impl From<SavedAccount> for Account {
    fn from(s: SavedAccount) -> Self {
        let status = |code: u16| StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
        let platform = s
            .idempotent
            .into_iter()
            .map(|(k, m, p, code, body)| ((None, k, m, p), (status(code), body)));
        let connected = s
            .connected_idempotent
            .into_iter()
            .map(|(owner, k, m, p, code, body)| ((Some(owner), k, m, p), (status(code), body)));
        Self {
            objects: s.objects,
            owners: s.owners,
            idempotent: platform.chain(connected).collect(),
            events: s.events,
            next_id: s.next_id,
            connect: s.connect,
        }
    }
}

/// Connect's own records: accounts that have disconnected the platform, onboarding
/// links, OAuth authorization codes and the tokens they were exchanged for.
#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Connect {
    #[serde(default)]
    pub(super) deauthorized: BTreeSet<String>,
    #[serde(default)]
    pub(super) links: BTreeMap<String, AccountLink>,
    #[serde(default)]
    pub(super) codes: BTreeMap<String, AuthorizationCode>,
    #[serde(default)]
    pub(super) tokens: Vec<AccessToken>,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct AccountLink {
    pub(super) account: String,
    pub(super) refresh_url: String,
    pub(super) return_url: String,
    pub(super) expires_at: i64,
    pub(super) used: bool,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct AuthorizationCode {
    pub(super) account: String,
    pub(super) client_id: String,
    pub(super) scope: String,
    pub(super) expires_at: i64,
    pub(super) used: bool,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct AccessToken {
    pub(super) stripe_user_id: String,
    pub(super) access_token: String,
    pub(super) refresh_token: String,
    pub(super) publishable_key: String,
    pub(super) scope: String,
    pub(super) revoked: bool,
}

/// Where an account link leads: its onboarding page, or (expired or used) `refresh_url`.
pub(super) enum LinkTarget {
    Onboarding(AccountLink),
    Refresh(String),
}

#[derive(Default)]
pub(super) struct Account {
    pub(super) objects: BTreeMap<String, Value>,
    /// Object id → the connected account it belongs to; the platform's are not listed.
    owners: BTreeMap<String, String>,
    /// The first answer to each idempotent request.
    pub(super) idempotent: HashMap<IdempotencyScope, (StatusCode, Value)>,
    pub(super) events: Vec<Value>,
    next_id: u64,
    pub(super) connect: Connect,
}

impl Account {
    pub(super) fn new_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}_{:014}", self.next_id)
    }

    /// The connected account `id` belongs to, or `None` for the platform's.
    pub(super) fn owner(&self, id: &str) -> Option<&str> {
        self.owners.get(id).map(String::as_str)
    }

    /// An object as `owner` sees it: another account's does not exist.
    pub(super) fn get(
        &self,
        owner: Option<&str>,
        id: &str,
        object: &str,
    ) -> Result<Value, StripeError> {
        self.objects
            .get(id)
            .filter(|o| o["object"] == object && self.owner(id) == owner)
            .cloned()
            .ok_or_else(|| StripeError::missing(id))
    }

    /// An object and its owner, for a hosted page: its URL is the credential.
    pub(super) fn hosted(
        &self,
        id: &str,
        object: &str,
    ) -> Result<(Value, Option<String>), StripeError> {
        let owner = self.owner(id).map(str::to_string);
        Ok((self.get(owner.as_deref(), id, object)?, owner))
    }

    /// Stores (or replaces) an object as `owner`'s.
    pub(super) fn put(&mut self, owner: Option<&str>, object: Value) -> Value {
        let id = object["id"].as_str().unwrap_or_default().to_string();
        match owner {
            Some(owner) => self.owners.insert(id.clone(), owner.to_string()),
            None => self.owners.remove(&id),
        };
        self.objects.insert(id, object.clone());
        object
    }

    /// Whether `id` is an account still connected to the platform.
    pub(super) fn connected(&self, id: &str) -> bool {
        self.objects.get(id).is_some_and(|o| o["object"] == "account")
            && !self.connect.deauthorized.contains(id)
    }

    /// Records an event; one about a connected account's objects names the account.
    pub(super) fn event(&mut self, owner: Option<&str>, kind: &str, object: &Value) -> Value {
        let mut event = json!({
            "id": self.new_id("evt"),
            "object": "event",
            "api_version": "2024-06-20",
            "created": now(),
            "livemode": false,
            "type": kind,
            "data": { "object": object },
        });
        if let Some(account) = owner {
            event["account"] = json!(account);
        }
        self.events.push(event.clone());
        event
    }

    /// Cancels a subscription of `owner`'s at once.
    pub(super) fn cancel(&mut self, owner: Option<&str>, id: &str) -> Result<Value, StripeError> {
        let mut subscription = self.get(owner, id, "subscription")?;
        subscription["status"] = json!("canceled");
        subscription["canceled_at"] = json!(now());
        Ok(self.put(owner, subscription))
    }

    /// Where account link `id` leads at time `now`; an unknown link, or one for an
    /// account no longer connected, does not exist.
    pub(super) fn link(&self, id: &str, now: i64) -> Result<LinkTarget, StripeError> {
        let link = self
            .connect
            .links
            .get(id)
            .filter(|l| self.connected(&l.account))
            .ok_or_else(|| StripeError::missing(id))?;
        Ok(if link.used || now >= link.expires_at {
            LinkTarget::Refresh(link.refresh_url.clone())
        } else {
            LinkTarget::Onboarding(link.clone())
        })
    }

    /// Exchanges an authorization code at time `now`, once: the account it was issued
    /// for and the scope granted.
    pub(super) fn redeem(
        &mut self,
        code: &str,
        client_id: &str,
        now: i64,
    ) -> Result<(String, String), OAuthError> {
        let grant = |description: String| {
            OAuthError::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
        };
        let Some(issued) = self.connect.codes.get_mut(code) else {
            return Err(grant(format!("Authorization code does not exist: {code}")));
        };
        if issued.used {
            return Err(grant(format!("Authorization code has already been used: {code}")));
        }
        if now >= issued.expires_at {
            return Err(grant(format!("Authorization code expired: {code}")));
        }
        if issued.client_id != client_id {
            return Err(grant(format!("Authorization code was not issued to {client_id}: {code}")));
        }
        issued.used = true;
        let (account, scope) = (issued.account.clone(), issued.scope.clone());
        if !self.connected(&account) {
            return Err(grant(format!(
                "The account for this authorization code has disconnected: {code}"
            )));
        }
        Ok((account, scope))
    }
}

#[cfg(test)]
mod tests {
    use super::super::DEV_CLIENT_ID;
    use super::*;

    fn with_code(expires_at: i64) -> Account {
        let mut account = Account::default();
        account.put(None, json!({"id": "acct_1", "object": "account"}));
        account.connect.codes.insert(
            "ac_1".into(),
            AuthorizationCode {
                account: "acct_1".into(),
                client_id: DEV_CLIENT_ID.into(),
                scope: "read_write".into(),
                expires_at,
                used: false,
            },
        );
        account
    }

    #[test]
    fn an_authorization_code_is_exchanged_once_and_only_before_it_expires() {
        let mut account = with_code(1_000);
        let expired = account.redeem("ac_1", DEV_CLIENT_ID, 1_000).expect_err("expired");
        assert_eq!(expired.error, "invalid_grant");
        assert!(expired.description.contains("expired"), "{expired:?}");

        let mut account = with_code(1_000);
        assert_eq!(
            account.redeem("ac_1", DEV_CLIENT_ID, 999).expect("valid"),
            ("acct_1".to_string(), "read_write".to_string())
        );
        let again = account.redeem("ac_1", DEV_CLIENT_ID, 999).expect_err("used");
        assert!(again.description.contains("already been used"), "{again:?}");
    }

    #[test]
    fn a_code_for_another_application_or_a_disconnected_account_is_refused() {
        let mut account = with_code(1_000);
        assert_eq!(
            account.redeem("ac_1", "ca_other", 0).expect_err("other").error,
            "invalid_grant"
        );
        let mut account = with_code(1_000);
        account.connect.deauthorized.insert("acct_1".into());
        assert_eq!(
            account.redeem("ac_1", DEV_CLIENT_ID, 0).expect_err("gone").error,
            "invalid_grant"
        );
    }

    #[test]
    fn an_expired_or_used_account_link_leads_to_refresh_url() {
        let mut account = Account::default();
        account.put(None, json!({"id": "acct_1", "object": "account"}));
        let link = |used| AccountLink {
            account: "acct_1".into(),
            refresh_url: "http://127.0.0.1/refresh".into(),
            return_url: "http://127.0.0.1/return".into(),
            expires_at: 1_000,
            used,
        };
        account.connect.links.insert("fresh".into(), link(false));
        account.connect.links.insert("used".into(), link(true));
        assert!(matches!(account.link("fresh", 999), Ok(LinkTarget::Onboarding(_))));
        assert!(
            matches!(account.link("fresh", 1_000), Ok(LinkTarget::Refresh(url)) if url.ends_with("/refresh"))
        );
        assert!(matches!(account.link("used", 0), Ok(LinkTarget::Refresh(_))));
        assert!(account.link("unknown", 0).is_err());
    }

    #[test]
    fn a_state_file_from_before_connect_still_loads_with_everything_the_platforms() {
        let old = r#"{"objects": {"prod_1": {"id": "prod_1", "object": "product"}},
            "idempotent": [["k", "POST", "/v1/products", 200, {"id": "prod_1"}]],
            "events": [], "next_id": 1}"#;
        let saved: SavedAccount = serde_json::from_str(old).expect("loads");
        let account = Account::from(saved);
        assert!(account.get(None, "prod_1", "product").is_ok());
        assert!(account.get(Some("acct_1"), "prod_1", "product").is_err());
        let key = (None, "k".to_string(), "POST".to_string(), "/v1/products".to_string());
        assert!(account.idempotent.contains_key(&key));
    }
}
