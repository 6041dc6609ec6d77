//! `arbor stat`: environment, database, freelist and reader statistics, in the spirit of
//! `mdb_stat` (`-e`, `-f`, `-r`, `-a`, `-s NAME`), as text or `--json`.

use arbordb::types::DecodeIgnore;
use arbordb::{Database, DatabaseStat, Env};
use clap::Args;
use serde_json::{json, Value};

use crate::{failed, open_env, Access, EnvArg, Outcome, Selection};

#[derive(Args)]
pub struct StatArgs {
    #[command(flatten)]
    env: EnvArg,
    /// Show environment information (map, pages, transactions, readers)
    #[arg(short = 'e', long = "env")]
    environment: bool,
    /// Show freelist information (free pages)
    #[arg(short = 'f', long = "freelist")]
    freelist: bool,
    /// Show the reader table (pid and snapshot of each live read transaction)
    #[arg(short = 'r', long = "readers")]
    readers: bool,
    #[command(flatten)]
    selection: Selection,
    /// Print JSON for scripts instead of text
    #[arg(long)]
    json: bool,
}

fn database_json(name: Option<&str>, stat: &DatabaseStat) -> Value {
    json!({
        "name": name,
        "depth": stat.depth,
        "branch_pages": stat.branch_pages,
        "leaf_pages": stat.leaf_pages,
        "overflow_pages": stat.overflow_pages,
        "entries": stat.entries,
    })
}

fn database_text(name: Option<&str>, stat: &DatabaseStat) -> String {
    format!(
        "Status of {}\n  Tree depth: {}\n  Branch pages: {}\n  Leaf pages: {}\n  Overflow pages: {}\n  Entries: {}\n",
        name.unwrap_or("Main DB"),
        stat.depth,
        stat.branch_pages,
        stat.leaf_pages,
        stat.overflow_pages,
        stat.entries
    )
}

fn database_stats(env: &Env, args: &StatArgs) -> Outcome<Vec<(Option<String>, DatabaseStat)>> {
    let path = &args.env.path;
    let rtxn = env.read_txn().map_err(|error| failed(path, error))?;
    let mut names: Vec<Option<String>> = match &args.selection.name {
        Some(name) => vec![Some(name.clone())],
        None => vec![None],
    };
    if args.selection.all {
        names.extend(
            rtxn.database_names()
                .map_err(|error| failed(path, error))?
                .into_iter()
                .map(Some),
        );
    }
    let mut stats = Vec::new();
    for name in names {
        let db: Database<DecodeIgnore, DecodeIgnore> = env
            .open_database(&rtxn, name.as_deref())
            .map_err(|error| failed(path, error))?
            .ok_or_else(|| {
                failed(
                    path,
                    format!("no database named {:?}", name.as_deref().unwrap_or("")),
                )
            })?;
        let stat = db.stat(&rtxn).map_err(|error| failed(path, error))?;
        stats.push((name, stat));
    }
    Ok(stats)
}

pub fn run(args: &StatArgs) -> Outcome {
    let env = open_env(&args.env, Access::Read, |_| {})?;
    let path = &args.env.path;
    let info = env.info();
    let free_pages = if args.freelist {
        Some(env.free_pages().map_err(|error| failed(path, error))?)
    } else {
        None
    };
    if let Some(skipped) = info.skipped_meta {
        // Never silent: the environment opened at an older commit than a meta claims.
        eprintln!(
            "arbor: warning: {}: {skipped}; opened at commit {}",
            path.display(),
            info.last_txn_id
        );
    }
    let readers = env.reader_list();
    let databases = database_stats(&env, args)?;
    if args.json {
        let mut report = serde_json::Map::new();
        if args.environment {
            report.insert(
                "environment".into(),
                json!({
                    "map_size": info.map_size,
                    "page_size": env.page_size(),
                    "max_pages": info.map_size / env.page_size(),
                    "pages_used": info.last_page_number + 1,
                    "last_txn_id": info.last_txn_id,
                    "max_readers": info.maximum_number_of_readers,
                    "readers_used": info.number_of_readers,
                    "skipped_meta": info.skipped_meta.map(|skipped| json!({
                        "slot": skipped.slot,
                        "txn_id": skipped.txn_id,
                        "reason": skipped.to_string(),
                    })),
                }),
            );
        }
        if let Some(free) = free_pages {
            report.insert("freelist".into(), json!({ "free_pages": free }));
        }
        if args.readers {
            let list: Vec<Value> = readers
                .iter()
                .map(|reader| json!({ "pid": reader.pid, "txn_id": reader.txn_id }))
                .collect();
            report.insert("readers".into(), Value::Array(list));
        }
        let list: Vec<Value> = databases
            .iter()
            .map(|(name, stat)| database_json(name.as_deref(), stat))
            .collect();
        report.insert("databases".into(), Value::Array(list));
        println!(
            "{}",
            serde_json::to_string_pretty(&Value::Object(report)).expect("JSON values serialise")
        );
        return Ok(());
    }
    let mut text = String::new();
    if args.environment {
        text.push_str(&format!(
            "Environment Info\n  Map size: {}\n  Page size: {}\n  Max pages: {}\n  Number of pages used: {}\n  Last transaction ID: {}\n  Max readers: {}\n  Number of readers used: {}\n",
            info.map_size,
            env.page_size(),
            info.map_size / env.page_size(),
            info.last_page_number + 1,
            info.last_txn_id,
            info.maximum_number_of_readers,
            info.number_of_readers
        ));
    }
    if let Some(free) = free_pages {
        text.push_str(&format!("Freelist Status\n  Free pages: {free}\n"));
    }
    if args.readers {
        text.push_str("Reader Table Status\n");
        if readers.is_empty() {
            text.push_str("  (no active readers)\n");
        } else {
            text.push_str("      pid     txnid\n");
            for reader in &readers {
                let txn = reader
                    .txn_id
                    .map_or_else(|| "-".to_string(), |id| id.to_string());
                text.push_str(&format!("  {:>7} {:>9}\n", reader.pid, txn));
            }
        }
    }
    for (name, stat) in &databases {
        text.push_str(&database_text(name.as_deref(), stat));
    }
    print!("{text}");
    Ok(())
}
