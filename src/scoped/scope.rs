//! [`Scope`]: the default scope or a named one, with its hash.

use super::error::ScopedDbError;
use super::hash::scope_hash;

/// Which scope an operation works in: the default scope (keys stored unprefixed, in a tree of
/// their own) or a named scope (keys stored behind the 4-byte big-endian hash of the name).
///
/// The empty name is never a scope: [`Scope::named`] refuses it, and a scope built with an
/// empty name in any other way (`Scope::from("")`, `Some("")` in the `*_with_name` methods,
/// or by hand) makes every operation return [`ScopedDbError::EmptyScopeDisallowed`]. Use
/// [`Scope::Default`] (or `None`) for the default scope. scoped-heed treated `Some("")` as the
/// default scope in some places and as an error in others.
///
/// ```
/// use arbordb::scoped::Scope;
///
/// let tenant = Scope::named("tenant1").unwrap();
/// assert_eq!(tenant.name(), Some("tenant1"));
/// assert_eq!(tenant.hash(), Some(0x4ed8_79c3));
/// assert!(Scope::named("").is_err());
/// assert!(Scope::from(None).is_default());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The default scope: keys without a prefix.
    Default,
    /// A named scope.
    Named {
        /// The scope's name.
        name: String,
        /// XXH32 (seed 0) of the name's UTF-8 bytes. Operations check that it matches `name`,
        /// so a hand-built scope with a wrong hash cannot reach another scope's keys.
        hash: u32,
    },
}

impl Scope {
    /// A named scope; refuses the empty name with [`ScopedDbError::EmptyScopeDisallowed`].
    pub fn named(name: &str) -> Result<Scope, ScopedDbError> {
        if name.is_empty() {
            return Err(ScopedDbError::EmptyScopeDisallowed);
        }
        Ok(Scope::Named {
            name: name.to_owned(),
            hash: scope_hash(name),
        })
    }

    /// The name of a named scope; `None` for the default scope.
    pub fn name(&self) -> Option<&str> {
        match self {
            Scope::Default => None,
            Scope::Named { name, .. } => Some(name),
        }
    }

    /// The hash of a named scope; `None` for the default scope.
    pub fn hash(&self) -> Option<u32> {
        match self {
            Scope::Default => None,
            Scope::Named { hash, .. } => Some(*hash),
        }
    }

    /// Whether this is the default scope.
    pub fn is_default(&self) -> bool {
        matches!(self, Scope::Default)
    }

    /// The hash of a named scope after checking that the scope is well formed; `None` for the
    /// default scope.
    pub(crate) fn checked_hash(&self) -> Result<Option<u32>, ScopedDbError> {
        match self {
            Scope::Default => Ok(None),
            Scope::Named { name, .. } if name.is_empty() => {
                Err(ScopedDbError::EmptyScopeDisallowed)
            }
            Scope::Named { name, hash } if *hash != scope_hash(name) => {
                Err(ScopedDbError::InvalidInput(format!(
                    "scope {name:?} carries hash {hash:#010x}, but its name hashes to {:#010x}; \
                     build scopes with Scope::named",
                    scope_hash(name)
                )))
            }
            Scope::Named { hash, .. } => Ok(Some(*hash)),
        }
    }
}

/// A named scope, without the empty-name check of [`Scope::named`]: `Scope::from("")` is a
/// scope every operation refuses (see [`Scope`]), never the default scope.
impl From<&str> for Scope {
    fn from(name: &str) -> Scope {
        Scope::Named {
            name: name.to_owned(),
            hash: scope_hash(name),
        }
    }
}

/// `None` is the default scope; `Some(name)` as `Scope::from(name)`.
impl From<Option<&str>> for Scope {
    fn from(name: Option<&str>) -> Scope {
        name.map_or(Scope::Default, Scope::from)
    }
}

#[cfg(test)]
mod tests {
    use super::Scope;
    use crate::scoped::ScopedDbError;

    #[test]
    fn accessors() {
        let scope = Scope::named("tenant").unwrap();
        assert!(!scope.is_default());
        assert_eq!(scope.name(), Some("tenant"));
        assert_eq!(scope.checked_hash().unwrap(), scope.hash());
        assert_eq!(Scope::Default.name(), None);
        assert_eq!(Scope::Default.hash(), None);
        assert_eq!(Scope::from(Some("tenant")), scope);
        assert_eq!(Scope::from("tenant"), scope);
    }

    #[test]
    fn the_empty_name_is_refused_by_every_route() {
        assert!(matches!(
            Scope::named(""),
            Err(ScopedDbError::EmptyScopeDisallowed)
        ));
        for scope in [Scope::from(""), Scope::from(Some(""))] {
            assert!(!scope.is_default());
            assert!(matches!(
                scope.checked_hash(),
                Err(ScopedDbError::EmptyScopeDisallowed)
            ));
        }
    }

    #[test]
    fn a_hand_built_hash_must_match_the_name() {
        let forged = Scope::Named {
            name: "tenant".into(),
            hash: 7,
        };
        assert!(matches!(
            forged.checked_hash(),
            Err(ScopedDbError::InvalidInput(_))
        ));
    }
}
