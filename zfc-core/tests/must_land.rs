//! Requests that must land (spec §9.7) on the simulated network: lost before the relay took
//! them, answered on a connection that dropped, refused for a while, beaten to their epoch by
//! another commit, or made by a party that crashed. Each test fails when its rule is removed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{NOW, Room, lenient, room as new_room};
use rand_core::SeedableRng;
use zfc_core::Party;
use zfc_core::internal::frame::{Change, Frame};
use zfc_core::relay::{ClientRequest, JournalEntry, Reject};
use zfc_core::sim::Traced;
use zfc_core::{Event, Failure, GoneReason, Operation, Output, Owner, RoomConfig};

/// Runs `f` on the owner and queues its output, without moving the network.
fn owner_does(room: &mut Room, f: impl FnOnce(&mut Owner, &mut rand_chacha::ChaCha20Rng) -> Output) -> Output {
    let Party::Owner(o) = &mut room.sim.slots[room.owner].party else { unreachable!() };
    let out = f(o, &mut room.sim.rng);
    room.sim.apply(room.owner, out.clone());
    out
}

/// Commit frames in the relay's journal (what it made durable), in order.
fn logged_commits(room: &Room) -> Vec<Vec<u8>> {
    room.sim
        .journal
        .iter()
        .filter_map(|e| match e {
            JournalEntry::Submitted { frame, .. } if matches!(Frame::decode(frame), Ok(Frame::Commit(_))) => {
                Some(frame.clone())
            }
            _ => None,
        })
        .collect()
}

fn events(room: &mut Room, id: usize) -> Vec<Event> {
    room.sim.take_events(id)
}

fn landed(events: &[Event], op: Operation) -> bool {
    events.contains(&Event::OperationLanded { op })
}

/// A room with bob (1) and carol (2), auto-approving.
fn room_of_three(seed: u64) -> (Room, usize, usize) {
    let mut room = lenient(seed);
    let bob = room.join("bob").unwrap();
    let carol = room.join("carol").unwrap();
    assert!(room.member(carol).unwrap().is_joined());
    (room, bob, carol)
}

#[test]
fn a_commit_lost_before_the_relay_took_it_does_not_stop_a_later_removal() {
    let (mut room, bob, carol) = room_of_three(31);
    let owner = room.owner;
    let epoch = room.owner().epoch();
    // The owner rotates; the connection drops before the relay takes the commit.
    let _ = owner_does(&mut room, |o, rng| o.rotate(rng).unwrap());
    room.sim.lose_outbox(owner);
    assert_eq!(logged_commits(&room).len(), 2, "only the two Adds are in the log");
    // It reconnects and removes carol: the removal waits behind the rotation, and says so.
    room.sim.connect(owner);
    let out = owner_does(&mut room, |o, rng| o.remove(2, rng).unwrap());
    assert!(out.events.contains(&Event::OperationQueued { op: Operation::Remove { member: 2 } }), "{out:?}");
    events(&mut room, owner);
    room.sim.run();
    let seen = events(&mut room, owner);
    assert!(landed(&seen, Operation::Rotate), "{seen:?}");
    assert!(landed(&seen, Operation::Remove { member: 2 }), "{seen:?}");
    assert_eq!(room.owner().epoch(), epoch + 2);
    assert!(!room.owner().roster().contains(2));
    assert_eq!(room.member(carol).unwrap().phase().gone(), Some(GoneReason::Removed));
    // Carol reads nothing sent after her removal landed.
    room.texts(carol);
    room.send(bob, "carol is gone").unwrap();
    room.sim.connect(carol);
    room.sim.run();
    assert!(room.texts(carol).is_empty());
    assert_eq!(room.texts(owner), vec!["carol is gone"]);
}

#[test]
fn resends_wait_for_authentication_and_survive_a_refusal_as_not_authenticated() {
    let (mut room, _, carol) = room_of_three(32);
    let owner = room.owner;
    let _ = owner_does(&mut room, |o, rng| o.remove(2, rng).unwrap());
    room.sim.lose_outbox(owner);
    // The relay refuses the first resend as not authenticated (today's relay does not; a later
    // one may): the owner authenticates again and resends.
    room.sim.slots[owner].refuse_next.push_back(Reject::NotAuthenticated.code());
    room.sim.tracing = true;
    room.sim.connect(owner);
    room.sim.run();
    assert!(room.relay_rejections(owner).contains(&Reject::NotAuthenticated.code()));
    assert!(landed(&events(&mut room, owner), Operation::Remove { member: 2 }));
    assert_eq!(room.member(carol).unwrap().phase().gone(), Some(GoneReason::Removed));
    // On the new connection, the owner's first request was its authentication, and no submission
    // went out before the relay accepted one.
    let sent: Vec<ClientRequest> = room
        .sim
        .trace
        .iter()
        .filter_map(|t| match t {
            Traced::ToRelay(id, b) if *id == owner => ClientRequest::decode(b).ok(),
            _ => None,
        })
        .collect();
    assert!(matches!(sent.first(), Some(ClientRequest::Authenticate { .. })), "{sent:?}");
    let auths = sent.iter().filter(|r| matches!(r, ClientRequest::Authenticate { .. })).count();
    assert_eq!(auths, 2, "authenticated again after the refusal");
}

#[test]
fn a_commit_that_lost_its_epoch_to_another_commit_is_rebuilt_on_the_next() {
    let (mut room, bob, carol) = room_of_three(33);
    let owner = room.owner;
    let backup = room.owner().pickle();
    let epoch = room.owner().epoch();
    // The live owner rotates: that commit takes epoch + 1.
    room.by_owner(|o, rng| o.rotate(rng)).unwrap();
    let rotation = logged_commits(&room).last().cloned().unwrap();
    // The owner's disk is restored from the older backup; offline, it removes carol: a commit
    // for epoch + 1 again, which can never land.
    room.sim.disconnect(owner);
    room.sim.slots[owner].party = Party::Owner(Box::new(Owner::unpickle(&backup).unwrap()));
    let out = owner_does(&mut room, |o, rng| o.remove(2, rng).unwrap());
    assert!(out.to_relay.is_empty(), "nothing leaves before the connection is authenticated");
    events(&mut room, owner);
    room.sim.connect(owner);
    room.sim.run();
    // Exactly one commit per epoch in the log: the rotation at epoch + 1, the rebuilt removal
    // at epoch + 2.
    let commits = logged_commits(&room);
    let at = |e: u32| {
        commits
            .iter()
            .filter(|c| matches!(Frame::decode(c), Ok(Frame::Commit(f)) if f.body.epoch == e))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(at(epoch + 1), vec![rotation]);
    let removal = at(epoch + 2);
    assert_eq!(removal.len(), 1);
    assert!(
        matches!(Frame::decode(&removal[0]), Ok(Frame::Commit(f)) if f.body.change == Change::Remove { member: 2 })
    );
    assert!(landed(&events(&mut room, owner), Operation::Remove { member: 2 }));
    assert_eq!(room.owner().epoch(), epoch + 2);
    assert_eq!(room.member(carol).unwrap().phase().gone(), Some(GoneReason::Removed));
    room.send(bob, "after").unwrap();
    assert!(room.texts(carol).iter().all(|t| t != "after"));
}

#[test]
fn a_welcome_lost_before_its_add_is_resent_and_the_add_waits_for_it() {
    let mut room = lenient(34);
    let owner = room.owner;
    let invite = room.invite().unwrap();
    let (m, out) = zfc_core::Member::join(&invite, "dora", NOW, &mut room.sim.rng).unwrap();
    let dora = room.sim.add("dora", Party::Member(Box::new(m)), out);
    room.sim.connect(dora);
    // Move traffic until the owner's Welcome is ready to leave.
    let kinds = |room: &Room| -> Vec<&'static str> {
        room.sim.slots[owner]
            .outbox
            .iter()
            .filter_map(|r| match ClientRequest::decode(r) {
                Ok(ClientRequest::Submit { frame, .. }) => match Frame::decode(&frame) {
                    Ok(Frame::Welcome(_)) => Some("welcome"),
                    Ok(Frame::Commit(_)) => Some("commit"),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    };
    for _ in 0..100 {
        if kinds(&room).contains(&"welcome") {
            break;
        }
        room.sim.step(dora);
        room.sim.step(owner);
    }
    assert_eq!(kinds(&room), vec!["welcome"], "the Add's commit waits for the Welcome's answer");
    room.sim.lose_outbox(owner);
    room.sim.run();
    assert!(!room.member(dora).unwrap().is_joined());
    room.sim.connect(owner);
    room.sim.run();
    assert!(room.member(dora).unwrap().is_joined(), "the Welcome was resent, then the commit");
    assert!(landed(
        &events(&mut room, owner),
        Operation::Add { joiner: room.member(dora).unwrap().sign_public().unwrap() }
    ));
}

#[test]
fn a_lost_revocation_is_resent_and_the_relay_refuses_the_join() {
    let config = RoomConfig::builder().auto_approve(false).build().unwrap();
    let mut room = new_room(35, config);
    let owner = room.owner;
    let invite = room.invite().unwrap();
    let _ = owner_does(&mut room, |o, _| o.revoke_invite(invite.invite_pk()).unwrap());
    room.sim.lose_outbox(owner);
    room.sim.connect(owner);
    room.sim.run();
    assert!(landed(&events(&mut room, owner), Operation::RevokeInvite { invite_pk: invite.invite_pk() }));
    // The relay itself now turns the invite away.
    let dora = room.start_join("dora", &invite).unwrap();
    assert!(room.relay_rejections(dora).contains(&Reject::InviteRevoked.code()), "{:?}", room.relay_rejections(dora));
    assert!(room.rejections(owner).is_empty(), "no join request reached the owner");
}

#[test]
fn a_lost_leave_is_resent_and_the_leaver_keeps_its_keys_until_it_lands() {
    let (mut room, bob, _) = room_of_three(36);
    room.by_member(bob, |m, _| m.leave()).unwrap();
    events(&mut room, bob);
    // Same again, with the Leave lost this time: a second room.
    let (mut room2, bob2, _) = room_of_three(37);
    let Party::Member(m) = &mut room2.sim.slots[bob2].party else { unreachable!() };
    let out = m.leave().unwrap();
    room2.sim.apply(bob2, out);
    room2.sim.lose_outbox(bob2);
    let m = room2.member(bob2).unwrap();
    assert!(m.is_leaving() && m.phase().gone().is_none(), "keys kept while the Leave has not landed");
    assert!(m.send(b"x", &mut rand_chacha::ChaCha20Rng::from_seed([1; 32])).is_err(), "a leaver sends nothing");
    room2.sim.connect(bob2);
    room2.sim.run();
    assert_eq!(room2.member(bob2).unwrap().phase().gone(), Some(GoneReason::Left));
    assert!(landed(&events(&mut room2, bob2), Operation::Leave));
    assert!(!room2.owner().roster().contains(1), "the owner removed the leaver");
    // And the first room, where it landed at once, ended the same way.
    assert_eq!(room.member(bob).unwrap().phase().gone(), Some(GoneReason::Left));
    assert!(!room.owner().roster().contains(1));
}

#[test]
fn a_leave_whose_answer_was_lost_counts_as_landed_when_authentication_is_refused() {
    let (mut room, bob, _) = room_of_three(38);
    let Party::Member(m) = &mut room.sim.slots[bob].party else { unreachable!() };
    let out = m.leave().unwrap();
    room.sim.apply(bob, out);
    room.sim.lose_answers(bob);
    assert!(room.member(bob).unwrap().is_leaving());
    events(&mut room, bob);
    room.sim.connect(bob);
    room.sim.run();
    assert_eq!(room.member(bob).unwrap().phase().gone(), Some(GoneReason::Left));
    assert!(landed(&events(&mut room, bob), Operation::Leave));
}

#[test]
fn an_owner_restored_from_its_last_saved_state_resends_the_commit_and_ends_in_the_same_place() {
    let (mut room, bob, carol) = room_of_three(39);
    let owner = room.owner;
    room.sim.saving = true;
    let epoch = room.owner().epoch();
    let out = owner_does(&mut room, |o, rng| o.remove(2, rng).unwrap());
    let made = out
        .to_relay
        .iter()
        .find_map(|r| match ClientRequest::decode(&r.bytes) {
            Ok(ClientRequest::Submit { frame, .. }) => Some(frame),
            _ => None,
        })
        .unwrap();
    // The state was handed out for saving before the commit left; the owner crashes before the
    // relay has it and restarts from that state.
    room.sim.lose_outbox(owner);
    assert!(room.sim.crash(owner));
    room.sim.connect(owner);
    room.sim.run();
    assert_eq!(logged_commits(&room).last(), Some(&made), "the same commit, byte for byte");
    assert_eq!(room.owner().epoch(), epoch + 1);
    assert!(!room.owner().roster().contains(2));
    assert_eq!(room.member(carol).unwrap().phase().gone(), Some(GoneReason::Removed));
    room.send(bob, "hello").unwrap();
    assert_eq!(room.texts(owner), vec!["hello"]);
}

/// A room whose owner approves by hand, and dora's join request waiting for the owner's answer:
/// (room, invite, dora, dora's key).
fn join_waiting_for_approval(seed: u64) -> (Room, zfc_core::Invite, usize, zfc_core::MemberKey) {
    let config = RoomConfig::builder().auto_approve(false).build().unwrap();
    let mut room = new_room(seed, config);
    let invite = room.invite().unwrap();
    let dora = room.start_join("dora", &invite).unwrap();
    let joiner = room.member(dora).unwrap().sign_public().unwrap();
    (room, invite, dora, joiner)
}

#[test]
fn a_duplicate_grant_ends_its_resending_and_says_whether_the_join_moved_on() {
    let (mut room, _, dora, joiner) = join_waiting_for_approval(40);
    let owner = room.owner;
    // The grant reaches the relay; its answer is lost. The resend gets NoPendingJoin: the join
    // moved on (dora confirmed), so it landed.
    let _ = owner_does(&mut room, |o, rng| o.approve_join(joiner, rng).unwrap());
    room.sim.lose_answers(owner);
    events(&mut room, owner);
    room.sim.connect(owner);
    room.sim.run();
    assert!(room.relay_rejections(owner).contains(&Reject::NoPendingJoin.code()));
    assert!(landed(&events(&mut room, owner), Operation::Grant { joiner }));
    assert!(room.member(dora).unwrap().is_joined());
    assert_eq!(room.owner().requests_in_flight(), 0);
}

#[test]
fn a_grant_refused_after_its_invite_was_revoked_fails_as_revoked() {
    let (mut room, invite, _, joiner) = join_waiting_for_approval(41);
    let owner = room.owner;
    // The grant and the revocation both reach the relay, in that order; the grant's answer is
    // lost, so the grant is resent and refused (NoPendingJoin): the invite is gone.
    let _ = owner_does(&mut room, |o, rng| o.approve_join(joiner, rng).unwrap());
    let _ = owner_does(&mut room, |o, _| o.revoke_invite(invite.invite_pk()).unwrap());
    room.sim.lose_answers(owner);
    events(&mut room, owner);
    room.sim.connect(owner);
    room.sim.run();
    let failed = events(&mut room, owner).into_iter().find_map(|e| match e {
        Event::OperationFailed { op: Operation::Grant { joiner: j }, reason } if j == joiner => Some(reason),
        _ => None,
    });
    assert_eq!(failed, Some(Failure::Refused(Reject::InviteRevoked.code())));
    assert_eq!(room.owner().requests_in_flight(), 0);
}

#[test]
fn queued_removals_run_before_any_other_queued_operation() {
    let (mut room, _, carol) = room_of_three(41);
    let owner = room.owner;
    let epoch = room.owner().epoch();
    // A commit in flight (bob's removal); then a rotation and carol's removal queue behind it,
    // in that order.
    let _ = owner_does(&mut room, |o, rng| o.remove(1, rng).unwrap());
    let _ = owner_does(&mut room, |o, rng| o.rotate(rng).unwrap());
    let out = owner_does(&mut room, |o, rng| o.remove(2, rng).unwrap());
    assert!(out.events.contains(&Event::OperationQueued { op: Operation::Remove { member: 2 } }));
    room.sim.run();
    let changes: Vec<Change> = logged_commits(&room)
        .iter()
        .filter_map(|c| match Frame::decode(c) {
            Ok(Frame::Commit(f)) if f.body.epoch > epoch => Some(f.body.change),
            _ => None,
        })
        .collect();
    let expected = vec![Change::Remove { member: 1 }, Change::Remove { member: 2 }, Change::Rotate];
    assert_eq!(changes, expected, "carol's removal went before the rotation queued earlier");
    assert_eq!(room.member(carol).unwrap().phase().gone(), Some(GoneReason::Removed));
    let _ = events(&mut room, owner);
}

#[test]
fn a_lost_join_request_goes_out_again_with_the_answer_to_the_next_challenge() {
    let mut room = lenient(42);
    let invite = room.invite().unwrap();
    let (m, out) = zfc_core::Member::join(&invite, "dora", NOW, &mut room.sim.rng).unwrap();
    let dora = room.sim.add("dora", Party::Member(Box::new(m)), out);
    // The first connection drops before the request reaches the relay.
    room.sim.connect(dora);
    room.sim.lose_outbox(dora);
    room.sim.connect(dora);
    room.sim.run();
    assert!(room.member(dora).unwrap().is_joined());
    assert!(landed(&events(&mut room, dora), Operation::JoinRequest));
}
