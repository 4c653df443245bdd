//! Plays a whole room life in process with the `zfc-client` facade (each person a `Client`, the
//! relay's rule book behind real links, every client driven by the loop an app runs) and prints
//! what each person sees.
//!
//! `zfc-demo [--seed N]`: with a seed the run is reproducible byte for byte; without one the
//! randomness comes from the operating system.

use zfc_client::content::Content;
use zfc_client::sim::{self, Network};
use zfc_client::{ClientEvent, EpochChange, Error, Randomness, RoomOperation, RoomRole, RoomSettings};
use zfc_core::HistoryPolicy;
use zfc_core::relay::RelayConfig;

const NAMES: [&str; 4] = ["alice", "bob", "carol", "dave"];

fn name(i: usize) -> &'static str {
    NAMES.get(i).copied().unwrap_or("?")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seed = seed_arg()?;
    let mut net = Network::new(RelayConfig::default(), seed.unwrap_or_else(rand_seed));
    let relay = net.address()?;
    for (i, _) in NAMES.iter().enumerate() {
        let mut config = sim::config(seed.map_or(0, |s| s as u8 ^ i as u8), false);
        if seed.is_none() {
            config.randomness = Randomness::Os;
        }
        net.add(config)?;
    }
    let (alice, bob, carol, dave) = (0, 1, 2, 3);

    step("alice creates a room on the relay");
    let settings = RoomSettings { history: HistoryPolicy::SinceLastEpoch, ..RoomSettings::default() };
    let room = net.client(alice)?.create_room(&relay, settings)?;
    net.run()?;
    show(&mut net);
    println!("  room id {}", zfc_core::internal::crypto::to_hex(&room));
    println!("  alice's fingerprint {}", net.client(alice)?.fingerprint(&room, 0)?);

    step("alice invites bob and carol; both ask to join, alice compares fingerprints and approves");
    join(&mut net, &room, bob)?;
    join(&mut net, &room, carol)?;

    step("everyone chats");
    say(&mut net, &room, bob, "hi, bob here")?;
    say(&mut net, &room, carol, "hello from carol")?;
    say(&mut net, &room, alice, "welcome both")?;

    step("alice removes bob: a fresh epoch key reaches carol only");
    net.client(alice)?.remove_member(&room, 1)?;
    net.run()?;
    show(&mut net);
    say(&mut net, &room, carol, "bob cannot read this")?;

    step("carol's device crashes; she comes back from the state she last wrote");
    net.crash(carol)?;
    say(&mut net, &room, carol, "back after a crash")?;

    step("alice rotates the room key on demand");
    net.client(alice)?.rotate(&room)?;
    net.run()?;
    say(&mut net, &room, alice, "first words of the new epoch")?;

    step("dave joins and fetches history: under 0FC's policy he reads from the last epoch on");
    join(&mut net, &room, dave)?;
    net.client(dave)?.fetch_history(&room, 100)?;
    net.run()?;
    show(&mut net);

    step("where everyone stands");
    for (i, name) in NAMES.iter().enumerate() {
        let info = net.client(i)?.room_info(&room)?;
        let role = match info.role {
            RoomRole::Owner => "owner".to_owned(),
            RoomRole::Member => format!("member {}", info.member.unwrap_or_default()),
            RoomRole::Joining => "joining".to_owned(),
            RoomRole::Gone => "gone (keys erased)".to_owned(),
        };
        let epoch = info.epoch.map_or_else(|| "-".to_owned(), |e| e.to_string());
        println!("  {name:<6} {role:<20} epoch {epoch:<3} members {:?}", info.members);
    }
    Ok(())
}

/// Invites `who`; the owner approves the request it sees.
fn join(net: &mut Network, room: &[u8], who: usize) -> Result<(), Error> {
    let invite = net.client(0)?.invite(room, 3600)?;
    net.run()?;
    println!("  invite for {}: {}…", name(who), invite.chars().take(60).collect::<String>());
    net.client(who)?.join_room(&invite, name(who))?;
    net.run()?;
    let asked: Vec<Vec<u8>> = net
        .peers
        .first()
        .map(|p| p.events.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|e| match e {
            ClientEvent::JoinRequested { joiner, .. } => Some(joiner.clone()),
            _ => None,
        })
        .collect();
    show(net);
    for joiner in asked {
        net.client(0)?.approve_join(room, &joiner)?;
    }
    net.run()?;
    show(net);
    Ok(())
}

fn say(net: &mut Network, room: &[u8], who: usize, text: &str) -> Result<(), Error> {
    net.client(who)?.send_text(room, text)?;
    net.run()?;
    show(net);
    Ok(())
}

fn step(title: &str) {
    println!("\n== {title}");
}

/// Prints and forgets what each person saw.
fn show(net: &mut Network) {
    for (i, name) in NAMES.iter().enumerate() {
        for e in net.take(i) {
            if let Some(line) = describe(&e) {
                println!("  {name:<6} {line}");
            }
        }
    }
}

fn describe(e: &ClientEvent) -> Option<String> {
    Some(match e {
        ClientEvent::JoinRequested { name, fingerprint, .. } => {
            format!("join request from {name:?} (fingerprint {fingerprint})")
        }
        ClientEvent::Granted { .. } => "key grant opened, confirmation sent".into(),
        ClientEvent::Joined { member, epoch, .. } => format!("joined as member {member} in epoch {epoch}"),
        ClientEvent::Message { message: m, .. } => format!(
            "{}message from member {} (epoch {}, #{}): {}",
            if m.from_history { "[history] " } else { "" },
            m.sender,
            m.epoch,
            m.position,
            match &m.content {
                Content::Text { body } => body.escape_debug().to_string(),
                other => format!("{other:?}"),
            }
        ),
        ClientEvent::EpochChanged { epoch, change, .. } => format!(
            "now in epoch {epoch} ({})",
            match change {
                EpochChange::Rotation => "rotation".to_string(),
                EpochChange::MemberAdded { member } => format!("member {member} added"),
                EpochChange::MemberRemoved { member } => format!("member {member} removed"),
            }
        ),
        ClientEvent::MemberLeft { member, .. } => format!("member {member} left"),
        ClientEvent::KeyUpdated { member, .. } => format!("member {member} refreshed its key-delivery key"),
        ClientEvent::RemovedFromRoom { .. } => "removed from the room: every key erased".into(),
        ClientEvent::RoomDeleted { .. } => "room deleted".into(),
        ClientEvent::FrameRejected { position, detail, .. } => format!("dropped the entry at {position}: {detail}"),
        ClientEvent::MessageRefused { code, .. } => format!("the relay refused a message (code {code})"),
        ClientEvent::OperationLanded { op, .. } => match op {
            RoomOperation::CreateRoom => "the relay holds the new room".into(),
            RoomOperation::Remove { member } => format!("removal of member {member} landed"),
            RoomOperation::Rotate => "rotation landed".into(),
            _ => return None,
        },
        ClientEvent::OperationFailed { op, code, .. } => format!("{op:?} can never land (code {code})"),
        _ => return None,
    })
}

/// A seed for the relay from the operating system (clients draw their own).
fn rand_seed() -> u64 {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    u64::from_le_bytes(b)
}

fn seed_arg() -> Result<Option<u64>, Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => Ok(None),
        [flag, n] if flag == "--seed" => Ok(Some(n.parse()?)),
        _ => Err("usage: zfc-demo [--seed N]".into()),
    }
}
