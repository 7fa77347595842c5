use super::*;
use std::time::Instant;

const BROKER: &str = "amqp://test-broker:5672";

fn options(stop_timeout: Duration) -> (ChildOptions, mpsc::Receiver<ChildEvent>) {
    let (tx, rx) = mpsc::channel(64);
    let options = ChildOptions {
        stop_timeout,
        events: Some(tx),
        ..ChildOptions::default()
    };
    (options, rx)
}

fn pids(line: &str) -> Vec<i32> {
    line.split_whitespace()
        .map(|p| p.parse().expect("pid"))
        .collect()
}

/// Whether `pid` is a live (not zombie) process.
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Waits until `pid` has terminated, on its pidfd; false if it is still alive at the
/// deadline.
fn gone_within(pid: i32, timeout: Duration) -> bool {
    // SAFETY: plain syscalls on integers we own.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as libc::c_int;
    if fd < 0 {
        return !alive(pid);
    }
    let mut poll = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = timeout.as_millis() as libc::c_int;
    // SAFETY: one valid pollfd; the fd is closed right after.
    let ready = unsafe { libc::poll(&mut poll, 1, ms) };
    unsafe { libc::close(fd) };
    ready == 1 || !alive(pid)
}

#[tokio::test]
async fn first_stdout_line_means_started_and_stop_kills_it() {
    let (options, _events) = options(DEFAULT_STOP_TIMEOUT);
    let mut children = Children::with_options(BROKER.into(), options);
    let started = children.spawn("a", "echo $$; sleep 100").expect("spawn");
    let line = started.wait().await.expect("started");
    let pid = pids(&line)[0];
    assert!(alive(pid));
    assert_eq!(children.roles(), vec!["a"]);

    assert!(children.stop("a").await);
    assert!(
        gone_within(pid, Duration::from_secs(5)),
        "pid {pid} survived stop"
    );
    assert!(children.roles().is_empty());
    assert!(!children.stop("a").await, "a stopped role is gone");
}

#[tokio::test]
async fn the_grandchild_of_sh_c_is_killed_too() {
    let (options, _events) = options(DEFAULT_STOP_TIMEOUT);
    let mut children = Children::with_options(BROKER.into(), options);
    let started = children
        .spawn("g", "sleep 100 & echo $$ $!; wait")
        .expect("spawn");
    let pids = pids(&started.wait().await.expect("started"));
    assert!(pids.iter().all(|&p| alive(p)));
    children.stop_all().await;
    for pid in pids {
        assert!(
            gone_within(pid, Duration::from_secs(5)),
            "pid {pid} survived"
        );
    }
}

#[tokio::test]
async fn a_child_ignoring_sigterm_is_killed_after_the_bound() {
    let bound = Duration::from_millis(300);
    let (options, mut events) = options(bound);
    let mut children = Children::with_options(BROKER.into(), options);
    let started = children
        .spawn("stubborn", "trap '' TERM; echo $$; sleep 100")
        .expect("spawn");
    let pid = pids(&started.wait().await.expect("started"))[0];
    let begin = Instant::now();
    assert!(children.stop("stubborn").await);
    assert!(begin.elapsed() >= bound, "stopped before the bound");
    assert!(
        gone_within(pid, Duration::from_secs(5)),
        "pid {pid} survived SIGKILL"
    );
    loop {
        match events.recv().await.expect("events") {
            ChildEvent::Exited { role, status } => {
                assert_eq!(role, "stubborn");
                assert!(!status.success());
                break;
            }
            ChildEvent::Line { .. } => {}
        }
    }
}

#[tokio::test]
async fn msgflo_broker_is_in_the_childs_environment() {
    let mut children = Children::new(BROKER.into());
    let started = children
        .spawn("env", "echo \"$MSGFLO_BROKER\"; sleep 100")
        .expect("spawn");
    assert_eq!(started.wait().await.expect("started"), BROKER);
    children.stop_all().await;
}

#[tokio::test]
async fn a_missing_command_exits_127_with_its_error_on_stderr() {
    let (options, mut events) = options(DEFAULT_STOP_TIMEOUT);
    let mut children = Children::with_options(BROKER.into(), options);
    let started = children
        .spawn("missing", "no-such-command-msgflo-rs --x")
        .expect("the shell starts");
    match started.wait().await {
        Err(StartError::Exited { role, status }) => {
            assert_eq!(role, "missing");
            assert_eq!(status.code(), Some(127));
        }
        other => panic!("expected an exit, got {other:?}"),
    }
    let mut stderr = Vec::new();
    while let ChildEvent::Line { line, stream, .. } = events.recv().await.expect("events") {
        assert_eq!(stream, Stream::Stderr);
        stderr.push(line);
    }
    assert!(
        stderr
            .iter()
            .any(|l| l.contains("no-such-command-msgflo-rs")),
        "{stderr:?}"
    );
    assert!(
        children.roles().is_empty(),
        "an exited child is not running"
    );
    assert!(
        children.stop("missing").await,
        "stop of an exited child still reaps it"
    );
}

#[tokio::test]
async fn a_role_cannot_run_twice_but_can_restart_after_stop() {
    let mut children = Children::new(BROKER.into());
    let started = children.spawn("r", "echo up; sleep 100").expect("spawn");
    started.wait().await.expect("started");
    assert!(matches!(
        children.spawn("r", "true"),
        Err(SpawnError::AlreadyRunning { .. })
    ));
    children.stop("r").await;
    let started = children
        .spawn("r", "echo again; sleep 100")
        .expect("respawn");
    assert_eq!(started.wait().await.expect("started"), "again");
    children.stop_all().await;
}

#[tokio::test]
async fn output_lines_are_events_with_the_role() {
    let (options, mut events) = options(DEFAULT_STOP_TIMEOUT);
    let mut children = Children::with_options(BROKER.into(), options);
    let started = children
        .spawn("talker", "echo one; echo two >&2; printf 'three'")
        .expect("spawn");
    assert_eq!(started.wait().await.expect("started"), "one");
    let mut lines = Vec::new();
    loop {
        match events.recv().await.expect("events") {
            ChildEvent::Line { role, stream, line } => {
                assert_eq!(role, "talker");
                lines.push((stream, line));
            }
            ChildEvent::Exited { status, .. } => {
                assert!(status.success());
                break;
            }
        }
    }
    lines.sort_by_key(|(_, l)| l.clone());
    assert_eq!(
        lines,
        vec![
            (Stream::Stdout, "one".to_owned()),
            (Stream::Stdout, "three".to_owned()),
            (Stream::Stderr, "two".to_owned()),
        ]
    );
}

/// The coordinator dying (here: the thread that spawned, which is what the kernel's
/// parent-death signal follows) takes the participant and its children along.
#[cfg(target_os = "linux")]
#[test]
fn children_die_with_the_spawning_coordinator() {
    let pids = std::thread::spawn(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let mut children =
                Children::with_options(BROKER.into(), options(Duration::from_secs(1)).0);
            let started = children
                .spawn("orphan", "sleep 100 & echo $$ $!; wait")
                .expect("spawn");
            let line = started.wait().await.expect("started");
            // Not stopped, not dropped: as if the coordinator were SIGKILLed.
            std::mem::forget(children);
            pids(&line)
        })
    })
    .join()
    .expect("thread");
    for pid in pids {
        assert!(
            gone_within(pid, Duration::from_secs(5)),
            "pid {pid} outlived its coordinator"
        );
    }
}

#[tokio::test]
async fn commands_are_found_in_the_bin_dir_first() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("msgflo-bin-dir-test");
    std::fs::write(&script, "#!/bin/sh\necho \"found $MSGFLO_BROKER\"\n").expect("write");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let (mut options, _events) = options(DEFAULT_STOP_TIMEOUT);
    options.bin_dir = Some(dir.path().to_path_buf());
    let mut children = Children::with_options(BROKER.into(), options);
    let started = children.spawn("p", "msgflo-bin-dir-test").expect("spawn");
    assert_eq!(
        started.wait().await.expect("started"),
        format!("found {BROKER}")
    );
    // The rest of PATH still counts.
    let started = children.spawn("q", "command -v sh").expect("spawn");
    assert!(started.wait().await.expect("started").ends_with("/sh"));
    children.stop_all().await;
}

#[test]
fn the_default_bin_dir_is_the_executables_own() {
    let exe = std::env::current_exe().expect("current_exe");
    assert_eq!(ChildOptions::default().bin_dir.as_deref(), exe.parent());
}

#[test]
fn forward_takes_stdout_and_stderr_and_names_any_other_stream() {
    let mut options = ChildOptions::default();
    assert_eq!(options.forward(" stdout,,stderr "), Ok(()));
    assert!(options.forward_stdout && options.forward_stderr);
    assert_eq!(
        ChildOptions::default()
            .forward("stdout,nope")
            .map_err(|e| e.to_string()),
        Err("--forward: unknown stream \"nope\" (stdout, stderr)".into())
    );
}
