//! The CLI contract: init, demo and user add, run as a real process against SQLite and (when
//! `SHOUWANG_TEST_PG` is set) PostgreSQL.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn fresh_db(dir: &std::path::Path) -> String {
    match std::env::var("SHOUWANG_TEST_PG") {
        Ok(server) if !server.is_empty() => {
            let name = format!("cli_{}_{}", std::process::id(), rand_suffix());
            let out = Command::new("psql")
                .args([
                    &format!("{server}/postgres"),
                    "-qc",
                    &format!("CREATE DATABASE {name}"),
                ])
                .output()
                .expect("psql runs");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            format!("{server}/{name}")
        }
        _ => dir.join("cli.db").to_string_lossy().into_owned(),
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    );
    h.finish()
}

fn shouwang(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shouwang"))
        .args(args)
        .env("SHOUWANG_KEY_FILE", dir.join("test.keys"))
        .env("SHOUWANG_TODAY", "2026-11-24")
        .output()
        .expect("binary runs")
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn init_loads_every_town_and_village_of_the_five_test_places() {
    for (code, expected) in [
        (
            "522730",
            "龙里县（522730）：0 个县级区划，6 个乡级区划，82 个村级区划",
        ),
        (
            "532801",
            "景洪市（532801）：0 个县级区划，17 个乡级区划，160 个村级区划",
        ),
        (
            "120114",
            "武清区（120114）：0 个县级区划，37 个乡级区划，745 个村级区划",
        ),
        (
            "2101",
            "沈阳市（2101）：13 个县级区划，190 个乡级区划，2703 个村级区划",
        ),
        (
            "152527",
            "太仆寺旗（152527）：0 个县级区划，8 个乡级区划，188 个村级区划",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let db = fresh_db(dir.path());
        let out = stdout(&shouwang(
            dir.path(),
            &["init", "--db", &db, "--region", code],
        ));
        assert!(out.contains(expected), "{code}: {out}");
        // Idempotent: a second init changes nothing and says the same.
        let again = stdout(&shouwang(
            dir.path(),
            &["init", "--db", &db, "--region", code],
        ));
        assert!(again.contains(expected));
    }
}

#[test]
fn init_refuses_a_code_that_does_not_exist_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    let out = shouwang(
        dir.path(),
        &["init", "--db", db.to_str().unwrap(), "--region", "522799"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("522799") && err.contains("不存在"), "{err}");
    assert!(!db.exists(), "nothing is created for a bad region");
}

#[test]
fn user_add_reads_the_password_from_stdin_and_checks_the_org_level() {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_db(dir.path());
    stdout(&shouwang(
        dir.path(),
        &["init", "--db", &db, "--region", "522730"],
    ));
    let add = |args: &[&str], password: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_shouwang"))
            .args(["user", "add", "--db", &db, "--password-stdin"])
            .args(args)
            .env("SHOUWANG_KEY_FILE", dir.path().join("test.keys"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(password.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let ok = add(
        &[
            "--username",
            "li_town",
            "--role",
            "town",
            "--org",
            "522730001",
        ],
        "a-long-password\n",
    );
    assert!(stdout(&ok).contains("已创建用户 li_town"));
    let wrong_level = add(
        &[
            "--username",
            "x_village",
            "--role",
            "village",
            "--org",
            "522730001",
        ],
        "a-long-password\n",
    );
    assert!(!wrong_level.status.success());
    assert!(String::from_utf8_lossy(&wrong_level.stderr).contains("村级"));
    let short = add(
        &["--username", "y", "--role", "bogus", "--org", "522730"],
        "short\n",
    );
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("未知角色"));
    let dup = add(
        &[
            "--username",
            "li_town",
            "--role",
            "town",
            "--org",
            "522730001",
        ],
        "a-long-password\n",
    );
    assert!(!dup.status.success());
}

#[test]
fn demo_creates_children_in_real_villages_and_prints_one_login_per_role() {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_db(dir.path());
    let out = stdout(&shouwang(
        dir.path(),
        &[
            "demo",
            "--db",
            &db,
            "--region",
            "152527",
            "--children",
            "500",
            "--seed",
            "7",
        ],
    ));
    assert!(
        out.contains("已生成 500 名演示儿童，分布在 188 个村（社区）"),
        "{out}"
    );
    for role in [
        "village",
        "town",
        "county",
        "county_admin",
        "school",
        "police",
        "agency",
        "oversight",
    ] {
        assert!(
            out.lines().any(|l| l.trim_start().starts_with(role)),
            "{role} login missing: {out}"
        );
    }
}
