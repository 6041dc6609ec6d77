//! heed's reserved writes: a value of a size given up front, written by the caller's
//! function into a [`ReservedSpace`].
//!
//! LMDB reserves the space in the page and hands it out; arbordb hands out a zeroed buffer of
//! that size and stores it once the function has filled it, so a function that fails, panics
//! or leaves the space part empty changes nothing.

use std::{fmt, io};

use super::codec::{BytesDecode, BytesEncode};
use super::database::{encode, put_encoded, Database};
use crate::error::{Error, Result};
use crate::flags::PutFlags;
use crate::txn::{RoTxn, RwTxn};

/// The space of a reserved write ([`Database::put_reserved`]): exactly its
/// [`size`](Self::size) bytes must be written, through [`io::Write`], before the function
/// returns; [`io::Seek`] moves within what was written.
///
/// Unlike heed's, it is an ordinary zeroed buffer, so it has no `as_uninit_mut` or
/// `assume_written` (which need `unsafe` code arbordb keeps out of its API); use
/// [`written_mut`](Self::written_mut) and [`fill_zeroes`](Self::fill_zeroes) instead.
pub struct ReservedSpace<'a> {
    bytes: &'a mut [u8],
    /// Bytes `0..written` have been written.
    written: usize,
    /// Where the next write goes; at most `written`.
    write_head: usize,
}

impl ReservedSpace<'_> {
    /// The size of the space in bytes.
    pub fn size(&self) -> usize {
        self.bytes.len()
    }

    /// The bytes left to write after the current position.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.write_head
    }

    /// The bytes written so far, to change in place (a header filled in last, for instance).
    pub fn written_mut(&mut self) -> &mut [u8] {
        &mut self.bytes[..self.written]
    }

    /// Fills the rest of the space with zeroes: the whole space then counts as written.
    pub fn fill_zeroes(&mut self) {
        self.bytes[self.write_head..].fill(0);
        self.written = self.bytes.len();
        self.write_head = self.bytes.len();
    }
}

impl io::Write for ReservedSpace<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    /// Writes all of `buf`, or nothing and [`io::ErrorKind::WriteZero`] when it does not fit.
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let end = self.write_head + buf.len();
        let Some(target) = self.bytes.get_mut(self.write_head..end) else {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "the write runs past the reserved space",
            ));
        };
        target.copy_from_slice(buf);
        self.write_head = end;
        self.written = self.written.max(end);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Moves within the bytes written so far; a position before the start or past them is an
/// [`io::ErrorKind::InvalidInput`] error.
impl io::Seek for ReservedSpace<'_> {
    fn seek(&mut self, position: io::SeekFrom) -> io::Result<u64> {
        let (base, offset) = match position {
            io::SeekFrom::Start(start) => (start, 0),
            io::SeekFrom::End(offset) => (self.written as u64, offset),
            io::SeekFrom::Current(offset) => (self.write_head as u64, offset),
        };
        match base.checked_add_signed(offset) {
            Some(target) if target <= self.written as u64 => {
                self.write_head = target as usize;
                Ok(target)
            }
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a reserved space is sought only within what was written",
            )),
        }
    }
}

impl fmt::Debug for ReservedSpace<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReservedSpace")
            .field("size", &self.size())
            .field("written", &self.written)
            .field("position", &self.write_head)
            .finish()
    }
}

/// Runs `write_func` on a zeroed space of `size` bytes; the bytes, once it filled them. An
/// error of the function is [`Error::Io`]; space left at its end is [`Error::Io`] of kind
/// [`io::ErrorKind::UnexpectedEof`], as in heed.
pub(super) fn reserve<F>(size: usize, write_func: F) -> Result<Vec<u8>>
where
    F: FnOnce(&mut ReservedSpace) -> io::Result<()>,
{
    let mut bytes = vec![0u8; size];
    let mut space = ReservedSpace {
        bytes: &mut bytes,
        written: 0,
        write_head: 0,
    };
    write_func(&mut space)?;
    if space.remaining() != 0 {
        return Err(Error::Io(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!(
                "{} of the {size} reserved bytes were left unwritten; nothing was stored",
                space.remaining()
            ),
        )));
    }
    Ok(bytes)
}

impl<KC, DC, C, CDUP> Database<KC, DC, C, CDUP> {
    /// Stores under `key` a value of `data_size` bytes that `write_func` writes, as
    /// [`put`](Self::put) would store it. `write_func` must write exactly `data_size` bytes
    /// (else [`Error::Io`] of kind `UnexpectedEof`); when it fails or falls short, nothing is
    /// stored and the transaction goes on.
    pub fn put_reserved<'a, F>(
        &self,
        txn: &mut RwTxn<'_>,
        key: &'a KC::EItem,
        data_size: usize,
        write_func: F,
    ) -> Result<()>
    where
        KC: BytesEncode<'a>,
        F: FnOnce(&mut ReservedSpace) -> io::Result<()>,
    {
        self.put_reserved_with_flags(txn, PutFlags::empty(), key, data_size, write_func)
    }

    /// [`put_reserved`](Self::put_reserved) with `flags` as
    /// [`put_with_flags`](Self::put_with_flags) takes them. `write_func` runs before
    /// anything is stored, so a refusal by the flags comes after it ran.
    pub fn put_reserved_with_flags<'a, F>(
        &self,
        txn: &mut RwTxn<'_>,
        flags: PutFlags,
        key: &'a KC::EItem,
        data_size: usize,
        write_func: F,
    ) -> Result<()>
    where
        KC: BytesEncode<'a>,
        F: FnOnce(&mut ReservedSpace) -> io::Result<()>,
    {
        txn.check_env(self.env_id())?;
        let key = encode::<KC>(key)?;
        let data = reserve(data_size, write_func)?;
        let dup_sort = self.is_dup_sort(txn)?;
        put_encoded(txn, self.dbi(), dup_sort, flags, &key, &data)
    }

    /// Returns the value of `key` if it has one; otherwise stores `data` under it with
    /// `flags` (and `NO_OVERWRITE`) and returns `None`, as heed's. A refusal by the flags
    /// (`APPEND` of a key out of order) is its error.
    pub fn get_or_put_with_flags<'a, 'txn>(
        &self,
        txn: &'txn mut RwTxn<'_>,
        flags: PutFlags,
        key: &'a KC::EItem,
        data: &'a DC::EItem,
    ) -> Result<Option<DC::DItem>>
    where
        KC: BytesEncode<'a>,
        DC: BytesEncode<'a> + BytesDecode<'txn>,
    {
        txn.check_env(self.env_id())?;
        let key = encode::<KC>(key)?;
        let data = encode::<DC>(data)?;
        self.get_or_put_encoded(txn, flags, &key, || Ok(data.into_owned()))
    }

    /// [`get_or_put`](Self::get_or_put) of a value of `data_size` bytes that `write_func`
    /// writes, called only when `key` has no value.
    pub fn get_or_put_reserved<'a, 'txn, F>(
        &self,
        txn: &'txn mut RwTxn<'_>,
        key: &'a KC::EItem,
        data_size: usize,
        write_func: F,
    ) -> Result<Option<DC::DItem>>
    where
        KC: BytesEncode<'a>,
        F: FnOnce(&mut ReservedSpace) -> io::Result<()>,
        DC: BytesDecode<'txn>,
    {
        self.get_or_put_reserved_with_flags(txn, PutFlags::empty(), key, data_size, write_func)
    }

    /// [`get_or_put_reserved`](Self::get_or_put_reserved) with `flags`, as
    /// [`get_or_put_with_flags`](Self::get_or_put_with_flags) takes them.
    pub fn get_or_put_reserved_with_flags<'a, 'txn, F>(
        &self,
        txn: &'txn mut RwTxn<'_>,
        flags: PutFlags,
        key: &'a KC::EItem,
        data_size: usize,
        write_func: F,
    ) -> Result<Option<DC::DItem>>
    where
        KC: BytesEncode<'a>,
        F: FnOnce(&mut ReservedSpace) -> io::Result<()>,
        DC: BytesDecode<'txn>,
    {
        txn.check_env(self.env_id())?;
        let key = encode::<KC>(key)?;
        self.get_or_put_encoded(txn, flags, &key, || reserve(data_size, write_func))
    }

    /// The value of the encoded `key` if it has one, else `None` after storing the value
    /// `data` makes, with `flags` and `NO_OVERWRITE`.
    pub(super) fn get_or_put_encoded<'txn>(
        &self,
        txn: &'txn mut RwTxn<'_>,
        flags: PutFlags,
        key: &[u8],
        data: impl FnOnce() -> Result<Vec<u8>>,
    ) -> Result<Option<DC::DItem>>
    where
        DC: BytesDecode<'txn>,
    {
        let dbi = self.dbi();
        if txn.get(dbi, key)?.is_none() {
            let data = data()?;
            let dup_sort = self.is_dup_sort(txn)?;
            txn.failing_on_panic(|txn| {
                put_encoded(
                    txn,
                    dbi,
                    dup_sort,
                    flags | PutFlags::NO_OVERWRITE,
                    key,
                    &data,
                )
            })?;
            return Ok(None);
        }
        let txn: &'txn RoTxn<'_> = txn;
        let bytes = txn.get(dbi, key)?.expect("found just above");
        Ok(Some(DC::bytes_decode(bytes).map_err(Error::Decoding)?))
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Seek, SeekFrom, Write};

    use super::*;

    #[test]
    fn a_space_takes_writes_and_seeks_within_what_was_written() {
        let bytes = reserve(8, |space| {
            assert_eq!((space.size(), space.remaining()), (8, 8));
            space.write_all(b"head")?;
            assert!(
                space.seek(SeekFrom::Current(1)).is_err(),
                "past what was written"
            );
            space.seek(SeekFrom::Start(1))?;
            space.write_all(b"EA")?;
            assert_eq!(space.seek(SeekFrom::End(0))?, 4);
            assert!(space.write_all(b"toolong").is_err(), "past the space");
            space.written_mut()[0] = b'H';
            space.fill_zeroes();
            assert_eq!(space.remaining(), 0);
            Ok(())
        })
        .unwrap();
        assert_eq!(bytes, b"HEAd\0\0\0\0");
        let short = reserve(4, |space| space.write_all(b"abc"));
        assert!(
            matches!(short, Err(Error::Io(ref error)) if error.kind() == io::ErrorKind::UnexpectedEof)
        );
        let failed = reserve(4, |_| Err(io::Error::other("the caller's own")));
        assert!(
            matches!(failed, Err(Error::Io(ref error)) if error.to_string() == "the caller's own")
        );
    }
}
