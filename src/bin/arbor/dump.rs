//! `arbor dump`: databases in the text format of `mdb_dump`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use arbordb::types::Bytes;
use arbordb::{Database, DatabaseFlags};
use clap::Args;

use crate::dump_format::{encode_line, Format, FLAG_WORDS};
use crate::progress::Counter;
use crate::{failed, open_env, Access, EnvArg, Outcome, Selection};

#[derive(Args)]
pub struct DumpArgs {
    #[command(flatten)]
    env: EnvArg,
    #[command(flatten)]
    selection: Selection,
    /// List the named databases instead of dumping
    #[arg(short = 'l', long = "list")]
    list: bool,
    /// Write printable bytes as text (format=print) instead of hex
    #[arg(short = 'p', long = "print")]
    print: bool,
    /// Write to FILE instead of standard output
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: Option<PathBuf>,
}

pub fn run(args: &DumpArgs) -> Outcome {
    // A dump is often what is left to save data from a damaged file: it must not print
    // changed bytes as if they were the data, so every page it reads is verified.
    let env = open_env(&args.env, Access::Read, |options| {
        options.verify_checksums_on_read(true);
    })?;
    let path = &args.env.path;
    let rtxn = env.read_txn().map_err(|error| failed(path, error))?;
    let names = rtxn.database_names().map_err(|error| failed(path, error))?;
    let mut out: Box<dyn Write> = match &args.file {
        Some(file) => Box::new(BufWriter::new(
            File::create(file).map_err(|error| failed(file, error))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let output_path = args
        .file
        .clone()
        .unwrap_or_else(|| PathBuf::from("standard output"));
    let write_failed = |error: std::io::Error| failed(&output_path, error);
    if args.list {
        for name in &names {
            writeln!(out, "{name}").map_err(write_failed)?;
        }
        return out.flush().map_err(write_failed);
    }
    let targets: Vec<Option<String>> = if args.selection.all {
        names.into_iter().map(Some).collect()
    } else {
        vec![args.selection.name.clone()]
    };
    let format = if args.print {
        Format::Print
    } else {
        Format::ByteValue
    };
    // Every database is looked at before anything is written, so that a refusal leaves no
    // partial dump behind.
    let mut flags_of = Vec::with_capacity(targets.len());
    for target in &targets {
        let described = env
            .database_info(&rtxn, target.as_deref())
            .map_err(|error| failed(path, error))?
            .ok_or_else(|| {
                failed(
                    path,
                    format!("no database named {:?}", target.as_deref().unwrap_or("")),
                )
            })?;
        if let Some(comparator) = described.key_comparator {
            return Err(failed(
                path,
                refusal(target.as_deref(), Ordered::Keys, &comparator),
            ));
        }
        if let Some(comparator) = described.value_comparator {
            return Err(failed(
                path,
                refusal(target.as_deref(), Ordered::Values, &comparator),
            ));
        }
        flags_of.push(described.flags);
    }
    let info = env.info();
    for (target, flags) in targets.into_iter().zip(flags_of) {
        let db: Database<Bytes, Bytes> = env
            .open_database(&rtxn, target.as_deref())
            .map_err(|error| failed(path, error))?
            .ok_or_else(|| {
                failed(
                    path,
                    format!("no database named {:?}", target.as_deref().unwrap_or("")),
                )
            })?;
        let mut header = format!("VERSION=3\nformat={}\n", format.name());
        if let Some(name) = &target {
            header.push_str(&format!("database={name}\n"));
        }
        header.push_str(&format!(
            "type=btree\nmapsize={}\nmaxreaders={}\n",
            info.map_size, info.maximum_number_of_readers,
        ));
        header.push_str(&flag_lines(flags));
        header.push_str(&format!("db_pagesize={}\nHEADER=END\n", env.page_size()));
        out.write_all(header.as_bytes()).map_err(write_failed)?;
        let total = db.len(&rtxn).map_err(|error| failed(path, error))?;
        let mut progress = Counter::new("dumping", args.file.is_some().then_some(total));
        let mut line = Vec::with_capacity(256);
        for entry in db.iter(&rtxn).map_err(|error| failed(path, error))? {
            let (key, value) = entry.map_err(|error| failed(path, error))?;
            line.clear();
            encode_line(format, key, &mut line);
            encode_line(format, value, &mut line);
            out.write_all(&line).map_err(write_failed)?;
            if args.file.is_some() {
                progress.tick();
            }
        }
        out.write_all(b"DATA=END\n").map_err(write_failed)?;
    }
    out.flush().map_err(write_failed)
}

/// The header lines mdb_dump writes for a database's flags, in its order and spelling.
fn flag_lines(flags: DatabaseFlags) -> String {
    let mut lines = String::new();
    if flags.contains(DatabaseFlags::DUP_SORT) {
        lines.push_str("duplicates=1\n");
    }
    for (flag, keyword) in FLAG_WORDS {
        if flags.contains(flag) {
            lines.push_str(keyword);
            lines.push_str("=1\n");
        }
    }
    lines
}

/// What an application's comparator orders.
#[derive(Clone, Copy)]
enum Ordered {
    Keys,
    Values,
}

/// Why a database ordered by an application's comparator (of keys, or of a key's values) is
/// not dumped: the dump format cannot carry the order, so any tool would load the records in
/// another one (mdb_load ignores header lines it does not know).
fn refusal(name: Option<&str>, ordered: Ordered, comparator: &str) -> String {
    let database = match name {
        Some(name) => format!("the database {name:?}"),
        None => "the unnamed database".to_owned(),
    };
    let what = match ordered {
        Ordered::Keys => "is ordered by the key comparator",
        Ordered::Values => "orders each key's values by the value comparator",
    };
    format!(
        "{database} {what} {comparator:?}, which arbor does not have; \
         a dump of it would load in another order, so it is not dumped (copy the environment \
         with arbor copy, or read it with the program that has the comparator)"
    )
}
