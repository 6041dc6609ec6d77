//! Interoperability with LMDB's own tools (Debian's `lmdb-utils`): data dumped by `arbor dump`
//! loads with `mdb_load`, whose `mdb_dump` output is byte-identical to ours; and a dump made by
//! `mdb_dump` of an environment that `mdb_load` built from a varied generated dump loads with
//! `arbor load` and dumps back byte-identical. Both `bytevalue` and `print` formats; and
//! databases with LMDB's `integerkey` and `reversekey` orders, and duplicate-sorted ones
//! (`dupsort`, with `dupfixed`, `integerdup` and `reversedup`), which keep their order both
//! ways.
//!
//! The tests fail where `mdb_load` is not installed (`apt-get install lmdb-utils`, `brew install
//! lmdb`): a test that passes without running would claim interoperability nobody checked.
//! `ARBORDB_SKIP_LMDB_INTEROP=1` skips them knowingly, with a notice; `.ci/run` installs the
//! tools and never sets it.

use std::cmp::Ordering;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use arbordb::types::Bytes;

/// The variable that skips these tests where LMDB's tools cannot be installed.
const SKIP_VARIABLE: &str = "ARBORDB_SKIP_LMDB_INTEROP";

/// Whether to run: true when `mdb_load` runs; false only when the skip is asked for; a
/// failure naming the missing tools and the way out otherwise.
fn lmdb_tools_present() -> bool {
    let present = Command::new("mdb_load")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if present {
        return true;
    }
    let skip = std::env::var(SKIP_VARIABLE).is_ok_and(|value| value == "1");
    assert!(
        skip,
        "LMDB's mdb_load is not installed: install it (apt-get install lmdb-utils, \
         brew install lmdb) or set {SKIP_VARIABLE}=1 to skip the LMDB interoperability test"
    );
    eprintln!("NOTICE: {SKIP_VARIABLE}=1: the LMDB interoperability test did not run");
    false
}

/// Runs a program and returns its stdout, failing the test with its stderr otherwise.
fn run(program: &str, args: &[&str]) -> Vec<u8> {
    let output = Command::new(program).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn arbor(args: &[&str]) -> Vec<u8> {
    run(env!("CARGO_BIN_EXE_arbor"), args)
}

/// splitmix64, for deterministic varied data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Up to `max_len - 1` bytes (at least `min_len`) drawn from `alphabet`.
    fn bytes(&mut self, min_len: usize, max_len: usize, alphabet: &[u8]) -> Vec<u8> {
        let len = min_len + (self.next() % (max_len - min_len) as u64) as usize;
        (0..len)
            .map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize])
            .collect()
    }
}

fn hex_line(bytes: &[u8]) -> String {
    let mut line = String::from(" ");
    for byte in bytes {
        line.push_str(&format!("{byte:02x}"));
    }
    line.push('\n');
    line
}

/// Whether the installed `mdb_dump -p` escapes a backslash as `\\`. LMDB 0.9.24 (Debian 12's
/// lmdb-utils) writes it bare, which its own `mdb_load` then misreads; later LMDB escapes it,
/// as arbor does. Against the old tools the print-format rounds use data without backslashes
/// (the bytevalue rounds always include them).
fn lmdb_escapes_backslashes(work: &Path) -> bool {
    let probe = work.join("probe");
    fs::create_dir(&probe).unwrap();
    let dump = work.join("probe.dump");
    fs::write(
        &dump,
        "VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n 5c\n 5c\nDATA=END\n",
    )
    .unwrap();
    run("mdb_load", &["-f", path(&dump), path(&probe)]);
    let escapes = String::from_utf8(run("mdb_dump", &["-p", path(&probe)]))
        .unwrap()
        .contains(" \\\\\n");
    if !escapes {
        eprintln!("NOTICE: this mdb_dump writes backslashes unescaped in print format (an LMDB bug fixed after 0.9.24); the print-format rounds avoid backslashes");
    }
    escapes
}

/// A varied dump in bytevalue format: binary keys (0x00 and 0xFF included), printable keys with
/// backslashes (unless `backslashes` is false), empty values, values of several pages, in
/// several named databases.
fn generated_dump(named: bool, backslashes: bool) -> String {
    let mut rng = Rng(0xd0d0);
    let databases: Vec<Option<String>> = if named {
        vec![
            Some("alpha".into()),
            Some("binary".into()),
            Some("z-last".into()),
        ]
    } else {
        vec![None]
    };
    let mut dump = String::new();
    for (index, database) in databases.iter().enumerate() {
        dump.push_str("VERSION=3\nformat=bytevalue\n");
        if let Some(name) = database {
            dump.push_str(&format!("database={name}\n"));
        }
        dump.push_str(
            "type=btree\nmapsize=1073741824\nmaxreaders=126\ndb_pagesize=4096\nHEADER=END\n",
        );
        let mut records = std::collections::BTreeMap::new();
        for _ in 0..400 + 300 * index {
            let key = match rng.next() % 3 {
                0 => rng.bytes(1, 41, &[0x00, 0x01, 0x5c, 0x7f, 0x80, 0xff, b'a']),
                1 => rng.bytes(1, 61, b"abcXYZ \\~09-_"),
                _ => (rng.next()).to_be_bytes().to_vec(),
            };
            let value = match rng.next() % 5 {
                0 => Vec::new(),
                1 => rng.bytes(0, 20_000, &[0x00, 0xff, b'v', b'\\', b'\n']),
                _ => rng.bytes(0, 200, b"printable text with \\ backslash\t"),
            };
            records.insert(key, value);
        }
        for (mut key, mut value) in records {
            if !backslashes {
                for byte in key.iter_mut().chain(value.iter_mut()) {
                    if *byte == b'\\' {
                        *byte = b'/';
                    }
                }
            }
            dump.push_str(&hex_line(&key));
            dump.push_str(&hex_line(&value));
        }
        dump.push_str("DATA=END\n");
    }
    dump
}

fn path(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The dump arguments for a format (`-p` for print) and the database selection (`-a`).
fn dump_args<'a>(format: &'a [&'a str], all: &'a [&'a str], env: &'a str) -> Vec<&'a str> {
    format.iter().chain(all).copied().chain([env]).collect()
}

/// LMDB builds an environment from `dump`; its dump in `format` loads into arbordb and comes
/// back byte-identical.
fn lmdb_to_arbordb(dump: &str, format: &[&str], all: &[&str], work: &Path) {
    let lmdb = work.join("lmdb");
    fs::create_dir(&lmdb).unwrap();
    let source = work.join("generated.dump");
    fs::write(&source, dump).unwrap();
    run("mdb_load", &["-f", path(&source), path(&lmdb)]);
    let lmdb_dump = run("mdb_dump", &dump_args(format, all, path(&lmdb)));
    let file = work.join("lmdb.dump");
    fs::write(&file, &lmdb_dump).unwrap();
    let ours = work.join("arbor");
    arbor(&["load", path(&ours), "-f", path(&file)]);
    let mut arbor_dump_args = vec!["dump"];
    arbor_dump_args.extend(dump_args(format, all, path(&ours)));
    assert!(
        arbor(&arbor_dump_args) == lmdb_dump,
        "arbor's dump differs from mdb_dump's ({format:?})"
    );
}

/// arbordb holds the data; its dump in `format` loads into LMDB, whose dump is byte-identical.
fn arbordb_to_lmdb(dump: &str, format: &[&str], all: &[&str], work: &Path) {
    let ours = work.join("arbor-source");
    let source = work.join("generated-for-arbor.dump");
    fs::write(&source, dump).unwrap();
    arbor(&["load", path(&ours), "-f", path(&source)]);
    let mut arbor_dump_args = vec!["dump"];
    arbor_dump_args.extend(dump_args(format, all, path(&ours)));
    let arbor_dump = arbor(&arbor_dump_args);
    let file = work.join("from-arbor.dump");
    fs::write(&file, &arbor_dump).unwrap();
    let lmdb = work.join("lmdb-from-arbor");
    fs::create_dir(&lmdb).unwrap();
    run("mdb_load", &["-f", path(&file), path(&lmdb)]);
    assert!(
        run("mdb_dump", &dump_args(format, all, path(&lmdb))) == arbor_dump,
        "mdb_dump's dump differs from arbor's ({format:?})"
    );
}

/// Both directions in both formats for `all` (`-a`: the named databases; none: the unnamed).
fn both_ways(named: bool, all: &[&str]) {
    let work = tempfile::tempdir().unwrap();
    let escapes = lmdb_escapes_backslashes(work.path());
    for (round, format) in [&[][..], &["-p"][..]].into_iter().enumerate() {
        let dump = generated_dump(named, format.is_empty() || escapes);
        for (direction, transfer) in [
            lmdb_to_arbordb as fn(&str, &[&str], &[&str], &Path),
            arbordb_to_lmdb,
        ]
        .into_iter()
        .enumerate()
        {
            let directory = work.path().join(format!("round-{round}-{direction}"));
            fs::create_dir(&directory).unwrap();
            transfer(&dump, format, all, &directory);
        }
    }
}

#[test]
fn named_databases_move_both_ways_byte_identical() {
    if lmdb_tools_present() {
        both_ways(true, &["-a"]);
    }
}

#[test]
fn the_unnamed_database_moves_both_ways_byte_identical() {
    if lmdb_tools_present() {
        both_ways(false, &[]);
    }
}

/// The pairs of the section of bytevalue `dump` for database `name`, in the dump's order.
fn section_pairs(dump: &str, name: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    let section = dump
        .split("VERSION=3\n")
        .find(|section| section.contains(&format!("database={name}\n")))
        .unwrap_or_else(|| panic!("no section for {name} in {dump}"));
    let records = section.split("HEADER=END\n").nth(1).unwrap();
    let lines: Vec<Vec<u8>> = records
        .lines()
        .take_while(|line| *line != "DATA=END")
        .map(|line| {
            (1..line.len())
                .step_by(2)
                .map(|at| u8::from_str_radix(&line[at..at + 2], 16).unwrap())
                .collect()
        })
        .collect();
    lines
        .chunks_exact(2)
        .map(|pair| (pair[0].clone(), pair[1].clone()))
        .collect()
}

/// The keys of the section of `dump` for database `name`, in the dump's order.
fn section_keys(dump: &str, name: &str) -> Vec<Vec<u8>> {
    section_pairs(dump, name)
        .into_iter()
        .map(|(key, _)| key)
        .collect()
}

#[test]
fn integer_and_reverse_key_databases_move_both_ways_in_their_order() {
    if !lmdb_tools_present() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    // Records given to mdb_load unsorted, as mdb_load takes them: u32 keys in the machine's
    // (little-endian) byte order, spread so that byte order and numeric order disagree, over
    // several pages; and text keys whose order from their last byte differs from byte order.
    let mut rng = Rng(0x1e7);
    let mut dump = String::from(
        "VERSION=3\nformat=bytevalue\ndatabase=numbers\ntype=btree\nmapsize=1073741824\n\
         maxreaders=126\nintegerkey=1\ndb_pagesize=4096\nHEADER=END\n",
    );
    for _ in 0..600 {
        let key = ((rng.next() % 4) << (8 * (rng.next() % 4))) as u32 + (rng.next() % 300) as u32;
        // No backslash byte: LMDB 0.9.24's mdb_dump -p writes it unescaped (see
        // lmdb_escapes_backslashes); the other tests cover backslashes.
        let key = key
            .to_le_bytes()
            .map(|byte| if byte == b'\\' { b'[' } else { byte });
        dump.push_str(&hex_line(&key));
        dump.push_str(&hex_line(&rng.bytes(0, 40, b"value")));
    }
    dump.push_str(
        "DATA=END\nVERSION=3\nformat=bytevalue\ndatabase=suffixes\ntype=btree\n\
         mapsize=1073741824\nmaxreaders=126\nreversekey=1\ndb_pagesize=4096\nHEADER=END\n",
    );
    for _ in 0..300 {
        dump.push_str(&hex_line(&rng.bytes(1, 12, b"abcz")));
        dump.push_str(&hex_line(b"v"));
    }
    // Both flags: LMDB orders by REVERSE_KEY's rule, so keys of several lengths may mix.
    dump.push_str(
        "DATA=END\nVERSION=3\nformat=bytevalue\ndatabase=both\ntype=btree\n\
         mapsize=1073741824\nmaxreaders=126\nreversekey=1\nintegerkey=1\ndb_pagesize=4096\n\
         HEADER=END\n",
    );
    for _ in 0..100 {
        dump.push_str(&hex_line(&rng.bytes(1, 5, &[0x00, 0x01, 0x02, 0xff])));
        dump.push_str(&hex_line(b"w"));
    }
    dump.push_str("DATA=END\n");

    for format in [&[][..], &["-p"][..]] {
        let round = work
            .path()
            .join(if format.is_empty() { "hex" } else { "print" });
        fs::create_dir(&round).unwrap();
        let source = round.join("generated.dump");
        fs::write(&source, &dump).unwrap();
        let lmdb = round.join("lmdb");
        fs::create_dir(&lmdb).unwrap();
        run("mdb_load", &["-f", path(&source), path(&lmdb)]);

        // LMDB to arbordb: mdb_dump | arbor load, then arbor dump is mdb_dump's dump.
        let lmdb_dump = run("mdb_dump", &dump_args(format, &["-a"], path(&lmdb)));
        let lmdb_text = String::from_utf8(lmdb_dump.clone()).unwrap();
        assert!(lmdb_text.contains("maxreaders=126\nintegerkey=1\ndb_pagesize="));
        assert!(lmdb_text.contains("maxreaders=126\nreversekey=1\ndb_pagesize="));
        assert!(lmdb_text.contains("maxreaders=126\nreversekey=1\nintegerkey=1\ndb_pagesize="));
        let file = round.join("lmdb.dump");
        fs::write(&file, &lmdb_dump).unwrap();
        let ours = round.join("arbor");
        arbor(&["load", path(&ours), "-f", path(&file)]);
        let mut arbor_dump_args = vec!["dump"];
        arbor_dump_args.extend(dump_args(format, &["-a"], path(&ours)));
        let arbor_dump = arbor(&arbor_dump_args);
        assert!(
            arbor_dump == lmdb_dump,
            "arbor's dump differs from mdb_dump's ({format:?}):\n{}",
            String::from_utf8_lossy(&arbor_dump)
        );

        // And back: arbor dump | mdb_load, then mdb_dump is arbor's dump.
        let back = round.join("lmdb-again");
        fs::create_dir(&back).unwrap();
        let file = round.join("arbor.dump");
        fs::write(&file, &arbor_dump).unwrap();
        run("mdb_load", &["-f", path(&file), path(&back)]);
        assert!(
            run("mdb_dump", &dump_args(format, &["-a"], path(&back))) == arbor_dump,
            "mdb_dump's dump differs from arbor's ({format:?})"
        );
    }

    // The order is numeric (and from the last byte), not byte-wise.
    let hex = fs::read_to_string(work.path().join("hex/lmdb.dump")).unwrap();
    let numbers: Vec<u32> = section_keys(&hex, "numbers")
        .iter()
        .map(|key| u32::from_le_bytes(key[..].try_into().unwrap()))
        .collect();
    assert!(numbers.windows(2).all(|pair| pair[0] < pair[1]));
    let as_bytes = section_keys(&hex, "numbers");
    assert!(
        as_bytes.windows(2).any(|pair| pair[0] > pair[1]),
        "some keys out of byte order, else the test shows nothing"
    );
    let suffixes = section_keys(&hex, "suffixes");
    let reversed = |key: &Vec<u8>| key.iter().rev().copied().collect::<Vec<u8>>();
    assert!(suffixes
        .windows(2)
        .all(|pair| reversed(&pair[0]) < reversed(&pair[1])));
    assert!(suffixes.windows(2).any(|pair| pair[0] > pair[1]));
    let both = section_keys(&hex, "both");
    assert!(both
        .windows(2)
        .all(|pair| reversed(&pair[0]) < reversed(&pair[1])));
    assert!(
        both.windows(2).any(|pair| pair[0].len() > pair[1].len()),
        "a longer key before a shorter one, where ordering by length first differs"
    );
}

/// A database of the duplicates test: its name, its flag lines, the pairs given to mdb_load
/// (unsorted, some repeated), and its orders of keys and of a key's values.
struct DupDatabase {
    name: &'static str,
    flag_lines: &'static str,
    pairs: Vec<(Vec<u8>, Vec<u8>)>,
    key_order: fn(&[u8], &[u8]) -> Ordering,
    value_order: fn(&[u8], &[u8]) -> Ordering,
}

fn byte_order(a: &[u8], b: &[u8]) -> Ordering {
    a.cmp(b)
}

fn reversed_order(a: &[u8], b: &[u8]) -> Ordering {
    a.iter().rev().cmp(b.iter().rev())
}

/// Unsigned little-endian integers of one size.
fn integer_order(a: &[u8], b: &[u8]) -> Ordering {
    assert_eq!(a.len(), b.len(), "integers of one size");
    reversed_order(a, b)
}

/// A little-endian u32 spread so that byte order and numeric order disagree, without a
/// backslash byte (LMDB 0.9.24's mdb_dump -p writes it unescaped; see
/// lmdb_escapes_backslashes).
fn spread_u32(rng: &mut Rng) -> Vec<u8> {
    let number = ((rng.next() % 4) << (8 * (rng.next() % 4))) as u32 + (rng.next() % 300) as u32;
    number
        .to_le_bytes()
        .map(|byte| if byte == b'\\' { b'[' } else { byte })
        .to_vec()
}

fn dup_databases() -> Vec<DupDatabase> {
    let mut rng = Rng(0xd095);
    // No backslash (as above) and no empty value: LMDB refuses an empty value among a key's
    // values (MDB_BAD_VALSIZE), which arbordb allows.
    let alphabet = b"abcz.-~\x00\x01\xff";
    let mut tags: Vec<(Vec<u8>, Vec<u8>)> = (0..600)
        .map(|_| (rng.bytes(1, 6, alphabet), rng.bytes(1, 30, alphabet)))
        .collect();
    // Thousands of values on one key: a tree of their own in both stores.
    tags.extend((0..4000).map(|_| (b"many".to_vec(), rng.bytes(1, 24, alphabet))));
    let numbers = (0..3000)
        .map(|_| (rng.bytes(1, 3, b"ab"), spread_u32(&mut rng)))
        .collect();
    let both = (0..1000)
        .map(|_| {
            let key = spread_u32(&mut rng);
            let value = [spread_u32(&mut rng), spread_u32(&mut rng)].concat();
            (key, value)
        })
        .collect();
    let suffixes = (0..1000)
        .map(|_| (rng.bytes(1, 3, b"xy"), rng.bytes(1, 12, b"abcz")))
        .collect();
    let integers_reversed = (0..300)
        .map(|_| (rng.bytes(1, 2, b"k"), spread_u32(&mut rng)))
        .collect();
    // Values of one size per database: thousands on a few keys (LMDB's dense sub-pages and
    // sub-databases, arbordb's packed lists and dense leaves).
    let fixed = (0..5000)
        .map(|_| (rng.bytes(1, 2, b"pqr"), rng.bytes(8, 9, alphabet)))
        .collect();
    let fixed_integers = (0..3000)
        .map(|_| (rng.bytes(1, 2, b"ab"), spread_u32(&mut rng)))
        .collect();
    vec![
        DupDatabase {
            name: "tags",
            flag_lines: "dupsort=1\n",
            pairs: tags,
            key_order: byte_order,
            value_order: byte_order,
        },
        DupDatabase {
            name: "numbers",
            flag_lines: "dupsort=1\nintegerdup=1\n",
            pairs: numbers,
            key_order: byte_order,
            value_order: integer_order,
        },
        // LMDB orders keys by reversekey's rule when both key flags are set.
        DupDatabase {
            name: "both",
            flag_lines: "reversekey=1\ndupsort=1\nintegerkey=1\nintegerdup=1\n",
            pairs: both,
            key_order: reversed_order,
            value_order: integer_order,
        },
        DupDatabase {
            name: "suffixes",
            flag_lines: "dupsort=1\nreversedup=1\n",
            pairs: suffixes,
            key_order: byte_order,
            value_order: reversed_order,
        },
        // Both value flags: LMDB compares values as integers (the same as reversed for
        // values of one size; the flag lines are what this one checks).
        DupDatabase {
            name: "integers-reversed",
            flag_lines: "dupsort=1\nintegerdup=1\nreversedup=1\n",
            pairs: integers_reversed,
            key_order: byte_order,
            value_order: integer_order,
        },
        DupDatabase {
            name: "fixed",
            flag_lines: "dupsort=1\ndupfixed=1\n",
            pairs: fixed,
            key_order: byte_order,
            value_order: byte_order,
        },
        DupDatabase {
            name: "fixed-integers",
            flag_lines: "dupsort=1\ndupfixed=1\nintegerdup=1\n",
            pairs: fixed_integers,
            key_order: byte_order,
            value_order: integer_order,
        },
    ]
}

#[test]
fn sorted_duplicate_databases_move_both_ways_with_their_values_in_order() {
    if !lmdb_tools_present() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let databases = dup_databases();
    let mut dump = String::new();
    for database in &databases {
        dump.push_str(&format!(
            "VERSION=3\nformat=bytevalue\ndatabase={}\ntype=btree\nmapsize=1073741824\n\
             maxreaders=126\n{}db_pagesize=4096\nHEADER=END\n",
            database.name, database.flag_lines
        ));
        for (key, value) in &database.pairs {
            dump.push_str(&hex_line(key));
            dump.push_str(&hex_line(value));
        }
        dump.push_str("DATA=END\n");
    }

    for format in [&[][..], &["-p"][..]] {
        let round = work
            .path()
            .join(if format.is_empty() { "hex" } else { "print" });
        fs::create_dir(&round).unwrap();
        let source = round.join("generated.dump");
        fs::write(&source, &dump).unwrap();
        let lmdb = round.join("lmdb");
        fs::create_dir(&lmdb).unwrap();
        run("mdb_load", &["-f", path(&source), path(&lmdb)]);

        // LMDB to arbordb: mdb_dump | arbor load, then arbor dump is mdb_dump's dump.
        let lmdb_dump = run("mdb_dump", &dump_args(format, &["-a"], path(&lmdb)));
        let lmdb_text = String::from_utf8(lmdb_dump.clone()).unwrap();
        for database in &databases {
            // mdb_dump's header: duplicates=1, then the flags in its order.
            let lines = format!(
                "database={}\ntype=btree\nmapsize=1073741824\nmaxreaders=126\nduplicates=1\n{}db_pagesize=4096\nHEADER=END\n",
                database.name, database.flag_lines
            );
            assert!(lmdb_text.contains(&lines), "{lines} in {lmdb_text:.2000}");
        }
        let file = round.join("lmdb.dump");
        fs::write(&file, &lmdb_dump).unwrap();
        let ours = round.join("arbor");
        arbor(&["load", path(&ours), "-f", path(&file)]);
        let mut arbor_dump_args = vec!["dump"];
        arbor_dump_args.extend(dump_args(format, &["-a"], path(&ours)));
        let arbor_dump = arbor(&arbor_dump_args);
        assert!(
            arbor_dump == lmdb_dump,
            "arbor's dump differs from mdb_dump's ({format:?})"
        );

        // And back: arbor dump | mdb_load, then mdb_dump is arbor's dump.
        let back = round.join("lmdb-again");
        fs::create_dir(&back).unwrap();
        let file = round.join("arbor.dump");
        fs::write(&file, &arbor_dump).unwrap();
        run("mdb_load", &["-f", path(&file), path(&back)]);
        assert!(
            run("mdb_dump", &dump_args(format, &["-a"], path(&back))) == arbor_dump,
            "mdb_dump's dump differs from arbor's ({format:?})"
        );
    }

    // Every pair once, a key's values in their order, keys in theirs.
    let hex = fs::read_to_string(work.path().join("hex/lmdb.dump")).unwrap();
    for database in &databases {
        let dumped = section_pairs(&hex, database.name);
        let order = |a: &(Vec<u8>, Vec<u8>), b: &(Vec<u8>, Vec<u8>)| {
            (database.key_order)(&a.0, &b.0).then_with(|| (database.value_order)(&a.1, &b.1))
        };
        assert!(
            dumped
                .windows(2)
                .all(|pair| order(&pair[0], &pair[1]).is_lt()),
            "{}: pairs in order, each once",
            database.name
        );
        let mut given = database.pairs.clone();
        given.sort_by(order);
        given.dedup();
        assert_eq!(dumped, given, "{}: every pair", database.name);
    }
    let numbers = section_pairs(&hex, "numbers");
    assert!(
        numbers
            .windows(2)
            .any(|pair| pair[0].0 == pair[1].0 && pair[0].1 > pair[1].1),
        "some values out of byte order, else the test shows nothing"
    );
    // In arbordb: the key with thousands of values has them all, in order.
    let env = unsafe {
        arbordb::EnvOpenOptions::new()
            .max_dbs(16)
            .open(work.path().join("hex/arbor"))
            .unwrap()
    };
    let rtxn = env.read_txn().unwrap();
    let tags: arbordb::Database<Bytes, Bytes> =
        env.open_database(&rtxn, Some("tags")).unwrap().unwrap();
    let many: Vec<Vec<u8>> = tags
        .get_duplicates(&rtxn, b"many")
        .unwrap()
        .unwrap()
        .map(|entry| entry.unwrap().1.to_vec())
        .collect();
    let expected: Vec<Vec<u8>> = section_pairs(&hex, "tags")
        .into_iter()
        .filter(|(key, _)| key == b"many")
        .map(|(_, value)| value)
        .collect();
    assert!(expected.len() > 3000, "{}", expected.len());
    assert_eq!(many, expected);
    drop(rtxn);

    // -N keeps a key's first value loaded, in both tools.
    let lmdb = work.path().join("lmdb-no-overwrite");
    fs::create_dir(&lmdb).unwrap();
    let source = work.path().join("hex/generated.dump");
    run("mdb_load", &["-N", "-f", path(&source), path(&lmdb)]);
    let ours = work.path().join("arbor-no-overwrite");
    arbor(&["load", "-N", path(&ours), "-f", path(&source)]);
    let lmdb_dump = run("mdb_dump", &["-a", path(&lmdb)]);
    assert!(
        arbor(&["dump", "-a", path(&ours)]) == lmdb_dump,
        "-N loads differ"
    );
    let kept = section_pairs(&String::from_utf8(lmdb_dump).unwrap(), "tags");
    assert_eq!(kept.iter().filter(|(key, _)| key == b"many").count(), 1);
}
