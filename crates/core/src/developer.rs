//! A developer as Clerk knows them: the user the Backend API returns ([`ClerkUser`],
//! only the fields dream-api reads) and the copy of their plan dream-api keeps in their
//! `public_metadata` for the dashboard ([`DeveloperMetadata`]). The plan itself belongs
//! to the platform's object; this is a copy, merged into Clerk's metadata (never
//! replacing what else is there).

use crate::platform::PlatformPlan;
use crate::protocol::PlatformView;
use serde::{Deserialize, Serialize};

/// A user from Clerk's Backend API (`GET /v1/users/{id}`); other fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ClerkUser {
    pub id: String,
    #[serde(default)]
    pub primary_email_address_id: Option<String>,
    #[serde(default)]
    pub email_addresses: Vec<ClerkEmail>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ClerkEmail {
    pub id: String,
    pub email_address: String,
}

impl ClerkUser {
    /// The user's primary email address; the first one when Clerk names none (or names
    /// one the user no longer has); `None` when they have no address at all.
    pub fn primary_email(&self) -> Option<&str> {
        let primary = self.primary_email_address_id.as_deref();
        self.email_addresses
            .iter()
            .find(|e| Some(e.id.as_str()) == primary)
            .or(self.email_addresses.first())
            .map(|e| e.email_address.as_str())
    }
}

/// What dream-api writes into a developer's Clerk `public_metadata`: their platform's
/// plan, whether a subscription pays for it, and the Stripe ids to find it by. `None`
/// ids are written as `null`, which Clerk's merge takes as "remove".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeveloperMetadata {
    pub plan: PlatformPlan,
    pub subscribed: bool,
    pub subscription_id: Option<String>,
    pub stripe_customer_id: Option<String>,
}

impl DeveloperMetadata {
    /// The copy of a platform's plan, as its object holds it now.
    pub fn of(view: &PlatformView) -> Self {
        Self {
            plan: view.info.plan,
            subscribed: view.subscribed,
            subscription_id: view.subscription_id.clone(),
            stripe_customer_id: view.customer_id.clone(),
        }
    }

    /// The body of Clerk's metadata merge (`PATCH /v1/users/{id}/metadata`).
    pub fn merge_patch(&self) -> serde_json::Value {
        serde_json::json!({ "public_metadata": self })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(value: serde_json::Value) -> ClerkUser {
        serde_json::from_value(value).expect("a Clerk user")
    }

    #[test]
    fn the_primary_email_is_the_address_clerk_names_primary() {
        let ada = user(json!({
            "id": "user_1",
            "primary_email_address_id": "idn_2",
            "email_addresses": [
                {"id": "idn_1", "email_address": "old@example.com"},
                {"id": "idn_2", "email_address": "ada@example.com"},
            ],
            "public_metadata": {"plan": "free"},
            "first_name": "Ada",
        }));
        assert_eq!(ada.primary_email(), Some("ada@example.com"));
    }

    #[test]
    fn without_a_primary_address_the_first_one_is_used_and_none_without_any() {
        let named_gone = user(json!({
            "id": "user_1",
            "primary_email_address_id": "idn_9",
            "email_addresses": [{"id": "idn_1", "email_address": "first@example.com"}],
        }));
        assert_eq!(named_gone.primary_email(), Some("first@example.com"));
        let unnamed = user(json!({"id": "user_1", "primary_email_address_id": null,
            "email_addresses": [{"id": "idn_1", "email_address": "first@example.com"}]}));
        assert_eq!(unnamed.primary_email(), Some("first@example.com"));
        assert_eq!(user(json!({"id": "user_1"})).primary_email(), None);
    }

    #[test]
    fn the_metadata_copy_is_camel_case_and_writes_null_to_remove_an_id() {
        let metadata = DeveloperMetadata {
            plan: PlatformPlan::Paid,
            subscribed: true,
            subscription_id: Some("sub_1".into()),
            stripe_customer_id: None,
        };
        assert_eq!(
            metadata.merge_patch(),
            json!({"public_metadata": {
                "plan": "paid",
                "subscribed": true,
                "subscriptionId": "sub_1",
                "stripeCustomerId": null,
            }})
        );
    }
}
