//! An order-preserving serde encoding for keys: the byte-wise order of two encoded keys is the
//! order of the keys themselves, so ranges over a [`ScopedDatabase`](super::ScopedDatabase)
//! follow the key type's own ordering (scoped-heed's bincode keys sorted strings by length).
//!
//! The encoding, value by value:
//!
//! | value | bytes |
//! |---|---|
//! | `bool` | one byte, 0 or 1 |
//! | unsigned integers | big-endian, fixed width |
//! | signed integers | big-endian with the sign bit flipped, so negatives sort first |
//! | `f32`, `f64` | the IEEE bits, all flipped when negative, else the sign bit flipped |
//! | `char` | its code point as a big-endian `u32` |
//! | strings, byte strings | the bytes with each 0x00 written 0x00 0xFF, then 0x00 0x00 |
//! | a string or byte string that is the whole key | the bytes as they are |
//! | `Option` | 0 for `None`; 1 then the value for `Some` |
//! | sequences, maps | 1 before each element (each key and value), 0 at the end |
//! | tuples, structs | the fields in order |
//! | enum variants | the variant index as a big-endian `u32`, then the fields |
//! | unit, unit structs | nothing; newtype structs are their field |
//!
//! The terminator keeps a string that is a prefix of another sorting first even when more
//! fields follow; a string that is the whole key needs none, so `String` keys are stored as
//! their UTF-8 bytes and prefix iteration over them works as on raw strings. The encoding is not
//! self-describing: decoding needs the type, as with bincode.

mod de;
mod ser;

pub(crate) use de::from_bytes;
pub(crate) use ser::to_bytes;

/// The error of the ordered encoding.
#[derive(Debug)]
pub(crate) struct OrderedError(String);

impl std::fmt::Display for OrderedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OrderedError {}

impl serde::ser::Error for OrderedError {
    fn custom<T: std::fmt::Display>(message: T) -> Self {
        OrderedError(message.to_string())
    }
}

impl serde::de::Error for OrderedError {
    fn custom<T: std::fmt::Display>(message: T) -> Self {
        OrderedError(message.to_string())
    }
}

/// Flips what makes two's complement and IEEE floats sort as unsigned big-endian bytes.
pub(crate) const SIGN_BIT_32: u32 = 1 << 31;
pub(crate) const SIGN_BIT_64: u64 = 1 << 63;

/// The escape that follows a 0x00 inside a string, and the byte that ends one after 0x00.
pub(crate) const ESCAPED_ZERO: u8 = 0xFF;
pub(crate) const STRING_END: u8 = 0x00;

/// The markers before each element of a sequence and at its end.
pub(crate) const ELEMENT: u8 = 1;
pub(crate) const SEQUENCE_END: u8 = 0;

#[cfg(test)]
mod tests;
