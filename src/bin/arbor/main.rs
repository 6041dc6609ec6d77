//! `arbor`: the command-line tool for arbordb environments, in the manner of LMDB's tools
//! (mdb_stat, mdb_dump, mdb_load, mdb_copy, mdb_drop) and bbolt's `check`. `arbor --help` and
//! `arbor <command> --help` describe every option; the README has an example of each.
//!
//! Exit status: 0 on success; 1 on an error (a message on stderr names the file and what is
//! wrong); 2 when `check` finds problems.

mod dump;
mod dump_format;
mod load;
mod progress;
mod stat;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use arbordb::{CompactionOption, Env, EnvFlags, EnvOpenOptions};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "arbor",
    version,
    about = "Inspect, check, copy, dump and load arbordb environments",
    long_about = "Inspect, check, copy, dump and load arbordb environments. Dumps use the text \
                  format of LMDB's mdb_dump, so data moves between arbordb and LMDB with either \
                  side's tools."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show environment, database, freelist and reader statistics (like mdb_stat)
    Stat(stat::StatArgs),
    /// Write databases in mdb_dump's text format (like mdb_dump)
    Dump(dump::DumpArgs),
    /// Read databases from mdb_dump's text format, or plain text with -T (like mdb_load)
    Load(load::LoadArgs),
    /// Copy an environment to a new directory (or file with -n), optionally compacting it
    Copy(CopyArgs),
    /// Empty a database, or delete it with --delete (like mdb_drop)
    Drop(DropArgs),
    /// Run the consistency checker; the exit status is 0 only when the file is sound
    Check(CheckArgs),
    /// List the named databases, or with --scopes the scopes of the scope registry
    List(ListArgs),
}

/// The environment a command works on.
#[derive(Args)]
pub struct EnvArg {
    /// The environment: a directory holding data.arbordb, or with -n the data file itself
    pub path: PathBuf,
    /// The path is the data file, not a directory (NO_SUB_DIR)
    #[arg(short = 'n', long = "no-subdir")]
    pub no_subdir: bool,
}

/// Which databases a command reads: `-a` or `-s NAME` (default: the unnamed database).
#[derive(Args)]
pub struct Selection {
    /// Every named database (stat shows the unnamed one too)
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// The named database NAME instead of the unnamed one
    #[arg(
        short = 's',
        long = "subdb",
        value_name = "NAME",
        conflicts_with = "all"
    )]
    pub name: Option<String>,
}

#[derive(Args)]
struct CopyArgs {
    #[command(flatten)]
    env: EnvArg,
    /// Where to write the copy (must not exist)
    destination: PathBuf,
    /// Write only live pages, renumbered densely, with no free space
    #[arg(short = 'c', long)]
    compact: bool,
}

#[derive(Args)]
struct DropArgs {
    #[command(flatten)]
    env: EnvArg,
    /// The named database to drop; without it, the unnamed database is emptied
    #[arg(short = 's', long = "subdb", value_name = "NAME")]
    name: Option<String>,
    /// Delete the named database instead of only emptying it
    #[arg(short = 'd', long)]
    delete: bool,
}

#[derive(Args)]
struct CheckArgs {
    #[command(flatten)]
    env: EnvArg,
}

#[derive(Args)]
struct ListArgs {
    #[command(flatten)]
    env: EnvArg,
    /// List the scopes of the scope registry (arbordb::scoped) instead of the databases
    #[arg(long)]
    scopes: bool,
}

/// A failure: the message for stderr and the exit status.
pub struct Failure {
    message: String,
    status: u8,
}

impl Failure {
    /// An error (exit status 1).
    pub fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            status: 1,
        }
    }
}

/// The result of a command.
pub type Outcome<T = ()> = Result<T, Failure>;

/// Describes an error about `path`.
pub fn failed(path: &Path, error: impl std::fmt::Display) -> Failure {
    Failure::new(format!("{}: {error}", path.display()))
}

/// An environment a command is about to create: its directory (with `-n`, its data file)
/// made by the command itself, exclusively, so that a failure may remove it and nothing else.
pub struct NewEnvironment {
    path: PathBuf,
    no_subdir: bool,
}

impl NewEnvironment {
    /// Makes the environment's directory (with `-n`, an empty data file, which the first open
    /// fills in) if nothing is at the path yet; `None` if something is, and then the command
    /// never removes anything.
    pub fn make(env: &EnvArg) -> Outcome<Option<NewEnvironment>> {
        if let Some(parent) = env
            .path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|error| failed(parent, error))?;
        }
        let made = if env.no_subdir {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&env.path)
                .map(drop)
        } else {
            std::fs::create_dir(&env.path)
        };
        match made {
            Ok(()) => Ok(Some(NewEnvironment {
                path: env.path.clone(),
                no_subdir: env.no_subdir,
            })),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(None),
            Err(error) => Err(failed(&env.path, error)),
        }
    }

    /// Removes the environment if no commit was made in it (by this command or by anyone
    /// else since): the files arbordb makes there, then the directory if nothing else is in it.
    /// Whether it was removed.
    pub fn remove_if_untouched(&self) -> bool {
        let (data, lock) = if self.no_subdir {
            let mut lock = self.path.clone().into_os_string();
            lock.push("-lock");
            (self.path.clone(), PathBuf::from(lock))
        } else {
            (
                self.path.join(arbordb::DATA_FILE_NAME),
                self.path.join(arbordb::LOCK_FILE_NAME),
            )
        };
        let untouched = match std::fs::metadata(&data) {
            Err(error) => error.kind() == std::io::ErrorKind::NotFound,
            Ok(metadata) if metadata.len() == 0 => true,
            Ok(_) => {
                let mut flags = EnvFlags::READ_ONLY;
                if self.no_subdir {
                    flags |= EnvFlags::NO_SUB_DIR;
                }
                let mut options = EnvOpenOptions::new();
                // SAFETY: read-only, and only to read the newest txn id.
                let opened = unsafe {
                    options.flags(flags);
                    options.open(&self.path)
                };
                opened.is_ok_and(|env| env.info().last_txn_id == 0)
            }
        };
        if !untouched {
            return false;
        }
        for file in [&data, &lock] {
            match std::fs::remove_file(file) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(_) => return false,
            }
        }
        self.no_subdir || std::fs::remove_dir(&self.path).is_ok()
    }
}

/// How a command opens the environment.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read only; the environment must exist.
    Read,
    /// Read and write; the environment must exist.
    Write,
    /// Read and write, creating the environment if needed.
    Create,
}

/// Opens the environment `env` names, configured by `configure`.
pub fn open_env(
    env: &EnvArg,
    access: Access,
    configure: impl FnOnce(&mut EnvOpenOptions),
) -> Outcome<Env> {
    let data_file = if env.no_subdir {
        env.path.clone()
    } else {
        env.path.join(arbordb::DATA_FILE_NAME)
    };
    if access != Access::Create {
        match std::fs::metadata(&data_file) {
            Ok(_) => {}
            // The library says what else is there (an LMDB environment, for one).
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let lmdb = env.path.join("data.mdb");
                if !env.no_subdir && lmdb.exists() {
                    return Err(failed(
                        &env.path,
                        arbordb::Error::Mdb(arbordb::MdbError::LmdbEnvironment { path: lmdb }),
                    ));
                }
                return Err(failed(
                    &env.path,
                    format!("not an arbordb environment (no {})", data_file.display()),
                ));
            }
            Err(error) => {
                return Err(failed(
                    &env.path,
                    format!("cannot access {}: {error}", data_file.display()),
                ))
            }
        }
    }
    let mut flags = EnvFlags::empty();
    if access == Access::Read {
        flags |= EnvFlags::READ_ONLY;
    }
    if env.no_subdir {
        flags |= EnvFlags::NO_SUB_DIR;
    }
    let mut options = EnvOpenOptions::new();
    configure(&mut options);
    // SAFETY: `flags` only sets READ_ONLY and NO_SUB_DIR, neither of which weakens
    // durability. `open`'s contract (nothing but arbordb writes the files while they are open)
    // is the operator's, as for any program using the environment.
    unsafe {
        options.flags(flags);
        options.open(&env.path)
    }
    .map_err(|error| failed(&env.path, error))
}

fn copy(args: &CopyArgs) -> Outcome {
    let env = open_env(&args.env, Access::Read, |_| {})?;
    if args.destination.exists() {
        return Err(failed(
            &args.destination,
            "already exists; the copy needs a new path",
        ));
    }
    // The copy writes the data file of a new environment: a directory holding it, or (with
    // -n) the file itself.
    // The directory is made exclusively (its parents as needed): a failed copy removes only a
    // directory it made, never one another command made meanwhile.
    let target_file = if args.env.no_subdir {
        args.destination.clone()
    } else {
        if let Some(parent) = args.destination.parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|error| failed(parent, error))?;
            }
        }
        std::fs::create_dir(&args.destination).map_err(|error| failed(&args.destination, error))?;
        args.destination.join(arbordb::DATA_FILE_NAME)
    };
    let option = if args.compact {
        CompactionOption::Enabled
    } else {
        CompactionOption::Disabled
    };
    let total = env
        .real_disk_size()
        .map_err(|error| failed(&args.env.path, error))?;
    let watched = target_file.clone();
    let progress = progress::Watch::start("copying", Some(total), move || {
        std::fs::metadata(&watched).map_or(0, |meta| meta.len())
    });
    let copied = env.copy_to_path(&target_file, option);
    drop(progress);
    match copied {
        Ok(_) => Ok(()),
        Err(error) => {
            // copy_to_path removed the file it made; the directory made for it goes too (if
            // still empty), so that a failed copy leaves nothing that looks like one.
            if !args.env.no_subdir {
                let _ = std::fs::remove_dir(&args.destination);
            }
            // Damage is the source's; anything else (a full disk) is about the copy.
            let about = if matches!(
                error,
                arbordb::Error::Mdb(arbordb::MdbError::CorruptedPage { .. })
            ) {
                &args.env.path
            } else {
                &target_file
            };
            Err(failed(about, format!("copy failed: {error}")))
        }
    }
}

fn drop_database(args: &DropArgs) -> Outcome {
    let env = open_env(&args.env, Access::Write, |_| {})?;
    let mut wtxn = env
        .write_txn()
        .map_err(|error| failed(&args.env.path, error))?;
    match &args.name {
        Some(name) if args.delete => {
            if !env
                .delete_database(&mut wtxn, name)
                .map_err(|error| failed(&args.env.path, error))?
            {
                return Err(failed(
                    &args.env.path,
                    format!("no database named {name:?}"),
                ));
            }
        }
        name => {
            if args.delete {
                return Err(Failure::new("--delete needs a named database (-s NAME); the unnamed database can only be emptied"));
            }
            let db = env
                .open_database::<arbordb::types::DecodeIgnore, arbordb::types::DecodeIgnore>(
                    &wtxn,
                    name.as_deref(),
                )
                .map_err(|error| failed(&args.env.path, error))?
                .ok_or_else(|| {
                    failed(
                        &args.env.path,
                        format!("no database named {:?}", name.as_deref().unwrap_or("")),
                    )
                })?;
            db.clear(&mut wtxn)
                .map_err(|error| failed(&args.env.path, error))?;
        }
    }
    wtxn.commit().map_err(|error| failed(&args.env.path, error))
}

fn check(args: &CheckArgs) -> Outcome {
    let env = open_env(&args.env, Access::Read, |_| {})?;
    let report = {
        let _progress = progress::Watch::start("checking", None, || 0);
        env.check().map_err(|error| failed(&args.env.path, error))?
    };
    print!("{report}");
    if report.is_ok() {
        println!("{}: sound", args.env.path.display());
        Ok(())
    } else {
        Err(Failure {
            message: format!(
                "{}: {} problem(s) found",
                args.env.path.display(),
                report.problem_count
            ),
            status: 2,
        })
    }
}

fn list(args: &ListArgs) -> Outcome {
    let env = open_env(&args.env, Access::Read, |_| {})?;
    let rtxn = env
        .read_txn()
        .map_err(|error| failed(&args.env.path, error))?;
    if args.scopes {
        let registry = arbordb::scoped::GlobalScopeRegistry::open(&env, &rtxn)
            .map_err(|error| failed(&args.env.path, error))?;
        let Some(registry) = registry else {
            println!("(default)");
            return Ok(());
        };
        for scope in registry
            .list_all_scopes(&rtxn)
            .map_err(|error| failed(&args.env.path, error))?
        {
            match scope {
                arbordb::scoped::Scope::Default => println!("(default)"),
                arbordb::scoped::Scope::Named { name, hash } => println!("{name}\t{hash:#010x}"),
            }
        }
        return Ok(());
    }
    for name in rtxn
        .database_names()
        .map_err(|error| failed(&args.env.path, error))?
    {
        println!("{name}");
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match &cli.command {
        Command::Stat(args) => stat::run(args),
        Command::Dump(args) => dump::run(args),
        Command::Load(args) => load::run(args),
        Command::Copy(args) => copy(args),
        Command::Drop(args) => drop_database(args),
        Command::Check(args) => check(args),
        Command::List(args) => list(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("arbor: {}", failure.message);
            ExitCode::from(failure.status)
        }
    }
}
