//! Helpers shared by the integration tests: a simulated network with an owner and members.
#![allow(dead_code)]

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zfc_core::relay::RelayConfig;
use zfc_core::sim::{Party, PartyId, Sim};
use zfc_core::{Event, HistoryPolicy, Member, Owner, RoomConfig};

pub const NOW: u64 = 1_800_000_000;
pub const RELAY_PK: [u8; 32] = [7; 32];

pub struct Room {
    pub sim: Sim<ChaCha20Rng>,
    pub owner: PartyId,
}

impl Room {
    pub fn new(seed: u64, config: RoomConfig) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let (owner, out) = Owner::create(config, &mut rng);
        let mut sim = Sim::new(RelayConfig::default(), rng, NOW);
        let id = sim.add("owner", Party::Owner(Box::new(owner)), out);
        sim.connect(id);
        sim.run();
        Room { sim, owner: id }
    }

    pub fn lenient(seed: u64) -> Self {
        Self::new(seed, RoomConfig::builder().auto_approve(true).build().unwrap())
    }

    pub fn strict(seed: u64) -> Self {
        Self::new(
            seed,
            RoomConfig::builder().auto_approve(true).history_policy(HistoryPolicy::SinceJoin).build().unwrap(),
        )
    }

    pub fn owner(&mut self) -> &mut Owner {
        let id = self.owner;
        self.sim.owner(id).unwrap()
    }

    pub fn member(&mut self, id: PartyId) -> &mut Member {
        self.sim.member(id).unwrap()
    }

    pub fn invite(&mut self) -> zfc_core::Invite {
        let now = self.sim.now;
        let owner = self.owner;
        let Room { sim, .. } = self;
        let rng = &mut sim.rng;
        let (inv, out) = match &mut sim.slots[owner].party {
            Party::Owner(o) => o.invite(now, 3600, "ws://127.0.0.1:5103", RELAY_PK, rng).unwrap(),
            _ => unreachable!(),
        };
        sim.apply(owner, out);
        sim.run();
        inv
    }

    /// Starts a join (online), returning the party; the owner must approve unless auto_approve.
    pub fn start_join(&mut self, name: &str, invite: &zfc_core::Invite) -> PartyId {
        let now = self.sim.now;
        let (m, out) = Member::join(invite, name, now, &mut self.sim.rng).unwrap();
        let id = self.sim.add(name, Party::Member(Box::new(m)), out);
        self.sim.connect(id);
        self.sim.run();
        id
    }

    /// Invites and joins a member end to end.
    pub fn join(&mut self, name: &str) -> PartyId {
        let inv = self.invite();
        let id = self.start_join(name, &inv);
        assert!(self.member(id).is_joined(), "{name} did not join: {:?}", self.sim.slots[id].events);
        id
    }

    pub fn send(&mut self, id: PartyId, text: &str) {
        let Room { sim, .. } = self;
        let rng = &mut sim.rng;
        let out = match &mut sim.slots[id].party {
            Party::Owner(o) => o.send(text.as_bytes(), rng).unwrap(),
            Party::Member(m) => m.send(text.as_bytes(), rng).unwrap(),
        };
        sim.apply(id, out);
        sim.run();
    }

    pub fn with_owner<T>(&mut self, f: impl FnOnce(&mut Owner, &mut ChaCha20Rng) -> T) -> T {
        let owner = self.owner;
        let Room { sim, .. } = self;
        match &mut sim.slots[owner].party {
            Party::Owner(o) => f(o, &mut sim.rng),
            _ => unreachable!(),
        }
    }

    pub fn with_member<T>(&mut self, id: PartyId, f: impl FnOnce(&mut Member, &mut ChaCha20Rng) -> T) -> T {
        let Room { sim, .. } = self;
        match &mut sim.slots[id].party {
            Party::Member(m) => f(m, &mut sim.rng),
            _ => unreachable!(),
        }
    }

    /// Texts of the messages a party received (drains its events).
    pub fn texts(&mut self, id: PartyId) -> Vec<String> {
        self.sim
            .take_events(id)
            .into_iter()
            .filter_map(|e| match e {
                Event::Message(m) => Some(String::from_utf8(m.content).unwrap()),
                _ => None,
            })
            .collect()
    }

    pub fn rejections(&self, id: PartyId) -> Vec<zfc_core::Error> {
        self.sim.slots[id]
            .events
            .iter()
            .filter_map(|e| match e {
                Event::FrameRejected { error, .. } => Some(error.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn relay_rejections(&self, id: PartyId) -> Vec<u16> {
        self.sim.slots[id]
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Rejected { code, .. } => Some(*code),
                _ => None,
            })
            .collect()
    }
}
