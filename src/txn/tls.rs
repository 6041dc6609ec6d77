//! heed's markers of how read transactions use thread-local storage (the dereferences
//! between the transactions they mark are in `read.rs`).
//!
//! LMDB ties a read transaction to a thread-local reader slot unless the environment is
//! opened with `MDB_NOTLS`; heed reflects that in the types, `RoTxn<'e, WithTls>` (not `Send`)
//! and `RoTxn<'e, WithoutTls>`. arbordb's read transactions never use thread-local storage:
//! the markers only keep heed's types, and every kind is `Send`.

/// Read transactions of an environment opened with this marker (the default) are
/// `RoTxn<'e, WithTls>`. In LMDB they would use thread-local storage; arbordb's use none,
/// so they are `Send` and a thread may hold several, as with [`WithoutTls`].
#[derive(Debug, PartialEq, Eq)]
pub enum WithTls {}

/// Read transactions of an environment opened with
/// [`EnvOpenOptions::read_txn_without_tls`](crate::EnvOpenOptions::read_txn_without_tls)
/// are `RoTxn<'e, WithoutTls>`: `Send`, several per thread.
#[derive(Debug, PartialEq, Eq)]
pub enum WithoutTls {}

/// The marker of a read transaction whichever way it was opened: every transaction
/// dereferences to `RoTxn<'e, AnyTls>`, which every read method takes.
#[derive(Debug, PartialEq, Eq)]
pub enum AnyTls {}

/// A marker of how read transactions were opened ([`WithTls`], [`WithoutTls`], [`AnyTls`]).
pub trait TlsUsage {
    /// Whether LMDB would use thread-local storage; arbordb never does.
    const ENABLED: bool;
}

impl TlsUsage for WithTls {
    const ENABLED: bool = true;
}

impl TlsUsage for WithoutTls {
    const ENABLED: bool = false;
}

impl TlsUsage for AnyTls {
    const ENABLED: bool = false;
}
