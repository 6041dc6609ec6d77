//! The verifier: after every kill and every reopen, the environment must hold exactly the state
//! after some commit of the model, that commit no older than any `commit()` that returned, and
//! the checker must pass.
//!
//! The model follows the file's own history (sequence number -> recipe), checked on every
//! side: the history never changes once seen, holds every commit reported as returned (with its
//! recipe) and none that was aborted or failed, and replaying its recipes gives exactly the
//! data in the file. Snapshots readers reported are checked against the model at their
//! commit.

use arbordb::Env;

use crate::recipe::{self, Model, Recipe, DATA_NAMES};
use crate::worker::{Handles, Journal, Stats};

/// The model: the recipes of commits 1..=n as the file recorded them, and the data after n.
pub struct Chain {
    recipes: Vec<Recipe>,
    model: Model,
}

impl Chain {
    pub fn new() -> Chain {
        Chain {
            recipes: Vec::new(),
            model: vec![Default::default(); DATA_NAMES.len()],
        }
    }

    /// The model's entries and their bytes (keys and values).
    pub fn size(&self) -> (usize, usize) {
        let entries = self.model.iter().map(|db| db.len()).sum();
        let bytes = self
            .model
            .iter()
            .flatten()
            .map(|(k, v)| k.len() + v.len())
            .sum();
        (entries, bytes)
    }

    pub fn commits(&self) -> u64 {
        self.recipes.len() as u64
    }

    /// Checks the newest commit of `env` against the model and moves the model to it; other
    /// threads may go on committing meanwhile. `context` names the moment in failure messages.
    pub fn verify(&mut self, env: &Env, journal: &Journal, context: &str) {
        let handles = Handles::open(env);
        // Commits reported before the snapshot begins must be in it.
        let reported = journal.confirmed.lock().len();
        let rtxn = env
            .read_txn()
            .unwrap_or_else(|error| panic!("{context}: read_txn: {error}"));
        let history: Vec<(u64, Recipe)> = handles
            .history
            .iter(&rtxn)
            .expect("iterating the history")
            .map(|entry| {
                let (key, value) = entry.expect("reading the history");
                (
                    u64::from_be_bytes(key.try_into().expect("an 8-byte history key")),
                    Recipe::decode(value),
                )
            })
            .collect();
        for (index, (seq, _)) in history.iter().enumerate() {
            assert_eq!(
                *seq,
                index as u64 + 1,
                "{context}: the history skips from {index} to {seq}"
            );
        }
        let held = history.len() as u64;
        assert!(
            held >= self.commits(),
            "{context}: the file holds {held} commits, but {} were seen before",
            self.commits()
        );
        for (index, recipe) in self.recipes.iter().enumerate() {
            assert_eq!(
                history[index].1,
                *recipe,
                "{context}: commit {} was replaced after it was seen",
                index + 1
            );
        }
        for &(seq, seed) in &journal.confirmed.lock()[..reported] {
            assert!(
                seq <= held,
                "{context}: commit {seq} returned Ok, but the file holds only {held} commits"
            );
            assert_eq!(
                history[seq as usize - 1].1.seed,
                seed,
                "{context}: commit {seq} returned Ok, but the file holds another commit {seq}"
            );
        }
        {
            let refused = journal.refused.lock();
            for (seq, recipe) in &history[self.recipes.len()..] {
                assert!(
                    !refused.contains(&recipe.seed),
                    "{context}: commit {seq} is a transaction that was aborted or whose commit \
                     failed"
                );
            }
        }

        // Move the model along the history, checking each snapshot a reader reported.
        let mut observations = {
            // Snapshots newer than this one wait for the next verification.
            let mut kept = journal.observations.lock();
            let (now, later) = kept.drain(..).partition(|seen| seen.seq <= held);
            *kept = later;
            now
        };
        observations.sort_by_key(|observation| observation.seq);
        let mut pending = observations.into_iter().peekable();
        // Snapshots begun before the last verification (reported after it, while it ran with
        // writers going on): the model has moved past them, only their commit is compared.
        while let Some(seen) = pending.next_if(|seen| seen.seq < self.commits()) {
            let seed = if seen.seq == 0 {
                0
            } else {
                self.recipes[seen.seq as usize - 1].seed
            };
            assert_eq!(
                seen.seed, seed,
                "{context}: a reader saw another commit {} than the file holds",
                seen.seq
            );
        }
        loop {
            let at = self.commits();
            let mut digest_at = None;
            while let Some(seen) = pending.next_if(|seen| seen.seq == at) {
                let seed = self.recipes.last().map_or(0, |recipe| recipe.seed);
                assert_eq!(
                    seen.seed, seed,
                    "{context}: a reader saw another commit {at} than the file holds"
                );
                let expected = *digest_at.get_or_insert_with(|| recipe::model_digest(&self.model));
                assert_eq!(
                    seen.digest, expected,
                    "{context}: a reader's snapshot of commit {at} is not the model's state after \
                     it"
                );
                Stats::add(&journal.stats.snapshots_compared);
            }
            if at == held {
                break;
            }
            let recipe = history[at as usize].1;
            recipe::replay(&mut self.model, &recipe.ops());
            self.recipes.push(recipe);
        }

        let found = recipe::snapshot_contents(&rtxn, &handles.data);
        for (index, (found, expected)) in found.iter().zip(&self.model).enumerate() {
            if found != expected {
                let differing = found
                    .iter()
                    .zip(expected)
                    .find(|(a, b)| a != b)
                    .map(|(a, b)| {
                        format!(
                            "first difference: file has {:?} ({} bytes), model has {:?} ({} bytes)",
                            String::from_utf8_lossy(a.0),
                            a.1.len(),
                            String::from_utf8_lossy(b.0),
                            b.1.len()
                        )
                    })
                    .unwrap_or_default();
                panic!(
                    "{context}: database {} differs from the model after commit {held}: {} \
                     entries in the file, {} in the model; {differing}",
                    DATA_NAMES[index],
                    found.len(),
                    expected.len()
                );
            }
            assert_eq!(
                handles.data[index].len(&rtxn).unwrap(),
                expected.len() as u64,
                "{context}: len() of {}",
                DATA_NAMES[index]
            );
        }
        drop(rtxn);
        let report = env
            .check()
            .unwrap_or_else(|error| panic!("{context}: the checker failed to run: {error}"));
        assert!(
            report.is_ok(),
            "{context}: the checker found problems:\n{report}"
        );
        Stats::add(&journal.stats.verifications);
    }

    /// With every writer stopped and the model at the newest commit: no reader saw a commit
    /// newer than the file holds.
    pub fn assert_no_snapshot_ahead(&self, journal: &Journal, context: &str) {
        if let Some(seen) = journal.observations.lock().first() {
            panic!(
                "{context}: a reader saw commit {}, but the file holds only {} commits",
                seen.seq,
                self.commits()
            );
        }
    }
}
