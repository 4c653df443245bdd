//! Plays a whole room life in process (owner, members and the relay's rule book on a simulated
//! network) and prints what each party sees.
//!
//! `zfc-demo [--seed N]`: with a seed the run is reproducible byte for byte; without one the
//! randomness comes from the operating system.

use rand_chacha::ChaCha20Rng;
use rand_core::{SeedableRng, UnwrapErr};
use zfc_core::relay::RelayConfig;
use zfc_core::sim::{PartyId, Scenario};
use zfc_core::{EpochReason, Error, Event, HistoryPolicy, RoomConfig};

type Room = Scenario<ChaCha20Rng>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rng = match seed_arg()? {
        Some(seed) => ChaCha20Rng::seed_from_u64(seed),
        None => ChaCha20Rng::from_rng(&mut UnwrapErr(getrandom::SysRng)),
    };
    let now = 1_800_000_000;
    let config = RoomConfig::builder().history_policy(HistoryPolicy::SinceLastEpoch).build()?;
    let mut room = Scenario::new(config, RelayConfig::default(), rng, now);
    let names = ["alice (owner)", "bob", "carol", "dave"];

    step("alice creates a room");
    println!("  room id {}", zfc_core::internal::crypto::to_hex(&room.owner().room_id()));
    println!("  alice's fingerprint {}", room.owner().fingerprint(0)?);

    step("alice invites bob and carol; both ask to join, alice approves");
    let bob = join(&mut room, "bob")?;
    let carol = join(&mut room, "carol")?;
    show(&mut room, &names);

    step("everyone chats");
    room.send(bob, "hi, bob here")?;
    room.send(carol, "hello from carol")?;
    room.send(room.owner, "welcome both")?;
    show(&mut room, &names);

    step("alice removes bob: a fresh epoch key reaches carol only");
    room.by_owner(|o, rng| o.remove(1, rng))?;
    show(&mut room, &names);
    room.send(carol, "bob cannot read this")?;
    show(&mut room, &names);

    step("alice rotates the epoch key on demand");
    room.by_owner(|o, rng| o.rotate(rng))?;
    room.send(room.owner, "first words of the new epoch")?;
    room.send(carol, "still here")?;
    show(&mut room, &names);

    step("dave joins and fetches history: under 0FC's policy he reads from the last rotation on");
    let dave = join(&mut room, "dave")?;
    room.by_member(dave, |m, _| m.fetch_history(100))?;
    show(&mut room, &names);
    let safety = zfc_core::fingerprint::safety_number(
        &room.owner().room_id(),
        &room.owner().sign_public(),
        &room.member(dave).ok_or(Error::NotJoined)?.sign_public()?,
    );
    println!("  safety number alice/dave: {safety}");

    step("epochs");
    println!(
        "  alice {}, carol {:?}, dave {:?}, bob {:?}",
        room.owner().epoch(),
        member_epoch(&mut room, carol),
        member_epoch(&mut room, dave),
        room.member(bob).and_then(|m| m.phase().gone())
    );
    Ok(())
}

fn seed_arg() -> Result<Option<u64>, Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => Ok(None),
        [flag, n] if flag == "--seed" => Ok(Some(n.parse()?)),
        _ => Err("usage: zfc-demo [--seed N]".into()),
    }
}

fn member_epoch(room: &mut Room, id: PartyId) -> Option<u32> {
    room.member(id).and_then(|m| m.phase().epoch())
}

/// Invites `name`; the owner approves the request it sees.
fn join(room: &mut Room, name: &str) -> Result<PartyId, Error> {
    let invite = room.invite()?;
    println!("  invite for {name}: {}…", &invite.to_uri()[..60]);
    let id = room.start_join(name, &invite)?;
    let joiner = room.member(id).ok_or(Error::NotJoined)?.sign_public()?;
    let asked =
        room.sim.slots.get(room.owner).is_some_and(|s| {
            s.events.iter().any(|e| matches!(e, Event::JoinRequested { joiner: j, .. } if *j == joiner))
        });
    if asked {
        room.by_owner(|o, rng| o.approve_join(joiner, rng))?;
    }
    Ok(id)
}

fn step(title: &str) {
    println!("\n== {title}");
}

fn show(room: &mut Room, names: &[&str]) {
    for id in 0..room.sim.slots.len() {
        let name = names.get(id).copied().unwrap_or("?");
        for e in room.sim.take_events(id) {
            if let Some(line) = describe(&e) {
                println!("  {name:<14} {line}");
            }
        }
    }
}

fn describe(e: &Event) -> Option<String> {
    Some(match e {
        Event::JoinRequested { name, fingerprint, .. } => {
            format!("join request from {name:?} (fingerprint {fingerprint})")
        }
        Event::Granted => "key grant opened, confirmation sent".into(),
        Event::Joined { member, epoch } => format!("joined as member {member} in epoch {epoch}"),
        Event::Message(m) => format!(
            "{}message from member {} (epoch {}, #{}): {}",
            if m.from_history { "[history] " } else { "" },
            m.sender,
            m.epoch,
            m.relay_seq,
            String::from_utf8_lossy(&m.content)
        ),
        Event::EpochChanged { epoch, reason } => format!(
            "now in epoch {epoch} ({})",
            match reason {
                EpochReason::Rotation => "rotation".to_string(),
                EpochReason::MemberAdded(m) => format!("member {m} added"),
                EpochReason::MemberRemoved(m) => format!("member {m} removed"),
            }
        ),
        Event::MemberLeft(m) => format!("member {m} left"),
        Event::KeyUpdated(m) => format!("member {m} refreshed its key-delivery key"),
        Event::RemovedFromRoom => "removed from the room: every key erased".into(),
        Event::RoomDeleted => "room deleted".into(),
        Event::FrameRejected { position, error } => format!("dropped frame at {position}: {error}"),
        Event::Rejected { reason, .. } => format!("relay refused a request: {reason}"),
        Event::OperationLanded { op } => format!("{op:?} landed"),
        Event::OperationFailed { op, reason } => format!("{op:?} can never land: {reason:?}"),
        Event::Accepted { .. }
        | Event::HistoryDone { .. }
        | Event::OperationSent { .. }
        | Event::OperationQueued { .. } => return None,
        _ => format!("{e:?}"),
    })
}
