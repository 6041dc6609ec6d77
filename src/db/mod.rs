//! Layer 6, `db`: typed databases over the byte-level transactions.
//!
//! A [`Database<KC, DC>`] is a cheap, copyable handle naming one database of an environment;
//! its key and data codecs (`KC`, `DC`) turn typed items into bytes and back, in heed's shape.

mod bulk;
mod codec;
mod comparator;
mod database;
mod database_info;
mod database_mut;
mod env_databases;
mod integer;
mod iter;
mod iter_mut;
pub mod iteration_method;
mod lazy;
mod options;
mod reserved;
mod seek;
#[cfg(any(feature = "serde-bincode", feature = "serde-json"))]
mod serde;
pub mod types;

pub use codec::{BytesDecode, BytesEncode};
pub use comparator::{Comparator, DefaultComparator, IntegerComparator, LexicographicComparator};
pub use database::{Database, DatabaseStat};
pub use database_info::DatabaseInfo;
pub use iter::{RoIter, RoPrefix, RoRange, RoRevIter, RoRevPrefix, RoRevRange};
pub use iter_mut::{RwIter, RwPrefix, RwRange, RwRevIter, RwRevPrefix, RwRevRange};
pub use options::{DatabaseOpenOptions, Unspecified};
pub use reserved::ReservedSpace;
