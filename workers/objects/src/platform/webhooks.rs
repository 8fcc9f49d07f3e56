//! The platform's webhook endpoints (table `webhook_endpoints`: the endpoint as listed,
//! its secrets sealed by the worker) and its alert thresholds (table `alerts`). Each
//! command is decided in one synchronous step, so the five-endpoint limit holds however
//! many endpoints are added at once, and a rotation never overwrites another.

use super::*;
use dream_core::protocol::webhooks::{
    no_endpoint, secrets_changed, AddEndpoint, Endpoint, ReplaceSecrets, SetAlerts,
};
use dream_core::webhooks::endpoint::check_room;
use dream_core::webhooks::EndpointId;

#[derive(Deserialize)]
struct EndpointRow {
    endpoint: String,
}

#[derive(Deserialize)]
struct SecretsRow {
    secrets: String,
}

/// Webhooks are the developer's: an end-user's session token never manages them (the
/// workers refuse it first; the object does not rely on that).
pub(super) fn developer_only(auth: &Auth) -> Result<(), Refusal> {
    match auth {
        Auth::EndUser => Err(Refusal::new(
            ErrorCode::Forbidden,
            "An end-user session token cannot manage the platform's webhooks.",
        )),
        Auth::Key(_) | Auth::Verified => Ok(()),
    }
}

impl Platform {
    pub(super) fn add_endpoint(&self, auth: &Auth, command: AddEndpoint) -> Decided<()> {
        if let Err(refusal) = developer_only(auth) {
            return Ok(Err(refusal));
        }
        let rows: Vec<CountRow> =
            self.sql().exec("SELECT COUNT(*) AS n FROM webhook_endpoints", None)?.to_array()?;
        let existing = rows.first().map_or(0, |r| r.n);
        if let Err(invalid) = check_room(usize::try_from(existing).unwrap_or(usize::MAX)) {
            return Ok(Err(invalid.into()));
        }
        let endpoint = serde_json::to_string(&command.endpoint).map_err(json_error)?;
        self.sql().exec(
            "INSERT INTO webhook_endpoints (id, endpoint, secrets) VALUES (?1, ?2, ?3)",
            vec![
                command.endpoint.id.as_str().into(),
                endpoint.into(),
                command.sealed_secrets.into(),
            ],
        )?;
        Ok(Ok(()))
    }

    pub(super) fn endpoints(&self, auth: &Auth) -> Decided<Vec<Endpoint>> {
        if let Err(refusal) = developer_only(auth) {
            return Ok(Err(refusal));
        }
        Ok(Ok(self.endpoint_list()?))
    }

    /// Oldest first: SQLite gives a new row a rowid above every existing one.
    pub(super) fn endpoint_list(&self) -> worker::Result<Vec<Endpoint>> {
        let rows: Vec<EndpointRow> = self
            .sql()
            .exec("SELECT endpoint FROM webhook_endpoints ORDER BY rowid", None)?
            .to_array()?;
        rows.iter()
            .map(|row| serde_json::from_str(&row.endpoint))
            .collect::<Result<Vec<Endpoint>, _>>()
            .map_err(json_error)
    }

    pub(super) fn endpoint(&self, id: &EndpointId) -> worker::Result<Option<Endpoint>> {
        let rows: Vec<EndpointRow> = self
            .sql()
            .exec("SELECT endpoint FROM webhook_endpoints WHERE id = ?", vec![id.as_str().into()])?
            .to_array()?;
        rows.first().map(|row| serde_json::from_str(&row.endpoint)).transpose().map_err(json_error)
    }

    /// After a `410`: the endpoint stays listed, `disabled`, and gets nothing more.
    pub(super) fn disable_endpoint(&self, id: &EndpointId) -> worker::Result<()> {
        let Some(mut endpoint) = self.endpoint(id)? else { return Ok(()) };
        endpoint.disabled = true;
        self.sql().exec(
            "UPDATE webhook_endpoints SET endpoint = ?1 WHERE id = ?2",
            vec![serde_json::to_string(&endpoint).map_err(json_error)?.into(), id.as_str().into()],
        )?;
        Ok(())
    }

    pub(super) fn remove_endpoint(&self, auth: &Auth, id: &EndpointId) -> Decided<()> {
        if let Err(refusal) = developer_only(auth) {
            return Ok(Err(refusal));
        }
        if self.stored_secrets(id)?.is_none() {
            return Ok(Err(no_endpoint()));
        }
        // Its deliveries go with it: pending ones are dropped (the consumer finds nothing).
        self.sql().exec("DELETE FROM webhook_endpoints WHERE id = ?", vec![id.as_str().into()])?;
        self.sql()
            .exec("DELETE FROM deliveries WHERE endpoint_id = ?", vec![id.as_str().into()])?;
        Ok(Ok(()))
    }

    pub(super) fn sealed_secrets(&self, auth: &Auth, id: &EndpointId) -> Decided<String> {
        if let Err(refusal) = developer_only(auth) {
            return Ok(Err(refusal));
        }
        Ok(self.stored_secrets(id)?.ok_or_else(no_endpoint))
    }

    /// Stores the rotated secrets only over the ones the rotation started from.
    pub(super) fn replace_secrets(&self, auth: &Auth, command: ReplaceSecrets) -> Decided<()> {
        if let Err(refusal) = developer_only(auth) {
            return Ok(Err(refusal));
        }
        match self.stored_secrets(&command.id)? {
            None => Ok(Err(no_endpoint())),
            Some(stored) if stored != command.expected => Ok(Err(secrets_changed())),
            Some(_) => {
                self.sql().exec(
                    "UPDATE webhook_endpoints SET secrets = ?1 WHERE id = ?2",
                    vec![command.sealed_secrets.into(), command.id.as_str().into()],
                )?;
                Ok(Ok(()))
            }
        }
    }

    pub(super) fn stored_secrets(&self, id: &EndpointId) -> worker::Result<Option<String>> {
        let rows: Vec<SecretsRow> = self
            .sql()
            .exec("SELECT secrets FROM webhook_endpoints WHERE id = ?", vec![id.as_str().into()])?
            .to_array()?;
        Ok(rows.into_iter().next().map(|row| row.secrets))
    }

    pub(super) fn get_alerts(&self, auth: &Auth) -> Decided<Thresholds> {
        if let Err(refusal) = developer_only(auth) {
            return Ok(Err(refusal));
        }
        Ok(Ok(self.alerts.load(self.sql())?))
    }

    pub(super) fn set_alerts(&self, auth: &Auth, command: SetAlerts) -> Decided<Thresholds> {
        if let Err(refusal) = developer_only(auth) {
            return Ok(Err(refusal));
        }
        self.alerts.save(self.sql(), command.thresholds.clone())?;
        Ok(Ok(command.thresholds))
    }
}
