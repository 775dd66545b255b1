//! What the core's tests share: a runtime and a core opened on a real data folder, with an
//! in-memory keychain and no outside network.

use crate::{Core, CoreOptions};
use std::path::Path;
use std::sync::Arc;

/// A runtime with two workers (the blocking work of ingest and imports runs beside).
pub(crate) fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The core on the data folder `dir` (created on first use).
pub(crate) async fn core(dir: &Path) -> Core {
    Core::open(CoreOptions {
        data_dir: dir.to_path_buf(),
        secrets: Arc::new(crate::secrets::MemoryStore::new()),
        http: Default::default(),
    })
    .await
    .unwrap()
}
