//! Flag sets in heed's shape: [`EnvFlags`], [`PutFlags`], [`DatabaseFlags`], and
//! [`FlagSetMode`] for [`Env::set_flags`](crate::Env::set_flags).

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

macro_rules! flag_set {
    ($(#[$doc:meta])* $name:ident { $($(#[$flag_doc:meta])* $flag:ident = $bit:expr;)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name(u32);

        impl $name {
            $($(#[$flag_doc])* pub const $flag: $name = $name($bit);)*

            /// No flag set.
            pub const fn empty() -> $name {
                $name(0)
            }

            /// Every flag.
            pub const fn all() -> $name {
                $name(0 $(| $bit)*)
            }

            /// The flags of `bits`, or `None` if a bit names no flag.
            pub const fn from_bits(bits: u32) -> Option<$name> {
                if bits & !Self::all().0 == 0 {
                    Some($name(bits))
                } else {
                    None
                }
            }

            /// The flags of `bits`, ignoring bits that name no flag.
            pub const fn from_bits_truncate(bits: u32) -> $name {
                $name(bits & Self::all().0)
            }

            /// `self` with the flags of `other` added.
            pub fn insert(&mut self, other: $name) {
                self.0 |= other.0;
            }

            /// `self` without the flags of `other`.
            pub fn remove(&mut self, other: $name) {
                self.0 &= !other.0;
            }

            /// Whether every flag of `other` is set in `self`.
            pub const fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }

            /// Whether no flag is set.
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// The raw bits.
            pub const fn bits(self) -> u32 {
                self.0
            }
        }

        impl BitOr for $name {
            type Output = $name;
            fn bitor(self, other: $name) -> $name {
                $name(self.0 | other.0)
            }
        }

        impl BitOrAssign for $name {
            fn bitor_assign(&mut self, other: $name) {
                self.0 |= other.0;
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let names: Vec<&str> = [$((stringify!($flag), $name::$flag)),*]
                    .iter()
                    .filter(|(_, flag)| self.contains(*flag))
                    .map(|(name, _)| *name)
                    .collect();
                write!(f, "{}({})", stringify!($name), names.join(" | "))
            }
        }
    };
}

flag_set! {
    /// Options of an environment, set with
    /// [`EnvOpenOptions::flags`](crate::EnvOpenOptions::flags); the values are LMDB's.
    ///
    /// heed's whole set is here. `NO_SYNC`, `NO_META_SYNC`, `READ_ONLY`, `NO_SUB_DIR` and
    /// `NO_READ_AHEAD` do what LMDB does; the others are accepted and change nothing, because
    /// arbordb has no use for them (each says why).
    EnvFlags {
        /// LMDB maps the file at a fixed address. No effect: nothing in an arbordb file
        /// depends on where it is mapped.
        FIXED_MAP = 0x01;
        /// The path names the data file itself rather than a directory; the lock file is the
        /// path with `-lock` appended.
        NO_SUB_DIR = 0x4000;
        /// Do not sync at commit at all. A process crash loses nothing (the kernel still has
        /// the writes), but an operating-system crash or power loss may lose recent commits
        /// and may leave the file corrupt, because the kernel may write the meta page before
        /// the pages it points to.
        NO_SYNC = 0x1_0000;
        /// Open read-only: write transactions return
        /// [`Error::Mdb(MdbError::ReadOnly)`](crate::MdbError::ReadOnly).
        READ_ONLY = 0x2_0000;
        /// Sync the data pages but not the meta page at commit. An operating-system crash or
        /// power loss may lose the last commits (a torn meta is ignored thanks to its
        /// checksum), but never corrupts the file: the pages of every durable meta are synced
        /// before a newer meta is written.
        NO_META_SYNC = 0x4_0000;
        /// LMDB writes through a writable map. No effect: arbordb's map is read-only and it
        /// writes with `pwrite`, so a stray write of the application cannot reach the file.
        WRITE_MAP = 0x8_0000;
        /// With `WRITE_MAP`, LMDB flushes the map asynchronously. No effect (no `WRITE_MAP`).
        MAP_ASYNC = 0x10_0000;
        /// LMDB ties a read transaction to its thread's slot unless this is set. No effect:
        /// arbordb's read transactions never use a thread-local slot; every one is `Send`
        /// and a thread may hold several.
        NO_TLS = 0x20_0000;
        /// LMDB then takes no locks at all, leaving them to the application. No effect:
        /// arbordb always takes its locks (the writer lock and the reader table's), which
        /// costs little and keeps an application that gets its own locking wrong safe.
        NO_LOCK = 0x40_0000;
        /// The kernel is told not to read ahead around a page fault of the map
        /// (`madvise(MADV_RANDOM)`): useful when the database is larger than memory and is
        /// read at random.
        NO_READ_AHEAD = 0x80_0000;
        /// LMDB then does not zero the unused part of the pages it writes. No effect: arbordb
        /// writes pages from buffers it has initialised.
        NO_MEM_INIT = 0x100_0000;
        /// Opens the commit before the newest, as LMDB does: to look past, or roll back, a
        /// commit that damaged the data. [`EnvInfo::skipped_meta`](crate::EnvInfo::skipped_meta)
        /// names the commit passed over.
        ///
        /// Read-only, the newest commit stays in the file. Writable, it stays until the first
        /// write transaction writes to the file (at its commit, or when it spills pages), which
        /// first discards it, durably, so that a crash from then on opens the previous commit
        /// and never a commit whose pages were written over; the commit then takes its place,
        /// and the flag is reset, as in LMDB. Until that commit (read-only: until it closes)
        /// no other process can open the environment, which would take the previous commit
        /// as the newest (LMDB keeps its lock exclusive the same way). Refused with
        /// [`MdbError::InvalidOption`](crate::MdbError::InvalidOption) when another process
        /// has the environment open, or when the file holds no valid commit before the newest;
        /// ignored when the open creates the file.
        PREV_SNAPSHOT = 0x200_0000;
    }
}

impl EnvFlags {
    /// The flags [`Env::set_flags`](crate::Env::set_flags) may change on an open environment,
    /// as LMDB's `mdb_env_set_flags` allows.
    pub const CHANGEABLE: EnvFlags = EnvFlags(
        EnvFlags::NO_SYNC.0
            | EnvFlags::NO_META_SYNC.0
            | EnvFlags::MAP_ASYNC.0
            | EnvFlags::NO_MEM_INIT.0,
    );
}

/// Whether [`Env::set_flags`](crate::Env::set_flags) sets or clears the flags it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlagSetMode {
    /// Set them.
    Enable,
    /// Clear them.
    Disable,
}

flag_set! {
    /// Options of one put, for [`Database::put_with_flags`](crate::Database::put_with_flags).
    PutFlags {
        /// Fail with [`Error::Mdb(MdbError::KeyExist)`](crate::MdbError::KeyExist) if the key
        /// exists.
        NO_OVERWRITE = 1;
        /// The key sorts after every key in the database (else
        /// [`Error::Mdb(MdbError::KeyExist)`](crate::MdbError::KeyExist)); pages are filled
        /// completely, so a sorted bulk load is faster and smaller.
        APPEND = 2;
        /// In a duplicate-sorted database: fail with
        /// [`Error::Mdb(MdbError::KeyExist)`](crate::MdbError::KeyExist) if the pair exists (LMDB's
        /// `MDB_NODUPDATA`).
        NO_DUP_DATA = 4;
        /// In a duplicate-sorted database: the value sorts after the key's values (else
        /// [`Error::Mdb(MdbError::KeyExist)`](crate::MdbError::KeyExist)), for loading a key's
        /// values in order (LMDB's `MDB_APPENDDUP`).
        APPEND_DUP = 8;
    }
}

flag_set! {
    /// Options of a database, set with
    /// [`DatabaseOpenOptions::flags`](crate::DatabaseOpenOptions::flags) when it is created and
    /// recorded with it; opening it again with other flags is
    /// [`Error::Mdb(MdbError::IncompatibleDatabase)`](crate::MdbError::IncompatibleDatabase). The
    /// values are LMDB's.
    DatabaseFlags {
        /// Keys compare byte-wise from their last byte to their first (LMDB's
        /// `MDB_REVERSEKEY`), a key that ends another first.
        REVERSE_KEY = 0x02;
        /// A key may have several values, kept sorted, each stored once (LMDB's
        /// `MDB_DUPSORT`). Values are then at most `Env::max_key_size` bytes, as keys.
        DUP_SORT = 0x04;
        /// Keys are unsigned integers of one size, compared as numbers (LMDB's
        /// `MDB_INTEGERKEY`); prefer
        /// [`IntegerComparator`](crate::IntegerComparator), which sets it. With
        /// [`REVERSE_KEY`](Self::REVERSE_KEY) as well, keys are in its order, as in LMDB.
        INTEGER_KEY = 0x08;
        /// With `DUP_SORT`: the values of a key all have one size (that of its first value;
        /// another size is [`Error::Mdb(MdbError::BadValSize)`](crate::MdbError::BadValSize)),
        /// and are stored packed, without a length each (LMDB's `MDB_DUPFIXED`).
        DUP_FIXED = 0x10;
        /// With `DUP_SORT`: values are unsigned integers of one size, compared as numbers
        /// (LMDB's `MDB_INTEGERDUP`); prefer `dup_sort_comparator::<IntegerComparator>()`.
        INTEGER_DUP = 0x20;
        /// With `DUP_SORT`: values compare byte-wise from their last byte (LMDB's
        /// `MDB_REVERSEDUP`).
        REVERSE_DUP = 0x40;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_combine_and_print() {
        let flags = EnvFlags::NO_SYNC | EnvFlags::NO_SUB_DIR;
        assert!(flags.contains(EnvFlags::NO_SYNC));
        assert!(!flags.contains(EnvFlags::READ_ONLY));
        assert_eq!(format!("{flags:?}"), "EnvFlags(NO_SUB_DIR | NO_SYNC)");
        assert!(EnvFlags::empty().is_empty());
    }

    #[test]
    fn flags_convert_from_bits_as_bitflags_does() {
        assert_eq!(EnvFlags::NO_SYNC.bits(), 0x1_0000, "LMDB's MDB_NOSYNC");
        assert_eq!(
            EnvFlags::from_bits(0x1_0000 | 0x4000),
            Some(EnvFlags::NO_SYNC | EnvFlags::NO_SUB_DIR)
        );
        assert_eq!(EnvFlags::from_bits(0x2), None, "no flag has this bit");
        assert_eq!(EnvFlags::from_bits_truncate(0x1_0002), EnvFlags::NO_SYNC);
        assert_eq!(
            EnvFlags::from_bits(EnvFlags::all().bits()),
            Some(EnvFlags::all())
        );
        let mut flags = EnvFlags::READ_ONLY;
        flags.insert(EnvFlags::NO_SYNC);
        flags.remove(EnvFlags::READ_ONLY);
        assert_eq!(flags, EnvFlags::NO_SYNC);
        assert_eq!(DatabaseFlags::all().bits(), 0x7e);
    }
}
