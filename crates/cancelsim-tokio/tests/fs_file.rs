//! `tokio::fs::File`, `OpenOptions`, `DirBuilder`, `read_dir` and the other
//! file functions, simulated through blocking work on real files: against
//! real tokio (paused; the facade's blocking cost set to zero, as tokio's
//! blocking pool takes no virtual time), then what only the simulation can
//! show: work in flight completes when its future is dropped, and a sweep
//! finds a file written in two steps under a timeout.
#![cfg(all(cancelsim, unix))]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cancelsim::{Check, ViolationCode};

#[macro_use]
mod common;
use common::Log;

/// A fresh directory of this test (removed at the end).
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("cancelsim-tokio-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Which side of a comparison runs: each writes its own files (names of
/// one length: a symlink's size is its target's).
fn side() -> &'static str {
    if cancelsim::in_simulation() {
        "simu"
    } else {
        "real"
    }
}

/// Runs `f` with the facade's blocking cost set to `cost`, then restores
/// the default.
fn at_blocking_cost<R>(cost: Duration, f: impl FnOnce() -> R) -> R {
    cancelsim_tokio::cancelsim::set_blocking_cost(cost);
    let out = f();
    cancelsim_tokio::cancelsim::set_blocking_cost(Duration::from_millis(1));
    out
}

#[test]
fn file_reads_writes_and_seeks_agree_with_tokio() {
    let tmp = TempDir::new("file");
    let dir = tmp.path();
    let (real, sim) = at_blocking_cost(Duration::ZERO, || {
        both!(|rt, log, start| {
            let dir = dir.to_owned();
            async move {
                use rt::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
                let path = dir.join(format!("{}.txt", side()));
                let mut file = rt::fs::File::create(&path).await.unwrap();
                file.write_all(b"hello, ").await.unwrap();
                file.write_all(b"world").await.unwrap();
                file.flush().await.unwrap();
                file.sync_all().await.unwrap();
                note!(log, start, "len {}", file.metadata().await.unwrap().len());
                drop(file);
                let mut text = String::new();
                let mut file = rt::fs::File::open(&path).await.unwrap();
                file.read_to_string(&mut text).await.unwrap();
                note!(log, start, "read {text:?}");
                let at = file.seek(std::io::SeekFrom::Start(7)).await.unwrap();
                let mut word = [0u8; 5];
                file.read_exact(&mut word).await.unwrap();
                note!(
                    log,
                    start,
                    "at {at}: {:?}",
                    std::str::from_utf8(&word).unwrap()
                );
                let mut file = rt::fs::OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .await
                    .unwrap();
                file.write_all(b"!").await.unwrap();
                file.shutdown().await.unwrap();
                let writer = rt::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .await
                    .unwrap();
                writer.set_len(5).await.unwrap();
                let clone = writer.try_clone().await.unwrap();
                note!(
                    log,
                    start,
                    "clone sees {}",
                    clone.metadata().await.unwrap().len()
                );
                let std_file = clone.into_std().await;
                note!(log, start, "std len {}", std_file.metadata().unwrap().len());
                note!(
                    log,
                    start,
                    "now {:?}",
                    rt::fs::read_to_string(&path).await.unwrap()
                );
                let exists = rt::fs::File::create_new(&path).await.unwrap_err();
                note!(log, start, "create_new: {:?}", exists.kind());
                let missing = rt::fs::File::open(dir.join("missing")).await.unwrap_err();
                note!(log, start, "open missing: {:?}", missing.kind());
                // A read bigger than the buffer limit comes in several pieces.
                let mut limited = rt::fs::File::open(&path).await.unwrap();
                limited.set_max_buf_size(2);
                let mut piece = [0u8; 5];
                let n = limited.read(&mut piece).await.unwrap();
                note!(log, start, "limited read {n} of {}", limited.max_buf_size());
            }
        })
    });
    assert_eq!(real, sim);
    assert_eq!(sim.len(), 9);
}

#[test]
fn directories_links_and_permissions_agree_with_tokio() {
    let tmp = TempDir::new("dirs");
    let dir = tmp.path();
    let (real, sim) = at_blocking_cost(Duration::ZERO, || {
        both!(|rt, log, start| {
            let dir = dir.to_owned();
            async move {
                let root = dir.join(side());
                rt::fs::DirBuilder::new()
                    .recursive(true)
                    .create(root.join("a/b"))
                    .await
                    .unwrap();
                rt::fs::write(root.join("a/one.txt"), "1").await.unwrap();
                rt::fs::hard_link(root.join("a/one.txt"), root.join("a/two.txt"))
                    .await
                    .unwrap();
                rt::fs::symlink(root.join("a/one.txt"), root.join("a/link"))
                    .await
                    .unwrap();
                let target = rt::fs::read_link(root.join("a/link")).await.unwrap();
                note!(log, start, "link to one: {}", target.ends_with("a/one.txt"));
                let meta = rt::fs::symlink_metadata(root.join("a/link")).await.unwrap();
                note!(log, start, "is symlink: {}", meta.file_type().is_symlink());
                let mut perm = rt::fs::metadata(root.join("a/one.txt"))
                    .await
                    .unwrap()
                    .permissions();
                perm.set_readonly(true);
                rt::fs::set_permissions(root.join("a/one.txt"), perm)
                    .await
                    .unwrap();
                let readonly = rt::fs::metadata(root.join("a/two.txt"))
                    .await
                    .unwrap()
                    .permissions()
                    .readonly();
                note!(log, start, "hard link shares permissions: {readonly}");
                let mut entries = rt::fs::read_dir(root.join("a")).await.unwrap();
                let mut names = Vec::new();
                while let Some(entry) = entries.next_entry().await.unwrap() {
                    let kind = entry.file_type().await.unwrap();
                    let len = entry.metadata().await.unwrap().len();
                    let name = entry.file_name().into_string().unwrap();
                    let _ = (entry.path(), entry.ino());
                    names.push(format!(
                        "{name} dir={} len={}",
                        kind.is_dir(),
                        if kind.is_dir() { 0 } else { len }
                    ));
                }
                names.sort();
                note!(log, start, "entries {names:?}");
                let mut perm = rt::fs::metadata(root.join("a/one.txt"))
                    .await
                    .unwrap()
                    .permissions();
                #[allow(clippy::permissions_set_readonly_false)]
                perm.set_readonly(false);
                rt::fs::set_permissions(root.join("a/one.txt"), perm)
                    .await
                    .unwrap();
                rt::fs::remove_dir_all(&root).await.unwrap();
                note!(
                    log,
                    start,
                    "removed: {}",
                    !rt::fs::try_exists(&root).await.unwrap()
                );
            }
        })
    });
    assert_eq!(real, sim);
    assert_eq!(sim.len(), 5);
}

/// As in tokio, a write whose caller moved on (the file dropped right after
/// `write_all`, the write running behind it) and a read whose future was
/// dropped by a timeout both complete: nothing is lost.
#[test]
fn work_in_flight_completes_when_its_future_is_dropped() {
    let tmp = TempDir::new("inflight");
    let path = tmp.path().join("note.txt");
    let runtime = cancelsim_tokio::runtime::Runtime::new().unwrap();
    let (before, after, read) = runtime.block_on(async {
        use cancelsim_tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut file = cancelsim_tokio::fs::File::create(&path).await.unwrap();
        file.write_all(b"kept").await.unwrap();
        drop(file); // the write is still in flight (1 ms of blocking work)
        let before = std::fs::read(&path).unwrap();
        cancelsim_tokio::time::sleep(Duration::from_millis(2)).await;
        let after = std::fs::read(&path).unwrap();
        let mut file = cancelsim_tokio::fs::File::open(&path).await.unwrap();
        let mut buf = [0u8; 4];
        let timed_out =
            cancelsim_tokio::time::timeout(Duration::from_micros(300), file.read(&mut buf)).await;
        assert!(timed_out.is_err(), "the read takes 1 ms");
        let n = file.read(&mut buf).await.unwrap(); // the dropped read's bytes
        (before, after, buf[..n].to_vec())
    });
    assert_eq!(before, b"");
    assert_eq!(after, b"kept");
    assert_eq!(read, b"kept");
}

/// A file written in two steps inside a timeout: a timeout that expires in
/// between leaves half a file, which the sweep finds; writing a temporary
/// file and renaming it is the fix.
async fn save(path: PathBuf, atomic: bool) {
    use cancelsim_tokio::io::AsyncWriteExt;
    let write = async {
        let target = if atomic {
            path.with_extension("tmp")
        } else {
            path.clone()
        };
        let mut file = cancelsim_tokio::fs::File::create(&target).await?;
        file.write_all(b"header;").await?;
        file.flush().await?;
        file.write_all(b"body").await?;
        file.flush().await?;
        if atomic {
            cancelsim_tokio::fs::rename(&target, &path).await?;
        }
        Ok::<_, std::io::Error>(())
    };
    let _ = cancelsim_tokio::time::timeout(Duration::from_secs(1), write).await;
    match cancelsim_tokio::fs::read(&path).await {
        Ok(saved) => assert_eq!(saved, b"header;body", "a half-written file"),
        Err(error) => assert_eq!(error.kind(), std::io::ErrorKind::NotFound),
    }
}

/// A path of this run's own: the runs of a sweep may run at once.
fn run_path(dir: &Path) -> PathBuf {
    dir.join(format!("saved-{}", cancelsim::simulation_id().unwrap()))
}

#[test]
fn a_file_written_in_two_steps_under_a_timeout_is_found() {
    let tmp = TempDir::new("sweep-buggy");
    let dir = tmp.path().to_owned();
    let report = Check::new(move || save(run_path(&dir), false))
        .tokio_preset()
        .run();
    let codes: Vec<_> = report
        .failures()
        .iter()
        .flat_map(|f| f.violations().iter().map(|v| v.kind()))
        .collect();
    assert!(codes.contains(&ViolationCode::Panic), "{report}");
    let text = report.to_string();
    assert!(text.contains("a half-written file"), "{text}");
    // Found by the expiry, and by the create held past the deadline (a
    // stall of the task it runs in), which the report may show first.
    assert!(
        report
            .failures()
            .iter()
            .any(|f| f.repro().to_string().contains("timeout@")),
        "{text}"
    );
}

#[test]
fn a_file_renamed_into_place_is_clean() {
    let tmp = TempDir::new("sweep-atomic");
    let dir = tmp.path().to_owned();
    let report = Check::new(move || save(run_path(&dir), true))
        .tokio_preset()
        .run();
    report.assert_clean();
    assert!(
        report.counts().per_kind["timeout"] > 0,
        "timeouts were swept"
    );
}

#[test]
fn same_seed_same_trace_with_files() {
    let tmp = TempDir::new("trace");
    let run = |seed: u64| {
        let path = tmp.path().join(format!("seed-{seed}"));
        let config = cancelsim::Config::default()
            .seed(seed)
            .scheduler(cancelsim::SchedulerKind::Random);
        let mut sim = cancelsim::Sim::new(config);
        sim.block_on(save(path.clone(), true)).unwrap();
        let _ = std::fs::remove_file(&path);
        sim.trace().to_string()
    };
    let trace = run(3);
    assert!(trace.contains("blocking"), "{trace}");
    assert_eq!(run(3), trace);
}

/// A `File`'s writes and flushes are blocking work spawned at the user's
/// `write_all` and `flush` lines (the facade's extension methods make
/// them the call site), not all at the line that opened the file.
#[test]
fn a_files_operations_are_spawned_at_their_own_lines() {
    use cancelsim_tokio::io::AsyncWriteExt;
    let tmp = TempDir::new("op-sites");
    let path = tmp.path().join("file");
    let mut sim = cancelsim::Sim::new(cancelsim::Config::default());
    sim.block_on(async move {
        let mut file = cancelsim_tokio::fs::File::create(&path).await.unwrap(); // marker: create
        file.write_all(b"header;").await.unwrap(); // marker: write_all
        file.flush().await.unwrap(); // marker: flush
    })
    .unwrap();
    let trace = sim.trace().to_string();
    let line_of = |marker: &str| {
        let line = include_str!("fs_file.rs")
            .lines()
            .position(|l| l.ends_with(&format!("// marker: {marker}")))
            .expect("marked line");
        format!("tests/fs_file.rs:{}:", line + 1)
    };
    for marker in ["create", "write_all"] {
        assert!(
            trace
                .lines()
                .any(|l| l.contains("blocking work started") && l.contains(&line_of(marker))),
            "{marker}: {trace}"
        );
    }
}
