//! Which database is live. A restore fills a fresh database beside the
//! live one and, once it is whole and checked, points fin at it: the
//! pointer is one record in a small bookkeeping database, so a restore cut
//! short at any moment leaves the old data live. Databases are named
//! `<name>` (the first) and `<name>_r<unix ms>` (each restore);
//! `<name>_meta` holds the pointer.

use std::sync::{Arc, PoisonError, RwLock};

use surrealdb::Surreal;
use surrealdb::engine::any::Any;

use super::{Store, StoreError};

pub(super) struct Live {
    /// A session of the connection, kept to open others from.
    root: Surreal<Any>,
    namespace: String,
    base: String,
    current: RwLock<(Arc<Surreal<Any>>, String)>,
}

impl Live {
    pub(super) async fn open(
        root: Surreal<Any>,
        namespace: &str,
        base: &str,
    ) -> Result<Live, surrealdb::Error> {
        root.use_ns(namespace).await?;
        let name = pointed_at(&root, namespace, base)
            .await?
            .unwrap_or_else(|| base.to_string());
        let db = session(&root, namespace, &name).await?;
        Ok(Live {
            root,
            namespace: namespace.to_string(),
            base: base.to_string(),
            current: RwLock::new((Arc::new(db), name)),
        })
    }

    pub(super) fn current(&self) -> Arc<Surreal<Any>> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .0
            .clone()
    }

    fn name(&self) -> String {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .1
            .clone()
    }
}

/// A new session of `root` on `namespace`/`database`.
async fn session(
    root: &Surreal<Any>,
    namespace: &str,
    database: &str,
) -> Result<Surreal<Any>, surrealdb::Error> {
    let db = root.clone();
    db.use_ns(namespace).use_db(database).await?;
    Ok(db)
}

fn meta_name(base: &str) -> String {
    format!("{base}_meta")
}

/// The database the pointer names, if a restore ever set one.
async fn pointed_at(
    root: &Surreal<Any>,
    namespace: &str,
    base: &str,
) -> Result<Option<String>, surrealdb::Error> {
    let meta = session(root, namespace, &meta_name(base)).await?;
    let mut response = meta
        .query("SELECT VALUE database FROM ONLY live:current")
        .await?;
    match response.take::<Option<String>>(0) {
        Ok(name) => Ok(name),
        // Never written: no table yet.
        Err(e) if e.to_string().contains("does not exist") => Ok(None),
        Err(e) => Err(e),
    }
}

impl Store {
    /// The name of the live database.
    pub fn database(&self) -> String {
        self.live.name()
    }

    /// A fresh, empty database beside the live one, to restore into. It is
    /// not live until [`Store::switch_to`] makes it so.
    pub async fn fresh(&self) -> Result<Store, StoreError> {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let name = format!("{}_r{millis}", self.live.base);
        let db = session(&self.live.root, &self.live.namespace, &name).await?;
        let live = Live {
            root: self.live.root.clone(),
            namespace: self.live.namespace.clone(),
            base: self.live.base.clone(),
            current: RwLock::new((Arc::new(db), name)),
        };
        Ok(Store {
            live: Arc::new(live),
            url: self.url.clone(),
        })
    }

    /// Makes `staged` (from [`Store::fresh`]) the live database: the
    /// pointer is written first, then every clone of this store turns to
    /// it. Gives the name of the database it replaced, which is left as it
    /// was for the caller to remove.
    pub async fn switch_to(&self, staged: &Store) -> Result<String, StoreError> {
        let name = staged.database();
        let meta = session(
            &self.live.root,
            &self.live.namespace,
            &meta_name(&self.live.base),
        )
        .await?;
        meta.query("UPSERT live:current SET database = $name, switched_at = time::now()")
            .bind(("name", name.clone()))
            .await?
            .check()?;
        let db = staged.db();
        let mut current = self
            .live
            .current
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let old = std::mem::replace(&mut *current, (db, name));
        Ok(old.1)
    }

    /// Removes a database that is not live (one a restore replaced, or a
    /// restore's that did not finish).
    pub async fn remove_database(&self, name: &str) -> Result<(), StoreError> {
        if name == self.database() || name == meta_name(&self.live.base) {
            return Err(StoreError::Refused(format!(
                "database {name} is in use and cannot be removed"
            )));
        }
        // A database name cannot be a bound parameter; this one is the
        // configured name or made here, and checked to be a plain word.
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(StoreError::Refused(format!(
                "{name:?} is not a database of fin's"
            )));
        }
        self.live
            .root
            .query(format!("REMOVE DATABASE IF EXISTS `{name}`"))
            .await?
            .check()?;
        Ok(())
    }

    /// The databases left behind by restores: replaced ones and those of
    /// restores that were cut short. Removed at start.
    pub async fn stale_databases(&self) -> Result<Vec<String>, StoreError> {
        let mut response = self.live.root.query("INFO FOR NS").await?.check()?;
        let info: Option<serde_json::Value> = response.take(0)?;
        let base = &self.live.base;
        let live = self.database();
        let names = info
            .as_ref()
            .and_then(|i| i.get("databases"))
            .and_then(serde_json::Value::as_object)
            .map(|dbs| dbs.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default();
        Ok(names
            .into_iter()
            .filter(|name| *name != live)
            .filter(|name| {
                name == base
                    || name
                        .strip_prefix(&format!("{base}_r"))
                        .is_some_and(|ms| !ms.is_empty() && ms.bytes().all(|b| b.is_ascii_digit()))
            })
            .collect())
    }
}
