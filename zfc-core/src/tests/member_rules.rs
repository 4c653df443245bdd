//! Member settings and states (member.rs) that mutation testing showed no other test pinned down.

use super::*;
use crate::error::Error;
use crate::event::Event;
use crate::message::Padding;

fn submitted_frame(out: &crate::event::Output) -> Vec<u8> {
    out.to_relay
        .iter()
        .find_map(|r| match ClientRequest::decode(r) {
            Ok(ClientRequest::Submit { frame, .. }) => Some(frame),
            _ => None,
        })
        .expect("a submission")
}

#[test]
fn retained_epochs_are_bounded_and_take_effect() {
    let (mut r, bob, _) = room_of_three(111);
    let m = r.member(bob).unwrap();
    assert!(matches!(m.set_retained_epochs(0), Err(Error::InvalidArgument(_))));
    assert!(matches!(m.set_retained_epochs(1025), Err(Error::InvalidArgument(_))));
    m.set_retained_epochs(1024).unwrap();
    m.set_retained_epochs(1).unwrap();
    assert_eq!(view(&mut r, bob).chain.retained, 1);
}

#[test]
fn key_refresh_follows_the_members_setting() {
    let (mut r, bob, carol) = room_of_three(112);
    r.member(bob).unwrap().set_key_refresh_every(2);
    r.member(carol).unwrap().set_key_refresh_every(0);
    for _ in 0..4 {
        r.by_owner(|o, rng| o.rotate(rng)).unwrap();
    }
    let updated: Vec<u32> = r
        .sim
        .take_events(OWNER)
        .into_iter()
        .filter_map(|e| if let Event::KeyUpdated(m) = e { Some(m) } else { None })
        .collect();
    assert!(updated.contains(&1), "bob (every 2 epochs) never refreshed: {updated:?}");
    assert!(!updated.contains(&2), "carol (never) refreshed: {updated:?}");
}

#[test]
fn padding_set_on_a_member_shapes_its_messages() {
    let (mut r, bob, _) = room_of_three(113);
    let rng = &mut ChaCha20Rng::seed_from_u64(1);
    let padded = submitted_frame(&r.member(bob).unwrap().send(b"hi", rng).unwrap());
    r.member(bob).unwrap().set_padding(Padding::none());
    let bare = submitted_frame(&r.member(bob).unwrap().send(b"hi", rng).unwrap());
    assert!(bare.len() < padded.len(), "padding none: {} bytes, default: {}", bare.len(), padded.len());
}

#[test]
fn log_start_is_where_the_relay_lets_the_member_read() {
    let mut r = room(114, HistoryPolicy::SinceJoin);
    r.send(OWNER, "before").unwrap();
    let room = room_id(&mut r);
    let dave = r.join("dave").unwrap();
    let add_commit = r.sim.relay.next_seq(&room).unwrap() - 1;
    assert_eq!(r.member(dave).unwrap().log_start(), Some(add_commit));
}

#[test]
fn a_deleted_room_is_not_a_removal() {
    let (mut r, bob, _) = room_of_three(115);
    r.by_owner(|o, _| o.delete_room()).unwrap();
    let rng = &mut ChaCha20Rng::seed_from_u64(2);
    assert!(matches!(r.member(bob).unwrap().send(b"x", rng), Err(Error::RoomDeleted)));
}
