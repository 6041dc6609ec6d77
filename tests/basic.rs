use arbordb::types::{Bytes, Str};
use arbordb::EnvOpenOptions;

#[test]
fn smoke() {
    let dir = tempfile::tempdir().unwrap();
    let env = unsafe {
        EnvOpenOptions::new()
            .map_size(1 << 30)
            .open(dir.path())
            .unwrap()
    };
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    for i in 0u32..20000 {
        db.put(&mut wtxn, &i.to_be_bytes(), &[7u8; 100]).unwrap();
    }
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    assert_eq!(db.len(&rtxn).unwrap(), 20000);
    assert_eq!(db.iter(&rtxn).unwrap().count(), 20000);
    let report = env.check().unwrap();
    assert!(report.is_ok(), "{report}");
    drop(rtxn);
    let mut wtxn = env.write_txn().unwrap();
    for i in 0u32..20000 {
        if i % 3 != 0 {
            assert!(db.delete(&mut wtxn, &i.to_be_bytes()).unwrap());
        }
    }
    wtxn.commit().unwrap();
    let report = env.check().unwrap();
    assert!(report.is_ok(), "{report}");
    let rtxn = env.read_txn().unwrap();
    assert_eq!(db.iter(&rtxn).unwrap().count(), 6667);
    let s = env.create_database::<Str, Str>(&mut env.write_txn().unwrap(), Some("x"));
    assert!(s.is_ok());
}
