//! A database's custom comparators as a transaction holds them: the names the database
//! records and the functions registered under them in this environment
//! (`env/key_orders.rs`), where there are.

use crate::btree::order::CompareFn;
use crate::env::key_orders::KeyOrders;
use crate::page::catalog_record::OrderNames;

/// A database's custom comparators: the names it records, and the functions registered
/// under them in this environment, where there are.
#[derive(Debug, Default)]
pub(crate) struct CustomOrders {
    pub(crate) names: OrderNames,
    pub(crate) keys: Option<CompareFn>,
    pub(crate) values: Option<CompareFn>,
}

impl CustomOrders {
    /// The functions `orders` holds for `names`.
    pub(crate) fn resolve(names: OrderNames, orders: &KeyOrders) -> CustomOrders {
        let find = |name: &Option<String>| name.as_deref().and_then(|name| orders.get(name));
        CustomOrders {
            keys: find(&names.keys),
            values: find(&names.values),
            names,
        }
    }
}
