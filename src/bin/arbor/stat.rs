//! `arbor stat`: environment, database, freelist and reader statistics, in the spirit of
//! `mdb_stat` (`-e`, `-f`, `-r`, `-a`, `-s NAME`), as text or `--json`.

use arbordb::{DatabaseFlags, DatabaseInfo, Env};
use clap::Args;
use serde_json::{json, Value};

use crate::dump_format::FLAG_WORDS;
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

/// A database's flags in mdb_dump's words and order.
fn flag_words(flags: DatabaseFlags) -> Vec<&'static str> {
    FLAG_WORDS
        .into_iter()
        .filter(|(flag, _)| flags.contains(*flag))
        .map(|(_, word)| word)
        .collect()
}

fn database_json(name: Option<&str>, described: &DatabaseInfo) -> Value {
    let stat = &described.stat;
    json!({
        "name": name,
        "flags": flag_words(described.flags),
        "key_comparator": described.key_comparator,
        "value_comparator": described.value_comparator,
        "depth": stat.depth,
        "branch_pages": stat.branch_pages,
        "leaf_pages": stat.leaf_pages,
        "overflow_pages": stat.overflow_pages,
        "entries": stat.entries,
    })
}

/// A database's lines: mdb_stat's, then its flags and comparators when it has any.
fn database_text(name: Option<&str>, described: &DatabaseInfo) -> String {
    let stat = &described.stat;
    let mut text = format!("Status of {}\n", name.unwrap_or("Main DB"));
    let flags = flag_words(described.flags);
    if !flags.is_empty() {
        text.push_str(&format!("  Flags: {}\n", flags.join(", ")));
    }
    if let Some(comparator) = &described.key_comparator {
        text.push_str(&format!("  Key comparator: {comparator}\n"));
    }
    if let Some(comparator) = &described.value_comparator {
        text.push_str(&format!("  Value comparator: {comparator}\n"));
    }
    text + &format!(
        "  Tree depth: {}\n  Branch pages: {}\n  Leaf pages: {}\n  Overflow pages: {}\n  Entries: {}\n",
        stat.depth,
        stat.branch_pages,
        stat.leaf_pages,
        stat.overflow_pages,
        stat.entries
    )
}

fn database_stats(env: &Env, args: &StatArgs) -> Outcome<Vec<(Option<String>, DatabaseInfo)>> {
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
        // Described rather than opened: a database ordered by an application's comparator
        // cannot be opened here, and its statistics need no order.
        let described = env
            .database_info(&rtxn, name.as_deref())
            .map_err(|error| failed(path, error))?
            .ok_or_else(|| {
                failed(
                    path,
                    format!("no database named {:?}", name.as_deref().unwrap_or("")),
                )
            })?;
        stats.push((name, described));
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
