//! An in-process network for `Client`s: the relay's rule book behind real links, driven only
//! through the client's public loop (poll_save / state_saved, poll_transmit, handle_*), so the
//! tests see what an app sees.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zfc_client::{Client, ClientConfig, ClientEvent, Clock, Randomness, RelayAddress, Transmit};
use zfc_core::link::{self, RelayKey, Transport};
use zfc_core::pickle::Argon2Params;
use zfc_core::proto::ClientRequest;
use zfc_core::relay::{ConnId, RelayConfig, RuleBook};

pub const URL: &str = "ws://relay.test:5103";

/// A client in the test: the object, what it said, and its last written state.
pub struct Peer {
    pub client: Client,
    pub events: Vec<ClientEvent>,
    pub saved: Option<Vec<u8>>,
    pub config: ClientConfig,
    /// When false, saves are taken but not confirmed (records that need them stay held).
    pub confirm_saves: bool,
    /// Saves handed out so far.
    pub saves: usize,
    /// Crash right after handing out this save (counted from 1), before confirming it.
    pub crash_at_save: Option<usize>,
}

/// The relay's side of one socket.
struct Sock {
    peer: usize,
    conn: u64,
    transport: Option<Transport>,
}

pub struct Net {
    pub relay: RuleBook,
    pub key: RelayKey,
    rng: ChaCha20Rng,
    socks: BTreeMap<ConnId, Sock>,
    next_sock: ConnId,
    pub now_ms: u64,
    pub peers: Vec<Peer>,
    /// Every request the relay received, decoded (for uniqueness checks).
    pub submitted: Vec<ClientRequest>,
}

pub fn weak() -> Argon2Params {
    Argon2Params::MIN
}

pub fn config(seed: u8, per_room: bool) -> ClientConfig {
    ClientConfig {
        connection_per_room: per_room,
        kdf: weak(),
        insecure_weak_kdf_for_tests: true,
        randomness: Randomness::SeededForTests { seed: vec![seed; 32] },
        clock: Clock::Manual,
        ..ClientConfig::default()
    }
}

impl Net {
    pub fn new(relay_config: RelayConfig) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(99);
        let key = RelayKey::generate(&mut rng);
        Self {
            relay: RuleBook::new(relay_config),
            key,
            rng,
            socks: BTreeMap::new(),
            next_sock: 1,
            now_ms: 1_800_000_000_000,
            peers: Vec::new(),
            submitted: Vec::new(),
        }
    }

    pub fn address(&self) -> RelayAddress {
        RelayAddress::new(URL, self.key.public().as_bytes()).unwrap()
    }

    pub fn add(&mut self, config: ClientConfig) -> usize {
        let client = Client::create(config.clone(), b"pass").unwrap();
        client.handle_timeout(self.now_ms).unwrap();
        self.peers.push(Peer {
            client,
            events: Vec::new(),
            saved: None,
            config,
            confirm_saves: true,
            saves: 0,
            crash_at_save: None,
        });
        self.peers.len() - 1
    }

    pub fn client(&self, i: usize) -> &Client {
        &self.peers[i].client
    }

    /// Drops peer `i` as a crash would (its sockets die) and starts it again from the last
    /// state it wrote.
    pub fn crash(&mut self, i: usize) {
        let socks: Vec<ConnId> = self.socks.iter().filter(|(_, s)| s.peer == i).map(|(id, _)| *id).collect();
        for id in socks {
            self.socks.remove(&id);
            self.relay.disconnect(id);
        }
        let p = &mut self.peers[i];
        p.client.close();
        let blob = p.saved.clone().expect("a state was written");
        p.client = Client::open(p.config.clone(), &blob, b"pass").unwrap();
        p.client.handle_timeout(self.now_ms).unwrap();
    }

    /// Cuts every socket of peer `i` (the network failed); the client hears of it.
    pub fn cut(&mut self, i: usize) {
        let socks: Vec<(ConnId, u64)> =
            self.socks.iter().filter(|(_, s)| s.peer == i).map(|(id, s)| (*id, s.conn)).collect();
        for (id, conn) in socks {
            self.socks.remove(&id);
            self.relay.disconnect(id);
            self.peers[i].client.handle_closed(conn, self.now_ms).unwrap();
        }
    }

    /// Moves time on and runs every client's timers.
    pub fn advance(&mut self, ms: u64) {
        self.now_ms += ms;
        for p in &self.peers {
            p.client.handle_timeout(self.now_ms).unwrap();
        }
        self.run();
    }

    fn deliver(&mut self, sock: ConnId, plain: &[u8]) {
        let Some(s) = self.socks.get_mut(&sock) else { return };
        let record = s.transport.as_mut().unwrap().seal(plain).unwrap();
        let (peer, conn) = (s.peer, s.conn);
        self.peers[peer].client.handle_bytes(conn, &record, self.now_ms).unwrap();
    }

    fn sock_of(&self, peer: usize, conn: u64) -> Option<ConnId> {
        self.socks.iter().find(|(_, s)| s.peer == peer && s.conn == conn).map(|(id, _)| *id)
    }

    /// Runs every client's loop until nobody has anything to do.
    pub fn run(&mut self) {
        for _ in 0..10_000 {
            let mut busy = false;
            for i in 0..self.peers.len() {
                busy |= self.step(i);
            }
            if !busy {
                return;
            }
        }
        panic!("the network never went quiet");
    }

    /// One round of peer `i`'s loop; whether anything happened.
    fn step(&mut self, i: usize) -> bool {
        let mut busy = false;
        while let Some(save) = self.peers[i].client.poll_save().unwrap() {
            busy = true;
            self.peers[i].saved = Some(save.bytes.clone());
            self.peers[i].saves += 1;
            if self.peers[i].crash_at_save == Some(self.peers[i].saves) {
                self.crash(i);
                continue;
            }
            if self.peers[i].confirm_saves {
                self.peers[i].client.state_saved(save.generation).unwrap();
            }
        }
        while let Some(t) = self.peers[i].client.poll_transmit().unwrap() {
            busy = true;
            match t {
                Transmit::Connect { conn, url } => {
                    assert_eq!(url, URL);
                    let id = self.next_sock;
                    self.next_sock += 1;
                    self.socks.insert(id, Sock { peer: i, conn, transport: None });
                    self.peers[i].client.handle_connected(conn, self.now_ms).unwrap();
                }
                Transmit::Send { conn, bytes } => self.relay_receives(i, conn, &bytes),
                Transmit::Close { conn, .. } => {
                    if let Some(id) = self.sock_of(i, conn) {
                        self.socks.remove(&id);
                        self.relay.disconnect(id);
                    }
                }
            }
        }
        while let Some(e) = self.peers[i].client.poll_event().unwrap() {
            busy = true;
            self.peers[i].events.push(e);
        }
        busy
    }

    fn relay_receives(&mut self, peer: usize, conn: u64, bytes: &[u8]) {
        let Some(id) = self.sock_of(peer, conn) else { return };
        let s = self.socks.get_mut(&id).unwrap();
        if s.transport.is_none() {
            let (transport, answer) = link::respond(&self.key, bytes, &mut self.rng).unwrap();
            let binding = transport.channel_binding();
            s.transport = Some(transport);
            self.peers[peer].client.handle_bytes(conn, &answer, self.now_ms).unwrap();
            for o in self.relay.connect(id, binding, &mut self.rng) {
                self.deliver(o.conn, &o.bytes);
            }
            return;
        }
        let plain = s.transport.as_mut().unwrap().open(bytes).unwrap();
        if let Ok(req) = ClientRequest::decode(&plain) {
            self.submitted.push(req);
        }
        match self.relay.handle(id, &plain, self.now_ms / 1000) {
            Ok(out) => {
                for o in out {
                    self.deliver(o.conn, &o.bytes);
                }
            }
            Err(_) => {
                self.socks.remove(&id);
                self.relay.disconnect(id);
                self.peers[peer].client.handle_closed(conn, self.now_ms).unwrap();
            }
        }
    }

    /// The texts peer `i` has read in `room`, in order, without repeats of one position.
    pub fn texts(&self, i: usize, room: &[u8]) -> Vec<String> {
        let mut seen = std::collections::BTreeSet::new();
        self.peers[i]
            .events
            .iter()
            .filter_map(|e| match e {
                ClientEvent::Message { room: r, message } if r == room && seen.insert(message.position) => {
                    match &message.content {
                        zfc_client::content::Content::Text { body } => Some(body.clone()),
                        _ => None,
                    }
                }
                _ => None,
            })
            .collect()
    }

    /// Takes peer `i`'s events.
    pub fn take(&mut self, i: usize) -> Vec<ClientEvent> {
        std::mem::take(&mut self.peers[i].events)
    }

    /// How many sockets peer `i` has open at the relay.
    pub fn sockets(&self, i: usize) -> usize {
        self.socks.values().filter(|s| s.peer == i).count()
    }
}
