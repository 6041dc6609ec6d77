//! When a write transaction writes dirty pages to the file before its commit ("spills" them,
//! as LMDB does), and how many.
//!
//! Spilling bounds a transaction's memory and spreads a large commit's writing over the
//! transaction. It pays off when the pages written are not changed again, as in a sorted
//! load, where every leaf left of the insertion point is finished: the load then writes each
//! page once, part of it while the caller is still producing pairs. It costs when they are
//! changed again, as in a random load larger than the limit, where most spilled leaves are
//! soon read back and written once more, so a fixed low threshold would write the same leaf
//! many times (docs/design.md, invariant 14, and docs/BENCHMARKS.md have the measurements).
//!
//! So the transaction starts spilling early ([`SPILL_START_BYTES`]) a small part at a time
//! (an eighth), and watches what comes back: when more than a quarter of the pages it spilled
//! last were changed again before the next spill, spilling does not pay for this workload,
//! and the threshold doubles, up to the environment's hard limit
//! ([`EnvOpenOptions::txn_memory_max`](crate::EnvOpenOptions::txn_memory_max)), which is
//! always kept.

/// The dirty-page bytes at which a transaction first spills (unless the hard limit is lower).
pub(crate) const SPILL_START_BYTES: usize = 64 << 20;

/// A spill writes enough pages to leave this fraction of the threshold in memory (7/8): a
/// small part each time, so that little is lost when spilled pages come back.
const KEEP_EIGHTHS: usize = 7;

/// The spilling state of one write transaction.
#[derive(Clone, Debug)]
pub(crate) struct SpillPolicy {
    /// Dirty bytes past which the next change spills.
    threshold: usize,
    /// Pages (buffers) written by the last spill.
    spilled_last: usize,
    /// Spilled pages changed again since the last spill.
    returned: usize,
}

impl Default for SpillPolicy {
    fn default() -> Self {
        SpillPolicy {
            threshold: SPILL_START_BYTES,
            spilled_last: 0,
            returned: 0,
        }
    }
}

impl SpillPolicy {
    /// With `dirty_bytes` in memory and the hard limit `limit_bytes`: how many bytes a spill
    /// should leave in memory now, or `None` to spill nothing.
    pub(crate) fn keep_bytes(&mut self, dirty_bytes: usize, limit_bytes: usize) -> Option<usize> {
        self.threshold = self.threshold.min(limit_bytes);
        if dirty_bytes <= self.threshold {
            return None;
        }
        if self.returned * 4 > self.spilled_last && self.threshold < limit_bytes {
            // The last spill's pages are coming back: spill later instead, if allowed.
            self.threshold = self.threshold.saturating_mul(2).min(limit_bytes);
            self.spilled_last = 0;
            self.returned = 0;
            if dirty_bytes <= self.threshold {
                return None;
            }
        }
        Some(self.threshold / 8 * KEEP_EIGHTHS)
    }

    /// Records that a spill wrote `buffers` pages or runs.
    pub(crate) fn spilled(&mut self, buffers: usize) {
        self.spilled_last = buffers;
        self.returned = 0;
    }

    /// Records that a spilled page was changed again.
    pub(crate) fn returned(&mut self) {
        self.returned += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    #[test]
    fn nothing_spills_below_the_threshold_and_a_spill_keeps_seven_eighths() {
        let mut policy = SpillPolicy::default();
        assert_eq!(policy.keep_bytes(SPILL_START_BYTES, usize::MAX), None);
        assert_eq!(
            policy.keep_bytes(SPILL_START_BYTES + 1, usize::MAX),
            Some(56 * MIB)
        );
    }

    #[test]
    fn pages_that_stay_spilled_keep_the_threshold() {
        let mut policy = SpillPolicy::default();
        for _ in 0..100 {
            assert_eq!(policy.keep_bytes(65 * MIB, usize::MAX), Some(56 * MIB));
            policy.spilled(2048);
            for _ in 0..512 {
                policy.returned(); // a quarter: still worth it
            }
        }
    }

    #[test]
    fn pages_coming_back_double_the_threshold_up_to_the_hard_limit() {
        let mut policy = SpillPolicy::default();
        assert!(policy.keep_bytes(65 * MIB, 200 * MIB).is_some());
        policy.spilled(100);
        for _ in 0..26 {
            policy.returned();
        }
        // 128 MiB now: nothing to spill at 65 MiB ...
        assert_eq!(policy.keep_bytes(65 * MIB, 200 * MIB), None);
        // ... and at 129 MiB, a spill (nothing spilled since to judge by).
        assert_eq!(policy.keep_bytes(129 * MIB, 200 * MIB), Some(112 * MIB));
        policy.spilled(100);
        for _ in 0..100 {
            policy.returned();
        }
        // Capped by the limit, which is kept however many pages come back.
        assert_eq!(policy.keep_bytes(201 * MIB, 200 * MIB), Some(175 * MIB));
        policy.spilled(100);
        for _ in 0..100 {
            policy.returned();
        }
        assert_eq!(policy.keep_bytes(201 * MIB, 200 * MIB), Some(175 * MIB));
    }

    #[test]
    fn a_hard_limit_below_the_start_is_the_threshold() {
        let mut policy = SpillPolicy::default();
        assert_eq!(policy.keep_bytes(4096, 2048), Some(1792));
        assert_eq!(policy.keep_bytes(0, 0), None);
        assert_eq!(policy.keep_bytes(1, 0), Some(0));
    }
}
