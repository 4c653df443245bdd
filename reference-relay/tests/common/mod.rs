//! Real processes for the end-to-end tests: a relay on a free loopback port with its own data
//! directory, and the `zfc` client.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub struct Relay {
    pub child: Child,
    pub url: String,
    pub key: String,
    pub dir: PathBuf,
}

impl Relay {
    /// Starts `zfc-relay` on `listen` (e.g. 127.0.0.1:0) with `dir` as its data directory.
    pub fn start(dir: &Path, listen: &str, extra: &[&str]) -> Relay {
        Self::start_with_env(dir, listen, extra, &[])
    }

    /// [`Self::start`] with extra environment variables for the relay.
    pub fn start_with_env(dir: &Path, listen: &str, extra: &[&str], env: &[(&str, &str)]) -> Relay {
        let mut child = Command::new(env!("CARGO_BIN_EXE_zfc-relay"))
            .args(["--listen", listen, "--data-dir"])
            .arg(dir)
            .args(extra)
            .env("ZFC_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("zfc-relay starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let url = lines.next().unwrap().unwrap().rsplit(' ').next().unwrap().to_string();
        let key = lines.next().unwrap().unwrap().rsplit(' ').next().unwrap().to_string();
        // Keep draining stdout so the relay never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Relay { child, url, key, dir: dir.to_path_buf() }
    }

    /// The port it listens on.
    pub fn listen_addr(&self) -> String {
        self.url.trim_start_matches("ws://").to_string()
    }

    pub fn key_bytes(&self) -> [u8; 32] {
        zfc_relay::keyfile::parse_hex32(&self.key).unwrap()
    }

    /// Waits up to `within` for the relay to exit on its own; its exit status, if it did.
    pub fn wait_exit(&mut self, within: std::time::Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if std::time::Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// SIGKILL, no chance to flush anything.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(mut self) -> std::process::ExitStatus {
        Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status().unwrap();
        self.child.wait().unwrap()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh temporary directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zfc-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The `zfc` client with a state directory, a fixed passphrase and a cheap KDF (tests only).
pub fn zfc(state: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_zfc"));
    c.arg("--dir")
        .arg(state)
        .args(["--kdf-memory-kib", "64", "--insecure-weak-kdf-for-tests", "--timeout", "20"])
        .env("ZFC_PASSPHRASE", "test pass");
    c
}

/// Runs `cmd`, panicking with its output if it fails; returns stdout.
pub fn ok(cmd: &mut Command) -> String {
    let out: Output = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The state directories of a room's three people.
pub struct Three {
    pub owner: PathBuf,
    pub bob: PathBuf,
    pub carol: PathBuf,
}

/// Owner, bob and carol as separate `zfc` processes under `dir`: the owner creates an
/// auto-approving room on `relay` and invites both, bob and carol join (member 1 and 2) while the
/// owner listens, and bob says hello, which the owner reads.
pub fn three_chat(dir: &Path, relay: &Relay) -> Three {
    let t = Three { owner: dir.join("owner"), bob: dir.join("bob"), carol: dir.join("carol") };
    let room = ok(zfc(&t.owner).args(["create", "--relay", &relay.url, "--relay-key", &relay.key, "--auto-approve"]));
    assert!(room.starts_with("room "), "{room}");
    let invite_bob = ok(zfc(&t.owner).args(["invite", "--ttl", "600"]));
    let invite_carol = ok(zfc(&t.owner).args(["invite", "--ttl", "600"]));
    // The owner listens (and approves) while the two join, until it has read bob's message.
    let listener =
        zfc(&t.owner).args(["listen", "--count", "1", "--seconds", "120"]).stdout(Stdio::piped()).spawn().unwrap();
    let joined = ok(zfc(&t.bob).args(["join", invite_bob.trim(), "--name", "bob"]));
    assert!(joined.contains("joined as member 1"), "{joined}");
    let joined = ok(zfc(&t.carol).args(["join", invite_carol.trim(), "--name", "carol"]));
    assert!(joined.contains("joined as member 2"), "{joined}");
    ok(zfc(&t.bob).args(["send", "hello", "from", "bob"]));
    let owner_saw = String::from_utf8_lossy(&listener.wait_with_output().unwrap().stdout).into_owned();
    assert!(owner_saw.contains("1: hello from bob"), "{owner_saw}");
    t
}
