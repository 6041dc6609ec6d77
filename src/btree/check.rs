//! The consistency checker.
//!
//! It walks everything a meta reaches and verifies (docs/design.md, invariants 1-4):
//! - every tree: page kinds by level (uniform depth), header page numbers, checksums, keys
//!   strictly increasing, every key inside the range its parents' separators allow, branch
//!   pages with at least two children, overflow runs well-formed, and the tree descriptor's
//!   counts (entries, branch, leaf and overflow pages) exact;
//! - the catalog, and through it every named database;
//! - the freelist chain and its entries;
//! - that every page from 2 to the last page is used by exactly one tree, or is free, exactly
//!   once: nothing leaked, nothing shared.
//!
//! It reports every problem it finds (up to [`PROBLEMS_MAX`]) instead of stopping at the first.

use std::fmt;

use super::cursor::check_leaf_layout;
use super::duplicates::InlineList;
use super::node::{Node, StoredValue};
use super::order::{CompareFn, KeyOrder, Side};
use super::{overflow, PageSource, DEPTH_MAX};
use crate::page::catalog_record::{self, OrderNames, UNNAMED_DATABASE_KEY};
use crate::page::header;
use crate::page::id::{pages_in, PageId, TxnId, META_PAGE_COUNT};
use crate::page::meta::{Meta, MetaSlot, TreeFlags, TreeInfo};
use crate::store::{free_segment, freelist};

/// The most problems a report lists; the count goes on beyond it.
pub const PROBLEMS_MAX: usize = 1000;

/// What the checker found.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    /// Each problem, in words (at most [`PROBLEMS_MAX`](crate::PROBLEMS_MAX)).
    pub problems: Vec<String>,
    /// How many problems were found in all.
    pub problem_count: usize,
    /// Pages in the file (including the two meta pages).
    pub pages_total: u64,
    /// Pages used by trees (branch, leaf and overflow pages).
    pub pages_in_trees: u64,
    /// Pages on the freelist, including the freelist's own chain pages.
    pub pages_free: u64,
    /// Pages of the freelist's chain, which every commit rewrites (the rest of a large
    /// freelist is listed in free segments, written once).
    pub freelist_chain_pages: u64,
    /// Trees walked: the unnamed database, the catalog and each named database.
    pub trees_checked: usize,
    /// Things worth knowing that are not damage, such as the older meta slot torn by a crash
    /// (the next commit rewrites it).
    pub warnings: Vec<String>,
}

impl CheckReport {
    /// Whether no problem was found.
    pub fn is_ok(&self) -> bool {
        self.problem_count == 0
    }

    fn add_problem(&mut self, problem: String) {
        self.problem_count += 1;
        if self.problems.len() < PROBLEMS_MAX {
            self.problems.push(problem);
        }
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} pages: {} in {} trees, {} free; {} problems",
            self.pages_total,
            self.pages_in_trees,
            self.trees_checked,
            self.pages_free,
            self.problem_count
        )?;
        for problem in &self.problems {
            writeln!(f, "  problem: {problem}")?;
        }
        for warning in &self.warnings {
            writeln!(f, "  warning: {warning}")?;
        }
        Ok(())
    }
}

/// The comparator a process registered under a name, if any.
pub(crate) type RegisteredOrder<'r> = dyn Fn(&str) -> Option<CompareFn> + 'r;

/// Checks the snapshot `meta` describes, reading pages from `source`. A database ordered by a
/// custom comparator has its keys' order checked only if `registered` gives the comparator.
pub(crate) fn check<S: PageSource + ?Sized>(
    source: &S,
    meta: &Meta,
    kept_freelist: Option<&[u8]>,
    registered: &RegisteredOrder<'_>,
) -> CheckReport {
    let mut checker = Checker {
        source,
        page_count: meta.page_count,
        used: vec![false; meta.page_count as usize],
        report: CheckReport {
            pages_total: meta.page_count,
            ..CheckReport::default()
        },
    };
    checker
        .used
        .iter_mut()
        .take(2)
        .for_each(|used| *used = true);

    let catalog_label = "the catalog";
    let mut named = checker.tree(
        catalog_label,
        &meta.catalog,
        Some(KeyOrder::Bytes),
        Values::NotAllowed,
    );
    let unnamed_record = named
        .iter()
        .position(|(name, _)| name == UNNAMED_DATABASE_KEY)
        .map(|position| named.remove(position).1);
    let unnamed_names = match &unnamed_record {
        Some(value) => match catalog_record::decode_names(value, meta.main.flags) {
            Some(names) if OrderNames::announced_by(meta.main.flags) => names,
            _ => {
                checker.problem(
                    "the unnamed database's catalog record is malformed or not announced by its flags"
                        .to_string(),
                );
                OrderNames::default()
            }
        },
        None => {
            if OrderNames::announced_by(meta.main.flags) {
                checker.problem(
                    "the unnamed database's flags announce comparators the catalog does not name"
                        .to_string(),
                );
            }
            OrderNames::default()
        }
    };
    let label = "the unnamed database";
    let (order, values) = checker.orders_of(label, &meta.main, &unnamed_names, registered);
    checker.tree(label, &meta.main, order, values);
    for (name, value) in named {
        let label = format!("database {:?}", String::from_utf8_lossy(&name));
        match catalog_record::decode(&value) {
            Some(record) => {
                let (order, values) =
                    checker.orders_of(&label, &record.tree, &record.names, registered);
                checker.tree(&label, &record.tree, order, values);
            }
            None => checker.problem(format!("catalog entry {label} is not a database record")),
        }
    }
    checker.freelist(meta, kept_freelist);

    let leaked: Vec<PageId> = (META_PAGE_COUNT..meta.page_count)
        .filter(|&page| !checker.used[page as usize])
        .map(PageId::new)
        .collect();
    for page in leaked {
        checker.problem(format!(
            "page {page} is neither in a tree nor free (leaked)"
        ));
    }
    checker.report
}

/// Checks the two meta slots as read from the file against `current`, the meta in use.
///
/// The slot `current` came from must hold it. The other slot must hold an older commit of
/// the same page size and the right parity, or be damaged: a meta torn by a crash is expected
/// there (the commit that tore it never returned) and is a warning, not a problem. So is a
/// newer meta whose unsynced runs do not read back whole (`whole` is false: its commit's
/// single sync never returned, and open skipped it).
pub(crate) fn check_metas(
    report: &mut CheckReport,
    slots: [(MetaSlot, bool); 2],
    current: &Meta,
    file_len_bytes: u64,
) {
    let problem = |report: &mut CheckReport, text: String| report.add_problem(text);
    let mut current_found = false;
    for (index, (slot, whole)) in slots.into_iter().enumerate() {
        match slot {
            MetaSlot::Valid(meta) if meta == *current => {
                current_found = true;
                if !whole {
                    problem(report, format!("the meta in use (slot {index}) lists unsynced pages that do not match their checksums"));
                }
            }
            MetaSlot::Valid(meta) if !whole && meta.txn_id > current.txn_id => report.warnings.push(format!(
                "meta slot {index} holds txn {}, whose pages did not all reach the disk (a commit cut short by a crash): ignored; the next commit rewrites it",
                meta.txn_id
            )),
            MetaSlot::Valid(meta) => {
                if meta.txn_id >= current.txn_id {
                    problem(report, format!("meta slot {index} holds txn {} but txn {} is in use", meta.txn_id, current.txn_id));
                }
                if meta.txn_id != TxnId::BEFORE_FIRST_COMMIT
                    && meta.txn_id.meta_page() != PageId::new(index as u64)
                {
                    problem(report, format!("meta slot {index} holds txn {}, which belongs in the other slot", meta.txn_id));
                }
                if meta.page_size != current.page_size {
                    problem(report, format!("meta slot {index} records page size {}", meta.page_size));
                }
                if meta.page_count.saturating_mul(meta.page_size as u64) > file_len_bytes {
                    problem(report, format!("meta slot {index} counts more pages than the file holds"));
                }
            }
            other => report.warnings.push(format!(
                "meta slot {index} is not a valid meta ({other:?}): a write torn by a crash; the next commit rewrites it"
            )),
        }
    }
    if !current_found {
        problem(
            report,
            format!(
                "neither meta slot holds the meta in use (txn {})",
                current.txn_id
            ),
        );
    }
    if current.page_count.saturating_mul(current.page_size as u64) > file_len_bytes {
        problem(
            report,
            "the meta in use counts more pages than the file holds".to_string(),
        );
    }
}

struct Checker<'s, S: PageSource + ?Sized> {
    source: &'s S,
    page_count: u64,
    used: Vec<bool>,
    report: CheckReport,
}

/// Counts gathered while walking one tree.
#[derive(Default)]
struct Counts {
    branch_pages: u64,
    leaf_pages: u64,
    overflow_pages: u64,
    entries: u64,
}

/// The keys a page may hold, as its parents' separators give them (docs/design.md,
/// invariant 6): `lower <= key < upper`, where a missing bound is no bound. The separators of
/// a branch lie strictly above `lower`: the separator equal to it is the parent's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct KeyRange {
    pub(crate) lower: Option<Vec<u8>>,
    pub(crate) upper: Option<Vec<u8>>,
}

impl KeyRange {
    /// Whether a page of the given kind may hold `key` (a leaf's key, or one of a branch's
    /// separators, never the empty key of its cell 0) under `order`.
    pub(crate) fn admits(&self, key: &[u8], is_leaf: bool, order: KeyOrder) -> bool {
        let above_lower = self.lower.as_deref().is_none_or(|lower| {
            order.less(lower, key) || (is_leaf && order.compare(key, lower).is_eq())
        });
        above_lower
            && self
                .upper
                .as_deref()
                .is_none_or(|upper| order.less(key, upper))
    }
}

/// The tree a walk is in: its name in reports, its descriptor, the order of its keys (`None`:
/// unknown, not checked), and whether a key may have several values.
#[derive(Clone, Copy)]
struct WalkedTree<'a> {
    label: &'a str,
    tree: &'a TreeInfo,
    order: Option<KeyOrder>,
    values: Values,
}

/// Whether a tree's keys may have several values, and their order (`None`: unknown).
#[derive(Clone, Copy, Debug)]
enum Values {
    NotAllowed,
    Sorted(Option<KeyOrder>),
}

impl Values {
    /// As a database's flags say, the order of values given (`None` when custom and not
    /// known).
    fn of(flags: TreeFlags, order: Option<KeyOrder>) -> Values {
        if flags.contains(TreeFlags::DUP_SORT) {
            Values::Sorted(order)
        } else {
            Values::NotAllowed
        }
    }
}

/// The page a node was read from, for errors.
fn node_id(node: &Node<'_>) -> PageId {
    node.id()
}

/// A key for a problem's text: printable ASCII as it is, anything else in hex.
fn shown_key(key: &[u8]) -> String {
    if key
        .iter()
        .all(|byte| byte.is_ascii_graphic() || *byte == b' ')
    {
        format!("{:?}", String::from_utf8_lossy(key))
    } else {
        key.iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

/// A page to visit, with the key range its parents allow.
struct Visit {
    id: PageId,
    level: u32,
    range: KeyRange,
}

impl<S: PageSource + ?Sized> Checker<'_, S> {
    fn problem(&mut self, problem: String) {
        self.report.add_problem(problem);
    }

    /// Marks `pages` pages from `id` as used; false (with a problem) if any is out of range or
    /// used already.
    fn claim(&mut self, id: PageId, pages: u64, owner: &str) -> bool {
        if id < PageId::FIRST_TREE_PAGE
            || id
                .checked_add(pages)
                .is_none_or(|end| end.get() > self.page_count)
        {
            self.problem(format!(
                "{owner}: page {id} (+{pages}) is outside the file ({} pages)",
                self.page_count
            ));
            return false;
        }
        for page in pages_in(id..id + pages) {
            if self.used[page.get() as usize] {
                self.problem(format!("{owner}: page {page} is used twice"));
                return false;
            }
        }
        for page in pages_in(id..id + pages) {
            self.used[page.get() as usize] = true;
        }
        true
    }

    /// The orders of `tree`'s keys and values (`None` for an order that cannot be checked),
    /// from its flags and the comparators `recorded` for it.
    fn orders_of(
        &mut self,
        label: &str,
        tree: &TreeInfo,
        recorded: &OrderNames,
        registered: &RegisteredOrder<'_>,
    ) -> (Option<KeyOrder>, Values) {
        let flags = tree.flags;
        if let Some(bits) = flags.unknown_bits() {
            self.problem(format!("{label}: unknown flags {bits:#x}"));
            return (None, Values::of(flags, None));
        }
        let keys = self.side_order(
            label,
            Side::Keys,
            KeyOrder::of_flags(flags),
            recorded.keys.as_deref(),
            registered,
        );
        let values = if flags.contains(TreeFlags::DUP_SORT) {
            Values::Sorted(self.side_order(
                label,
                Side::Values,
                KeyOrder::of_value_flags(flags),
                recorded.values.as_deref(),
                registered,
            ))
        } else {
            if flags.contains(TreeFlags::CUSTOM_VALUE_ORDER)
                || flags.contains(TreeFlags::INTEGER_DUP)
                || flags.contains(TreeFlags::REVERSE_DUP)
            {
                self.problem(format!("{label}: an order of values without DUP_SORT"));
            }
            if flags.contains(TreeFlags::DUP_FIXED) {
                self.problem(format!("{label}: DUP_FIXED without DUP_SORT"));
            }
            Values::NotAllowed
        };
        if flags.contains(TreeFlags::DENSE_LEAVES) {
            self.problem(format!(
                "{label}: a database with the flag of a tree of a key's values"
            ));
        }
        (keys, values)
    }

    /// The order of one side of a database: `built_in`, or the comparator registered under
    /// the `recorded` name (a warning when none is: the order is not checked).
    fn side_order(
        &mut self,
        label: &str,
        side: Side,
        built_in: Option<KeyOrder>,
        recorded: Option<&str>,
        registered: &RegisteredOrder<'_>,
    ) -> Option<KeyOrder> {
        let what = match side {
            Side::Keys => "key",
            Side::Values => "value",
        };
        if built_in.is_some() {
            return built_in;
        }
        let Some(recorded) = recorded else {
            self.problem(format!(
                "{label}: its {what}s are ordered by a comparator whose name is not recorded"
            ));
            return None;
        };
        match registered(recorded) {
            Some(compare) => Some(KeyOrder::Custom(compare)),
            None => {
                self.report.warnings.push(format!(
                    "{label}: {what} order not checked: its comparator {recorded:?} is not registered in this process"
                ));
                None
            }
        }
    }

    /// Walks a tree whose keys are in `order` (`None`: unknown, not checked); returns the
    /// entries of its leaves when it is the catalog (for the named databases), else nothing
    /// useful. `values` says whether it is a duplicate-sorted database, and the order of a
    /// key's values.
    fn tree(
        &mut self,
        label: &str,
        tree: &TreeInfo,
        order: Option<KeyOrder>,
        values: Values,
    ) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.report.trees_checked += 1;
        let mut entries = Vec::new();
        let keep_entries = label == "the catalog";
        let walked = WalkedTree {
            label,
            tree,
            order,
            values,
        };
        let counts = self.walk(&walked, keep_entries.then_some(&mut entries));
        self.report.pages_in_trees +=
            counts.branch_pages + counts.leaf_pages + counts.overflow_pages;
        entries
    }

    /// Walks `walked`'s tree, checking its descriptor against what it holds; returns the
    /// counts found.
    fn walk(
        &mut self,
        walked: &WalkedTree<'_>,
        mut entries: Option<&mut Vec<(Vec<u8>, Vec<u8>)>>,
    ) -> Counts {
        let WalkedTree { label, tree, .. } = *walked;
        let mut counts = Counts::default();
        if tree.root.is_none() != (tree.depth == 0) || tree.depth > DEPTH_MAX {
            self.problem(format!(
                "{label}: root {} with depth {}",
                tree.root, tree.depth
            ));
            return counts;
        }
        let mut to_visit = Vec::new();
        if !tree.root.is_none() {
            to_visit.push(Visit {
                id: tree.root,
                level: 0,
                range: KeyRange::default(),
            });
        }
        while let Some(visit) = to_visit.pop() {
            self.node(
                walked,
                visit,
                &mut counts,
                &mut to_visit,
                entries.as_deref_mut(),
            );
        }
        let expected = (
            tree.branch_pages,
            tree.leaf_pages,
            tree.overflow_pages,
            tree.entries,
        );
        let found = (
            counts.branch_pages,
            counts.leaf_pages,
            counts.overflow_pages,
            counts.entries,
        );
        if expected != found {
            self.problem(format!(
                "{label}: descriptor says (branch, leaf, overflow pages, entries) = {expected:?}, the tree has {found:?}"
            ));
        }
        counts
    }

    fn node(
        &mut self,
        walked: &WalkedTree<'_>,
        visit: Visit,
        counts: &mut Counts,
        to_visit: &mut Vec<Visit>,
        mut entries: Option<&mut Vec<(Vec<u8>, Vec<u8>)>>,
    ) {
        let WalkedTree {
            label, tree, order, ..
        } = *walked;
        let id = visit.id;
        if !self.claim(id, 1, label) {
            return;
        }
        let source = self.source;
        let page = match source.read(id, 1) {
            Ok(page) => page,
            Err(error) => return self.problem(format!("{label}: {error}")),
        };
        if !header::checksum_matches(page) {
            self.problem(format!("{label}: page {id} fails its checksum"));
        }
        let is_leaf = visit.level + 1 == tree.depth;
        let node = match Node::open(page, id, is_leaf) {
            Ok(node) => node,
            Err(error) => return self.problem(format!("{label}: level {}: {error}", visit.level)),
        };
        if is_leaf {
            if let Err(error) = check_leaf_layout(tree, &node) {
                return self.problem(format!("{label}: {error}"));
            }
            counts.leaf_pages += 1;
        } else {
            counts.branch_pages += 1;
            if node.count() < 2 {
                self.problem(format!(
                    "{label}: branch page {id} has {} child",
                    node.count()
                ));
            }
        }
        let mut previous: Option<&[u8]> = None;
        let first_key_index = if is_leaf { 0 } else { 1 };
        for index in 0..node.count() {
            let key = match node.key(index) {
                Ok(key) => key,
                Err(error) => return self.problem(format!("{label}: {error}")),
            };
            if let Some(order) = order.filter(|_| index >= first_key_index) {
                if previous.is_some_and(|previous| !order.less(previous, key)) {
                    self.problem(format!(
                        "{label}: page {id}: key {index} is not above the key before it"
                    ));
                }
                if !visit.range.admits(key, is_leaf, order) {
                    self.problem(format!(
                        "{label}: page {id}: key {index} is outside the range its parent allows"
                    ));
                }
                previous = Some(key);
            }
            if is_leaf {
                self.leaf_entry(walked, &node, index, counts, entries.as_deref_mut());
            } else {
                let child = match node.child(index) {
                    Ok(child) => child,
                    Err(error) => return self.problem(format!("{label}: {error}")),
                };
                let lower = if index == 0 {
                    visit.range.lower.clone()
                } else {
                    Some(key.to_vec())
                };
                let upper = if index + 1 < node.count() {
                    node.key(index + 1).ok().map(<[u8]>::to_vec)
                } else {
                    visit.range.upper.clone()
                };
                to_visit.push(Visit {
                    id: child,
                    level: visit.level + 1,
                    range: KeyRange { lower, upper },
                });
            }
        }
    }

    fn leaf_entry(
        &mut self,
        walked: &WalkedTree<'_>,
        node: &Node<'_>,
        index: usize,
        counts: &mut Counts,
        entries: Option<&mut Vec<(Vec<u8>, Vec<u8>)>>,
    ) {
        let label = walked.label;
        counts.entries += 1;
        let (key, value) = match node.entry(index) {
            Ok(entry) => entry,
            Err(error) => return self.problem(format!("{label}: {error}")),
        };
        let bytes = match value {
            StoredValue::Inline(bytes) => Some(bytes),
            StoredValue::Overflow { page, len } => {
                if matches!(walked.values, Values::Sorted(_)) {
                    self.problem(format!(
                        "{label}: a value in an overflow run in a duplicate-sorted database"
                    ));
                }
                let pages = overflow::pages_for(len, self.source.page_size()) as u64;
                counts.overflow_pages += pages;
                if !self.claim(page, pages, label) {
                    return;
                }
                let source = self.source;
                match source.read(page, pages as usize) {
                    Ok(run) if !header::checksum_matches(run) => {
                        self.problem(format!(
                            "{label}: overflow run at page {page} fails its checksum"
                        ));
                        None
                    }
                    Ok(_) => match overflow::read(source, page, len) {
                        Ok(bytes) => Some(bytes),
                        Err(error) => {
                            self.problem(format!("{label}: {error}"));
                            None
                        }
                    },
                    Err(error) => {
                        self.problem(format!("{label}: {error}"));
                        None
                    }
                }
            }
            StoredValue::Duplicates(list) => {
                let Values::Sorted(value_order) = walked.values else {
                    return self.problem(format!(
                        "{label}: several values of one key in a database without duplicates"
                    ));
                };
                if list.fixed != walked.tree.flags.contains(TreeFlags::DUP_FIXED) {
                    self.problem(format!(
                        "{label}: page {}: a list of values {} packed in a database {} DUP_FIXED",
                        node_id(node),
                        if list.fixed { "is" } else { "is not" },
                        if list.fixed { "without" } else { "with" },
                    ));
                }
                match InlineList::parse(list, node_id(node), value_order) {
                    Ok(list) => counts.entries += list.len() as u64 - 1,
                    Err(error) => self.problem(format!("{label}: {error}")),
                }
                None
            }
            StoredValue::DuplicateTree(descriptor) => {
                let Values::Sorted(value_order) = walked.values else {
                    return self.problem(format!(
                        "{label}: several values of one key in a database without duplicates"
                    ));
                };
                let fixed = walked.tree.flags.contains(TreeFlags::DUP_FIXED);
                self.value_tree(label, key, descriptor, (value_order, fixed), counts);
                None
            }
        };
        if let (Some(entries), Some(bytes)) = (entries, bytes) {
            entries.push((key.to_vec(), bytes.to_vec()));
        }
    }

    /// Walks the tree of `key`'s values, adding its pages and values to `counts`. `fixed`
    /// says whether the database is `DUP_FIXED` (then the tree's leaves are dense, and its
    /// values all have one size).
    fn value_tree(
        &mut self,
        label: &str,
        key: &[u8],
        descriptor: &[u8],
        (value_order, fixed): (Option<KeyOrder>, bool),
        counts: &mut Counts,
    ) {
        let Some(values) = TreeInfo::decode(descriptor) else {
            return self.problem(format!(
                "{label}: the tree of a key's values has a malformed descriptor"
            ));
        };
        let flags = if fixed {
            TreeFlags::DENSE_LEAVES
        } else {
            TreeFlags::empty()
        };
        if values.entries < 2 || values.overflow_pages != 0 || values.flags != flags {
            self.problem(format!(
                "{label}: the tree of a key's values has {} values, {} overflow pages and flags {:?}",
                values.entries, values.overflow_pages, values.flags
            ));
        }
        let nested_label = format!("{label}, the values of key {}", shown_key(key));
        let walked = WalkedTree {
            label: &nested_label,
            tree: &values,
            order: value_order,
            values: Values::NotAllowed,
        };
        let mut values_entries = Vec::new();
        let found = self.walk(&walked, Some(&mut values_entries));
        if values_entries.iter().any(|(_, value)| !value.is_empty()) {
            self.problem(format!("{nested_label}: an entry holds bytes"));
        }
        if let Some(((first, _), rest)) = values_entries.split_first().filter(|_| fixed) {
            if rest.iter().any(|(value, _)| value.len() != first.len()) {
                self.problem(format!(
                    "{nested_label}: values of more than one size in a DUP_FIXED database"
                ));
            }
        }
        counts.branch_pages += found.branch_pages;
        counts.leaf_pages += found.leaf_pages;
        counts.overflow_pages += found.overflow_pages;
        counts.entries += found.entries.saturating_sub(1);
    }

    fn freelist(&mut self, meta: &Meta, kept: Option<&[u8]>) {
        let source = self.source;
        let chain = freelist::read(meta, kept, |id| source.read(id, 1));
        let (list, chain) = match chain {
            Ok(found) => found,
            Err(error) => return self.problem(format!("the freelist: {error}")),
        };
        self.report.freelist_chain_pages = chain.len() as u64;
        for page in chain {
            if self.claim(page, 1, "the freelist chain") {
                self.report.pages_free += 1;
            }
        }
        for page in list.pages() {
            if self.claim(page, 1, "the freelist") {
                self.report.pages_free += 1;
            }
        }
        for segment in list.segments() {
            let listed = source
                .read(segment, 1)
                .and_then(|page| free_segment::read(page, segment, meta.page_count));
            let listed = match listed {
                Ok(listed) => listed,
                Err(error) => {
                    self.problem(format!("the freelist: {error}"));
                    continue;
                }
            };
            if self.claim(segment, 1, "a free segment") {
                self.report.pages_free += 1;
            }
            for page in listed {
                if self.claim(page, 1, "the freelist") {
                    self.report.pages_free += 1;
                }
            }
        }
    }
}
