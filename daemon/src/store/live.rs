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

    /// The bookkeeping database's session.
    async fn meta(&self) -> Result<Surreal<Any>, StoreError> {
        Ok(session(
            &self.live.root,
            &self.live.namespace,
            &meta_name(&self.live.base),
        )
        .await?)
    }

    /// A fresh, empty database beside the live one, to restore into. It is
    /// not live until [`Store::switch_to`] makes it so. It is recorded as
    /// being filled first, so that only databases fin made are ever
    /// removed as leftovers.
    pub async fn fresh(&self) -> Result<Store, StoreError> {
        let name = format!(
            "{}_r{}{}",
            self.live.base,
            crate::support::unix_now_ms().max(0),
            crate::support::random_hex(3).unwrap_or_default()
        );
        if name == self.database() {
            return Err(StoreError::Refused(format!("{name} is the live database")));
        }
        self.meta()
            .await?
            .query("CREATE type::record('restore_db', $name) SET name = $name, state = 'filling', at = time::now()")
            .bind(("name", name.clone()))
            .await?
            .check()?;
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
    /// pointer is written first (in the same transaction, the database it
    /// replaces is recorded as replaced), then every clone of this store
    /// turns to it. Gives the name of the database it replaced, which is
    /// left as it was for the caller to remove. When the write's outcome
    /// is unknown (an error after it may have committed), the pointer is
    /// read again and memory follows it, so the two never disagree.
    pub async fn switch_to(&self, staged: &Store) -> Result<String, StoreError> {
        let name = staged.database();
        let old = self.database();
        let meta = self.meta().await?;
        let written = meta
            .query(
                "BEGIN TRANSACTION; \
                 UPSERT live:current SET database = $name, switched_at = time::now(); \
                 UPSERT type::record('restore_db', $old) SET name = $old, state = 'replaced', at = time::now(); \
                 DELETE type::record('restore_db', $name); \
                 COMMIT TRANSACTION;",
            )
            .bind(("name", name.clone()))
            .bind(("old", old.clone()))
            .await
            .and_then(|r| r.check());
        if let Err(e) = written {
            let pointed =
                pointed_at(&self.live.root, &self.live.namespace, &self.live.base).await?;
            if pointed.as_deref() != Some(name.as_str()) {
                return Err(e.into());
            }
            tracing::warn!(error = %e, "the switch reported an error but committed; following it");
        }
        let db = staged.db();
        let mut current = self
            .live
            .current
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        *current = (db, name);
        Ok(old)
    }

    /// Removes a database a restore made or replaced (recorded in the
    /// bookkeeping database), never the live one.
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
        self.meta()
            .await?
            .query("DELETE type::record('restore_db', $name)")
            .bind(("name", name.to_string()))
            .await?
            .check()?;
        Ok(())
    }

    /// The databases restores left behind, as recorded: replaced ones and
    /// those of restores cut short. Removed at start.
    pub async fn stale_databases(&self) -> Result<Vec<String>, StoreError> {
        let mut response = self
            .meta()
            .await?
            .query("SELECT VALUE name FROM restore_db")
            .await?;
        let names: Vec<String> = match response.take(0) {
            Ok(names) => names,
            Err(e) if e.to_string().contains("does not exist") => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let live = self.database();
        Ok(names.into_iter().filter(|name| *name != live).collect())
    }
}
