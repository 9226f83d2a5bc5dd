//! What a run did.

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counts {
    /// Transactions committed.
    pub commits: i64,
    /// Calls new to the database.
    pub inserted: i64,
    /// Calls stored before, read again and changed.
    pub updated: i64,
    /// Calls stored before, read again and unchanged.
    pub unchanged: i64,
    /// Windows of calls in progress read again.
    pub rechecked: i64,
    /// Transcripts stored (`--with-transcripts`).
    pub transcripts: i64,
    /// Transcripts that could not be fetched (their calls stored; tried again by later runs).
    pub transcripts_missing: i64,
    /// The kind of the first of those failures.
    pub first_missing: Option<ccsqm_client::ErrorKind>,
    /// Warnings: paging's, and values stored in another form than sent (see
    /// `SqlValue::replace_nul`).
    pub warnings: i64,
    /// What the pages held that `spec/ccsqm.yaml` does not describe (over every window read).
    pub drift: ccsqm_client::Drift,
}
