//! The `arbor` tool, run as a process: each subcommand's output and exit status, and every
//! kind of bad input getting a message and a non-zero status, never a panic.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use arbordb::byteorder::NativeEndian;
use arbordb::types::{Bytes, U32};
use arbordb::{Comparator, Database, DatabaseFlags, IntegerComparator};

fn arbor(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_arbor"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        // A command that fails before reading its input closes the pipe early.
        let _ = pipe.write_all(bytes);
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

/// Runs arbor as the user nobody when the tests run as root (so that file permissions bind,
/// see tests/multi_process.rs), as this user otherwise.
fn arbor_as_nobody(args: &[&str], stdin: &[u8]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_arbor"));
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if unsafe { libc::geteuid() } == 0 {
        use std::os::unix::process::CommandExt;
        command.uid(65534).gid(65534);
    }
    let mut child = command.spawn().unwrap();
    // The child may fail before reading its input: a broken pipe here is expected.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs arbor and requires success; returns stdout.
fn ok(args: &[&str], stdin: Option<&[u8]>) -> String {
    let output = arbor(args, stdin);
    assert!(
        output.status.success(),
        "arbor {args:?} failed: {}",
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// Runs arbor and requires failure with status `status`; returns stderr.
fn fails(args: &[&str], stdin: Option<&[u8]>, status: i32) -> String {
    let output = arbor(args, stdin);
    let stderr = text(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(status),
        "arbor {args:?}: {stderr}"
    );
    assert!(
        stderr.starts_with("arbor: ") || stderr.contains("error:"),
        "a message: {stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "arbor {args:?} panicked: {stderr}"
    );
    stderr
}

fn sample_env(dir: &Path) {
    let env = common::open(dir);
    let mut wtxn = env.write_txn().unwrap();
    let main: Database<Bytes, Bytes> = env.create_database(&mut wtxn, None).unwrap();
    let colours: Database<Bytes, Bytes> = env.create_database(&mut wtxn, Some("colours")).unwrap();
    let empty: Database<Bytes, Bytes> = env.create_database(&mut wtxn, Some("empty")).unwrap();
    main.put(&mut wtxn, b"k\x00\xff", b"").unwrap();
    main.put(&mut wtxn, b"plain", b"back\\slash").unwrap();
    colours.put(&mut wtxn, b"red", &[7u8; 5000]).unwrap();
    colours.put(&mut wtxn, b"blue", b"sky").unwrap();
    let _ = empty;
    wtxn.commit().unwrap();
}

#[test]
fn dump_and_load_round_trip_in_both_formats() {
    let source = tempfile::tempdir().unwrap();
    sample_env(source.path());
    let path = source.path().to_str().unwrap();
    for print in [false, true] {
        let mut args = vec!["dump", path];
        if print {
            args.push("-p");
        }
        let main = ok(&args, None);
        args.push("-a");
        let all = ok(&args, None);
        assert!(main.starts_with(&format!(
            "VERSION=3\nformat={}\ntype=btree\nmapsize=",
            if print { "print" } else { "bytevalue" }
        )));
        assert!(main.contains("HEADER=END\n") && main.ends_with("DATA=END\n"));
        assert_eq!(all.matches("database=").count(), 2, "colours and empty");
        if print {
            assert!(
                main.contains(" k\\00\\ff\n \n"),
                "non-printable bytes as \\xx, empty value: {main}"
            );
            assert!(main.contains(" back\\\\slash\n"));
        } else {
            assert!(main.contains(" 6b00ff\n \n"));
        }
        let target = tempfile::tempdir().unwrap();
        let target_path = target.path().to_str().unwrap();
        ok(&["load", target_path], Some(main.as_bytes()));
        ok(&["load", target_path], Some(all.as_bytes()));
        let mut again = vec!["dump", target_path];
        if print {
            again.push("-p");
        }
        assert_eq!(ok(&again, None), main);
        again.push("-a");
        assert_eq!(ok(&again, None), all);
        // -s and -f
        let file = target.path().join("colours.dump");
        ok(
            &["dump", path, "-s", "colours", "-f", file.to_str().unwrap()],
            None,
        );
        assert!(std::fs::read_to_string(&file)
            .unwrap()
            .contains("database=colours\n"));
    }
}

#[test]
fn load_options_no_overwrite_plain_text_and_named_target() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    ok(
        &["load", path, "-T", "-s", "notes"],
        Some(b"alpha\none\nbeta\ntwo\\0a\\\\\n"),
    );
    let dump = ok(&["dump", path, "-s", "notes", "-p"], None);
    assert!(
        dump.contains(" alpha\n one\n beta\n two\\0a\\\\\n"),
        "{dump}"
    );
    // -N keeps what is there.
    ok(
        &["load", path, "-T", "-s", "notes", "-N"],
        Some(b"alpha\nchanged\ngamma\nthree\n"),
    );
    let dump = ok(&["dump", path, "-s", "notes", "-p"], None);
    assert!(
        dump.contains(" alpha\n one\n") && dump.contains(" gamma\n three\n"),
        "{dump}"
    );
    ok(
        &["load", path, "-T", "-s", "notes"],
        Some(b"alpha\nchanged\n"),
    );
    assert!(ok(&["dump", path, "-s", "notes", "-p"], None).contains(" alpha\n changed\n"));
    assert_eq!(ok(&["list", path], None), "notes\n");
}

#[test]
fn loads_commit_in_batches_and_large_loads_work() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let mut input =
        String::from("VERSION=3\nformat=bytevalue\ntype=btree\nmapsize=1073741824\nHEADER=END\n");
    for i in 0..250_000u32 {
        input.push_str(&format!(" {:08x}\n {:08x}{:08x}\n", i, i, !i));
    }
    input.push_str("DATA=END\n");
    let output = arbor(&["load", path], Some(input.as_bytes()));
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("loaded 250000 records"));
    let stat = ok(&["stat", path, "--json", "-e", "-f"], None);
    assert!(stat.contains("\"entries\": 250000"), "{stat}");
    assert!(stat.contains("\"free_pages\""));
    assert_eq!(
        ok(&["check", path], None).lines().last(),
        Some(format!("{path}: sound").as_str())
    );
}

#[test]
fn commit_every_sets_the_records_per_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let records = |count: u32| {
        let mut input = String::from("VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n");
        for i in 0..count {
            input.push_str(&format!(" {i:08x}\n 00\n"));
        }
        input
    };
    let last_txn_id = || {
        let stat = ok(&["stat", path, "--json", "-e"], None);
        let value: serde_json::Value = serde_json::from_str(&stat).unwrap();
        value["environment"]["last_txn_id"].as_u64().unwrap()
    };
    // 250 records every 100: commits after 100, 200 and at the end.
    let mut input = records(250);
    input.push_str("DATA=END\n");
    ok(
        &["load", path, "--commit-every", "100"],
        Some(input.as_bytes()),
    );
    let after_first = last_txn_id();
    // The same with the default: one commit.
    ok(&["load", path], Some(input.as_bytes()));
    assert_eq!(last_txn_id(), after_first + 1);
    ok(
        &["load", path, "--commit-every", "100"],
        Some(input.as_bytes()),
    );
    assert_eq!(last_txn_id(), after_first + 4);
    // A bad line after 250 records: the two whole batches stay, the third is discarded.
    let mut broken = records(250);
    broken.push_str("not a record\n");
    let output = arbor(
        &["load", path, "-s", "broken", "--commit-every", "100"],
        Some(broken.as_bytes()),
    );
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("200 records were committed"),
        "{}",
        text(&output.stderr)
    );
    for zero in ["0", "-1", "many"] {
        let output = arbor(&["load", path, "--commit-every", zero], Some(b""));
        assert!(!output.status.success(), "--commit-every {zero} accepted");
    }
}

#[test]
fn stat_list_copy_drop_and_check() {
    let dir = tempfile::tempdir().unwrap();
    sample_env(dir.path());
    let path = dir.path().to_str().unwrap();
    let stat = ok(&["stat", path, "-e", "-f", "-r", "-a"], None);
    for expected in [
        "Environment Info",
        "Freelist Status",
        "Reader Table Status",
        "Status of Main DB",
        "Status of colours",
        "Entries: 2",
    ] {
        assert!(stat.contains(expected), "{expected} missing from\n{stat}");
    }
    let json = ok(&["stat", path, "--json", "-s", "colours"], None);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["databases"][0]["name"], "colours");
    assert_eq!(value["databases"][0]["entries"], 2);
    assert_eq!(ok(&["list", path], None), "colours\nempty\n");
    assert_eq!(ok(&["list", path, "--scopes"], None), "(default)\n");

    let copies = tempfile::tempdir().unwrap();
    for compact in [false, true] {
        let destination = copies.path().join(format!("copy-{compact}"));
        let mut args = vec!["copy", path, destination.to_str().unwrap()];
        if compact {
            args.push("--compact");
        }
        ok(&args, None);
        assert_eq!(
            ok(&["dump", destination.to_str().unwrap(), "-a"], None),
            ok(&["dump", path, "-a"], None)
        );
        ok(&["check", destination.to_str().unwrap()], None);
    }
    fails(
        &[
            "copy",
            path,
            copies.path().join("copy-true").to_str().unwrap(),
        ],
        None,
        1,
    );

    ok(&["drop", path, "-s", "colours"], None);
    assert_eq!(
        ok(&["list", path], None),
        "colours\nempty\n",
        "emptied, not deleted"
    );
    assert!(!ok(&["dump", path, "-s", "colours"], None).contains(" 626c7565\n"));
    ok(&["drop", path, "-s", "empty", "--delete"], None);
    assert_eq!(ok(&["list", path], None), "colours\n");
    ok(&["drop", path], None);
    assert!(ok(&["stat", path], None).contains("Entries: 0"));
    ok(&["check", path], None);
}

#[test]
fn scopes_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let env = common::open(dir.path());
    let mut wtxn = env.write_txn().unwrap();
    let registry =
        std::sync::Arc::new(arbordb::scoped::GlobalScopeRegistry::new(&env, &mut wtxn).unwrap());
    let db =
        arbordb::scoped::ScopedBytesDatabase::create(&env, "tenants", &mut wtxn, registry).unwrap();
    db.put(
        &mut wtxn,
        &arbordb::scoped::Scope::named("tenant1").unwrap(),
        b"k",
        b"v",
    )
    .unwrap();
    wtxn.commit().unwrap();
    drop(env);
    assert_eq!(
        ok(&["list", dir.path().to_str().unwrap(), "--scopes"], None),
        "(default)\ntenant1\t0x4ed879c3\n"
    );
}

#[test]
fn bad_input_gets_a_message_and_a_non_zero_status() {
    let dir = tempfile::tempdir().unwrap();
    sample_env(dir.path());
    let path = dir.path().to_str().unwrap();
    let nowhere = dir.path().join("nowhere");
    // Not an environment: nothing is created.
    for command in ["stat", "dump", "check", "list", "drop"] {
        let message = fails(&[command, nowhere.to_str().unwrap()], None, 1);
        assert!(message.contains("not an arbordb environment"), "{message}");
    }
    assert!(!nowhere.exists());
    let foreign = tempfile::tempdir().unwrap();
    std::fs::write(
        foreign.path().join(arbordb::DATA_FILE_NAME),
        vec![0x5a; 8192],
    )
    .unwrap();
    assert!(fails(&["stat", foreign.path().to_str().unwrap()], None, 1).contains("not an arbordb"));

    // Malformed dumps.
    let target = tempfile::tempdir().unwrap();
    let target_path = target.path().to_str().unwrap();
    let header = "VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n";
    let cases = [
        ("VERSION=2\nHEADER=END\n".to_string(), "unsupported VERSION"),
        (
            "VERSION=3\nformat=base64\nHEADER=END\n".to_string(),
            "unsupported format",
        ),
        (
            "VERSION=3\ntype=hash\nHEADER=END\n".to_string(),
            "unsupported type",
        ),
        (
            "VERSION=3\nthis is not a header\n".to_string(),
            "not a key=value",
        ),
        (
            "VERSION=3\nformat=print\n".to_string(),
            "ends inside a header",
        ),
        (
            "VERSION=3\ndupfixed=1\nHEADER=END\n".to_string(),
            "dupfixed=1 without dupsort=1",
        ),
        (
            "VERSION=3\nintegerkey=yes\nHEADER=END\n".to_string(),
            "not a flag value",
        ),
        (
            format!("{header} 616\n 62\nDATA=END\n"),
            "odd number of hex digits",
        ),
        (format!("{header} 6g\n 62\nDATA=END\n"), "not a hex byte"),
        (format!("{header} 61\n 62\n"), "before DATA=END"),
        (format!("{header} 61\n"), "without its value"),
        (
            format!("{header}61\n62\nDATA=END\n"),
            "must start with a space",
        ),
        (String::new(), "empty"),
        // A key's values are kept as keys are, so they are at most a key's size.
        (
            format!(
                "VERSION=3\ndupsort=1\nHEADER=END\n 61\n {}\nDATA=END\n",
                "62".repeat(1500)
            ),
            "line 5: a 1-byte key with a 1500-byte value: the key or value has a size this database does not take",
        ),
        // A key's values in a DUP_FIXED database have the size of its first.
        (
            "VERSION=3\ndupsort=1\ndupfixed=1\nHEADER=END\n 61\n 6263\n 61\n 646566\nDATA=END\n"
                .to_string(),
            "line 8: a 1-byte key with a 3-byte value: the key or value has a size",
        ),
        (
            "VERSION=3\nmapsize=18446744073709551615\nHEADER=END\n 61\n 62\nDATA=END\n".to_string(),
            "map size of 18446744073709551615 bytes is over the largest",
        ),
    ];
    for (input, expected) in cases {
        let message = fails(&["load", target_path], Some(input.as_bytes()), 1);
        assert!(message.contains(expected), "{expected:?} not in {message}");
    }
    // A failure discards the batch in progress and says how far the load got.
    let message = fails(
        &["load", target_path, "-s", "partial"],
        Some(format!("{header} 61\n 62\n 6\n 63\nDATA=END\n").as_bytes()),
        1,
    );
    assert!(
        message.contains("line 7") && message.contains("0 records were committed"),
        "{message}"
    );
    assert_eq!(ok(&["list", target_path], None), "", "nothing half-loaded");

    // Missing databases.
    assert!(
        fails(&["dump", path, "-s", "missing"], None, 1).contains("no database named \"missing\"")
    );
    assert!(fails(&["stat", path, "-s", "missing"], None, 1).contains("no database named"));
    assert!(
        fails(&["drop", path, "-s", "missing", "--delete"], None, 1).contains("no database named")
    );
    // Unknown options and subcommands are clap's errors (status 2).
    let output = arbor(&["dump", path, "--bogus"], None);
    assert_eq!(output.status.code(), Some(2));

    // A corrupt file fails the check with status 2.
    let data = dir.path().join(arbordb::DATA_FILE_NAME);
    let mut bytes = std::fs::read(&data).unwrap();
    // Page 2, the first after the metas, is a page of some tree.
    bytes[2 * 4096 + 100] ^= 0xff;
    std::fs::write(&data, &bytes).unwrap();
    let output = arbor(&["check", path], None);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("problem"));
}

#[test]
fn a_read_only_target_is_refused_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    sample_env(dir.path());
    use std::os::unix::fs::PermissionsExt;
    let set_mode = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    for name in [arbordb::DATA_FILE_NAME, arbordb::LOCK_FILE_NAME] {
        set_mode(&dir.path().join(name), 0o444);
    }
    set_mode(dir.path(), 0o555);
    let output = arbor_as_nobody(&["load", dir.path().to_str().unwrap(), "-T"], b"k\nv\n");
    set_mode(dir.path(), 0o755);
    assert_eq!(output.status.code(), Some(1));
    let message = text(&output.stderr);
    assert!(
        message.contains("ermission denied") && message.contains(dir.path().to_str().unwrap()),
        "{message}"
    );
    // Reading still works.
    assert!(ok(&["dump", dir.path().to_str().unwrap()], None).contains("DATA=END"));
}

/// A malformed line of any size is quoted by its start and length, not whole.
#[test]
fn a_huge_malformed_line_is_quoted_short() {
    let target = tempfile::tempdir().unwrap();
    let env = target.path().join("env");
    let huge = "x".repeat(1 << 20);
    let cases = [
        format!("VERSION=3\n{huge}\nHEADER=END\n"),
        format!("VERSION=3\nformat={huge}\nHEADER=END\n"),
        format!("VERSION=3\nmapsize={huge}\nHEADER=END\n"),
    ];
    for input in cases {
        let message = fails(&["load", env.to_str().unwrap()], Some(input.as_bytes()), 1);
        assert!(
            message.len() < 1000,
            "{} bytes: {message:.300}",
            message.len()
        );
        assert!(message.contains("1048576 bytes"), "{message}");
    }
}

/// A load that fails before committing anything removes the environment it created, so a
/// retry starts clean; one that fails later keeps what it committed, and an environment that
/// existed before is never removed.
#[test]
fn a_failed_load_removes_only_what_it_created() {
    let dir = tempfile::tempdir().unwrap();
    let bad_record = "VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n 61\n 6g\nDATA=END\n";
    for no_subdir in [false, true] {
        let env = dir.path().join(format!("new-{no_subdir}"));
        let env_arg = env.to_str().unwrap();
        let args: Vec<&str> = if no_subdir {
            vec!["load", "-n", env_arg]
        } else {
            vec!["load", env_arg]
        };
        let message = fails(&args, Some(bad_record.as_bytes()), 1);
        assert!(message.contains("removed"), "{message}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
    let existing = dir.path().join("existing");
    sample_env(&existing);
    let message = fails(
        &["load", existing.to_str().unwrap()],
        Some(bad_record.as_bytes()),
        1,
    );
    assert!(!message.contains("removed"), "{message}");
    assert!(existing.join(arbordb::DATA_FILE_NAME).exists());
    ok(&["check", existing.to_str().unwrap()], None);
}

/// A copy that fails (here: the target's file system is full) removes its partial target, so
/// the retry is not refused for an existing path.
#[test]
fn a_failed_copy_removes_its_partial_target() {
    let Some(tmpfs) = common::tmpfs::Tmpfs::mount(256 << 10) else {
        return;
    };
    let source = tempfile::tempdir().unwrap();
    {
        let env = common::open(source.path());
        let mut wtxn = env.write_txn().unwrap();
        let db: Database<Bytes, Bytes> = env.create_database(&mut wtxn, None).unwrap();
        for index in 0u32..2000 {
            db.put(&mut wtxn, &index.to_be_bytes(), &[1u8; 400])
                .unwrap();
        }
        wtxn.commit().unwrap();
    }
    for compact in [false, true] {
        for no_subdir in [false, true] {
            let target = tmpfs.path().join("copy");
            let mut args = vec!["copy"];
            if compact {
                args.push("--compact");
            }
            if no_subdir {
                args.push("-n");
            }
            let source_arg = if no_subdir {
                source.path().join(arbordb::DATA_FILE_NAME)
            } else {
                source.path().to_path_buf()
            };
            let source_arg = source_arg.to_str().unwrap().to_string();
            args.push(&source_arg);
            args.push(target.to_str().unwrap());
            let message = fails(&args, None, 1);
            assert!(message.contains("No space left on device"), "{message}");
            assert!(!target.exists(), "compact {compact}, -n {no_subdir}");
        }
    }
}

/// A directory the user may not read is reported as such, not as "not an arbordb
/// environment". Root ignores permissions, so then the tool runs as `nobody`.
#[test]
fn a_permission_denied_directory_is_reported_as_such() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let env = dir.path().join("env");
    sample_env(&env);
    std::fs::set_permissions(&env, std::fs::Permissions::from_mode(0o000)).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_arbor"));
    command.arg("stat").arg(&env);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        command.uid(65534).gid(65534);
    }
    let output = command.output().unwrap();
    std::fs::set_permissions(&env, std::fs::Permissions::from_mode(0o755)).unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Permission denied"), "{stderr}");
    assert!(!stderr.contains("not an arbordb environment"), "{stderr}");
}

/// A directory holding an LMDB environment is named as one, with the way to convert it.
#[test]
fn an_lmdb_directory_is_named_with_the_way_to_convert_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut lmdb = vec![0u8; 8192];
    lmdb[16..20].copy_from_slice(&0xBEEF_C0DEu32.to_le_bytes());
    std::fs::write(dir.path().join("data.mdb"), lmdb).unwrap();
    for command in ["stat", "dump", "check", "load"] {
        let input = "VERSION=3\nHEADER=END\n 61\n 62\nDATA=END\n";
        let message = fails(
            &[command, dir.path().to_str().unwrap()],
            Some(input.as_bytes()),
            1,
        );
        assert!(message.contains("LMDB"), "{command}: {message}");
        assert!(message.contains("arbor load"), "{command}: {message}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

/// With `-n` (NO_SUB_DIR) a bare file name is a file of the current directory: its lock file
/// goes beside it, and a later command finds the data there.
#[test]
fn a_bare_file_name_under_no_subdir_lives_in_the_current_directory() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], input: &[u8]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_arbor"))
            .current_dir(dir.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let _ = child.stdin.take().unwrap().write_all(input);
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "arbor {args:?} failed: {}",
            text(&output.stderr)
        );
        text(&output.stdout)
    };
    run(&["load", "-n", "-T", "plain.db"], b"colour\nblue\n");
    assert!(dir.path().join("plain.db").is_file());
    assert!(dir.path().join("plain.db-lock").is_file());
    let dumped = run(&["dump", "-n", "-p", "plain.db"], b"");
    assert!(
        dumped.contains("colour") && dumped.contains("blue"),
        "{dumped}"
    );
}

/// A writer that cannot open the lock file is refused with a message naming it: only a
/// read-only open may go on without the lock file's reader table, and a writer without it
/// would reuse pages that readers in other processes still read. The data file and its
/// directory stay writable, so nothing but the lock file stops the writer.
#[test]
fn a_writer_that_cannot_open_the_lock_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    sample_env(dir.path());
    use std::os::unix::fs::PermissionsExt;
    let set_mode = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    set_mode(dir.path(), 0o777);
    set_mode(&dir.path().join(arbordb::DATA_FILE_NAME), 0o666);
    let lock = dir.path().join(arbordb::LOCK_FILE_NAME);
    set_mode(&lock, 0o444);
    let output = arbor_as_nobody(&["load", dir.path().to_str().unwrap(), "-T"], b"k\nv\n");
    let message = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(
        message.contains(lock.to_str().unwrap()) && message.contains("lock file"),
        "{message}"
    );
    // Nothing was loaded.
    set_mode(&lock, 0o644);
    assert!(!ok(&["dump", dir.path().to_str().unwrap()], None).contains("6b\n 76"));
}

/// An environment with an INTEGER_KEY database "numbers" and a REVERSE_KEY database
/// "suffixes", whose orders differ from byte order.
fn ordered_env(dir: &Path) {
    let env = common::open(dir);
    let mut wtxn = env.write_txn().unwrap();
    let numbers = env
        .database_options()
        .types::<U32<NativeEndian>, Bytes>()
        .key_comparator::<IntegerComparator>()
        .name("numbers")
        .create(&mut wtxn)
        .unwrap();
    for number in [256u32, 1, 70_000, 2] {
        numbers.put(&mut wtxn, &number, b"n").unwrap();
    }
    let suffixes: Database<Bytes, Bytes> = env
        .database_options()
        .types::<Bytes, Bytes>()
        .name("suffixes")
        .flags(DatabaseFlags::REVERSE_KEY)
        .create(&mut wtxn)
        .unwrap();
    for key in [&b"ab"[..], b"ba", b"ca"] {
        suffixes.put(&mut wtxn, key, b"s").unwrap();
    }
    wtxn.commit().unwrap();
}

#[test]
fn integer_and_reverse_key_databases_dump_load_and_stat_with_their_flags() {
    let dir = tempfile::tempdir().unwrap();
    ordered_env(dir.path());
    let path = dir.path().to_str().unwrap();
    let numbers = ok(&["dump", path, "-s", "numbers"], None);
    // mdb_dump's line, between maxreaders and db_pagesize; keys in numeric order.
    assert!(
        numbers.contains("\nmaxreaders=126\nintegerkey=1\ndb_pagesize=4096\nHEADER=END\n"),
        "{numbers}"
    );
    assert!(
        numbers.ends_with(
            "HEADER=END\n 01000000\n 6e\n 02000000\n 6e\n 00010000\n 6e\n 70110100\n 6e\nDATA=END\n"
        ),
        "{numbers}"
    );
    let suffixes = ok(&["dump", path, "-s", "suffixes", "-p"], None);
    assert!(
        suffixes.contains("\nmaxreaders=126\nreversekey=1\ndb_pagesize=4096\nHEADER=END\n ba\n s\n ca\n s\n ab\n s\nDATA=END\n"),
        "{suffixes}"
    );
    let all = ok(&["dump", path, "-a"], None);
    assert_eq!(all.matches("integerkey=1\n").count(), 1);
    assert_eq!(all.matches("reversekey=1\n").count(), 1);

    let stat = ok(&["stat", path, "-a"], None);
    assert!(
        stat.contains("Status of numbers\n  Flags: integerkey\n  Tree depth: 1\n"),
        "{stat}"
    );
    assert!(stat.contains("Status of suffixes\n  Flags: reversekey\n"));
    assert!(
        stat.contains("Status of Main DB\n  Tree depth:"),
        "no flags, no line"
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(&["stat", path, "-s", "numbers", "--json"], None)).unwrap();
    assert_eq!(
        json["databases"][0]["flags"],
        serde_json::json!(["integerkey"])
    );
    assert_eq!(
        json["databases"][0]["key_comparator"],
        serde_json::Value::Null
    );

    // Loaded into a new environment, the databases have their flags and dump the same.
    let target = tempfile::tempdir().unwrap();
    let target_path = target.path().join("env");
    let target_path = target_path.to_str().unwrap();
    ok(&["load", target_path], Some(all.as_bytes()));
    assert_eq!(ok(&["dump", target_path, "-a"], None), all);
    {
        let env = common::open(Path::new(target_path));
        let rtxn = env.read_txn().unwrap();
        let described = env.database_info(&rtxn, Some("numbers")).unwrap().unwrap();
        assert_eq!(described.flags, DatabaseFlags::INTEGER_KEY);
        let described = env.database_info(&rtxn, Some("suffixes")).unwrap().unwrap();
        assert_eq!(described.flags, DatabaseFlags::REVERSE_KEY);
    }

    // Input in byte order but not in numeric order (256 before 1): loaded by search once an
    // append is refused, and dumped in numeric order.
    let unsorted = "VERSION=3\nformat=bytevalue\ndatabase=late\ntype=btree\nintegerkey=1\n\
                    HEADER=END\n 00010000\n 61\n 01000000\n 62\nDATA=END\n";
    ok(&["load", target_path], Some(unsorted.as_bytes()));
    assert!(ok(&["dump", target_path, "-s", "late"], None)
        .ends_with("HEADER=END\n 01000000\n 62\n 00010000\n 61\nDATA=END\n"));
    // `=0` leaves a flag unset, as mdb_dump never writes it.
    let unset =
        "VERSION=3\ndatabase=plain\nintegerkey=0\nHEADER=END\n 0201\n 61\n 0102\n 62\nDATA=END\n";
    ok(&["load", target_path], Some(unset.as_bytes()));
    assert!(!ok(&["dump", target_path, "-s", "plain"], None).contains("integerkey"));
    // An existing database keeps its order: a dump asking for another is refused.
    let other = "VERSION=3\ndatabase=numbers\nreversekey=1\nHEADER=END\n 61\n 61\nDATA=END\n";
    let message = fails(&["load", target_path], Some(other.as_bytes()), 1);
    assert!(
        message.contains("\"numbers\"") && message.contains("INTEGER_KEY"),
        "{message}"
    );
}

#[test]
fn duplicate_flags_arbordb_cannot_give_are_refused_naming_the_database_and_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("env");
    let target = target.to_str().unwrap();
    for (flags, flag, reason) in [
        (
            "dupfixed=1\n",
            "dupfixed=1 without dupsort=1",
            "needs sorted duplicates",
        ),
        (
            "integerdup=1\n",
            "integerdup=1 without dupsort=1",
            "needs sorted duplicates",
        ),
        (
            "reversedup=1\n",
            "reversedup=1 without dupsort=1",
            "needs sorted duplicates",
        ),
    ] {
        let dump = format!(
            "VERSION=3\nformat=bytevalue\ndatabase=things\ntype=btree\n{flags}HEADER=END\n 61\n 62\nDATA=END\n"
        );
        let line = 4 + flags.lines().count();
        let message = fails(&["load", target], Some(dump.as_bytes()), 1);
        assert!(
            message.contains(&format!("line {line}: the database \"things\" has {flag}"))
                && message.contains(reason)
                && message.contains("not loaded"),
            "{message}"
        );
        assert!(!Path::new(target).exists(), "nothing loaded, nothing made");
        let message = fails(&["load", target, "-s", "other"], Some(dump.as_bytes()), 1);
        assert!(message.contains("the database \"other\""), "{message}");
    }
    // duplicates=1 alone asks for nothing (mdb_load ignores it): loaded without sorted
    // duplicates, with a warning.
    let dump =
        "VERSION=3\nformat=print\ntype=btree\nduplicates=1\nHEADER=END\n k\n b\n k\n a\nDATA=END\n";
    let output = arbor(&["load", target], Some(dump.as_bytes()));
    assert!(output.status.success());
    let warning = text(&output.stderr);
    assert!(
        warning.contains("line 4: duplicates=1 without dupsort=1: the unnamed database is loaded without sorted duplicates"),
        "{warning}"
    );
    assert!(ok(&["dump", target, "-p"], None).ends_with("HEADER=END\n k\n a\nDATA=END\n"));
    let dump = "VERSION=3\nduplicates=1\ndupsort=1\nHEADER=END\nDATA=END\n";
    let output = arbor(&["load", target, "-s", "quiet"], Some(dump.as_bytes()));
    assert!(output.status.success() && !text(&output.stderr).contains("duplicates=1"));
}

/// An application's order: shorter keys first, then byte-wise.
enum ByLength {}

impl Comparator for ByLength {
    fn compare(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    }

    fn name() -> String {
        "by-length".to_owned()
    }
}

#[test]
fn a_custom_ordered_database_is_described_and_checked_but_not_dumped() {
    let dir = tempfile::tempdir().unwrap();
    sample_env(dir.path());
    {
        let env = common::open(dir.path());
        let mut wtxn = env.write_txn().unwrap();
        let custom = env
            .database_options()
            .types::<Bytes, Bytes>()
            .key_comparator::<ByLength>()
            .name("custom")
            .create(&mut wtxn)
            .unwrap();
        for key in [&b"ccc"[..], b"a", b"bb"] {
            custom.put(&mut wtxn, key, b"x").unwrap();
        }
        wtxn.commit().unwrap();
    }
    let path = dir.path().to_str().unwrap();
    for args in [&["dump", path, "-s", "custom"][..], &["dump", path, "-a"]] {
        let output = arbor(args, None);
        assert_eq!(output.status.code(), Some(1));
        let message = text(&output.stderr);
        assert!(
            message
                .contains("the database \"custom\" is ordered by the key comparator \"by-length\""),
            "{message}"
        );
        assert!(output.stdout.is_empty(), "no partial dump");
    }
    ok(&["dump", path, "-s", "colours"], None);

    let stat = ok(&["stat", path, "-a"], None);
    assert!(
        stat.contains("Status of custom\n  Key comparator: by-length\n  Tree depth: 1\n")
            && stat.contains("Entries: 3"),
        "{stat}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(&["stat", path, "-s", "custom", "--json"], None)).unwrap();
    assert_eq!(json["databases"][0]["key_comparator"], "by-length");

    // The checker cannot verify an order it has no function for, and says so.
    let check = ok(&["check", path], None);
    assert!(
        check.contains("key order not checked: its comparator \"by-length\""),
        "{check}"
    );
    // A copy, compacting or not, keeps the database as it is; the application opens it with
    // its comparator.
    let copies = tempfile::tempdir().unwrap();
    for compact in [false, true] {
        let copy = copies.path().join(format!("copy-{compact}"));
        let mut args = vec!["copy", path, copy.to_str().unwrap()];
        if compact {
            args.push("--compact");
        }
        ok(&args, None);
        let env = common::open(&copy);
        let rtxn = env.read_txn().unwrap();
        let custom = env
            .database_options()
            .types::<Bytes, Bytes>()
            .key_comparator::<ByLength>()
            .name("custom")
            .open(&rtxn)
            .unwrap()
            .unwrap();
        let keys: Vec<&[u8]> = custom
            .iter(&rtxn)
            .unwrap()
            .map(|entry| entry.unwrap().0)
            .collect();
        assert_eq!(keys, [&b"a"[..], b"bb", b"ccc"]);
    }
}

/// Creates the duplicate-sorted database `name` with `flags` as well.
fn dup_database(
    env: &arbordb::Env,
    wtxn: &mut arbordb::RwTxn<'_>,
    name: &str,
    flags: DatabaseFlags,
) -> Database<Bytes, Bytes> {
    env.database_options()
        .types::<Bytes, Bytes>()
        .name(name)
        .flags(DatabaseFlags::DUP_SORT | flags)
        .create(wtxn)
        .unwrap()
}

/// The values of "many" in the duplicates environment: enough for a tree of their own.
const MANY_VALUES: u32 = 5_000;

/// An environment of duplicate-sorted databases, their pairs put in a shuffled order:
/// "tags" (a few values on most keys, `MANY_VALUES` on "many"), "numbers" (INTEGER_DUP),
/// "suffixes" (REVERSE_DUP) and "every-order" (every built-in order of keys and values).
/// Returns the pairs of "tags" in order.
fn duplicates_env(dir: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    let env = common::open(dir);
    let mut wtxn = env.write_txn().unwrap();
    let tags = dup_database(&env, &mut wtxn, "tags", DatabaseFlags::empty());
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for key in [&b"apple"[..], b"b\x00\xff", b"cherry"] {
        for value in [&b"red"[..], b"green", b"x\\y", b"\x00\x01"] {
            pairs.push((key.to_vec(), value.to_vec()));
        }
    }
    pairs.push((b"lonely".to_vec(), b"one".to_vec()));
    for number in 0..MANY_VALUES {
        pairs.push((b"many".to_vec(), (number * 7).to_be_bytes().to_vec()));
    }
    let mut rng = common::Rng(0xd0b);
    rng.shuffle(&mut pairs);
    for (key, value) in &pairs {
        tags.put(&mut wtxn, key, value).unwrap();
    }
    let numbers = dup_database(&env, &mut wtxn, "numbers", DatabaseFlags::INTEGER_DUP);
    for number in [256u32, 1, 70_000, 2] {
        numbers.put(&mut wtxn, b"n", &number.to_ne_bytes()).unwrap();
    }
    let suffixes = dup_database(&env, &mut wtxn, "suffixes", DatabaseFlags::REVERSE_DUP);
    for value in [&b"ab"[..], b"ba", b"ca"] {
        suffixes.put(&mut wtxn, b"s", value).unwrap();
    }
    let every = DatabaseFlags::REVERSE_KEY
        | DatabaseFlags::INTEGER_KEY
        | DatabaseFlags::INTEGER_DUP
        | DatabaseFlags::REVERSE_DUP;
    let every_order = dup_database(&env, &mut wtxn, "every-order", every);
    for key in [&b"ab"[..], b"ba"] {
        for number in [256u32, 1] {
            every_order
                .put(&mut wtxn, key, &number.to_ne_bytes())
                .unwrap();
        }
    }
    wtxn.commit().unwrap();
    pairs.sort();
    pairs
}

/// The record lines of `pairs` in bytevalue format.
fn hex_records(pairs: &[(Vec<u8>, Vec<u8>)]) -> String {
    let mut lines = String::new();
    for (key, value) in pairs {
        for bytes in [key, value] {
            lines.push(' ');
            for byte in bytes {
                lines.push_str(&format!("{byte:02x}"));
            }
            lines.push('\n');
        }
    }
    lines
}

#[test]
fn sorted_duplicate_databases_dump_load_and_stat_with_their_flags() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = duplicates_env(dir.path());
    let path = dir.path().to_str().unwrap();
    // mdb_dump's lines: duplicates=1 before the flags, then one key line and value line per
    // pair, a key's values in their order.
    let tags = ok(&["dump", path, "-s", "tags"], None);
    assert!(
        tags.ends_with(&format!(
            "\nmaxreaders=126\nduplicates=1\ndupsort=1\ndb_pagesize=4096\nHEADER=END\n{}DATA=END\n",
            hex_records(&pairs)
        )),
        "{}",
        &tags[..400]
    );
    let numbers = ok(&["dump", path, "-s", "numbers"], None);
    assert!(
        numbers.ends_with(
            "\nmaxreaders=126\nduplicates=1\ndupsort=1\nintegerdup=1\ndb_pagesize=4096\nHEADER=END\n \
             6e\n 01000000\n 6e\n 02000000\n 6e\n 00010000\n 6e\n 70110100\nDATA=END\n"
        ),
        "{numbers}"
    );
    let suffixes = ok(&["dump", path, "-s", "suffixes", "-p"], None);
    assert!(
        suffixes.ends_with(
            "\nmaxreaders=126\nduplicates=1\ndupsort=1\nreversedup=1\ndb_pagesize=4096\nHEADER=END\n \
             s\n ba\n s\n ca\n s\n ab\nDATA=END\n"
        ),
        "{suffixes}"
    );
    // Keys in REVERSE_KEY's order, values in INTEGER_DUP's (both take precedence, as in LMDB).
    let every = ok(&["dump", path, "-s", "every-order", "-p"], None);
    assert!(
        every.ends_with(
            "\nmaxreaders=126\nduplicates=1\nreversekey=1\ndupsort=1\nintegerkey=1\nintegerdup=1\n\
             reversedup=1\ndb_pagesize=4096\nHEADER=END\n ba\n \\01\\00\\00\\00\n ba\n \\00\\01\\00\\00\n \
             ab\n \\01\\00\\00\\00\n ab\n \\00\\01\\00\\00\nDATA=END\n"
        ),
        "{every}"
    );

    let stat = ok(&["stat", path, "-s", "every-order"], None);
    assert!(
        stat.contains(
            "Status of every-order\n  Flags: reversekey, dupsort, integerkey, integerdup, reversedup\n  Tree depth: 1\n"
        ) && stat.contains("Entries: 4\n"),
        "{stat}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(&["stat", path, "-s", "tags", "--json"], None)).unwrap();
    assert_eq!(
        json["databases"][0]["flags"],
        serde_json::json!(["dupsort"])
    );
    assert_eq!(json["databases"][0]["entries"], pairs.len());
    assert!(
        json["databases"][0]["leaf_pages"].as_u64().unwrap() > 2,
        "the values of \"many\" have a tree of their own"
    );
    assert_eq!(
        json["databases"][0]["value_comparator"],
        serde_json::Value::Null
    );

    // Copied as they are and compacted, the databases dump the same and check sound.
    let copies = tempfile::tempdir().unwrap();
    for compact in [false, true] {
        let destination = copies.path().join(format!("copy-{compact}"));
        let destination = destination.to_str().unwrap();
        let mut args = vec!["copy", path, destination];
        if compact {
            args.push("--compact");
        }
        ok(&args, None);
        assert_eq!(
            ok(&["dump", destination, "-a"], None),
            ok(&["dump", path, "-a"], None)
        );
        ok(&["check", destination], None);
    }

    // Through arbor load, in both formats: the same databases, flags and pairs.
    for format in [&[][..], &["-p"][..]] {
        let mut args = vec!["dump", path, "-a"];
        args.extend(format);
        let all = ok(&args, None);
        assert_eq!(all.matches("duplicates=1\n").count(), 4);
        let target = tempfile::tempdir().unwrap();
        let target_path = target.path().join("env");
        let target_path = target_path.to_str().unwrap();
        ok(&["load", target_path], Some(all.as_bytes()));
        let mut args = vec!["dump", target_path, "-a"];
        args.extend(format);
        assert_eq!(ok(&args, None), all);
        let env = common::open(Path::new(target_path));
        common::assert_sound(&env);
        let rtxn = env.read_txn().unwrap();
        let described = env.database_info(&rtxn, Some("numbers")).unwrap().unwrap();
        assert_eq!(
            described.flags,
            DatabaseFlags::DUP_SORT | DatabaseFlags::INTEGER_DUP
        );
        let tags: Database<Bytes, Bytes> = env.open_database(&rtxn, Some("tags")).unwrap().unwrap();
        let many = tags
            .get_duplicates(&rtxn, b"many")
            .unwrap()
            .unwrap()
            .count();
        assert_eq!(many, MANY_VALUES as usize);
    }
}

#[test]
fn a_sorted_duplicate_load_takes_pairs_out_of_order_and_no_overwrite() {
    // Pairs out of order (a key's values, then keys): put where a search puts them.
    let target = tempfile::tempdir().unwrap();
    let target_path = target.path().join("env");
    let target_path = target_path.to_str().unwrap();
    let unsorted = "VERSION=3\nformat=print\ndatabase=d\ntype=btree\nduplicates=1\ndupsort=1\n\
                    HEADER=END\n k\n b\n k\n c\n k\n a\n j\n z\n k\n a\nDATA=END\n";
    ok(&["load", target_path], Some(unsorted.as_bytes()));
    assert!(ok(&["dump", target_path, "-s", "d", "-p"], None)
        .ends_with("HEADER=END\n j\n z\n k\n a\n k\n b\n k\n c\nDATA=END\n"));
    // -N skips a record whose key exists, so a key keeps its first value loaded, as with
    // mdb_load -N; into an existing database, its keys keep their values.
    ok(
        &["load", target_path, "-N", "-s", "n"],
        Some(unsorted.as_bytes()),
    );
    assert!(ok(&["dump", target_path, "-s", "n", "-p"], None)
        .ends_with("HEADER=END\n j\n z\n k\n b\nDATA=END\n"));
    let more = "VERSION=3\nformat=print\ndupsort=1\nHEADER=END\n k\n 0\n l\n 1\n l\n 2\nDATA=END\n";
    ok(
        &["load", target_path, "-N", "-s", "n"],
        Some(more.as_bytes()),
    );
    assert!(ok(&["dump", target_path, "-s", "n", "-p"], None)
        .ends_with("HEADER=END\n j\n z\n k\n b\n l\n 1\nDATA=END\n"));
    // Without -N, into an existing database: pairs are added among its pairs.
    ok(&["load", target_path, "-s", "n"], Some(more.as_bytes()));
    assert!(ok(&["dump", target_path, "-s", "n", "-p"], None)
        .ends_with("HEADER=END\n j\n z\n k\n 0\n k\n b\n l\n 1\n l\n 2\nDATA=END\n"));
}

/// An application's order of values: descending bytes.
enum Descending {}

impl Comparator for Descending {
    fn compare(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
        b.cmp(a)
    }

    fn name() -> String {
        "descending".to_owned()
    }
}

#[test]
fn a_database_with_custom_ordered_values_is_described_but_not_dumped() {
    let dir = tempfile::tempdir().unwrap();
    sample_env(dir.path());
    {
        let env = common::open(dir.path());
        let mut wtxn = env.write_txn().unwrap();
        let custom = env
            .database_options()
            .types::<Bytes, Bytes>()
            .dup_sort_comparator::<Descending>()
            .name("custom-values")
            .flags(DatabaseFlags::DUP_SORT)
            .create(&mut wtxn)
            .unwrap();
        for value in [&b"a"[..], b"c", b"b"] {
            custom.put(&mut wtxn, b"k", value).unwrap();
        }
        wtxn.commit().unwrap();
    }
    let path = dir.path().to_str().unwrap();
    for args in [
        &["dump", path, "-s", "custom-values"][..],
        &["dump", path, "-a", "-p"],
    ] {
        let output = arbor(args, None);
        assert_eq!(output.status.code(), Some(1));
        let message = text(&output.stderr);
        assert!(
            message.contains(
                "the database \"custom-values\" orders each key's values by the value \
                 comparator \"descending\""
            ) && message.contains("not dumped"),
            "{message}"
        );
        assert!(output.stdout.is_empty(), "no partial dump");
    }
    ok(&["dump", path, "-s", "colours"], None);

    let stat = ok(&["stat", path, "-a"], None);
    assert!(
        stat.contains(
            "Status of custom-values\n  Flags: dupsort\n  Value comparator: descending\n  Tree depth: 1\n"
        ) && stat.contains("Entries: 3"),
        "{stat}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(&["stat", path, "-s", "custom-values", "--json"], None)).unwrap();
    assert_eq!(json["databases"][0]["value_comparator"], "descending");
    assert_eq!(
        json["databases"][0]["key_comparator"],
        serde_json::Value::Null
    );
}
