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
        let mut child = Command::new(env!("CARGO_BIN_EXE_zfc-relay"))
            .args(["--listen", listen, "--data-dir"])
            .arg(dir)
            .args(extra)
            .env("ZFC_LOG", "warn")
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
    c.arg("--dir").arg(state).args(["--kdf-memory-kib", "64", "--timeout", "20"]).env("ZFC_PASSPHRASE", "test pass");
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
