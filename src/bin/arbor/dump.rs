//! `arbor dump`: databases in the text format of `mdb_dump`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use arbordb::types::Bytes;
use arbordb::Database;
use clap::Args;

use crate::dump_format::{encode_line, Format};
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
    let info = env.info();
    for target in targets {
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
            "type=btree\nmapsize={}\nmaxreaders={}\ndb_pagesize={}\nHEADER=END\n",
            info.map_size,
            info.maximum_number_of_readers,
            env.page_size()
        ));
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
