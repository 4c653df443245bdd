//! Crash safety of the facade's persistence contract: a scripted room life is run once per
//! (peer, save): the peer crashes right after handing out that save (before confirming it) and
//! comes back from it. Whatever the crash point, the honest parties never sign two different
//! frames for one message number, commit epoch, key update or member number, every join and
//! removal completes, and the leave lands.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeMap;

use common::{Net, config};
use zfc_client::{ClientEvent, RoomRole, RoomSettings};
use zfc_core::internal::frame::{Change, Frame};
use zfc_core::proto::ClientRequest;
use zfc_core::relay::RelayConfig;

const ALICE: usize = 0;
const BOB: usize = 1;
const CAROL: usize = 2;

/// Approves every join request alice has seen (a repeat after her crash is refused: ignored).
fn approve_all(net: &mut Net, room: &[u8]) {
    let joiners: Vec<Vec<u8>> = net.peers[ALICE]
        .events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::JoinRequested { joiner, .. } => Some(joiner.clone()),
            _ => None,
        })
        .collect();
    for j in joiners {
        let _ = net.client(ALICE).approve_join(room, &j);
    }
}

/// The life; `crash` = (peer, save number, whether the crash comes before that save was
/// written). Returns the network at the end.
fn life(crash: Option<(usize, usize, bool)>) -> (Net, Vec<u8>) {
    let mut net = Net::new(RelayConfig::default());
    let relay = net.address();
    for seed in 1..=3 {
        net.add(config(seed, false));
    }
    if let Some((peer, at, before_write)) = crash {
        net.peers[peer].crash_at_save = Some(at);
        net.peers[peer].crash_before_write = before_write;
    }
    // What the app does is repeated when a crash took it before its save was written (the app
    // never learnt it happened: it shares an invite, or says a room exists, only once saved).
    let crashes = |net: &Net, p: usize| net.peers[p].crashes;
    let settings = RoomSettings { rotate_every: 4, ..RoomSettings::default() };
    let room = loop {
        let room = net.client(ALICE).create_room(&relay, settings).unwrap();
        net.run();
        if net.client(ALICE).rooms().unwrap().contains(&room) {
            break room;
        }
    };
    for (peer, name) in [(BOB, "bob"), (CAROL, "carol")] {
        let invite = loop {
            let before = crashes(&net, ALICE);
            let invite = net.client(ALICE).invite(&room, 3600).unwrap();
            net.run();
            if crashes(&net, ALICE) == before {
                break invite;
            }
        };
        while !net.client(peer).rooms().unwrap().contains(&room) {
            net.client(peer).join_room(&invite, name).unwrap();
            net.run();
        }
        approve_all(&mut net, &room);
        net.run();
    }
    // A joiner may need a reconnect to hear of a step its crash made it miss: time passes.
    net.advance(1_000);
    approve_all(&mut net, &room);
    net.run();
    for round in 0..3 {
        for (peer, who) in [(ALICE, "alice"), (BOB, "bob"), (CAROL, "carol")] {
            let _ = net.client(peer).send_text(&room, &format!("{who} {round}"));
        }
        net.run();
    }
    let _ = net.client(BOB).update_key(&room);
    let _ = net.client(ALICE).rotate(&room);
    net.run();
    let _ = net.client(CAROL).update_key(&room);
    net.run();
    // The leave and the removal, again while a crash lost them before they were saved.
    for _ in 0..3 {
        if net.client(BOB).room_info(&room).unwrap().role != RoomRole::Gone {
            let _ = net.client(BOB).leave(&room);
        }
        net.run();
        if net.client(ALICE).room_info(&room).unwrap().members.contains(&2) {
            let _ = net.client(ALICE).remove_member(&room, 2);
        }
        net.run();
        net.advance(1_000);
    }
    (net, room)
}

/// No two different signed frames for one message, commit epoch, key update or member number
/// among everything the relay was ever sent.
fn check_unique_frames(net: &Net) {
    let mut messages: BTreeMap<(u32, u32, u32), Vec<u8>> = BTreeMap::new();
    let mut commits: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
    let mut updates: BTreeMap<(u32, u32), Vec<u8>> = BTreeMap::new();
    let mut numbers: BTreeMap<u32, [u8; 32]> = BTreeMap::new();
    for req in &net.submitted {
        let ClientRequest::Submit { frame, .. } = req else { continue };
        let fresh = |seen: Option<&Vec<u8>>| seen.is_none_or(|f| f == frame);
        match Frame::decode(frame) {
            Ok(Frame::Message(f)) => {
                let key = (f.body.epoch, f.body.sender, f.body.seq);
                assert!(fresh(messages.get(&key)), "two messages for {key:?}");
                messages.insert(key, frame.clone());
            }
            Ok(Frame::Commit(f)) => {
                assert!(fresh(commits.get(&f.body.epoch)), "two commits for epoch {}", f.body.epoch);
                if let Change::Add { member, sign_pk, .. } = f.body.change {
                    assert!(numbers.get(&member).is_none_or(|k| *k == sign_pk), "member {member} given twice");
                    numbers.insert(member, sign_pk);
                }
                commits.insert(f.body.epoch, frame.clone());
            }
            Ok(Frame::KeyUpdate(f)) => {
                let key = (f.body.member, f.body.generation);
                assert!(fresh(updates.get(&key)), "two key updates for {key:?}");
                updates.insert(key, frame.clone());
            }
            _ => {}
        }
    }
}

fn check_end(net: &Net, room: &[u8], what: &str) {
    check_unique_frames(net);
    // Among honest parties a crash brings back what was read but not acknowledged: it is read
    // again, never refused.
    for (i, p) in net.peers.iter().enumerate() {
        let refused: Vec<_> = p.events.iter().filter(|e| matches!(e, ClientEvent::FrameRejected { .. })).collect();
        assert!(refused.is_empty(), "{what}: peer {i} refused {refused:?}");
    }
    // Both joins completed: bob and carol were members (1 and 2).
    for peer in [BOB, CAROL] {
        let joined = net.peers[peer].events.iter().any(|e| matches!(e, ClientEvent::Joined { .. }));
        let info = net.client(peer).room_info(room).unwrap();
        assert!(joined || info.role == RoomRole::Gone, "{what}: peer {peer} never joined");
    }
    // Bob's leave and carol's removal landed: alice's roster holds only herself, both are out.
    let alice = net.client(ALICE).room_info(room).unwrap();
    assert_eq!(alice.members, vec![0], "{what}: alice's roster");
    assert_eq!(net.client(CAROL).room_info(room).unwrap().role, RoomRole::Gone, "{what}: carol removed");
    assert_eq!(net.client(BOB).room_info(room).unwrap().role, RoomRole::Gone, "{what}: bob left");
}

#[test]
fn a_crash_around_any_save_handed_out_changes_nothing_that_matters() {
    let (net, room) = life(None);
    check_end(&net, &room, "no crash");
    let saves: Vec<usize> = net.peers.iter().map(|p| p.saves).collect();
    let mut runs = 0;
    for (peer, &n) in saves.iter().enumerate() {
        for at in 1..=n {
            // After the save was written but before it was confirmed, and before it was
            // written at all (the peer comes back from the one before): records made since the
            // earlier save must not have left.
            for before_write in [false, true] {
                if before_write && at == 1 {
                    continue; // nothing was written before the first save: no state to restart from
                }
                let (net, room) = life(Some((peer, at, before_write)));
                let when = if before_write { "before writing" } else { "after writing" };
                check_end(&net, &room, &format!("peer {peer} crashed {when} save {at}"));
                runs += 1;
            }
        }
    }
    eprintln!("crash points tried: {runs} (saves per peer without a crash: {saves:?})");
    assert!(runs > 20, "the life hands out saves at every step");
}
