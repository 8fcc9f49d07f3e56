//! Which Stripe account a platform's end-users pay through, and the developer's
//! connected account as it is stored (sealed).

use crate::error::Invalid;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A connected Stripe account id, `acct_…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StripeAccountId(String);

impl StripeAccountId {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let rest = s.strip_prefix("acct_").unwrap_or_default();
        if rest.is_empty() || rest.len() > 64 || !rest.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(Invalid::new(
                "a Stripe account id looks like acct_ followed by letters and digits",
            ));
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for StripeAccountId {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        Self::parse(&s)
    }
}

impl From<StripeAccountId> for String {
    fn from(id: StripeAccountId) -> Self {
        id.0
    }
}

impl fmt::Display for StripeAccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The Stripe account a platform's end-users pay through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BillingAccount {
    /// dream-api's own account (preview).
    Ours,
    /// The developer's connected account (production).
    Connected(StripeAccountId),
}

impl BillingAccount {
    /// The `Stripe-Account` header to send, if any.
    pub fn header(&self) -> Option<&str> {
        match self {
            Self::Ours => None,
            Self::Connected(id) => Some(id.as_str()),
        }
    }

    /// The account a webhook event came from (its `account` field, absent for ours).
    pub fn of_event(event_account: Option<&str>) -> Option<Self> {
        match event_account {
            None => Some(Self::Ours),
            Some(id) => StripeAccountId::parse(id).ok().map(Self::Connected),
        }
    }

    pub(super) fn label(&self) -> &str {
        self.header().unwrap_or("ours")
    }
}

/// SHA-256 hex of a Stripe account id: how a connected account is matched, indexed and
/// remembered without keeping its id in clear.
pub fn account_hash(account: &StripeAccountId) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(account.as_str().as_bytes()))
}

/// An account as it is stored (the one a platform's tier prices were created on, the
/// one an end-user's Stripe customer exists on): ours, or a connected account by its
/// [`account_hash`], so its id is never stored in clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StoredAccount {
    Ours,
    Connected { account_hash: String },
}

impl From<&BillingAccount> for StoredAccount {
    fn from(account: &BillingAccount) -> Self {
        match account {
            BillingAccount::Ours => Self::Ours,
            BillingAccount::Connected(id) => Self::Connected { account_hash: account_hash(id) },
        }
    }
}

/// A Stripe secret issued to us for a connected account. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StripeToken(String);

impl StripeToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for StripeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StripeToken(…)")
    }
}

/// How the account was connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectedVia {
    /// Connect OAuth: the developer approved us on their existing account.
    OAuth,
    /// Account Links: we created the account and Stripe onboarded the developer.
    Onboarding,
}

/// `platform:{id}:stripe`: the connected account, stored sealed
/// (`crate::sealed`), never in clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectRecord {
    pub stripe_user_id: StripeAccountId,
    pub via: ConnectedVia,
    pub livemode: bool,
    /// Whether the account can take payments (OAuth: at once; onboarding: once Stripe
    /// says `charges_enabled`). The platform is in production only when it is.
    pub ready: bool,
    pub access_token: Option<StripeToken>,
    pub refresh_token: Option<StripeToken>,
    pub scope: Option<String>,
    pub connected_at: String,
}

/// What `POST /oauth/token` answers (the parts kept).
#[derive(Debug, Clone, Deserialize)]
pub struct OAuthToken {
    pub access_token: StripeToken,
    pub refresh_token: Option<StripeToken>,
    pub stripe_user_id: StripeAccountId,
    #[serde(default)]
    pub livemode: bool,
    pub scope: Option<String>,
}

impl OAuthToken {
    pub fn into_record(self, connected_at: String) -> ConnectRecord {
        ConnectRecord {
            stripe_user_id: self.stripe_user_id,
            via: ConnectedVia::OAuth,
            livemode: self.livemode,
            ready: true,
            access_token: Some(self.access_token),
            refresh_token: self.refresh_token,
            scope: self.scope,
            connected_at,
        }
    }
}
