//! One relay connection as the client keeps it: the link (dialling, handshake, transport), its
//! backoff, the answers it routes back to rooms, its admission, its keep-alive and its queue of
//! records waiting for the state to be saved.
//!
//! Invariants: a connection's id changes with every dial, so that bytes and closes reported for
//! an earlier socket change nothing; records leave in the order they were queued, and none
//! leaves before the save generation it needs was confirmed; everything tied to one socket
//! (routes, challenge, admission, keep-alive, queue) is dropped with it.

use std::collections::{BTreeMap, VecDeque};

use zeroize::Zeroizing;
use zfc_core::RequestKind;
use zfc_core::link::{ClientHandshake, Transport};

use crate::RelayAddress;

/// A room's id.
pub(super) type RoomId = [u8; 16];

/// Request ids from here up are the client's own (Admit, keep-alive); zfc-core's parties use
/// ids below 2^31.
pub(super) const OWN_IDS: u32 = 0xffff_0000;

/// Which connection a room uses: one per relay, or one per room when asked.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct ConnKey {
    pub(super) relay: RelayAddress,
    pub(super) room: Option<RoomId>,
}

/// Where the link of a connection stands.
pub(super) enum Link {
    /// No socket; dial at `retry_at` (ms) if a room needs it.
    Idle { retry_at: u64 },
    /// The app was asked to open a socket at `since`.
    Dialing { since: u64 },
    /// Handshake 1 went out; waiting for the relay's answer.
    Handshaking { hs: Box<ClientHandshake>, since: u64 },
    /// The link is established (at `since`); the relay's challenge comes next.
    Up { transport: Box<Transport>, since: u64 },
}

/// A record waiting to leave: the plaintext request and the save generation it needs.
pub(super) struct Queued {
    pub(super) bytes: Zeroizing<Vec<u8>>,
    pub(super) needs_generation: u64,
}

/// What a request id on this connection answers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Route {
    pub(super) room: RoomId,
    pub(super) kind: RequestKind,
}

/// The client's own request in flight on a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Own {
    Admit,
    KeepAlive,
}

pub(super) struct Connection {
    pub(super) key: ConnKey,
    /// The current socket's id (0 while idle).
    pub(super) id: u64,
    pub(super) link: Link,
    pub(super) backoff_ms: u64,
    /// The rooms this connection carries.
    pub(super) rooms: Vec<RoomId>,
    /// The relay's challenge message on this socket (fed to rooms attached later).
    pub(super) challenge: Option<Vec<u8>>,
    /// Answers expected, by request id; several rooms may share an id, answered in order.
    pub(super) routes: BTreeMap<u32, VecDeque<Route>>,
    pub(super) own: BTreeMap<u32, Own>,
    next_own: u32,
    /// The relay accepted our admission token on this socket.
    pub(super) admitted: bool,
    /// The relay refused our admission token on this socket (said once).
    pub(super) admit_refused: bool,
    /// Rooms whose challenge waits for the answer to our Admit.
    pub(super) waiting_admit: Vec<RoomId>,
    /// When the next keep-alive is due (ms), on an established link.
    pub(super) keepalive_at: Option<u64>,
    pub(super) queue: VecDeque<Queued>,
    /// The client's own requests (Admit, keep-alive): they leave before the queue, never
    /// waiting for a save.
    pub(super) own_queue: VecDeque<Zeroizing<Vec<u8>>>,
}

impl Connection {
    pub(super) fn new(key: ConnKey, backoff_ms: u64) -> Self {
        Self {
            key,
            id: 0,
            link: Link::Idle { retry_at: 0 },
            backoff_ms,
            rooms: Vec::new(),
            challenge: None,
            routes: BTreeMap::new(),
            own: BTreeMap::new(),
            next_own: OWN_IDS,
            admitted: false,
            admit_refused: false,
            waiting_admit: Vec::new(),
            keepalive_at: None,
            queue: VecDeque::new(),
            own_queue: VecDeque::new(),
        }
    }

    pub(super) fn is_up(&self) -> bool {
        matches!(self.link, Link::Up { .. })
    }

    /// A fresh id for a request of the client's own.
    pub(super) fn own_request(&mut self, what: Own) -> u32 {
        let id = self.next_own;
        self.next_own = self.next_own.checked_add(1).unwrap_or(OWN_IDS);
        self.own.insert(id, what);
        id
    }

    /// The room an answer with `req_id` belongs to (the oldest request with that id).
    pub(super) fn take_route(&mut self, req_id: u32) -> Option<Route> {
        let routes = self.routes.get_mut(&req_id)?;
        let route = routes.pop_front();
        if routes.is_empty() {
            self.routes.remove(&req_id);
        }
        route
    }

    pub(super) fn add_route(&mut self, req_id: u32, route: Route) {
        self.routes.entry(req_id).or_default().push_back(route);
    }

    /// Forgets the socket: everything tied to it goes; the next dial is due after the backoff,
    /// which doubles up to `max_ms`. Returns the wait.
    pub(super) fn drop_socket(&mut self, now: u64, max_ms: u64) -> u64 {
        let wait = self.backoff_ms;
        self.backoff_ms = self.backoff_ms.saturating_mul(2).min(max_ms);
        self.id = 0;
        self.link = Link::Idle { retry_at: now.saturating_add(wait) };
        self.challenge = None;
        self.routes.clear();
        self.own.clear();
        self.admitted = false;
        self.admit_refused = false;
        self.waiting_admit.clear();
        self.keepalive_at = None;
        self.queue.clear();
        self.own_queue.clear();
        wait
    }
}
