//! The crash test: clients send under load, the relay is killed with SIGKILL and restarted, and
//! every message it acknowledged is then in the room's log exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::time::Duration;

use common::{Relay, temp_dir};
use zfc_core::{Event, HistoryPolicy};
use zfc_relay::client::{Party, Session};
use zfc_relay::conformance::Target;
use zfc_relay::conformance::flows::{Peer, create, join, send};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_message_survives_a_sigkill_exactly_once() {
    let dir = temp_dir("crash");
    let relay = Relay::start(&dir, "127.0.0.1:0", &[]);
    let addr = relay.listen_addr();
    let t = Target { relay: relay.url.clone(), key: relay.key_bytes(), wait: Duration::from_secs(20) };

    let mut owner = create(&t, HistoryPolicy::SinceLastEpoch).await.unwrap();
    let mut rita = join(&t, &mut owner, &mut [], "rita").await.unwrap();
    let mut senders = Vec::new();
    for name in ["bob", "carol", "dave"] {
        let mut others: Vec<&mut Peer> = senders.iter_mut().collect();
        others.push(&mut rita);
        let p = join(&t, &mut owner, &mut others, name).await.unwrap();
        senders.push(p);
    }
    // Rita reads nothing until after the crash: the relay must keep it all for her.
    let Party::Member(rita_state) = rita.s.close().await else { panic!("rita is a member") };
    senders.push(owner);

    let mut tasks = Vec::new();
    for (i, mut peer) in senders.into_iter().enumerate() {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for k in 0.. {
                let text = format!("sender {i} message {k}");
                if send(&t, &mut peer, &text).await.is_err() {
                    break; // the relay is gone
                }
                // `send` returned once the relay answered; a refusal would show as an event.
                let events = peer.s.take_events();
                assert!(!events.iter().any(|e| matches!(e, Event::Rejected { .. })), "{events:?}");
                acked.push(text);
            }
            acked
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    relay.kill9();
    let mut acked = Vec::new();
    for task in tasks {
        acked.extend(task.await.unwrap());
    }
    assert!(acked.len() > 20, "too little load to mean anything: {} messages acknowledged", acked.len());

    let relay = Relay::start(&dir, &addr, &[]);
    let t = Target { relay: relay.url.clone(), key: relay.key_bytes(), wait: Duration::from_secs(20) };
    // Connecting authenticates and then waits until the whole backlog has been handled.
    let mut s = Session::connect(Party::Member(rita_state), &t.relay, &t.key, None, t.wait).await.unwrap();
    let mut read = Vec::new();
    for e in s.take_events() {
        match e {
            Event::Message(m) => read.push(String::from_utf8(m.content).unwrap()),
            Event::FrameRejected { position, error } => panic!("frame {position} rejected: {error}"),
            _ => {}
        }
    }
    for text in &acked {
        let n = read.iter().filter(|r| *r == text).count();
        assert_eq!(n, 1, "{text:?} is in the log {n} times after the crash");
    }
    let mut unique = read.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), read.len(), "a message is in the log twice");
    println!("{} acknowledged before the SIGKILL, {} in the log after the restart", acked.len(), read.len());
}
