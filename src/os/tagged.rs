//! [`Tagged`]: a value carrying a zero-sized marker type, viewable under another marker.
//!
//! heed's transactions carry a marker of how they were opened (`RoTxn<'e, WithTls>`) and
//! dereference to the marker-free `RoTxn<'e, AnyTls>` that every read method takes. Such a
//! view of one value as another type is a reference cast, so it lives here, with the only
//! argument it needs: a `Tagged<V, T>` is laid out as `V` whatever `T` is.

use std::marker::PhantomData;

/// `value` tagged with the type `T`, which only the type system sees.
#[repr(transparent)]
pub struct Tagged<V, T> {
    value: V,
    tag: PhantomData<T>,
}

impl<V, T> Tagged<V, T> {
    /// `value` under the tag `T`.
    pub(crate) const fn new(value: V) -> Self {
        Tagged {
            value,
            tag: PhantomData,
        }
    }

    /// The value.
    #[inline(always)]
    pub(crate) fn value(&self) -> &V {
        &self.value
    }

    /// The value, mutably.
    #[inline(always)]
    pub(crate) fn value_mut(&mut self) -> &mut V {
        &mut self.value
    }

    /// The value, moved under the tag `U`.
    #[inline(always)]
    pub(crate) fn into_tagged<U>(self) -> Tagged<V, U> {
        Tagged::new(self.value)
    }

    /// The same value under the tag `U`.
    #[inline(always)]
    pub(crate) fn retagged<U>(&self) -> &Tagged<V, U> {
        // SAFETY: `Tagged` is `repr(transparent)` over `value: V`, its only field of non-zero
        // size (`PhantomData<T>` is zero-sized and of alignment 1 for every `T`), so
        // `Tagged<V, T>` and `Tagged<V, U>` both have exactly `V`'s layout and validity. The
        // reference keeps `self`'s lifetime and shared borrow, and neither type has a `Drop`
        // of its own that a view could run.
        unsafe { &*(self as *const Tagged<V, T>).cast::<Tagged<V, U>>() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    enum Red {}
    enum Blue {}

    #[test]
    fn a_retagged_view_reads_the_same_value() {
        let mut red: Tagged<Vec<u32>, Red> = Tagged::new(vec![1, 2]);
        let blue: &Tagged<Vec<u32>, Blue> = red.retagged();
        assert_eq!(blue.value(), &[1, 2]);
        red.value_mut().push(3);
        let blue: Tagged<Vec<u32>, Blue> = red.into_tagged();
        assert_eq!(blue.value(), &[1, 2, 3]);
        assert_eq!(
            std::mem::size_of::<Tagged<Vec<u32>, Red>>(),
            std::mem::size_of::<Vec<u32>>()
        );
    }
}
