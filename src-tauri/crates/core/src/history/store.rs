//! The merge's entry on the database's writer thread (see `history::merge`): every import and
//! restore ends here.

use crate::error::StoreError;
use crate::store::Store;
use parley_protocol::ImportReport;
use std::path::Path;

/// Merges the Parley database `file` (of the current schema, private to this process) into
/// `store`, as it is written (`follow`); see `history::merge`. A restore (the backups topic)
/// reaches the merge through this function.
pub(crate) async fn merge_database(
    store: &Store,
    file: &Path,
    dry_run: bool,
    follow: super::merge::Follow,
) -> Result<ImportReport, StoreError> {
    let file = file.to_owned();
    store
        .writer
        .call(move |c| super::merge::merge(c, &file, dry_run, follow))
        .await
}
