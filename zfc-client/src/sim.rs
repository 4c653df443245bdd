//! An in-process network for [`Client`]s (feature `sim`): the relay's rule book behind real
//! links, each client driven only through its public loop (`poll_save` / `state_saved`,
//! `poll_transmit`, `handle_*`, `poll_event`), so that what runs here is what an app runs. For
//! tests, demos and benchmarks; an app has sockets instead.
//!
//! Invariant: a peer's saves are kept as an app would write them (the last one handed out), so
//! [`Network::crash`] restarts a peer from exactly what a crash would leave on its disk.

use std::collections::{BTreeMap, BTreeSet};

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zfc_core::link::{self, RelayKey, Transport};
use zfc_core::pickle::Argon2Params;
use zfc_core::proto::ClientRequest;
use zfc_core::relay::{ConnId, RelayConfig, RuleBook};

use crate::content::Content;
use crate::{Client, ClientConfig, ClientEvent, Clock, Error, Randomness, RelayAddress, Transmit};

/// The relay's address on the simulated network.
pub const URL: &str = "ws://relay.test:5103";

/// A client on the network: the object, what it said, and its last written state.
pub struct Peer {
    /// The client.
    pub client: Client,
    /// Every event it reported, in order (take them with [`Network::take`]).
    pub events: Vec<ClientEvent>,
    /// The last state it handed out (what its disk holds).
    pub saved: Option<Vec<u8>>,
    /// Its configuration (kept to open it again after a crash).
    pub config: ClientConfig,
    /// When false, saves are taken but not confirmed (records that need them stay held).
    pub confirm_saves: bool,
    /// Saves handed out so far.
    pub saves: usize,
    /// Crash right after handing out this save (counted from 1), before confirming it.
    pub crash_at_save: Option<usize>,
    /// With [`Self::crash_at_save`]: the crash comes before that save was written, so the peer
    /// restarts from the one before it (else from it: written, not confirmed).
    pub crash_before_write: bool,
    /// Crashes so far (each restart draws other randomness, as a real restart would).
    pub crashes: u8,
    /// The generation of the last save handed out.
    pub last_generation: Option<u64>,
    /// When true, what the relay sends this peer is lost on the way (a network that fails
    /// after the relay took a request, before its answer arrived).
    pub deaf: bool,
}

/// The network's record of one socket: whose it is and the client's id for it.
struct Sock {
    peer: usize,
    conn: u64,
}

/// The relay of an in-process network: the rule book behind real links (the Noise responder
/// on each socket). Whoever runs the clients' loops carries the bytes: [`Network`] here, the
/// Python package's tests through `zfc._testing`.
pub struct Relay {
    /// The rule book.
    pub rules: RuleBook,
    key: RelayKey,
    rng: ChaCha20Rng,
    links: BTreeMap<ConnId, Option<Transport>>,
    next_sock: ConnId,
}

/// What the relay did with bytes a client wrote.
#[derive(Debug, Default)]
pub struct Received {
    /// Link records it writes, in order, each on its socket (the one written on or another
    /// subscriber's).
    pub records: Vec<(ConnId, Vec<u8>)>,
    /// The request the bytes carried, decoded (none for the handshake).
    pub request: Option<ClientRequest>,
    /// The relay closed the socket: a request it cannot take.
    pub closed: bool,
}

fn link_error(e: link::LinkError) -> Error {
    Error::Core(zfc_core::Error::Link(e))
}

impl Relay {
    /// A relay with `config`; `seed` makes its key and choices.
    pub fn new(config: RelayConfig, seed: u64) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let key = RelayKey::generate(&mut rng);
        Self { rules: RuleBook::new(config), key, rng, links: BTreeMap::new(), next_sock: 1 }
    }

    /// Its link key, which clients pin.
    pub fn public_key(&self) -> [u8; 32] {
        *self.key.public().as_bytes()
    }

    /// A client's socket reached the relay; its id.
    pub fn open(&mut self) -> ConnId {
        let id = self.next_sock;
        self.next_sock += 1;
        self.links.insert(id, None);
        id
    }

    /// Socket `sock` is gone (either side closed it).
    pub fn close(&mut self, sock: ConnId) {
        if self.links.remove(&sock).is_some() {
            self.rules.disconnect(sock);
        }
    }

    /// Whether socket `sock` is open.
    pub fn is_open(&self, sock: ConnId) -> bool {
        self.links.contains_key(&sock)
    }

    /// Bytes a client wrote on `sock` at `now_ms`: the link handshake, then sealed requests.
    ///
    /// # Errors
    /// A handshake or record that fails the link (the client misbehaved: a test failure).
    pub fn receive(&mut self, sock: ConnId, bytes: &[u8], now_ms: u64) -> Result<Received, Error> {
        let mut got = Received::default();
        let Some(link) = self.links.get_mut(&sock) else { return Ok(got) };
        let Some(transport) = link.as_mut() else {
            let (transport, answer) = link::respond(&self.key, bytes, &mut self.rng).map_err(link_error)?;
            let binding = transport.channel_binding();
            *link = Some(transport);
            got.records.push((sock, answer));
            for o in self.rules.connect(sock, binding, &mut self.rng) {
                self.push(&mut got, o.conn, &o.bytes)?;
            }
            return Ok(got);
        };
        let plain = transport.open(bytes).map_err(link_error)?;
        got.request = ClientRequest::decode(&plain).ok();
        match self.rules.handle(sock, &plain, now_ms / 1000) {
            Ok(out) => {
                for o in out {
                    self.push(&mut got, o.conn, &o.bytes)?;
                }
            }
            Err(_) => {
                self.close(sock);
                got.closed = true;
            }
        }
        Ok(got)
    }

    /// `plain` sealed on socket `sock`'s link, as the relay would send it (none before the
    /// handshake or on a closed socket).
    ///
    /// # Errors
    /// A link out of nonces.
    pub fn seal(&mut self, sock: ConnId, plain: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        match self.links.get_mut(&sock) {
            Some(Some(t)) => t.seal(plain).map(Some).map_err(link_error),
            _ => Ok(None),
        }
    }

    fn push(&mut self, got: &mut Received, sock: ConnId, plain: &[u8]) -> Result<(), Error> {
        if let Some(record) = self.seal(sock, plain)? {
            got.records.push((sock, record));
        }
        Ok(())
    }
}

/// Clients and one relay, in one process, on a manual clock.
pub struct Network {
    /// The relay.
    pub relay: Relay,
    socks: BTreeMap<ConnId, Sock>,
    /// The network's clock, Unix ms.
    pub now_ms: u64,
    /// The clients, by index.
    pub peers: Vec<Peer>,
    /// Every request the relay received, decoded (for checks on what left the clients).
    pub submitted: Vec<ClientRequest>,
    /// Which peer sent each of [`Self::submitted`].
    pub submitted_by: Vec<usize>,
    passphrase: Vec<u8>,
}

/// A configuration for a simulated client: seeded randomness, the manual clock, and the cheapest
/// KDF (below the production floor: for tests and demos only).
pub fn config(seed: u8, connection_per_room: bool) -> ClientConfig {
    ClientConfig {
        connection_per_room,
        kdf: Argon2Params::MIN,
        insecure_weak_kdf_for_tests: true,
        randomness: Randomness::SeededForTests { seed: vec![seed; 32] },
        clock: Clock::Manual,
        ..ClientConfig::default()
    }
}

fn internal(what: &'static str) -> Error {
    Error::Core(zfc_core::Error::Unexpected(what))
}

impl Network {
    /// A relay with `relay_config` and no clients; `seed` makes the relay's key and choices.
    pub fn new(relay_config: RelayConfig, seed: u64) -> Self {
        Self {
            relay: Relay::new(relay_config, seed),
            socks: BTreeMap::new(),
            now_ms: 1_800_000_000_000,
            peers: Vec::new(),
            submitted: Vec::new(),
            submitted_by: Vec::new(),
            passphrase: b"simulated passphrase".to_vec(),
        }
    }

    /// The relay's address and pinned key, as an invite or an operator gives them.
    ///
    /// # Errors
    /// None in practice (the address is valid); the type is [`RelayAddress::new`]'s.
    pub fn address(&self) -> Result<RelayAddress, Error> {
        RelayAddress::new(URL, &self.relay.public_key())
    }

    /// Adds a client with `config`; returns its index.
    ///
    /// # Errors
    /// [`Client::create`]'s.
    pub fn add(&mut self, config: ClientConfig) -> Result<usize, Error> {
        let client = Client::create(config.clone(), &self.passphrase)?;
        client.handle_timeout(self.now_ms)?;
        self.peers.push(Peer {
            client,
            events: Vec::new(),
            saved: None,
            config,
            confirm_saves: true,
            saves: 0,
            crash_at_save: None,
            crash_before_write: false,
            crashes: 0,
            last_generation: None,
            deaf: false,
        });
        Ok(self.peers.len() - 1)
    }

    /// Peer `i`'s client.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for an index that is no peer.
    pub fn client(&self, i: usize) -> Result<&Client, Error> {
        self.peers.get(i).map(|p| &p.client).ok_or_else(|| internal("no such peer"))
    }

    fn peer(&mut self, i: usize) -> Result<&mut Peer, Error> {
        self.peers.get_mut(i).ok_or_else(|| internal("no such peer"))
    }

    /// Drops peer `i` as a crash would (its sockets die, its memory is gone) and starts it again
    /// from the last state it handed out.
    ///
    /// # Errors
    /// When it never handed out a state, or [`Client::open`] refuses it.
    pub fn crash(&mut self, i: usize) -> Result<(), Error> {
        self.drop_sockets(i, false)?;
        let (now, passphrase) = (self.now_ms, self.passphrase.clone());
        let p = self.peer(i)?;
        p.client.close();
        let blob = p.saved.clone().ok_or_else(|| internal("the peer never wrote a state"))?;
        // A restarted app does not replay its random stream: a frame made again after the
        // crash must differ from the first, so that a reuse shows.
        p.crashes = p.crashes.wrapping_add(1);
        let mut config = p.config.clone();
        if let Randomness::SeededForTests { seed } = &mut config.randomness
            && let Some(last) = seed.last_mut()
        {
            *last ^= p.crashes;
        }
        p.client = Client::open(config, &blob, &passphrase)?;
        p.client.handle_timeout(now)
    }

    /// Cuts every socket of peer `i` (the network failed); the client hears of it.
    ///
    /// # Errors
    /// The client's.
    pub fn cut(&mut self, i: usize) -> Result<(), Error> {
        self.drop_sockets(i, true)
    }

    fn drop_sockets(&mut self, i: usize, tell: bool) -> Result<(), Error> {
        let socks: Vec<(ConnId, u64)> =
            self.socks.iter().filter(|(_, s)| s.peer == i).map(|(id, s)| (*id, s.conn)).collect();
        for (id, conn) in socks {
            self.socks.remove(&id);
            self.relay.close(id);
            if tell {
                let now = self.now_ms;
                self.peer(i)?.client.handle_closed(conn, now)?;
            }
        }
        Ok(())
    }

    /// Moves time on by `ms`, runs every client's timers, then the network until it is quiet.
    ///
    /// # Errors
    /// As [`Self::run`].
    pub fn advance(&mut self, ms: u64) -> Result<(), Error> {
        self.now_ms += ms;
        for p in &self.peers {
            p.client.handle_timeout(self.now_ms)?;
        }
        self.run()
    }

    /// Runs every client's loop until nobody has anything to do.
    ///
    /// # Errors
    /// A client's error, or a network that never goes quiet (10 000 rounds).
    pub fn run(&mut self) -> Result<(), Error> {
        for _ in 0..10_000 {
            let mut busy = false;
            for i in 0..self.peers.len() {
                busy |= self.step(i)?;
            }
            if !busy {
                return Ok(());
            }
        }
        Err(internal("the network never went quiet"))
    }

    /// One round of peer `i`'s loop; whether anything happened.
    fn step(&mut self, i: usize) -> Result<bool, Error> {
        let mut busy = false;
        while let Some(save) = self.peer(i)?.client.poll_save()? {
            busy = true;
            let p = self.peer(i)?;
            p.saves += 1;
            let crash = p.crash_at_save == Some(p.saves);
            if !(crash && p.crash_before_write) {
                p.saved = Some(save.bytes.clone());
                p.last_generation = Some(save.generation);
            }
            if crash {
                self.crash(i)?;
                continue;
            }
            if p.confirm_saves {
                p.client.state_saved(save.generation)?;
            }
        }
        while let Some(t) = self.peer(i)?.client.poll_transmit()? {
            busy = true;
            match t {
                Transmit::Connect { conn, url } => {
                    if url != URL {
                        return Err(internal("a client dialled an address not on this network"));
                    }
                    let id = self.relay.open();
                    self.socks.insert(id, Sock { peer: i, conn });
                    let now = self.now_ms;
                    self.peer(i)?.client.handle_connected(conn, now)?;
                }
                Transmit::Send { conn, bytes } => self.relay_receives(i, conn, &bytes)?,
                Transmit::Close { conn, .. } => {
                    if let Some(id) = self.sock_of(i, conn) {
                        self.socks.remove(&id);
                        self.relay.close(id);
                    }
                }
            }
        }
        while let Some(e) = self.peer(i)?.client.poll_event()? {
            busy = true;
            self.peer(i)?.events.push(e);
        }
        Ok(busy)
    }

    fn sock_of(&self, peer: usize, conn: u64) -> Option<ConnId> {
        self.socks.iter().find(|(_, s)| s.peer == peer && s.conn == conn).map(|(id, _)| *id)
    }

    /// A link record the relay wrote on socket `sock` reaches its client (unless deaf).
    fn deliver(&mut self, sock: ConnId, record: &[u8]) -> Result<(), Error> {
        let Some(&Sock { peer, conn }) = self.socks.get(&sock) else { return Ok(()) };
        let now = self.now_ms;
        let p = self.peer(peer)?;
        if p.deaf {
            return Ok(());
        }
        p.client.handle_bytes(conn, record, now)
    }

    /// Sends `plain` to peer `i` on each of its sockets as if the relay had sent it (a relay
    /// that misbehaves, or one the test scripts).
    ///
    /// # Errors
    /// The client's.
    pub fn inject(&mut self, i: usize, plain: &[u8]) -> Result<(), Error> {
        let socks: Vec<ConnId> = self.socks.iter().filter(|(_, s)| s.peer == i).map(|(id, _)| *id).collect();
        for id in socks {
            if let Some(record) = self.relay.seal(id, plain)? {
                self.deliver(id, &record)?;
            }
        }
        self.run()
    }

    /// Bytes peer `peer` wrote on its socket `conn`: the link handshake, then requests.
    fn relay_receives(&mut self, peer: usize, conn: u64, bytes: &[u8]) -> Result<(), Error> {
        let Some(id) = self.sock_of(peer, conn) else { return Ok(()) };
        let now = self.now_ms;
        let got = self.relay.receive(id, bytes, now)?;
        if let Some(req) = got.request {
            self.submitted.push(req);
            self.submitted_by.push(peer);
        }
        for (sock, record) in got.records {
            self.deliver(sock, &record)?;
        }
        if got.closed {
            self.socks.remove(&id);
            self.peer(peer)?.client.handle_closed(conn, now)?;
        }
        Ok(())
    }

    /// The texts peer `i` has read in `room`, in order, each log position once.
    pub fn texts(&self, i: usize, room: &[u8]) -> Vec<String> {
        let mut seen = BTreeSet::new();
        self.peers
            .get(i)
            .map(|p| p.events.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|e| match e {
                ClientEvent::Message { room: r, message } if r == room && seen.insert(message.position) => {
                    match &message.content {
                        Content::Text { body } => Some(body.clone()),
                        _ => None,
                    }
                }
                _ => None,
            })
            .collect()
    }

    /// Takes peer `i`'s events.
    pub fn take(&mut self, i: usize) -> Vec<ClientEvent> {
        self.peers.get_mut(i).map(|p| std::mem::take(&mut p.events)).unwrap_or_default()
    }

    /// How many sockets peer `i` has open at the relay.
    pub fn sockets(&self, i: usize) -> usize {
        self.socks.values().filter(|s| s.peer == i).count()
    }
}
