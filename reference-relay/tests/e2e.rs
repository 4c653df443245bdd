//! End to end over loopback sockets with real processes: the relay, the `zfc` client, the
//! conformance suite, a restart, and a SOCKS5 proxy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Relay, ok, temp_dir, zfc};
use rand_core::SeedableRng;

#[test]
fn the_conformance_suite_passes_against_zfc_relay() {
    let dir = temp_dir("conformance");
    let relay = Relay::start(&dir, "127.0.0.1:0", &[]);
    let out = Command::new(env!("CARGO_BIN_EXE_zfc-conformance"))
        .args(["--relay", &relay.url, "--relay-key", &relay.key])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(out.status.success() && summary.ends_with(" 0 failed"), "{summary}");
    let passed: usize = summary.split(' ').next().unwrap().parse().unwrap();
    assert_eq!(passed, zfc_relay::conformance::cases().len(), "not every case ran");
}

/// Owner, bob and carol as separate `zfc` processes: create, invite, join (owner listening and
/// approving automatically), chat, members, removal.
#[test]
fn people_chat_through_the_relay_with_the_command_line_client() {
    let dir = temp_dir("cli");
    let relay = Relay::start(&dir.join("relay"), "127.0.0.1:0", &[]);
    let common::Three { owner, bob, carol } = common::three_chat(&dir, &relay);

    let carol_reads = ok(zfc(&carol).args(["listen", "--count", "1", "--seconds", "10"]));
    assert!(carol_reads.contains("1: hello from bob"), "{carol_reads}");
    let members = ok(zfc(&carol).arg("members"));
    assert_eq!(members.lines().count(), 4, "{members}"); // room line + owner, bob, carol
    let owner_members = ok(zfc(&owner).arg("members"));
    assert_eq!(members, owner_members, "fingerprints differ between owner and carol");

    ok(zfc(&owner).args(["remove", "2"]));
    ok(zfc(&bob).args(["send", "carol", "is", "gone"]));
    let bob_reads = ok(zfc(&bob).args(["listen", "--seconds", "2"]));
    assert!(bob_reads.contains("1: carol is gone"), "{bob_reads}");
    let bob_members = ok(zfc(&bob).arg("members"));
    assert_eq!(bob_members.lines().count(), 3, "bob's roster after the removal: {bob_members}");
    let carol_after = ok(zfc(&carol).args(["listen", "--seconds", "3"]));
    assert!(carol_after.contains("we were removed"), "{carol_after}");
    assert!(!carol_after.contains("is gone"), "carol read after her removal: {carol_after}");
}

/// Everything survives a clean restart: the key, rooms, members and their unread messages.
#[test]
fn a_restarted_relay_keeps_its_key_rooms_and_queues() {
    let dir = temp_dir("restart");
    let relay_dir = dir.join("relay");
    let relay = Relay::start(&relay_dir, "127.0.0.1:0", &[]);
    let (url, key, addr) = (relay.url.clone(), relay.key.clone(), relay.listen_addr());
    let (owner, bob) = (dir.join("owner"), dir.join("bob"));
    ok(zfc(&owner).args(["create", "--relay", &url, "--relay-key", &key, "--auto-approve"]));
    let invite = ok(zfc(&owner).args(["invite"]));
    let mut listener = zfc(&owner).args(["listen", "--seconds", "120"]).stdout(Stdio::null()).spawn().unwrap();
    ok(zfc(&bob).args(["join", invite.trim(), "--name", "bob"]));
    // Bob is in (his join returned once the owner's commit added him): the listener may go.
    listener.kill().unwrap();
    listener.wait().unwrap();
    ok(zfc(&owner).args(["send", "sent", "before", "the", "restart"]));
    assert!(relay.stop().success(), "the relay did not stop cleanly on SIGTERM");

    let relay = Relay::start(&relay_dir, &addr, &[]);
    assert_eq!(relay.key, key, "the relay key changed across a restart");
    let bob_reads = ok(zfc(&bob).args(["listen", "--count", "1", "--seconds", "10"]));
    assert!(bob_reads.contains("0: sent before the restart"), "{bob_reads}");
    ok(zfc(&bob).args(["send", "after"]));
}

/// A minimal SOCKS5 server (no authentication, CONNECT only) that counts the connections it
/// relayed; a test fixture, not a product.
fn socks5_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { continue };
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 262];
                client.read_exact(&mut buf[..2]).unwrap();
                let n = buf[1] as usize;
                client.read_exact(&mut buf[..n]).unwrap();
                client.write_all(&[5, 0]).unwrap();
                client.read_exact(&mut buf[..4]).unwrap();
                assert_eq!(&buf[..2], &[5, 1], "CONNECT only");
                let host = match buf[3] {
                    1 => {
                        client.read_exact(&mut buf[..4]).unwrap();
                        format!("{}.{}.{}.{}", buf[0], buf[1], buf[2], buf[3])
                    }
                    3 => {
                        client.read_exact(&mut buf[..1]).unwrap();
                        let len = buf[0] as usize;
                        client.read_exact(&mut buf[..len]).unwrap();
                        String::from_utf8_lossy(&buf[..len]).into_owned()
                    }
                    other => panic!("address type {other}"),
                };
                client.read_exact(&mut buf[..2]).unwrap();
                let port = u16::from_be_bytes([buf[0], buf[1]]);
                let upstream = TcpStream::connect((host.as_str(), port)).unwrap();
                client.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).unwrap();
                seen.fetch_add(1, Ordering::SeqCst);
                let (mut a, mut b) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
                let (mut c, mut d) = (client, upstream);
                std::thread::spawn(move || std::io::copy(&mut a, &mut b));
                let _ = std::io::copy(&mut d, &mut c);
            });
        }
    });
    (format!("socks5://{addr}"), count)
}

#[test]
fn the_client_reaches_the_relay_through_a_socks5_proxy() {
    let dir = temp_dir("socks");
    let relay = Relay::start(&dir.join("relay"), "127.0.0.1:0", &[]);
    let (proxy, count) = socks5_server();
    let owner = dir.join("owner");
    ok(zfc(&owner).args(["--proxy", &proxy, "create", "--relay", &relay.url, "--relay-key", &relay.key]));
    ok(zfc(&owner).args(["--proxy", &proxy, "send", "through", "the", "proxy"]));
    assert_eq!(count.load(Ordering::SeqCst), 2, "every connection goes through the proxy");
    // A proxy that is not there is an error, never a silent direct connection.
    let refused = zfc(&owner).args(["--proxy", "socks5://127.0.0.1:1", "send", "x"]).output().unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("proxy"), "{}", String::from_utf8_lossy(&refused.stderr));
}

#[test]
fn restricted_creation_needs_the_operators_token() {
    let dir = temp_dir("admission");
    let token = "ab".repeat(32);
    let relay = Relay::start(&dir.join("relay"), "127.0.0.1:0", &["--admission-token", &token]);
    let create = |state: &str, extra: &[&str]| {
        zfc(&dir.join(state))
            .args(["create", "--relay", &relay.url, "--relay-key", &relay.key])
            .args(extra)
            .output()
            .unwrap()
    };
    let without = create("a", &[]);
    assert!(!without.status.success());
    assert!(String::from_utf8_lossy(&without.stderr).contains("CreationRestricted"));
    let wrong = create("b", &["--admission-token", &"cd".repeat(32)]);
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("code 14"), "{}", String::from_utf8_lossy(&wrong.stderr));
    let right = create("c", &["--admission-token", &token]);
    assert!(right.status.success(), "{}", String::from_utf8_lossy(&right.stderr));
}

#[tokio::test]
async fn quiet_connections_are_closed_unless_they_ping() {
    use zfc_relay::client::{Link, NetError};
    let dir = temp_dir("idle");
    let relay = Relay::start(&dir, "127.0.0.1:0", &["--idle-timeout", "2"]);
    let mut rng = rand_chacha::ChaCha20Rng::from_rng(&mut rand_core::UnwrapErr(getrandom::SysRng));
    let key = relay.key_bytes();
    let mut quiet = Link::connect(&relay.url, &key, None, &mut rng).await.unwrap();
    let mut pinging = Link::connect(&relay.url, &key, None, &mut rng).await.unwrap();
    quiet.recv().await.unwrap(); // the challenge
    pinging.recv().await.unwrap();
    for _ in 0..10 {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        pinging.ping().await.unwrap();
    }
    match tokio::time::timeout(std::time::Duration::from_secs(10), quiet.recv()).await {
        Ok(Err(NetError::Closed(Some(reason)))) => assert_eq!(reason, "idle timeout"),
        other => panic!("the quiet connection was not closed as idle: {other:?}"),
    }
    // The pinging one is still served: a request is answered.
    let req = zfc_core::relay::ClientRequest::Fetch { req_id: 9, room_id: [0; 16], from: 1, until: 2, limit: 1 };
    pinging.send(&req.encode()).await.unwrap();
    let answer = tokio::time::timeout(std::time::Duration::from_secs(10), pinging.recv()).await.unwrap().unwrap();
    let answer = zfc_core::relay::RelayMessage::decode(&answer).unwrap();
    assert_eq!(answer, zfc_core::relay::RelayMessage::Rejected { req_id: 9, code: 10 });
}

/// Connection limits: the connection count, the message size and the request rate.
#[tokio::test]
async fn connection_limits_hold() {
    use zfc_core::relay::{ClientRequest, RelayMessage};
    use zfc_relay::client::Link;
    let dir = temp_dir("limits");
    let relay = Relay::start(
        &dir,
        "127.0.0.1:0",
        &["--max-connections", "2", "--max-message-bytes", "2000", "--rate", "10", "--burst", "5"],
    );
    let mut rng = rand_chacha::ChaCha20Rng::from_rng(&mut rand_core::UnwrapErr(getrandom::SysRng));
    let key = relay.key_bytes();
    let mut a = Link::connect(&relay.url, &key, None, &mut rng).await.unwrap();
    let mut b = Link::connect(&relay.url, &key, None, &mut rng).await.unwrap();
    assert!(Link::connect(&relay.url, &key, None, &mut rng).await.is_err(), "a third connection was served");
    let within = |d| std::time::Duration::from_secs(d);
    tokio::time::timeout(within(10), a.recv()).await.unwrap().unwrap();
    tokio::time::timeout(within(10), b.recv()).await.unwrap().unwrap();

    // Too large: closed, and the other connection does not notice.
    let huge = ClientRequest::Submit { req_id: 1, frame: vec![0; 4000] }.encode();
    a.send(&huge).await.unwrap();
    assert!(tokio::time::timeout(within(10), a.recv()).await.unwrap().is_err(), "an oversized message was accepted");

    // 25 requests at 10/s with a burst of 5: the last answer cannot come before 2 s.
    let start = std::time::Instant::now();
    for i in 0..25 {
        let req = ClientRequest::Fetch { req_id: i + 1, room_id: [0; 16], from: 1, until: 2, limit: 1 };
        b.send(&req.encode()).await.unwrap();
    }
    for _ in 0..25 {
        let answer = RelayMessage::decode(&tokio::time::timeout(within(10), b.recv()).await.unwrap().unwrap()).unwrap();
        assert!(matches!(answer, RelayMessage::Rejected { code: 10, .. }), "{answer:?}");
    }
    assert!(
        start.elapsed() >= std::time::Duration::from_millis(1800),
        "the rate limit let 25 requests through in {:?}",
        start.elapsed()
    );
}

/// A directory an older `zfc` wrote (`state.sealed`: the party's letter and a single-room sealed
/// state; `relay`: its address and key) is imported into the client state on first use.
#[test]
fn an_older_state_directory_is_imported() {
    let state = temp_dir("import").join("old");
    std::fs::create_dir_all(&state).unwrap();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
    let (owner, _) = zfc_core::Owner::create(zfc_core::RoomConfig::builder().build().unwrap(), &mut rng);
    let params = zfc_core::pickle::Argon2Params { m_cost_kib: 64, ..zfc_core::pickle::Argon2Params::DEFAULT };
    let blob = owner.seal_state(b"test pass", params, &mut rng).unwrap();
    std::fs::write(state.join("state.sealed"), [b"O".as_slice(), &blob].concat()).unwrap();
    std::fs::write(state.join("relay"), format!("ws://127.0.0.1:9\n{}\n", "ab".repeat(32))).unwrap();
    let members = ok(zfc(&state).arg("members"));
    assert!(members.starts_with(&format!("room {}\n0 ", hex::encode(owner.room_id()))), "{members}");
    assert_eq!(members.lines().count(), 2, "{members}");
    assert!(state.join("client.sealed").exists() && state.join("state.sealed.imported").exists());
    assert!(!state.join("state.sealed").exists());
    // Once imported, the directory opens as a client state.
    assert_eq!(ok(zfc(&state).arg("members")), members);
}
