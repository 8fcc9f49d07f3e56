//! The platform's changes that write KV copies for other readers: creating it, rotating
//! its key, its tiers, its connected Stripe account. Each is decided synchronously and
//! stored; the copies are written after (a key's pointer before the key works).

use super::*;

impl Platform {
    /// Stores a new platform. Its key's KV pointer is written first: until the record
    /// is stored the object refuses the key, and once it is, the key works at once.
    pub(super) async fn create(&self, record: PlatformRecord) -> Decided<()> {
        if self.loaded()?.is_some() {
            return refused(ErrorCode::Conflict, "This platform exists already.");
        }
        let store = Store::new(&self.env);
        let key = KeyRecord { platform_id: record.platform_id.clone(), expires_at: None };
        before_change(store.put_key_record(&record.keys.current, &key)).await?;
        if self.loaded()?.is_some() {
            return refused(ErrorCode::Conflict, "This platform exists already.");
        }
        let loaded = self.save(record)?;
        after_change(store.put_public_tiers(&loaded.record.platform_id, &loaded.record.tiers))
            .await;
        Ok(Ok(()))
    }

    /// Decides a rotation against the key set as it is now and, if `store` is set,
    /// stores it.
    pub(super) fn try_rotate(
        &self,
        auth: &Auth,
        command: &RotateKey,
        store: bool,
    ) -> Decided<dream_core::keys::Rotated> {
        let Some(loaded) = self.loaded()? else { return Ok(Err(no_platform())) };
        let mut record = loaded.record.clone();
        let by = match auth {
            Auth::Key(key) => Some(key),
            Auth::Verified => None,
            Auth::EndUser => {
                return refused(ErrorCode::Forbidden, "Only the developer may rotate the key.")
            }
        };
        let now = now();
        match record.keys.rotate(by, command.next.clone(), command.grace_seconds, now) {
            Err(refusal) => Ok(Err(refusal)),
            Ok(rotated) => {
                if store {
                    self.save(record)?;
                }
                Ok(Ok(rotated))
            }
        }
    }

    /// A rotation. The new key's KV pointer is written before the key set changes (a
    /// pointer to a key the set does not hold yet lets nobody in), so when the old key
    /// stops, the new one already works everywhere KV has reached; the decision itself
    /// is taken again after that write, as another rotation may have won meanwhile.
    pub(super) async fn rotate(&self, auth: &Auth, command: RotateKey) -> Decided<String> {
        if let Err(refusal) = self.try_rotate(auth, &command, false)? {
            return Ok(Err(refusal));
        }
        let store = Store::new(&self.env);
        let Some(platform_id) = self.loaded()?.map(|l| l.record.platform_id.clone()) else {
            return Ok(Err(no_platform()));
        };
        let current = KeyRecord { platform_id: platform_id.clone(), expires_at: None };
        before_change(store.put_key_record(&command.next, &current)).await?;
        let rotated = match self.try_rotate(auth, &command, true)? {
            Ok(rotated) => rotated,
            Err(refusal) => {
                after_change(store.delete_key_record(&command.next)).await;
                return Ok(Err(refusal));
            }
        };
        let expires_at = rotated.previous.expires_at;
        self.emit(vec![Event::KeyRotated { previous_key_expires_at: rfc3339(expires_at) }])?;
        after_change(async {
            let previous = KeyRecord { platform_id, expires_at: Some(expires_at) };
            store.put_key_record(&rotated.previous.hash, &previous).await?;
            if let Some(retired) = &rotated.retired {
                store.delete_key_record(retired).await?;
            }
            Ok(())
        })
        .await;
        Ok(Ok(rfc3339(expires_at)))
    }

    pub(super) async fn set_tiers(
        &self,
        command: SetTiers,
    ) -> Decided<Vec<dream_core::tier::Tier>> {
        let Some(loaded) = self.loaded()? else { return Ok(Err(no_platform())) };
        if !loaded.record.pays_through(&command.account) {
            return refused(
                ErrorCode::Conflict,
                "The platform's Stripe account changed while its tiers were being priced; retry.",
            );
        }
        if TierConfig::from_stored(command.tiers.clone()).is_none() {
            return refused(ErrorCode::InvalidRequest, "The tiers are not a valid configuration.");
        }
        let mut record = loaded.record.clone();
        record.tiers = command.tiers;
        record.prices_account = Some(StoredAccount::from(&command.account));
        let loaded = self.save(record)?;
        let record = &loaded.record;
        let store = Store::new(&self.env);
        after_change(store.put_public_tiers(&record.platform_id, &record.tiers)).await;
        Ok(Ok(record.tiers.clone()))
    }

    pub(super) async fn connect_account(&self, command: Connect) -> Decided<Mode> {
        let Some(loaded) = self.loaded()? else { return Ok(Err(no_platform())) };
        let mut record = loaded.record.clone();
        let hash = command.connection.account_hash.clone();
        let replaced = record.connect(command.connection);
        let loaded = self.save(record)?;
        let record = &loaded.record;
        let store = Store::new(&self.env);
        after_change(async {
            if let Some(old) = replaced {
                store.delete_connected_platform(&old.account_hash).await?;
            }
            store.put_connected_platform(&hash, &record.platform_id).await
        })
        .await;
        Ok(Ok(record.mode()))
    }

    pub(super) async fn disconnect_account(
        &self,
        command: Disconnect,
    ) -> Decided<Option<dream_core::platform::Connection>> {
        let Some(loaded) = self.loaded()? else { return Ok(Err(no_platform())) };
        let mut record = loaded.record.clone();
        let removed = record.disconnect(command.account_hash.as_deref());
        if removed.is_none() {
            return Ok(Ok(None));
        }
        self.save(record)?;
        if let Some(removed) = &removed {
            let store = Store::new(&self.env);
            after_change(store.delete_connected_platform(&removed.account_hash)).await;
        }
        Ok(Ok(removed))
    }
}

/// Writes a KV copy that must exist before a change is stored (the pointer of a key
/// about to work): if it fails, the change is not made and the caller can retry.
async fn before_change(
    write: impl std::future::Future<Output = dream_edge::error::ApiResult<()>>,
) -> worker::Result<()> {
    write.await.map_err(|e| worker::Error::RustError(format!("writing a KV copy: {}", e.message)))
}

/// Writes KV copies after a change is stored. The change stands either way (the object
/// is the truth and checks every call; a stale copy lets nobody in), so a failure is
/// logged, and the caller still gets the answer it needs, such as a rotation's new key.
async fn after_change(write: impl std::future::Future<Output = dream_edge::error::ApiResult<()>>) {
    if let Err(e) = write.await {
        worker::console_error!("writing a KV copy after a change: {}", e.message);
    }
}
