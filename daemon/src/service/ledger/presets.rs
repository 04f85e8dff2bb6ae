//! CSV presets: the ones shipped with fin, and the ones a book's members
//! write for their own banks (the same TOML form, `docs/import.md`).

use serde::Deserialize;

use super::{Ledger, actor, not_found};
use crate::domain::ledger::Need;
use crate::import;
use crate::service::ServiceError;
use crate::service::auth::sessions::Principal;
use crate::store::PresetRecord;
use crate::support::unix_now;

/// The longest preset text taken.
pub const MAX_PRESET_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPreset {
    /// The preset as TOML; its `name` is how imports name it.
    #[schema(min_length = 1, max_length = 16384)]
    pub toml: String,
}

/// A preset a book can use, and whether it came with fin.
#[derive(Debug, Clone)]
pub struct PresetView {
    pub name: String,
    pub toml: String,
    pub shipped: bool,
}

impl Ledger {
    /// The presets the book's imports can use: its own, then fin's.
    pub async fn presets(
        &self,
        principal: &Principal,
        bid: &str,
    ) -> Result<Vec<PresetView>, ServiceError> {
        let actor = actor(principal, Need::Read)?;
        let mut views: Vec<PresetView> = self
            .store
            .presets(actor, bid)
            .await?
            .into_iter()
            .map(|p| PresetView {
                name: p.name,
                toml: p.toml,
                shipped: false,
            })
            .collect();
        views.extend(
            import::shipped_texts()
                .into_iter()
                .map(|(name, toml)| PresetView {
                    name,
                    toml,
                    shipped: true,
                }),
        );
        Ok(views)
    }

    /// Saves a preset for the book, checked as an import would read it.
    pub async fn create_preset(
        &self,
        principal: &Principal,
        bid: &str,
        new: NewPreset,
    ) -> Result<PresetView, ServiceError> {
        let actor = actor(principal, Need::Write)?;
        if new.toml.len() > MAX_PRESET_BYTES {
            return Err(ServiceError::Invalid(format!(
                "a preset is at most {MAX_PRESET_BYTES} bytes"
            )));
        }
        let preset = import::preset_from_toml(&new.toml).map_err(ServiceError::Invalid)?;
        crate::domain::ledger::name("name", &preset.name)?;
        if preset.name != preset.name.trim() {
            return Err(ServiceError::Invalid(
                "the preset's name must not begin or end with spaces".into(),
            ));
        }
        if import::shipped_texts()
            .iter()
            .any(|(n, _)| *n == preset.name)
        {
            return Err(ServiceError::Conflict(format!(
                "{:?} is a preset shipped with fin: give yours another name",
                preset.name
            )));
        }
        let record = PresetRecord {
            name: preset.name,
            toml: new.toml,
            created_by: actor.to_string(),
            created_at: unix_now(),
        };
        let saved = self.store.create_preset(actor, bid, &record).await?;
        Ok(PresetView {
            name: saved.name,
            toml: saved.toml,
            shipped: false,
        })
    }

    pub async fn delete_preset(
        &self,
        principal: &Principal,
        bid: &str,
        name: &str,
    ) -> Result<(), ServiceError> {
        let actor = actor(principal, Need::Write)?;
        if self.store.delete_preset(actor, bid, name).await? {
            Ok(())
        } else {
            Err(not_found("preset"))
        }
    }

    /// The TOML of the preset `name`: the book's own, else fin's.
    pub(super) async fn preset_text(
        &self,
        actor: &str,
        bid: &str,
        name: &str,
    ) -> Result<String, ServiceError> {
        if let Some(own) = self
            .store
            .presets(actor, bid)
            .await?
            .into_iter()
            .find(|p| p.name == name)
        {
            return Ok(own.toml);
        }
        import::shipped_texts()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, text)| text)
            .ok_or_else(|| {
                ServiceError::Invalid(format!(
                    "no CSV preset {name:?} in this book or shipped with fin"
                ))
            })
    }
}
