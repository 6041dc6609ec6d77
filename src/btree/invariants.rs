//! The tree's shape, asserted after each structural change (debug builds only).
//!
//! [`mutate`](super::mutate) calls these checks after every split (the append split too),
//! separator insertion, new root, merge, borrow and root replacement. Each looks at the pages
//! the change rebuilt and their parent, and panics with a message naming the change, the page
//! and what is wrong when one of them breaks invariant 6 (docs/design.md):
//!
//! - every page opens as the kind its level needs, its slot array below its cells and every
//!   cell within [`node::cell_size_max`] (no page is over-full);
//! - keys strictly ascend, byte-wise (a branch's cell 0 has the empty key and is not compared);
//! - every key lies in the range its parent's separators give the page (`separator(i) <=
//!   key < separator(i + 1)`; a branch's own separators lie strictly above `separator(i)`),
//!   and the parent links each child under the separators the child was checked against;
//! - a leaf holds at least one cell and a branch at least two children, except the parent
//!   left by a merge, which may hold one child until the next step of the rebalancing merges
//!   it or, at the root, hands the root down to that child;
//! - no cell is lost or duplicated: the pages after a split, merge or borrow hold the cells
//!   they held before (a split one more).
//!
//! The fill rule is asserted only as far as the code promises it. A split leaves both halves
//! at their minimum count, not half full: the append split leaves a one-cell right page on
//! purpose. A page that falls below a quarter full merges with a sibling when both fit in
//! one page, else borrows one cell, which may leave it below a quarter still. The donor of a
//! borrow, though, stays at least a quarter full: the merge was refused, so the pair holds more
//! than a page (the separator coming down included) while the underfull page holds at most a
//! quarter, and one cell (with its separator change) is at most a quarter.
//!
//! Only the pages a change touched are checked, never the whole tree, so a debug build stays
//! usable: a split checks the two halves against the separator between them and the range
//! the parent gave the page, then the parent's new cell and links; a merge or a borrow checks
//! the two siblings and their parent. Ranges from above the parent are not known locally.
//!
//! The writer changes pages read from the file, and a damaged file must give a typed error or
//! a report from the checker, never a panic, also in a debug build. So each check first looks
//! at the change's inputs (the page before the change, the cell it takes, the parent's range
//! for it) by the same rules, and asserts nothing when they are unsound: only a change whose
//! inputs were sound must produce sound pages, and failing that is a bug of the writer. The
//! inputs are checked before the change because it rebuilds them in place.

use super::check::KeyRange;
use super::node::{self, Node};
use super::order::KeyOrder;
use super::PageSource;
use crate::page::meta::TreeInfo;
use crate::page::PageId;

/// Pages of a tree and the order of its keys: what every check reads.
pub(super) trait Ordered: PageSource {
    /// The order of the tree's keys.
    fn key_order(&self) -> KeyOrder;
}

/// What a check found wrong, in words naming the page.
type Verdict<T = ()> = Result<T, String>;

/// The fewest cells a page of the kind holds outside the root: one entry, or two children.
fn minimum_cells(is_leaf: bool) -> usize {
    if is_leaf {
        1
    } else {
        2
    }
}

/// A key for a message: escaped, a long one cut to its start and end (long keys often share
/// a long prefix).
fn shown(key: &[u8]) -> String {
    const HEAD: usize = 12;
    const TAIL: usize = 12;
    if key.len() <= HEAD + TAIL {
        return format!("\"{}\"", key.escape_ascii());
    }
    let (head, tail) = (&key[..HEAD], &key[key.len() - TAIL..]);
    format!(
        "\"{}...{}\" ({} bytes)",
        head.escape_ascii(),
        tail.escape_ascii(),
        key.len()
    )
}

/// A key range for a message.
fn shown_range(range: &KeyRange) -> String {
    let lower = range.lower.as_deref().map_or("-inf".to_string(), shown);
    let upper = range.upper.as_deref().map_or("+inf".to_string(), shown);
    format!("[{lower}, {upper})")
}

/// Panics when a change whose inputs were sound produced pages that are not.
fn assert_sound(change: std::fmt::Arguments<'_>, verdict: Verdict) {
    if let Err(problem) = verdict {
        panic!("B-tree invariant broken after {change}: {problem}");
    }
}

fn open<S: Ordered + ?Sized>(source: &S, id: PageId, is_leaf: bool) -> Verdict<Node<'_>> {
    let kind = if is_leaf { "leaf" } else { "branch" };
    source
        .read(id, 1)
        .and_then(|page| Node::open(page, id, is_leaf))
        .map_err(|error| format!("page {id} does not open as a {kind}: {error}"))
}

/// Checks one opened page: cells within the size limit, keys ascending and inside `range`,
/// at least `minimum` cells.
fn check_node(
    node: &Node<'_>,
    id: PageId,
    range: &KeyRange,
    minimum: usize,
    order: KeyOrder,
) -> Verdict {
    let is_leaf = node.is_leaf();
    if node.count() < minimum {
        return Err(format!(
            "page {id} holds {} cells, below its minimum of {minimum}",
            node.count()
        ));
    }
    let error = |error: crate::Error| format!("page {id}: {error}");
    let first_key = if is_leaf { 0 } else { 1 };
    let mut previous: Option<&[u8]> = None;
    for index in 0..node.count() {
        node.cell(index).map_err(error)?;
        let key = node.key(index).map_err(error)?;
        if index < first_key {
            if !key.is_empty() {
                return Err(format!("page {id}: cell 0 of a branch has a key"));
            }
            continue;
        }
        if let Some(previous) = previous.filter(|&previous| !order.less(previous, key)) {
            return Err(format!(
                "page {id}: key {index} {} is not above key {} {}",
                shown(key),
                index - 1,
                shown(previous)
            ));
        }
        previous = Some(key);
    }
    // Ascending, so the first and the last key bound the others.
    for index in [first_key, node.count().saturating_sub(1)] {
        if first_key <= index && index < node.count() {
            let key = node.key(index).map_err(error)?;
            if !range.admits(key, is_leaf, order) {
                return Err(format!(
                    "page {id}: key {index} {} is outside its range {}",
                    shown(key),
                    shown_range(range)
                ));
            }
        }
    }
    Ok(())
}

/// Opens and checks page `id`; returns its cell count.
fn check_page<S: Ordered + ?Sized>(
    source: &S,
    id: PageId,
    is_leaf: bool,
    range: &KeyRange,
    minimum: usize,
) -> Verdict<usize> {
    let node = open(source, id, is_leaf)?;
    check_node(&node, id, range, minimum, source.key_order())?;
    Ok(node.count())
}

/// The range `parent`'s separators give child `index`, as far as the parent alone tells.
fn child_range(parent: &Node<'_>, id: PageId, index: usize) -> Verdict<KeyRange> {
    let separator = |index: usize| -> Verdict<Option<Vec<u8>>> {
        if index == 0 || index >= parent.count() {
            return Ok(None);
        }
        let key = parent
            .key(index)
            .map_err(|error| format!("page {id}: {error}"))?;
        Ok(Some(key.to_vec()))
    };
    Ok(KeyRange {
        lower: separator(index)?,
        upper: separator(index + 1)?,
    })
}

/// Checks that `parent` links child `index` to `child` under `range`.
fn check_link(
    parent: &Node<'_>,
    id: PageId,
    index: usize,
    child: PageId,
    range: &KeyRange,
) -> Verdict {
    if index >= parent.count() {
        return Err(format!(
            "page {id} has {} children, none at {index} for page {child}",
            parent.count()
        ));
    }
    let linked = parent
        .child(index)
        .map_err(|error| format!("page {id}: {error}"))?;
    if linked != child {
        return Err(format!(
            "page {id} links page {linked} at {index}, not page {child}"
        ));
    }
    let given = child_range(parent, id, index)?;
    if given != *range {
        return Err(format!(
            "page {id} gives child {index} (page {child}) the range {}, not {}",
            shown_range(&given),
            shown_range(range)
        ));
    }
    Ok(())
}

/// The parent of a changed page, checked on its own, and the range it gives the page.
fn parent_range<S: Ordered + ?Sized>(
    source: &S,
    parent: PageId,
    index: usize,
    child: PageId,
) -> Verdict<KeyRange> {
    let node = open(source, parent, false)?;
    check_node(&node, parent, &KeyRange::default(), 1, source.key_order())?;
    let range = child_range(&node, parent, index)?;
    check_link(&node, parent, index, child, &range)?;
    Ok(range)
}

/// A split of a full page (general or append split), checked against what it started from.
pub(super) struct Split {
    id: PageId,
    is_leaf: bool,
    /// The range the parent gave the page, and the cells the halves must hold; an error when
    /// the inputs were unsound.
    inputs: Verdict<(KeyRange, usize)>,
}

impl Split {
    /// Before page `id` (child `parent.1` of `parent.0`, or the root) splits to take `cell`
    /// at `position`.
    pub(super) fn before<S: Ordered + ?Sized>(
        source: &S,
        parent: Option<(PageId, usize)>,
        id: PageId,
        is_leaf: bool,
        position: usize,
        cell: &[u8],
    ) -> Split {
        let inputs = (|| {
            let range = match parent {
                Some((parent, index)) => parent_range(source, parent, index, id)?,
                None => KeyRange::default(),
            };
            let page = open(source, id, is_leaf)?;
            check_node(&page, id, &range, 0, source.key_order())?;
            let key = page.layout().cell_key(cell);
            let key_at = |index: usize| page.key(index).map_err(|error| error.to_string());
            let first_key = if is_leaf { 0 } else { 1 };
            let order = source.key_order();
            let after_previous = position == first_key
                || (position > first_key
                    && position <= page.count()
                    && order.less(key_at(position - 1)?, key));
            let before_next = position >= page.count() || order.less(key, key_at(position)?);
            if !(after_previous && before_next && range.admits(key, is_leaf, order)) {
                return Err(format!("the new cell does not belong at {position}"));
            }
            Ok((range, page.count() + 1))
        })();
        Split {
            id,
            is_leaf,
            inputs,
        }
    }

    /// After the page split off `right` with `separator` between the halves.
    pub(super) fn after<S: Ordered + ?Sized>(&self, source: &S, right: PageId, separator: &[u8]) {
        let Ok((range, cells)) = &self.inputs else {
            return;
        };
        let (left, is_leaf) = (self.id, self.is_leaf);
        let verdict = (|| {
            if !range.admits(separator, false, source.key_order()) {
                return Err(format!(
                    "the separator {} is outside the page's range {}",
                    shown(separator),
                    shown_range(range)
                ));
            }
            let (left_range, right_range) = split_range(range, separator);
            let minimum = minimum_cells(is_leaf);
            let left_cells = check_page(source, left, is_leaf, &left_range, minimum)?;
            let right_cells = check_page(source, right, is_leaf, &right_range, minimum)?;
            if left_cells + right_cells != *cells {
                return Err(format!(
                    "the halves hold {left_cells} + {right_cells} cells, not {cells}"
                ));
            }
            Ok(())
        })();
        assert_sound(
            format_args!("splitting page {left} (into {left} and {right})"),
            verdict,
        );
    }
}

/// `range` cut in two at `separator`.
fn split_range(range: &KeyRange, separator: &[u8]) -> (KeyRange, KeyRange) {
    (
        KeyRange {
            lower: range.lower.clone(),
            upper: Some(separator.to_vec()),
        },
        KeyRange {
            lower: Some(separator.to_vec()),
            upper: range.upper.clone(),
        },
    )
}

/// The cell for the right half of a split going into the parent, checked against the
/// parent before it.
pub(super) struct Insertion {
    parent: PageId,
    index: usize,
    /// The range of the child that split and the parent's cell count; an error when the
    /// parent was unsound or the separator does not lie in that range.
    inputs: Verdict<(KeyRange, usize)>,
}

impl Insertion {
    /// Before `parent` takes `separator` for the right half of its child `index`.
    pub(super) fn before<S: Ordered + ?Sized>(
        source: &S,
        parent: PageId,
        index: usize,
        separator: &[u8],
    ) -> Insertion {
        let inputs = (|| {
            let node = open(source, parent, false)?;
            check_node(&node, parent, &KeyRange::default(), 1, source.key_order())?;
            let range = child_range(&node, parent, index)?;
            if !range.admits(separator, false, source.key_order()) {
                return Err("the separator is outside the child's range".to_string());
            }
            Ok((range, node.count()))
        })();
        Insertion {
            parent,
            index,
            inputs,
        }
    }

    /// After the parent took the separator without splitting, for `left` and `right`.
    pub(super) fn after<S: Ordered + ?Sized>(
        &self,
        source: &S,
        left: PageId,
        right: PageId,
        separator: &[u8],
    ) {
        let Ok((range, count)) = &self.inputs else {
            return;
        };
        let (parent, index) = (self.parent, self.index);
        let verdict = (|| {
            let node = open(source, parent, false)?;
            check_node(&node, parent, &KeyRange::default(), 2, source.key_order())?;
            if node.count() != count + 1 {
                return Err(format!(
                    "page {parent} holds {} cells, not {}",
                    node.count(),
                    count + 1
                ));
            }
            let (left_range, right_range) = split_range(range, separator);
            check_link(&node, parent, index, left, &left_range)?;
            check_link(&node, parent, index + 1, right, &right_range)
        })();
        assert_sound(
            format_args!("adding the separator for page {right} to page {parent}"),
            verdict,
        );
    }
}

/// After a split of the root grew the new root `tree.root` over `left` and `right`. Its
/// inputs are the split's, checked there: the new root is built from nothing else.
pub(super) fn check_new_root<S: Ordered + ?Sized>(
    source: &S,
    tree: &TreeInfo,
    left: PageId,
    right: PageId,
    separator: &[u8],
) {
    let root = tree.root;
    let verdict = (|| {
        let node = open(source, root, false)?;
        check_node(&node, root, &KeyRange::default(), 2, source.key_order())?;
        if node.count() != 2 {
            return Err(format!(
                "page {root} holds {} children, not 2",
                node.count()
            ));
        }
        let (left_range, right_range) = split_range(&KeyRange::default(), separator);
        check_link(&node, root, 0, left, &left_range)?;
        check_link(&node, root, 1, right, &right_range)
    })();
    assert_sound(
        format_args!("growing root {root} over pages {left} and {right}"),
        verdict,
    );
}

/// What a merge or a borrow between two siblings starts from.
struct Siblings {
    /// The lower bound of the left page and the upper bound of the right one.
    range: KeyRange,
    /// The parent's separator between them.
    separator: Vec<u8>,
    /// The cells of each.
    cells: (usize, usize),
}

/// A merge or borrow between the children `left_index` and `left_index + 1` of `parent`,
/// one of which fell below its fill.
pub(super) struct Rebalance {
    parent: PageId,
    left_index: usize,
    pages: (PageId, PageId),
    is_leaf: bool,
    left_is_underfull: bool,
    inputs: Verdict<Siblings>,
}

impl Rebalance {
    /// Before the siblings `left` and `right` under `parent` merge or borrow.
    pub(super) fn before<S: Ordered + ?Sized>(
        source: &S,
        parent: PageId,
        left_index: usize,
        (left, right): (PageId, PageId),
        is_leaf: bool,
        left_is_underfull: bool,
    ) -> Rebalance {
        let inputs = (|| {
            let node = open(source, parent, false)?;
            check_node(&node, parent, &KeyRange::default(), 2, source.key_order())?;
            let left_range = child_range(&node, parent, left_index)?;
            let right_range = child_range(&node, parent, left_index + 1)?;
            check_link(&node, parent, left_index, left, &left_range)?;
            check_link(&node, parent, left_index + 1, right, &right_range)?;
            // The underfull page may be empty (a leaf) or hold one child (a branch).
            let underfull_minimum = usize::from(!is_leaf);
            let (left_minimum, right_minimum) = if left_is_underfull {
                (underfull_minimum, minimum_cells(is_leaf))
            } else {
                (minimum_cells(is_leaf), underfull_minimum)
            };
            let left_cells = check_page(source, left, is_leaf, &left_range, left_minimum)?;
            let right_cells = check_page(source, right, is_leaf, &right_range, right_minimum)?;
            Ok(Siblings {
                range: KeyRange {
                    lower: left_range.lower,
                    upper: right_range.upper,
                },
                separator: right_range.lower.unwrap_or_default(),
                cells: (left_cells, right_cells),
            })
        })();
        Rebalance {
            parent,
            left_index,
            pages: (left, right),
            is_leaf,
            left_is_underfull,
            inputs,
        }
    }

    /// After the right sibling merged into the left one and left the parent.
    pub(super) fn after_merge<S: Ordered + ?Sized>(&self, source: &S) {
        let Ok(inputs) = &self.inputs else {
            return;
        };
        let (parent, (left, right)) = (self.parent, self.pages);
        let verdict = (|| {
            let node = open(source, parent, false)?;
            // One child is allowed here: the next step merges the parent or hands the root
            // down to its child.
            check_node(&node, parent, &KeyRange::default(), 1, source.key_order())?;
            check_link(&node, parent, self.left_index, left, &inputs.range)?;
            let minimum = minimum_cells(self.is_leaf);
            let cells = check_page(source, left, self.is_leaf, &inputs.range, minimum)?;
            let expected = inputs.cells.0 + inputs.cells.1;
            if cells != expected {
                return Err(format!("page {left} holds {cells} cells, not {expected}"));
            }
            Ok(())
        })();
        assert_sound(
            format_args!("merging page {right} into page {left} under page {parent}"),
            verdict,
        );
    }

    /// After one cell moved between the siblings, `separator` now lying between them (the
    /// parent not yet updated).
    pub(super) fn after_borrow<S: Ordered + ?Sized>(&self, source: &S, separator: &[u8]) {
        let Ok(inputs) = &self.inputs else {
            return;
        };
        let ((left, right), is_leaf) = (self.pages, self.is_leaf);
        let verdict = (|| {
            if !inputs.range.admits(separator, false, source.key_order()) {
                return Err(format!(
                    "the new separator {} is outside the pair's range {}",
                    shown(separator),
                    shown_range(&inputs.range)
                ));
            }
            let (left_range, right_range) = split_range(&inputs.range, separator);
            let minimum = minimum_cells(is_leaf);
            let left_node = open(source, left, is_leaf)?;
            check_node(&left_node, left, &left_range, minimum, source.key_order())?;
            let right_node = open(source, right, is_leaf)?;
            check_node(
                &right_node,
                right,
                &right_range,
                minimum,
                source.key_order(),
            )?;
            let ((recipient, recipient_node, recipient_cells), (donor, donor_node)) =
                if self.left_is_underfull {
                    ((left, left_node, inputs.cells.0), (right, right_node))
                } else {
                    ((right, right_node, inputs.cells.1), (left, left_node))
                };
            if recipient_node.count() != recipient_cells + 1 {
                return Err(format!(
                    "page {recipient} holds {} cells, not {recipient_cells} + 1",
                    recipient_node.count()
                ));
            }
            if left_node.count() + right_node.count() != inputs.cells.0 + inputs.cells.1 {
                return Err("the pair lost or gained cells".to_string());
            }
            let usable = node::usable_bytes(source.page_size());
            if donor_node.used_bytes() * 4 < usable {
                return Err(format!(
                    "the donor page {donor} is left below a quarter full ({} of {usable} bytes)",
                    donor_node.used_bytes()
                ));
            }
            Ok(())
        })();
        assert_sound(
            format_args!("borrowing between pages {left} and {right}"),
            verdict,
        );
    }

    /// After the parent took the borrow's new `separator` in place of the old one without
    /// splitting.
    pub(super) fn after_new_separator<S: Ordered + ?Sized>(&self, source: &S, separator: &[u8]) {
        let Ok(inputs) = &self.inputs else {
            return;
        };
        let (parent, (left, right)) = (self.parent, self.pages);
        let verdict = (|| {
            let node = open(source, parent, false)?;
            check_node(&node, parent, &KeyRange::default(), 2, source.key_order())?;
            let (left_range, right_range) = split_range(&inputs.range, separator);
            check_link(&node, parent, self.left_index, left, &left_range)?;
            check_link(&node, parent, self.left_index + 1, right, &right_range)
        })();
        assert_sound(
            format_args!(
                "replacing the separator of page {right} in page {parent} (was {})",
                shown(&inputs.separator)
            ),
            verdict,
        );
    }
}

/// A root branch with one child replaced by the child.
pub(super) struct RootReplacement {
    child: PageId,
    depth: u32,
    inputs: Verdict,
}

impl RootReplacement {
    /// Before `child`, the only child of the root of `tree`, becomes the root.
    pub(super) fn before<S: Ordered + ?Sized>(
        source: &S,
        tree: &TreeInfo,
        child: PageId,
    ) -> RootReplacement {
        let is_leaf = tree.depth == 2;
        let inputs = check_page(
            source,
            child,
            is_leaf,
            &KeyRange::default(),
            minimum_cells(is_leaf),
        )
        .map(drop);
        RootReplacement {
            child,
            depth: tree.depth,
            inputs,
        }
    }

    /// After the replacement.
    pub(super) fn after<S: Ordered + ?Sized>(&self, source: &S, tree: &TreeInfo) {
        if self.inputs.is_err() {
            return;
        }
        let verdict = (|| {
            if tree.root != self.child || tree.depth + 1 != self.depth {
                return Err(format!(
                    "the tree's root is page {} at depth {}, not page {} at depth {}",
                    tree.root,
                    tree.depth,
                    self.child,
                    self.depth - 1
                ));
            }
            let is_leaf = tree.depth == 1;
            check_page(
                source,
                tree.root,
                is_leaf,
                &KeyRange::default(),
                minimum_cells(is_leaf),
            )
            .map(drop)
        })();
        assert_sound(
            format_args!("handing the root down to page {}", self.child),
            verdict,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, Result};
    use node::StoredValue;

    const PAGE: usize = 512;

    /// Pages in memory, page `n` at index `n`, keys in byte order.
    struct Pages(Vec<Vec<u8>>);

    impl Ordered for Pages {
        fn key_order(&self) -> KeyOrder {
            KeyOrder::Bytes
        }
    }

    impl PageSource for Pages {
        fn page_size(&self) -> usize {
            PAGE
        }

        fn read(&self, id: PageId, _pages: usize) -> Result<&[u8]> {
            self.0
                .get(id.get() as usize)
                .map(Vec::as_slice)
                .ok_or_else(|| Error::corrupted(id, "no such page"))
        }

        fn page_count(&self) -> u64 {
            self.0.len() as u64
        }
    }

    fn leaf_cell(key: &[u8]) -> Vec<u8> {
        let value = StoredValue::Inline(b"v");
        let mut cell = vec![0u8; node::leaf_cell_size(key.len(), &value)];
        node::write_leaf_cell(&mut cell, key, &value);
        cell
    }

    fn leaf(id: u64, keys: &[&str]) -> Vec<u8> {
        let mut page = vec![0u8; PAGE];
        let cells: Vec<Vec<u8>> = keys.iter().map(|key| leaf_cell(key.as_bytes())).collect();
        let cells: Vec<&[u8]> = cells.iter().map(Vec::as_slice).collect();
        node::fill(&mut page, PageId::new(id), node::Layout::Leaf, &cells).unwrap();
        page
    }

    /// Root leaf 0 holding `before` splits to take "d" at `position` into leaves 0 and 1
    /// holding `left` and `right`, with `separator` between them.
    fn split(before: &[&str], position: usize, left: &[&str], right: &[&str], separator: &str) {
        let mut pages = Pages(vec![leaf(0, before)]);
        let check = Split::before(
            &pages,
            None,
            PageId::new(0),
            true,
            position,
            &leaf_cell(b"d"),
        );
        pages.0 = vec![leaf(0, left), leaf(1, right)];
        check.after(&pages, PageId::new(1), separator.as_bytes());
    }

    #[test]
    fn a_sound_split_passes() {
        split(&["a", "b", "c"], 3, &["a", "b"], &["c", "d"], "c");
    }

    #[test]
    #[should_panic(
        expected = "after splitting page 0 (into 0 and 1): page 1: key 1 \"c\" is not above key 0 \"d\""
    )]
    fn halves_out_of_order_panic() {
        split(&["a", "b", "c"], 3, &["a", "b"], &["d", "c"], "c");
    }

    #[test]
    #[should_panic(expected = "page 0: key 1 \"b\" is outside its range [-inf, \"b\")")]
    fn a_separator_not_above_the_left_half_panics() {
        split(&["a", "b", "c"], 3, &["a", "b"], &["c", "d"], "b");
    }

    #[test]
    #[should_panic(expected = "page 1 holds 0 cells, below its minimum of 1")]
    fn an_empty_half_panics() {
        split(&["a", "b", "c"], 3, &["a", "b", "c", "d"], &[], "e");
    }

    #[test]
    #[should_panic(expected = "the halves hold 1 + 2 cells, not 4")]
    fn a_lost_cell_panics() {
        split(&["a", "b", "c"], 3, &["a"], &["c", "d"], "c");
    }

    #[test]
    fn a_split_of_damaged_input_asserts_nothing() {
        // Keys out of order before, or the new cell where it does not belong.
        split(&["b", "a", "c"], 3, &["b", "a"], &["c", "d"], "c");
        split(&["a", "b", "e"], 3, &["a", "b"], &["e", "d"], "e");
    }

    /// Leaves 1 and 2 under branch 0 borrow: the left one, holding `left`, is underfull.
    /// Afterwards they hold `left_after` and `right_after`, split at the latter's first key.
    fn borrow(left: &[&str], right: &[&str], left_after: &[&str], right_after: &[&str]) {
        let mut parent = vec![0u8; PAGE];
        let (left_id, right_id) = (PageId::new(1), PageId::new(2));
        let cells = [
            node::branch_cell(left_id, b""),
            node::branch_cell(right_id, b"m"),
        ];
        let cells: Vec<&[u8]> = cells.iter().map(Vec::as_slice).collect();
        node::fill(&mut parent, PageId::new(0), node::Layout::Branch, &cells).unwrap();
        let mut pages = Pages(vec![parent, leaf(1, left), leaf(2, right)]);
        let check = Rebalance::before(&pages, PageId::new(0), 0, (left_id, right_id), true, true);
        pages.0[1] = leaf(1, left_after);
        pages.0[2] = leaf(2, right_after);
        check.after_borrow(&pages, right_after[0].as_bytes());
    }

    #[test]
    fn a_borrow_from_a_full_donor_passes() {
        let right: Vec<String> = (0..12)
            .map(|n| format!("m{n:02}{}", "x".repeat(20)))
            .collect();
        let right: Vec<&str> = right.iter().map(String::as_str).collect();
        let mut left_after = vec!["a"];
        left_after.push(right[0]);
        borrow(&["a"], &right, &left_after, &right[1..]);
    }

    #[test]
    #[should_panic(expected = "the donor page 2 is left below a quarter full")]
    fn a_borrow_leaving_the_donor_below_a_quarter_panics() {
        borrow(&["a"], &["m", "n"], &["a", "m"], &["n"]);
    }
}
