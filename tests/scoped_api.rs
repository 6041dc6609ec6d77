//! The scope layer as a program written for scoped-heed calls it, with its imports changed:
//! databases made by the builder and by the `new` constructors of the three kinds, `Scope`
//! values and the `*_with_name` forms that take `Option<&str>`, and the shared registry's
//! lookups, emptiness checks and pruning, each call checked for what it does. The data is a
//! small invoicing service: tenants, their invoices (`String` number to amount in cents),
//! customers and attachments.

mod common;

use std::ops::Bound;
use std::sync::Arc;

use arbordb::scoped::{
    scoped_database_options, GlobalScopeRegistry, Scope, ScopeEmptinessChecker,
    ScopedBytesDatabase, ScopedBytesKeyDatabase, ScopedDatabase, ScopedDbError,
};
use arbordb::Env;

/// Invoice number to amount in cents.
type Invoices = ScopedDatabase<String, u64>;

/// A registry and the invoices database, made with the builder and committed.
fn invoicing(env: &Env) -> Result<(Arc<GlobalScopeRegistry>, Invoices), ScopedDbError> {
    let mut wtxn = env.write_txn()?;
    let registry = Arc::new(GlobalScopeRegistry::new(env, &mut wtxn)?);
    let invoices = scoped_database_options(env, registry.clone())
        .types::<String, u64>()
        .name("invoices")
        .create(&mut wtxn)?;
    wtxn.commit()?;
    Ok((registry, invoices))
}

fn number(text: &str) -> String {
    text.to_owned()
}

/// Every invoice of a scope's walk, in the order walked.
fn invoices_of(
    walk: impl Iterator<Item = Result<(String, u64), ScopedDbError>>,
) -> Result<Vec<(String, u64)>, ScopedDbError> {
    walk.collect()
}

/// The names of the named scopes in `scopes`, as a program matches on them.
fn names(scopes: &[Scope]) -> Vec<&str> {
    scopes
        .iter()
        .filter_map(|scope| match scope {
            Scope::Named { name, .. } => Some(name.as_str()),
            Scope::Default => None,
        })
        .collect()
}

// ---- one tenant's data is its own ----

#[test]
fn the_same_invoice_number_is_a_separate_invoice_in_each_tenant() -> Result<(), ScopedDbError> {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (_, invoices) = invoicing(&env)?;
    let (acme, globex) = (Scope::named("acme")?, Scope::named("globex")?);

    let mut wtxn = env.write_txn()?;
    invoices.put(&mut wtxn, &acme, &number("INV-001"), &12_500)?;
    invoices.put(&mut wtxn, &acme, &number("INV-002"), &800)?;
    invoices.put(&mut wtxn, &globex, &number("INV-001"), &9_900)?;
    invoices.put(&mut wtxn, &Scope::Default, &number("INV-001"), &1)?;
    wtxn.commit()?;

    let rtxn = env.read_txn()?;
    assert_eq!(
        invoices.get(&rtxn, &acme, &number("INV-001"))?,
        Some(12_500)
    );
    assert_eq!(
        invoices.get(&rtxn, &globex, &number("INV-001"))?,
        Some(9_900)
    );
    assert_eq!(
        invoices.get(&rtxn, &Scope::Default, &number("INV-001"))?,
        Some(1)
    );
    // acme's second invoice exists nowhere else.
    assert_eq!(invoices.get(&rtxn, &globex, &number("INV-002"))?, None);
    assert_eq!(
        invoices.get(&rtxn, &Scope::Default, &number("INV-002"))?,
        None
    );
    assert_eq!(invoices.get(&rtxn, &acme, &number("INV-003"))?, None);
    // Each walk holds its own scope's entries only, in key order.
    assert_eq!(
        invoices_of(invoices.iter(&rtxn, &acme)?)?,
        [(number("INV-001"), 12_500), (number("INV-002"), 800)]
    );
    assert_eq!(
        invoices_of(invoices.iter(&rtxn, &globex)?)?,
        [(number("INV-001"), 9_900)]
    );
    assert_eq!(
        invoices_of(invoices.iter(&rtxn, &Scope::Default)?)?,
        [(number("INV-001"), 1)]
    );
    Ok(())
}

#[test]
fn deleting_an_invoice_removes_one_key_of_one_tenant() -> Result<(), ScopedDbError> {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (_, invoices) = invoicing(&env)?;
    let (acme, globex) = (Scope::named("acme")?, Scope::named("globex")?);
    let mut wtxn = env.write_txn()?;
    for scope in [&acme, &globex, &Scope::Default] {
        invoices.put(&mut wtxn, scope, &number("INV-001"), &100)?;
        invoices.put(&mut wtxn, scope, &number("INV-002"), &200)?;
    }
    wtxn.commit()?;

    let mut wtxn = env.write_txn()?;
    assert!(invoices.delete(&mut wtxn, &acme, &number("INV-001"))?);
    assert!(
        !invoices.delete(&mut wtxn, &acme, &number("INV-001"))?,
        "a second delete finds nothing"
    );
    assert!(!invoices.delete(&mut wtxn, &acme, &number("INV-404"))?);
    wtxn.commit()?;

    let rtxn = env.read_txn()?;
    assert_eq!(
        invoices_of(invoices.iter(&rtxn, &acme)?)?,
        [(number("INV-002"), 200)]
    );
    for scope in [&globex, &Scope::Default] {
        assert_eq!(
            invoices.get(&rtxn, scope, &number("INV-001"))?,
            Some(100),
            "{scope:?}"
        );
    }
    Ok(())
}

#[test]
fn clearing_the_default_scope_leaves_the_named_tenants() -> Result<(), ScopedDbError> {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (_, invoices) = invoicing(&env)?;
    let acme = Scope::named("acme")?;
    let mut wtxn = env.write_txn()?;
    invoices.put(&mut wtxn, &Scope::Default, &number("INV-001"), &5)?;
    invoices.put(&mut wtxn, &Scope::Default, &number("INV-002"), &6)?;
    invoices.put(&mut wtxn, &acme, &number("INV-001"), &7)?;
    invoices.clear(&mut wtxn, &Scope::Default)?;
    wtxn.commit()?;

    let rtxn = env.read_txn()?;
    assert_eq!(invoices.iter(&rtxn, &Scope::Default)?.count(), 0);
    assert_eq!(
        invoices_of(invoices.iter(&rtxn, &acme)?)?,
        [(number("INV-001"), 7)]
    );
    Ok(())
}

#[test]
fn ranges_walk_one_tenants_invoices_between_their_bounds() -> Result<(), ScopedDbError> {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (_, invoices) = invoicing(&env)?;
    let (acme, globex) = (Scope::named("acme")?, Scope::named("globex")?);
    let months = ["2031-01", "2031-02", "2031-03", "2031-04", "2031-05"];
    let mut wtxn = env.write_txn()?;
    for (month, amount) in months.iter().zip(1u64..) {
        invoices.put(&mut wtxn, &acme, &number(month), &amount)?;
        invoices.put(&mut wtxn, &globex, &number(month), &(amount * 1_000))?;
        invoices.put(&mut wtxn, &Scope::Default, &number(month), &(amount * 7))?;
    }
    wtxn.commit()?;

    let rtxn = env.read_txn()?;
    let first_quarter = number("2031-01")..=number("2031-03");
    assert_eq!(
        invoices_of(invoices.range(&rtxn, &acme, &first_quarter)?)?,
        [
            (number("2031-01"), 1),
            (number("2031-02"), 2),
            (number("2031-03"), 3)
        ]
    );
    let strictly_between = (
        Bound::Excluded(number("2031-02")),
        Bound::Excluded(number("2031-05")),
    );
    assert_eq!(
        invoices_of(invoices.range(&rtxn, &Scope::Default, &strictly_between)?)?,
        [(number("2031-03"), 21), (number("2031-04"), 28)]
    );
    let from_april = number("2031-04")..;
    assert_eq!(
        invoices_of(invoices.range(&rtxn, &globex, &from_april)?)?,
        [(number("2031-04"), 4_000), (number("2031-05"), 5_000)]
    );
    Ok(())
}

// ---- the forms that take the scope's name ----

#[test]
fn a_name_and_its_scope_value_reach_the_same_tenant() -> Result<(), ScopedDbError> {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (_, invoices) = invoicing(&env)?;
    let acme = Scope::named("acme")?;

    let mut wtxn = env.write_txn()?;
    invoices.put_with_name(&mut wtxn, Some("acme"), &number("INV-001"), &300)?;
    invoices.put(&mut wtxn, &acme, &number("INV-002"), &400)?;
    invoices.put_with_name(&mut wtxn, None, &number("INV-001"), &10)?;
    invoices.put(&mut wtxn, &Scope::Default, &number("INV-002"), &20)?;
    wtxn.commit()?;

    let rtxn = env.read_txn()?;
    let acme_invoices = [(number("INV-001"), 300), (number("INV-002"), 400)];
    assert_eq!(invoices_of(invoices.iter(&rtxn, &acme)?)?, acme_invoices);
    assert_eq!(
        invoices_of(invoices.iter_with_name(&rtxn, Some("acme"))?)?,
        acme_invoices
    );
    assert_eq!(invoices.get(&rtxn, &acme, &number("INV-001"))?, Some(300));
    assert_eq!(
        invoices.get_with_name(&rtxn, Some("acme"), &number("INV-002"))?,
        Some(400)
    );
    // `None` is the default scope.
    assert_eq!(
        invoices.get_with_name(&rtxn, None, &number("INV-002"))?,
        Some(20)
    );
    assert_eq!(
        invoices_of(invoices.iter_with_name(&rtxn, None)?)?,
        [(number("INV-001"), 10), (number("INV-002"), 20)]
    );
    let second_only = number("INV-002")..;
    assert_eq!(
        invoices_of(invoices.range_with_name(&rtxn, Some("acme"), &second_only)?)?,
        [(number("INV-002"), 400)]
    );
    drop(rtxn);

    let mut wtxn = env.write_txn()?;
    assert!(invoices.delete_with_name(&mut wtxn, Some("acme"), &number("INV-002"))?);
    assert!(invoices.delete_with_name(&mut wtxn, None, &number("INV-001"))?);
    wtxn.commit()?;
    let rtxn = env.read_txn()?;
    assert_eq!(invoices.get(&rtxn, &acme, &number("INV-002"))?, None);
    assert_eq!(
        invoices.get(&rtxn, &Scope::Default, &number("INV-001"))?,
        None
    );
    assert_eq!(invoices.get(&rtxn, &acme, &number("INV-001"))?, Some(300));
    Ok(())
}

#[test]
fn any_non_empty_string_names_a_tenant_of_its_own() -> Result<(), ScopedDbError> {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (_, invoices) = invoicing(&env)?;
    let tenants = [
        "acme",
        "Acme",
        "acme ",
        "acme:eu-west-1",
        "customer/1042",
        "billing.v2",
        "café",
        "株式会社",
        "x",
    ];
    let mut wtxn = env.write_txn()?;
    for (tenant, balance) in tenants.iter().zip(1u64..) {
        invoices.put_with_name(&mut wtxn, Some(tenant), &number("balance"), &balance)?;
    }
    wtxn.commit()?;

    let rtxn = env.read_txn()?;
    for (tenant, balance) in tenants.iter().zip(1u64..) {
        assert_eq!(
            invoices_of(invoices.iter_with_name(&rtxn, Some(tenant))?)?,
            [(number("balance"), balance)],
            "{tenant:?}"
        );
    }
    // A name never written holds nothing, and reading it registers nothing.
    assert_eq!(
        invoices.get_with_name(&rtxn, Some("hooli"), &number("balance"))?,
        None
    );
    assert_eq!(invoices.iter_with_name(&rtxn, Some("hooli"))?.count(), 0);
    assert_eq!(invoices.list_scopes(&rtxn)?.len(), 1 + tenants.len());
    Ok(())
}

#[test]
fn clearing_a_tenant_by_name_keeps_every_other_tenant_entry_for_entry() -> Result<(), ScopedDbError>
{
    // acme and oscorp share their hash's low byte: a scope prefix stored little-endian
    // interleaves their keys, and clearing oscorp would take acme's too.
    let (acme, oscorp) = (Scope::named("acme")?, Scope::named("oscorp")?);
    assert_eq!(acme.hash().unwrap() & 0xFF, oscorp.hash().unwrap() & 0xFF);
    assert_ne!(acme.hash(), oscorp.hash());

    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (_, invoices) = invoicing(&env)?;
    let tenants = ["acme", "oscorp", "globex", "initech", "umbrella"];
    let expected = |tenant: usize| -> Vec<(String, u64)> {
        (0..12u64)
            .map(|invoice| (format!("INV-{invoice:03}"), tenant as u64 * 100 + invoice))
            .collect()
    };
    let mut wtxn = env.write_txn()?;
    for (index, tenant) in tenants.iter().enumerate() {
        for (key, amount) in expected(index) {
            invoices.put_with_name(&mut wtxn, Some(tenant), &key, &amount)?;
        }
    }
    invoices.put_with_name(&mut wtxn, None, &number("INV-000"), &42)?;
    wtxn.commit()?;

    let mut wtxn = env.write_txn()?;
    invoices.clear_with_name(&mut wtxn, Some("oscorp"))?;
    wtxn.commit()?;

    let rtxn = env.read_txn()?;
    for (index, tenant) in tenants.iter().enumerate() {
        let left = invoices_of(invoices.iter_with_name(&rtxn, Some(tenant))?)?;
        match *tenant {
            "oscorp" => assert_eq!(left, []),
            _ => assert_eq!(left, expected(index), "{tenant}"),
        }
    }
    assert_eq!(
        invoices.get_with_name(&rtxn, None, &number("INV-000"))?,
        Some(42)
    );
    Ok(())
}

#[test]
fn byte_key_ranges_by_name_stay_inside_their_tenant() -> Result<(), ScopedDbError> {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (registry, _) = invoicing(&env)?;
    let mut wtxn = env.write_txn()?;
    // Customer id (bytes) to customer name.
    let customers = scoped_database_options(&env, registry)
        .bytes_keys::<String>()
        .name("customers")
        .create(&mut wtxn)?;
    wtxn.commit()?;

    let mut wtxn = env.write_txn()?;
    for id in 0..8u8 {
        let key = [b'c', id];
        customers.put_with_name(&mut wtxn, Some("acme"), &key, &format!("acme #{id}"))?;
    }
    for id in 4..12u8 {
        let key = [b'c', id];
        customers.put_with_name(&mut wtxn, Some("globex"), &key, &format!("globex #{id}"))?;
    }
    wtxn.commit()?;

    let rtxn = env.read_txn()?;
    let middle = &[b'c', 3][..]..=&[b'c', 6][..];
    let found = |tenant: &str| -> Result<Vec<(Vec<u8>, String)>, ScopedDbError> {
        customers
            .range_with_name(&rtxn, Some(tenant), &middle)?
            .map(|entry| entry.map(|(key, name)| (key.to_vec(), name)))
            .collect()
    };
    let expected = |tenant: &str, ids: std::ops::RangeInclusive<u8>| -> Vec<(Vec<u8>, String)> {
        ids.map(|id| (vec![b'c', id], format!("{tenant} #{id}")))
            .collect()
    };
    assert_eq!(found("acme")?, expected("acme", 3..=6));
    assert_eq!(found("globex")?, expected("globex", 4..=6));
    assert_eq!(found("initech")?, []);
    Ok(())
}

// ---- the empty name ----

#[test]
fn the_empty_name_is_refused_by_every_call_and_writes_nothing() -> Result<(), ScopedDbError> {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (registry, invoices) = invoicing(&env)?;
    let refused = |what: &str, result: Result<(), ScopedDbError>| {
        assert!(
            matches!(result, Err(ScopedDbError::EmptyScopeDisallowed)),
            "{what}: {result:?}"
        );
    };
    let blank = Some("");
    let key = number("INV-001");
    let mut wtxn = env.write_txn()?;
    refused("Scope::named", Scope::named("").map(drop));
    refused(
        "put_with_name",
        invoices.put_with_name(&mut wtxn, blank, &key, &1),
    );
    refused(
        "get_with_name",
        invoices.get_with_name(&wtxn, blank, &key).map(drop),
    );
    refused(
        "delete_with_name",
        invoices.delete_with_name(&mut wtxn, blank, &key).map(drop),
    );
    refused(
        "clear_with_name",
        invoices.clear_with_name(&mut wtxn, blank),
    );
    refused(
        "iter_with_name",
        invoices.iter_with_name(&wtxn, blank).map(drop),
    );
    refused(
        "range_with_name",
        invoices
            .range_with_name(&wtxn, blank, &(key.clone()..))
            .map(drop),
    );
    let blank_scope = Scope::from("");
    refused("put", invoices.put(&mut wtxn, &blank_scope, &key, &1));
    refused("get", invoices.get(&wtxn, &blank_scope, &key).map(drop));
    refused(
        "database register_scope",
        invoices.register_scope(&mut wtxn, &blank_scope),
    );
    refused(
        "registry register_scope",
        registry.register_scope(&mut wtxn, &blank_scope),
    );
    refused(
        "scope_exists",
        registry.scope_exists(&wtxn, &blank_scope).map(drop),
    );
    // Neither the default scope nor the registry took anything.
    assert_eq!(invoices.iter(&wtxn, &Scope::Default)?.count(), 0);
    assert_eq!(registry.list_all_scopes(&wtxn)?, [Scope::Default]);
    wtxn.commit()?;
    Ok(())
}

// ---- the three kinds of database, and handles ----

#[test]
fn the_three_kinds_of_database_keep_their_own_data_in_one_tenant() -> Result<(), ScopedDbError> {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let mut wtxn = env.write_txn()?;
    let registry = Arc::new(GlobalScopeRegistry::new(&env, &mut wtxn)?);
    wtxn.commit()?;
    // `new` opens or creates the database in a transaction of its own.
    let invoices = ScopedDatabase::<String, u64>::new(&env, "invoices", registry.clone())?;
    let customers = ScopedBytesKeyDatabase::<String>::new(&env, "customers", registry.clone())?;
    let attachments = ScopedBytesDatabase::new(&env, "attachments", registry.clone())?;
    let acme = Scope::named("acme")?;

    let mut wtxn = env.write_txn()?;
    invoices.put(&mut wtxn, &acme, &number("INV-001"), &12_500)?;
    customers.put(&mut wtxn, &acme, b"INV-001", &number("Wile E. Coyote"))?;
    attachments.put(&mut wtxn, &acme, b"INV-001", b"%PDF-1.7")?;
    attachments.put(&mut wtxn, &Scope::Default, b"logo", b"\x89PNG")?;
    wtxn.commit()?;

    let rtxn = env.read_txn()?;
    assert_eq!(
        invoices.get(&rtxn, &acme, &number("INV-001"))?,
        Some(12_500)
    );
    assert_eq!(
        customers.get(&rtxn, &acme, b"INV-001")?,
        Some(number("Wile E. Coyote"))
    );
    let pdf: Option<&[u8]> = attachments.get(&rtxn, &acme, b"INV-001")?;
    assert_eq!(pdf, Some(&b"%PDF-1.7"[..]));
    assert_eq!(customers.get(&rtxn, &Scope::Default, b"INV-001")?, None);
    assert_eq!(
        attachments.get(&rtxn, &Scope::Default, b"logo")?,
        Some(&b"\x89PNG"[..])
    );
    // One tenant written through three databases is registered once.
    assert_eq!(
        registry.list_all_scopes(&rtxn)?,
        [Scope::Default, acme.clone()]
    );
    assert_eq!(
        attachments.list_scopes(&rtxn)?,
        [Scope::Default, acme.clone()]
    );
    drop(rtxn);

    // Clearing the tenant in one database leaves it in the others.
    let mut wtxn = env.write_txn()?;
    customers.clear(&mut wtxn, &acme)?;
    wtxn.commit()?;
    let rtxn = env.read_txn()?;
    assert_eq!(customers.iter(&rtxn, &acme)?.count(), 0);
    assert_eq!(
        invoices.get(&rtxn, &acme, &number("INV-001"))?,
        Some(12_500)
    );
    assert_eq!(
        attachments.get(&rtxn, &acme, b"INV-001")?,
        Some(&b"%PDF-1.7"[..])
    );
    Ok(())
}

#[test]
fn a_cloned_handle_reads_and_writes_the_same_tenants() -> Result<(), ScopedDbError> {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (registry, invoices) = invoicing(&env)?;
    let acme = Scope::named("acme")?;
    let mut wtxn = env.write_txn()?;
    invoices.put(&mut wtxn, &acme, &number("INV-001"), &1)?;
    wtxn.commit()?;

    let copy = invoices.clone();
    let umbrella = Scope::named("umbrella")?;
    let mut wtxn = env.write_txn()?;
    copy.put(&mut wtxn, &acme, &number("INV-002"), &2)?;
    // A tenant first written through the copy is registered in the registry both share.
    copy.put(&mut wtxn, &umbrella, &number("INV-001"), &3)?;
    invoices.put(&mut wtxn, &Scope::Default, &number("INV-009"), &9)?;
    wtxn.commit()?;

    let rtxn = env.read_txn()?;
    for handle in [&invoices, &copy] {
        assert_eq!(
            invoices_of(handle.iter(&rtxn, &acme)?)?,
            [(number("INV-001"), 1), (number("INV-002"), 2)]
        );
        assert_eq!(handle.get(&rtxn, &umbrella, &number("INV-001"))?, Some(3));
        assert_eq!(
            handle.get(&rtxn, &Scope::Default, &number("INV-009"))?,
            Some(9)
        );
    }
    assert!(registry.scope_exists(&rtxn, &umbrella)?);
    assert_eq!(names(&invoices.list_scopes(&rtxn)?).len(), 2);
    Ok(())
}

// ---- the registry ----

#[test]
fn the_registry_answers_for_every_tenant_written_or_registered() -> Result<(), ScopedDbError> {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (registry, invoices) = invoicing(&env)?;
    let customers = ScopedBytesKeyDatabase::<String>::new(&env, "customers", registry.clone())?;
    let (acme, globex, initech) = (
        Scope::named("acme")?,
        Scope::named("globex")?,
        Scope::named("initech")?,
    );
    let mut wtxn = env.write_txn()?;
    invoices.put(&mut wtxn, &acme, &number("INV-001"), &1)?;
    customers.put(&mut wtxn, &globex, b"c1", &number("Hank Scorpio"))?;
    registry.register_scope(&mut wtxn, &initech)?;
    // Registering twice changes nothing.
    invoices.register_scope(&mut wtxn, &initech)?;
    wtxn.commit()?;

    let rtxn = env.read_txn()?;
    let listed = registry.list_all_scopes(&rtxn)?;
    assert_eq!(listed[0], Scope::Default, "the default scope comes first");
    let mut listed_names = names(&listed);
    listed_names.sort_unstable();
    assert_eq!(listed_names, ["acme", "globex", "initech"]);
    assert_eq!(customers.list_scopes(&rtxn)?, listed);

    for scope in [&acme, &globex, &initech] {
        let (name, hash) = (scope.name().unwrap(), scope.hash().unwrap());
        assert_eq!(
            registry.get_scope_name(&rtxn, &hash)?.as_deref(),
            Some(name)
        );
        assert_eq!(registry.lookup_scope_hash(&rtxn, name)?, Some(hash));
        assert!(registry.scope_exists(&rtxn, scope)?, "{name}");
    }
    let hooli = Scope::named("hooli")?;
    assert!(registry.scope_exists(&rtxn, &Scope::Default)?);
    assert!(!registry.scope_exists(&rtxn, &hooli)?);
    assert_eq!(registry.lookup_scope_hash(&rtxn, "hooli")?, None);
    assert_eq!(
        registry.get_scope_name(&rtxn, &hooli.hash().unwrap())?,
        None
    );
    Ok(())
}

#[test]
fn pruning_unregisters_the_tenants_empty_in_every_database() -> Result<(), ScopedDbError> {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (registry, invoices) = invoicing(&env)?;
    let customers = ScopedBytesKeyDatabase::<String>::new(&env, "customers", registry.clone())?;
    let (acme, globex, initech, umbrella) = (
        Scope::named("acme")?,
        Scope::named("globex")?,
        Scope::named("initech")?,
        Scope::named("umbrella")?,
    );
    let mut wtxn = env.write_txn()?;
    invoices.put(&mut wtxn, &acme, &number("INV-001"), &1)?;
    customers.put(&mut wtxn, &globex, b"c1", &number("Hank Scorpio"))?;
    customers.put(&mut wtxn, &umbrella, b"c1", &number("Albert Wesker"))?;
    assert!(customers.delete(&mut wtxn, &umbrella, b"c1")?);
    invoices.register_scope(&mut wtxn, &initech)?;
    wtxn.commit()?;

    let rtxn = env.read_txn()?;
    // Each database counts the registered tenants that hold nothing in it.
    assert_eq!(
        invoices.find_empty_scopes(&rtxn)?,
        3,
        "globex, initech, umbrella"
    );
    assert_eq!(
        customers.find_empty_scopes(&rtxn)?,
        3,
        "acme, initech, umbrella"
    );
    assert!(invoices.is_scope_empty_in_db(&rtxn, &globex)?);
    assert!(!customers.is_scope_empty_in_db(&rtxn, &globex)?);
    // The registry's helper asks whichever check it is given.
    assert!(!registry.is_scope_empty(&rtxn, &acme, |txn, scope| {
        invoices.is_scope_empty_in_db(txn, scope)
    })?);
    assert!(registry.is_scope_empty(&rtxn, &acme, |txn, scope| {
        customers.is_scope_empty_in_db(txn, scope)
    })?);
    drop(rtxn);

    let mut wtxn = env.write_txn()?;
    let every_database: [&dyn ScopeEmptinessChecker; 2] = [&invoices, &customers];
    assert_eq!(
        registry.prune_globally_unused_scopes(&mut wtxn, &every_database)?,
        2,
        "initech and umbrella"
    );
    wtxn.commit()?;

    let rtxn = env.read_txn()?;
    let mut left = names(&registry.list_all_scopes(&rtxn)?)
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    left.sort_unstable();
    assert_eq!(left, ["acme", "globex"]);
    assert_eq!(invoices.get(&rtxn, &acme, &number("INV-001"))?, Some(1));
    assert_eq!(
        customers.get(&rtxn, &globex, b"c1")?,
        Some(number("Hank Scorpio"))
    );
    Ok(())
}

// ---- transactions as scoped-heed programs pass them ----

#[test]
fn reads_through_the_write_transaction_see_its_uncommitted_writes() -> Result<(), ScopedDbError> {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (registry, invoices) = invoicing(&env)?;
    let acme = Scope::named("acme")?;
    let mut wtxn = env.write_txn()?;
    invoices.put(&mut wtxn, &acme, &number("INV-001"), &70)?;
    assert_eq!(invoices.get(&wtxn, &acme, &number("INV-001"))?, Some(70));
    assert_eq!(invoices.iter(&wtxn, &acme)?.count(), 1);
    assert!(registry.scope_exists(&wtxn, &acme)?);
    // A reader started before the commit sees none of it.
    let before = env.read_txn()?;
    assert_eq!(invoices.get(&before, &acme, &number("INV-001"))?, None);
    assert!(!registry.scope_exists(&before, &acme)?);
    wtxn.commit()?;
    assert_eq!(invoices.get(&before, &acme, &number("INV-001"))?, None);
    Ok(())
}

// scoped-heed's `find_empty_scopes` takes `&mut RwTxn`; here it takes `&RoTxn`, and code that
// passes `&mut wtxn` compiles unchanged.
#[allow(clippy::unnecessary_mut_passed)]
#[test]
fn counting_empty_tenants_accepts_the_write_transaction_passed_mutably() -> Result<(), ScopedDbError>
{
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let (_, invoices) = invoicing(&env)?;
    let mut wtxn = env.write_txn()?;
    invoices.register_scope(&mut wtxn, &Scope::named("initech")?)?;
    invoices.put(&mut wtxn, &Scope::named("acme")?, &number("INV-001"), &1)?;
    assert_eq!(invoices.find_empty_scopes(&mut wtxn)?, 1);
    wtxn.commit()?;
    Ok(())
}
