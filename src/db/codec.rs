//! The codec traits, with heed's signatures.

use std::borrow::Cow;

use crate::error::BoxedError;

/// Turns an item into the bytes stored in the database.
pub trait BytesEncode<'a> {
    /// The type of item encoded.
    type EItem: ?Sized + 'a;

    /// Encodes `item`, borrowing from it when possible.
    fn bytes_encode(item: &'a Self::EItem) -> Result<Cow<'a, [u8]>, BoxedError>;
}

/// Turns bytes read from the database into an item, which may borrow from them.
pub trait BytesDecode<'a> {
    /// The type of item decoded.
    type DItem: 'a;

    /// Decodes `bytes`.
    fn bytes_decode(bytes: &'a [u8]) -> Result<Self::DItem, BoxedError>;
}
