//! One database, many tenants: each tenant's data lives in its own scope, the same keys in
//! different tenants never meet, and removing a tenant removes exactly its data.
//!
//! Run it with `cargo run --example multi_tenant`.

use std::sync::Arc;

use arbordb::scoped::{scoped_database_options, GlobalScopeRegistry, Scope, ScopedDbError};
use arbordb::EnvOpenOptions;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct User {
    name: String,
    role: String,
}

fn main() -> Result<(), ScopedDbError> {
    let dir = tempfile::tempdir().map_err(arbordb::Error::Io)?;
    // SAFETY: nothing else touches this fresh directory while the environment is open.
    let env = unsafe {
        EnvOpenOptions::new()
            .map_size(64 << 20)
            .max_dbs(8)
            .open(dir.path())?
    };

    let mut wtxn = env.write_txn()?;
    let registry = Arc::new(GlobalScopeRegistry::new(&env, &mut wtxn)?);
    let users = scoped_database_options(&env, registry.clone())
        .types::<String, User>()
        .name("users")
        .create(&mut wtxn)?;
    wtxn.commit()?;

    let tenants = ["acme", "globex", "initech"];
    let mut wtxn = env.write_txn()?;
    for tenant in tenants {
        let scope = Scope::named(tenant)?;
        for (id, role) in [("u1", "admin"), ("u2", "member"), ("u3", "member")] {
            let user = User {
                name: format!("{id}@{tenant}"),
                role: role.into(),
            };
            users.put(&mut wtxn, &scope, &id.to_string(), &user)?;
        }
    }
    // Shared configuration lives in the default scope.
    users.put(
        &mut wtxn,
        &Scope::Default,
        &"u1".to_string(),
        &User {
            name: "operator".into(),
            role: "root".into(),
        },
    )?;
    wtxn.commit()?;

    let rtxn = env.read_txn()?;
    for tenant in tenants {
        let scope = Scope::named(tenant)?;
        let u1 = users
            .get(&rtxn, &scope, &"u1".to_string())?
            .expect("every tenant has u1");
        println!(
            "{tenant:>8}: u1 = {} ({}), {} users",
            u1.name,
            u1.role,
            users.len(&rtxn, &scope)?
        );
        assert_eq!(u1.name, format!("u1@{tenant}"));
        assert_eq!(users.len(&rtxn, &scope)?, 3);
    }
    assert_eq!(
        users
            .get(&rtxn, &Scope::Default, &"u1".to_string())?
            .unwrap()
            .role,
        "root"
    );
    drop(rtxn);

    // Offboard one tenant: its data and only its data goes.
    let mut wtxn = env.write_txn()?;
    users.clear(&mut wtxn, &Scope::named("globex")?)?;
    let pruned = registry.prune_globally_unused_scopes(&mut wtxn, &[&users])?;
    wtxn.commit()?;
    println!("removed globex; pruned {pruned} scope from the registry");
    assert_eq!(pruned, 1);

    let rtxn = env.read_txn()?;
    assert!(users.is_empty(&rtxn, &Scope::named("globex")?)?);
    for tenant in ["acme", "initech"] {
        assert_eq!(
            users.len(&rtxn, &Scope::named(tenant)?)?,
            3,
            "{tenant} kept its users"
        );
    }
    let with_data: Vec<String> = users
        .scopes_with_data(&rtxn)?
        .iter()
        .map(|scope| scope.name().unwrap_or("(default)").to_string())
        .collect();
    println!("scopes holding users: {with_data:?}");
    assert_eq!(with_data.len(), 3);
    Ok(())
}
