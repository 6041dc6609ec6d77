//! Flag sets in heed's shape: [`EnvFlags`], [`PutFlags`], [`DatabaseFlags`].

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
    /// [`EnvOpenOptions::flags`](crate::EnvOpenOptions::flags).
    EnvFlags {
        /// Do not sync at commit at all. A process crash loses nothing (the kernel still has
        /// the writes), but an operating-system crash or power loss may lose recent commits
        /// and may leave the file corrupt, because the kernel may write the meta page before
        /// the pages it points to.
        NO_SYNC = 1;
        /// Sync the data pages but not the meta page at commit. An operating-system crash or
        /// power loss may lose the last commits (a torn meta is ignored thanks to its
        /// checksum), but never corrupts the file: the pages of every durable meta are synced
        /// before a newer meta is written.
        NO_META_SYNC = 2;
        /// Open read-only: write transactions return [`Error::ReadOnly`](crate::Error::ReadOnly).
        READ_ONLY = 4;
        /// The path names the data file itself rather than a directory; the lock file is the
        /// path with `-lock` appended.
        NO_SUB_DIR = 8;
    }
}

flag_set! {
    /// Options of one put, for [`Database::put_with_flags`](crate::Database::put_with_flags).
    PutFlags {
        /// Fail with [`Error::KeyExist`](crate::Error::KeyExist) if the key exists.
        NO_OVERWRITE = 1;
        /// The key sorts after every key in the database (else
        /// [`Error::KeyExist`](crate::Error::KeyExist)); pages are filled completely, so a
        /// sorted bulk load is faster and smaller.
        APPEND = 2;
        /// In a duplicate-sorted database: fail with
        /// [`Error::KeyExist`](crate::Error::KeyExist) if the pair exists (LMDB's
        /// `MDB_NODUPDATA`).
        NO_DUP_DATA = 4;
        /// In a duplicate-sorted database: the value sorts after the key's values (else
        /// [`Error::KeyExist`](crate::Error::KeyExist)), for loading a key's values in order
        /// (LMDB's `MDB_APPENDDUP`).
        APPEND_DUP = 8;
    }
}

flag_set! {
    /// Options of a database, set with
    /// [`DatabaseOpenOptions::flags`](crate::DatabaseOpenOptions::flags) when it is created
    /// and recorded with it; opening it again with other flags is
    /// [`Error::Incompatible`](crate::Error::Incompatible). The values are LMDB's.
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
        /// another size is [`Error::ValueSizeMismatch`](crate::Error::ValueSizeMismatch)),
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
        assert_eq!(format!("{flags:?}"), "EnvFlags(NO_SYNC | NO_SUB_DIR)");
        assert!(EnvFlags::empty().is_empty());
    }
}
