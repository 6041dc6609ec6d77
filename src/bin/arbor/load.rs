//! `arbor load`: databases from the text format of `mdb_load` (or plain text pairs with -T).
//!
//! Records are committed in batches (`--commit-every`, 100,000 records by default; mdb_load
//! commits every 100, which `--commit-every 100` matches); a failure discards only the batch in
//! progress and says how far the load got. Sorted input into
//! a database that was empty is appended along the tree's right edge (`PutFlags::APPEND`; in
//! a duplicate-sorted database with `APPEND_DUP`, a key's values in their order).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use arbordb::types::Bytes;
use arbordb::MdbError;
use arbordb::{Database, DatabaseFlags, Env, Error, PutFlags};
use clap::Args;

use crate::dump_format::{decode_line, Format, FLAG_WORDS};
use crate::progress::Counter;
use crate::{failed, open_env, Access, EnvArg, Failure, NewEnvironment, Outcome};

/// Records per commit unless `--commit-every` says otherwise: large batches make a load fast
/// (each commit syncs), and a failure loses at most one batch of input that is still there.
const DEFAULT_BATCH_RECORDS: u64 = 100_000;
/// Named databases one load may create.
const MAX_DATABASES: u32 = 1 << 16;

#[derive(Args)]
pub struct LoadArgs {
    #[command(flatten)]
    env: EnvArg,
    /// Load into the named database NAME (default: the database= line of each header, else
    /// the unnamed database)
    #[arg(short = 's', long = "subdb", value_name = "NAME")]
    name: Option<String>,
    /// Read from FILE instead of standard input
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: Option<PathBuf>,
    /// Keep existing records: skip input records whose key exists (NO_OVERWRITE); in a
    /// duplicate-sorted database that skips a key's values after the first loaded too, as
    /// mdb_load -N does
    #[arg(short = 'N', long = "no-overwrite")]
    no_overwrite: bool,
    /// The input is plain text: no header, key and value lines alternating, print-style
    /// escapes (\\ and \xx)
    #[arg(short = 'T', long = "text")]
    text: bool,
    /// Commit after every RECORDS records (mdb_load commits every 100)
    #[arg(long = "commit-every", value_name = "RECORDS", default_value_t = DEFAULT_BATCH_RECORDS,
          value_parser = clap::value_parser!(u64).range(1..))]
    commit_every: u64,
}

/// A dump header.
#[derive(Default)]
struct Header {
    format: Format,
    database: Option<String>,
    map_size: Option<usize>,
    max_readers: Option<u32>,
    /// The flags its flag lines ask for.
    flags: DatabaseFlags,
    /// The line number of each flag line that set a flag, for messages.
    flag_lines: Vec<(&'static str, u64)>,
    /// The line number of a `duplicates=1` line (mdb_dump's note that a database has sorted
    /// duplicates, which mdb_load does not read).
    duplicates_line: Option<u64>,
}

/// The input, line by line, counting lines for messages.
struct Input {
    reader: Box<dyn BufRead>,
    line: Vec<u8>,
    number: u64,
    /// Bytes read so far, for the progress bar.
    bytes: u64,
    name: String,
}

impl Input {
    /// The next line without its newline; `None` at the end of the input.
    fn next(&mut self) -> Result<Option<&[u8]>, String> {
        self.line.clear();
        let read = self
            .reader
            .read_until(b'\n', &mut self.line)
            .map_err(|error| format!("{}: {error}", self.name))?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        self.bytes += read as u64;
        if self.line.last() == Some(&b'\n') {
            self.line.pop();
        }
        Ok(Some(&self.line))
    }

    fn error(&self, message: impl std::fmt::Display) -> String {
        format!("{} line {}: {message}", self.name, self.number)
    }
}

fn parse_number<T: std::str::FromStr>(input: &Input, key: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| input.error(format!("{key}={} is not a number", excerpt(value))))
}

/// The longest part of an input line a message quotes.
const EXCERPT_CHARS: usize = 60;

/// `text` quoted for a message: whole if short, else its start and its length, so that a
/// malformed line of any size gives a message of a few lines.
fn excerpt(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS) {
        None => format!("{text:?}"),
        Some((end, _)) => format!("{:?}... ({} bytes)", &text[..end], text.len()),
    }
}

/// Reads a header; `None` at the end of the input (before any header line).
fn read_header(input: &mut Input) -> Result<Option<Header>, String> {
    let mut header = Header::default();
    let mut seen_version = false;
    loop {
        let Some(line) = input.next()? else {
            return if seen_version {
                Err(input.error("the input ends inside a header (no HEADER=END)"))
            } else {
                Ok(None)
            };
        };
        let line = String::from_utf8_lossy(line).into_owned();
        if line == "HEADER=END" {
            if !seen_version {
                return Err(input.error("HEADER=END without a VERSION line"));
            }
            return Ok(Some(header));
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(input.error(format!("{} is not a key=value header line", excerpt(&line))));
        };
        match key {
            "VERSION" if value == "3" => seen_version = true,
            "VERSION" => {
                return Err(input.error(format!(
                    "unsupported VERSION {} (arbor reads VERSION=3)",
                    excerpt(value)
                )))
            }
            "format" => {
                header.format = match value {
                    "bytevalue" => Format::ByteValue,
                    "print" => Format::Print,
                    _ => {
                        return Err(input.error(format!(
                            "unsupported format {} (bytevalue or print)",
                            excerpt(value)
                        )))
                    }
                }
            }
            "type" if value == "btree" => {}
            "type" => {
                return Err(input.error(format!("unsupported type {} (only btree)", excerpt(value))))
            }
            "database" => header.database = Some(value.to_owned()),
            "mapsize" => header.map_size = Some(parse_number(input, key, value)?),
            "maxreaders" => header.max_readers = Some(parse_number(input, key, value)?),
            "db_pagesize" | "mapaddr" => {}
            // mdb_dump's flag lines: `=1` sets the flag; `=0` is accepted as unset.
            "duplicates" | "dupfixed" | "integerkey" | "reversekey" | "dupsort" | "integerdup"
            | "reversedup" => {
                let set = match value {
                    "1" => true,
                    "0" => false,
                    _ => {
                        return Err(input.error(format!(
                            "{key}={} is not a flag value (0 or 1)",
                            excerpt(value)
                        )))
                    }
                };
                if !set {
                    continue;
                }
                if key == "duplicates" {
                    header.duplicates_line = Some(input.number);
                } else if let Some((flag, word)) =
                    FLAG_WORDS.into_iter().find(|(_, word)| *word == key)
                {
                    header.flags |= flag;
                    header.flag_lines.push((word, input.number));
                }
            }
            _ => eprintln!(
                "arbor: {}",
                input.error(format!(
                    "unrecognised header line {} ignored",
                    excerpt(&line)
                ))
            ),
        }
    }
}

/// What has been loaded, for the final message or the failure report.
#[derive(Default)]
struct Tally {
    committed: u64,
    committed_through_line: u64,
}

/// Loads one section's records into the database `target`; returns at `DATA=END` (or the end
/// of plain text).
struct Section<'a> {
    env: &'a Env,
    target: Option<String>,
    format: Format,
    /// The flags the database is created with (an existing one must have them).
    flags: DatabaseFlags,
    no_overwrite: bool,
    text: bool,
    /// Records per commit.
    batch_records: u64,
}

impl Section<'_> {
    fn load(
        &self,
        input: &mut Input,
        tally: &mut Tally,
        progress: &mut Counter,
    ) -> Result<(), String> {
        let fail = |input: &Input, error: Error| input.error(error);
        let mut wtxn = self.env.write_txn().map_err(|error| fail(input, error))?;
        // Created in the first batch, so a load that fails before any commit leaves nothing.
        let mut options = self.env.database_options().types::<Bytes, Bytes>();
        if let Some(name) = self.target.as_deref() {
            options.name(name);
        }
        let db: Database<Bytes, Bytes> = options
            .flags(self.flags)
            .create(&mut wtxn)
            .map_err(|error| fail(input, error))?;
        // The database as it is: one that exists may have sorted duplicates the header does
        // not ask for.
        let dup_sort = self
            .env
            .database_info(&wtxn, self.target.as_deref())
            .map_err(|error| fail(input, error))?
            .is_some_and(|described| described.flags.contains(DatabaseFlags::DUP_SORT));
        // Sorted pairs into an empty database go along the right edge of the tree (and of
        // the last key's values), until one is out of the database's order (which the
        // append checks, whatever the order).
        let mut appending = db.is_empty(&wtxn).map_err(|error| fail(input, error))?;
        let searched = if self.no_overwrite {
            PutFlags::NO_OVERWRITE
        } else {
            PutFlags::empty()
        };
        // With NO_OVERWRITE a key's later values are skipped, as mdb_load -N does; only the
        // first value of each key may be appended.
        let appended = if dup_sort && !self.no_overwrite {
            PutFlags::APPEND | PutFlags::APPEND_DUP
        } else {
            PutFlags::APPEND
        };
        let (mut key, mut value) = (Vec::new(), Vec::new());
        let mut in_batch = 0;
        loop {
            let Some(line) = input.next()? else {
                if self.text {
                    break;
                }
                return Err(input.error("the input ends before DATA=END"));
            };
            if !self.text && line == b"DATA=END" {
                break;
            }
            let line = line.to_vec();
            let key_text = self.record_text(input, line)?;
            decode_line(self.format, &key_text, &mut key).map_err(|error| input.error(error))?;
            let Some(line) = input.next()? else {
                return Err(input.error("the input ends after a key, without its value"));
            };
            let line = line.to_vec();
            let value_text = self.record_text(input, line)?;
            decode_line(self.format, &value_text, &mut value)
                .map_err(|error| input.error(error))?;

            let mut put = if appending {
                db.put_with_flags(&mut wtxn, appended, &key, &value)
            } else {
                db.put_with_flags(&mut wtxn, searched, &key, &value)
            };
            if appending && matches!(put, Err(Error::Mdb(MdbError::KeyExist))) {
                // Not after the last pair (a refused append changes nothing): it is put
                // where a search puts it, and so is every record after it, unless it was
                // only skipped for its existing key, which says nothing of the order.
                put = db.put_with_flags(&mut wtxn, searched, &key, &value);
                appending = self.no_overwrite && matches!(put, Err(Error::Mdb(MdbError::KeyExist)));
            }
            match put {
                Ok(()) => {}
                Err(Error::Mdb(MdbError::KeyExist)) if self.no_overwrite => {}
                Err(error @ Error::Mdb(MdbError::BadValSize)) => {
                    // The error carries no sizes; the record's are what the reader needs.
                    return Err(input.error(format!(
                        "a {}-byte key with a {}-byte value: {error} (this environment's longest key is {} bytes)",
                        key.len(),
                        value.len(),
                        self.env.max_key_size()
                    )));
                }
                Err(error) => return Err(fail(input, error)),
            }
            in_batch += 1;
            progress.advance_to(input.bytes);
            if in_batch == self.batch_records {
                wtxn.commit().map_err(|error| fail(input, error))?;
                tally.committed += in_batch;
                tally.committed_through_line = input.number;
                in_batch = 0;
                wtxn = self.env.write_txn().map_err(|error| fail(input, error))?;
            }
        }
        wtxn.commit().map_err(|error| fail(input, error))?;
        tally.committed += in_batch;
        tally.committed_through_line = input.number;
        Ok(())
    }

    /// A record line's text: without its leading space in a dump.
    fn record_text(&self, input: &Input, mut line: Vec<u8>) -> Result<Vec<u8>, String> {
        if self.text {
            return Ok(line);
        }
        if line.first() != Some(&b' ') {
            return Err(input.error(
                "a record line must start with a space (or the section must end with DATA=END)",
            ));
        }
        line.remove(0);
        Ok(line)
    }
}

pub fn run(args: &LoadArgs) -> Outcome {
    let (reader, name, size): (Box<dyn BufRead>, String, Option<u64>) = match &args.file {
        Some(file) => {
            let opened = File::open(file).map_err(|error| failed(file, error))?;
            let size = opened.metadata().map(|meta| meta.len()).ok();
            (
                Box::new(BufReader::with_capacity(1 << 20, opened)),
                file.display().to_string(),
                size,
            )
        }
        None => (
            Box::new(BufReader::with_capacity(1 << 20, std::io::stdin().lock())),
            "standard input".into(),
            None,
        ),
    };
    let mut input = Input {
        reader,
        line: Vec::new(),
        number: 0,
        bytes: 0,
        name,
    };
    let mut tally = Tally::default();
    // Measured in bytes of input: a file's size is known, its record count is not.
    let mut progress = Counter::new("loading (bytes)", size);
    // A load that fails having loaded nothing removes the environment it made, so that the
    // retry starts clean (never one that existed, or that anyone committed to).
    let made = NewEnvironment::make(&args.env)?;
    let result = load_all(args, &mut input, &mut tally, &mut progress);
    drop(progress);
    result.map_err(|message| {
        if tally.committed == 0 && made.as_ref().is_some_and(NewEnvironment::remove_if_untouched)
        {
            return Failure::new(format!(
                "{message}\n  nothing was loaded; the new environment was removed"
            ));
        }
        Failure::new(format!(
            "{message}\n  {} records were committed (input through line {}); the batch in progress was discarded and nothing after it was loaded",
            tally.committed, tally.committed_through_line
        ))
    })?;
    eprintln!("arbor: loaded {} records", tally.committed);
    Ok(())
}

fn load_all(
    args: &LoadArgs,
    input: &mut Input,
    tally: &mut Tally,
    progress: &mut Counter,
) -> Result<(), String> {
    let mut env: Option<Env> = None;
    loop {
        let header = if args.text {
            if env.is_some() {
                return Ok(());
            }
            Header {
                format: Format::Print,
                ..Header::default()
            }
        } else {
            match read_header(input)? {
                Some(header) => header,
                None if env.is_some() => return Ok(()),
                None => return Err(input.error("the input is empty (no VERSION=3 header)")),
            }
        };
        let target = args.name.clone().or(header.database.clone());
        check_flags(&header, &input.name, target.as_deref())?;
        // The first header's map size and reader count configure the environment, as in
        // mdb_load; an existing environment keeps a larger map.
        let env = match &env {
            Some(env) => env.clone(),
            None => {
                let opened = open_env(&args.env, Access::Create, |options| {
                    if let Some(size) = header.map_size {
                        options.map_size(size);
                    }
                    if let Some(readers) = header.max_readers {
                        options.max_readers(readers);
                    }
                    options.max_dbs(MAX_DATABASES);
                })
                .map_err(|failure| failure.message)?;
                env.insert(opened).clone()
            }
        };
        let section = Section {
            env: &env,
            target,
            format: header.format,
            flags: header.flags,
            no_overwrite: args.no_overwrite,
            text: args.text,
            batch_records: args.commit_every,
        };
        section.load(input, tally, progress)?;
    }
}

/// Refuses a header whose flags arbordb cannot give a database, naming the line, the
/// database and the flag; warns of a `duplicates=1` line that asks for nothing.
fn check_flags(header: &Header, input: &str, target: Option<&str>) -> Result<(), String> {
    let database = described(target);
    if !header.flags.contains(DatabaseFlags::DUP_SORT) {
        // LMDB records a shape of values without sorted duplicates and never uses it;
        // arbordb refuses to create such a database, and a load that dropped the flag would
        // not dump back the same.
        if let Some((flag, line)) = header
            .flag_lines
            .iter()
            .find(|(flag, _)| matches!(*flag, "dupfixed" | "integerdup" | "reversedup"))
        {
            return Err(format!(
                "{input} line {line}: {database} has {flag}=1 without dupsort=1: a shape of \
                 values needs sorted duplicates in arbordb, so it is not loaded"
            ));
        }
        if let Some(line) = header.duplicates_line {
            eprintln!(
                "arbor: {input} line {line}: duplicates=1 without dupsort=1: {database} is \
                 loaded without sorted duplicates, as mdb_load does (a key keeps one value)"
            );
        }
    }
    Ok(())
}

/// A database's name for messages.
fn described(name: Option<&str>) -> String {
    match name {
        Some(name) => format!("the database {name:?}"),
        None => "the unnamed database".to_owned(),
    }
}
