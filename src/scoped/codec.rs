//! How the three kinds of scoped database turn keys and values into bytes: raw bytes, the
//! order-preserving serde encoding for keys, and bincode for values. The traits are sealed:
//! the kinds are [`ScopedDatabase`](super::ScopedDatabase),
//! [`ScopedBytesKeyDatabase`](super::ScopedBytesKeyDatabase) and
//! [`ScopedBytesDatabase`](super::ScopedBytesDatabase).

use std::borrow::Cow;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::ScopedDbError;
use super::ordered;

mod sealed {
    pub trait Sealed {}
}

/// The key side of a scoped database.
pub trait ScopedKeyCodec: sealed::Sealed + 'static {
    /// What `put`, `get`, `delete` and `prefix_iter` take.
    type Key: ?Sized;
    /// What the bounds of a `range` hold.
    type RangeItem<'a>;
    /// What iteration yields.
    type Decoded<'txn>;
    /// Appends the encoding of `key` to `out`.
    #[doc(hidden)]
    fn encode_key(key: &Self::Key, out: &mut Vec<u8>) -> Result<(), ScopedDbError>;
    /// Appends the encoding of a range bound to `out`.
    #[doc(hidden)]
    fn encode_bound(item: &Self::RangeItem<'_>, out: &mut Vec<u8>) -> Result<(), ScopedDbError>;
    /// Decodes a stored key (without its scope prefix).
    #[doc(hidden)]
    fn decode_key(bytes: &[u8]) -> Result<Self::Decoded<'_>, ScopedDbError>;
}

/// The value side of a scoped database.
pub trait ScopedValueCodec: sealed::Sealed + 'static {
    /// What `put` takes.
    type Value: ?Sized;
    /// What `get` and iteration yield.
    type Decoded<'txn>;
    /// Encodes a value.
    #[doc(hidden)]
    fn encode_value(value: &Self::Value) -> Result<Cow<'_, [u8]>, ScopedDbError>;
    /// Decodes a stored value.
    #[doc(hidden)]
    fn decode_value(bytes: &[u8]) -> Result<Self::Decoded<'_>, ScopedDbError>;
}

/// Keys or values stored as the bytes given, borrowed from the transaction when read. Byte
/// keys sort as raw bytes.
pub enum RawBytes {}

impl sealed::Sealed for RawBytes {}

impl ScopedKeyCodec for RawBytes {
    type Key = [u8];
    type RangeItem<'a> = &'a [u8];
    type Decoded<'txn> = &'txn [u8];

    fn encode_key(key: &[u8], out: &mut Vec<u8>) -> Result<(), ScopedDbError> {
        out.extend_from_slice(key);
        Ok(())
    }

    fn encode_bound(item: &&[u8], out: &mut Vec<u8>) -> Result<(), ScopedDbError> {
        out.extend_from_slice(item);
        Ok(())
    }

    fn decode_key(bytes: &[u8]) -> Result<&[u8], ScopedDbError> {
        Ok(bytes)
    }
}

impl ScopedValueCodec for RawBytes {
    type Value = [u8];
    type Decoded<'txn> = &'txn [u8];

    fn encode_value(value: &[u8]) -> Result<Cow<'_, [u8]>, ScopedDbError> {
        Ok(Cow::Borrowed(value))
    }

    fn decode_value(bytes: &[u8]) -> Result<&[u8], ScopedDbError> {
        Ok(bytes)
    }
}

/// Serde keys in an order-preserving encoding (strings sort as strings, integers
/// numerically, tuples and structs field by field); see the `ordered` module's table.
pub struct OrderedKey<K>(PhantomData<fn() -> K>);

impl<K> sealed::Sealed for OrderedKey<K> {}

impl<K: Serialize + DeserializeOwned + 'static> ScopedKeyCodec for OrderedKey<K> {
    type Key = K;
    type RangeItem<'a> = K;
    type Decoded<'txn> = K;

    fn encode_key(key: &K, out: &mut Vec<u8>) -> Result<(), ScopedDbError> {
        ordered::to_bytes(key, out).map_err(|error| ScopedDbError::Encoding(error.to_string()))
    }

    fn encode_bound(item: &K, out: &mut Vec<u8>) -> Result<(), ScopedDbError> {
        Self::encode_key(item, out)
    }

    fn decode_key(bytes: &[u8]) -> Result<K, ScopedDbError> {
        ordered::from_bytes(bytes)
            .map_err(|error| ScopedDbError::Heed(crate::Error::Decoding(Box::new(error))))
    }
}

/// Serde values encoded with bincode, as scoped-heed stores them.
pub struct Bincode<V>(PhantomData<fn() -> V>);

impl<V> sealed::Sealed for Bincode<V> {}

impl<V: Serialize + DeserializeOwned + 'static> ScopedValueCodec for Bincode<V> {
    type Value = V;
    type Decoded<'txn> = V;

    fn encode_value(value: &V) -> Result<Cow<'_, [u8]>, ScopedDbError> {
        bincode::serialize(value)
            .map(Cow::Owned)
            .map_err(|error| ScopedDbError::Encoding(error.to_string()))
    }

    fn decode_value(bytes: &[u8]) -> Result<V, ScopedDbError> {
        bincode::deserialize(bytes)
            .map_err(|error| ScopedDbError::Heed(crate::Error::Decoding(error)))
    }
}
