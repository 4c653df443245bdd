//! Drives an owner or member state machine over a [`Link`]: sends what it asks to send, feeds it
//! what the relay sends, and keeps its events for the app.
//!
//! Invariant: every request with an id is tracked until the relay answers it, so [`Session::settle`]
//! returns only when the relay has taken (or refused) everything sent so far.

use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand_chacha::ChaCha20Rng;
use rand_core::{SeedableRng, UnwrapErr};
use tokio::time::timeout;
use zfc_core::relay::{ClientRequest, RelayMessage};
use zfc_core::{Error, Event, Member, Output, Owner, RequestKind};

use super::net::{Link, NetError};

/// Request ids at and above this are the session's own (not the state machine's).
const OWN_REQ_IDS: u32 = 0xffff_0000;

/// The state machine a session drives: zfc-core's, so that its calls are dispatched in one place.
pub use zfc_core::Party;

/// Why a session stopped.
#[derive(Debug)]
pub enum SessionError {
    /// The network or the link.
    Net(NetError),
    /// The state machine refused a call or a relay message outright.
    Protocol(Error),
    /// The relay did not answer in time.
    Timeout(&'static str),
    /// The relay refused one of the session's own requests.
    Refused(u16),
    /// Saving the state before a send failed; nothing was sent.
    Save(String),
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Net(e) => write!(f, "{e}"),
            Self::Protocol(e) => write!(f, "{e}"),
            Self::Timeout(what) => write!(f, "timed out waiting for {what}"),
            Self::Refused(code) => write!(f, "the relay refused the request (code {code})"),
            Self::Save(e) => write!(f, "saving the state: {e}"),
        }
    }
}

impl std::error::Error for SessionError {}

impl From<NetError> for SessionError {
    fn from(e: NetError) -> Self {
        Self::Net(e)
    }
}

impl From<Error> for SessionError {
    fn from(e: Error) -> Self {
        Self::Protocol(e)
    }
}

/// Unix seconds now.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Called with the state before anything that spends state (a sequence number, a key, a join
/// step) is sent, so that a crash after the send cannot make the saved state reuse it.
pub type Saver = Box<dyn FnMut(&Party) -> Result<(), String> + Send>;

/// A connected party.
pub struct Session {
    /// The state machine.
    pub party: Party,
    link: Link,
    rng: ChaCha20Rng,
    pending: BTreeSet<u32>,
    /// Request ids of the room messages submitted: the only submissions the state machine does
    /// not settle itself (the others end in an operation event).
    messages: BTreeSet<u32>,
    fetching: usize,
    own: Option<(u32, Option<u16>)>,
    next_own: u32,
    events: VecDeque<Event>,
    saver: Option<Saver>,
    /// Every relay message received, when recording (conformance checks on raw deliveries).
    pub raw: Option<Vec<RelayMessage>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("pending", &self.pending).finish_non_exhaustive()
    }
}

impl Session {
    /// Connects `party` to the relay and waits until it has authenticated.
    pub async fn connect(
        party: Party,
        relay: &str,
        relay_pk: &[u8; 32],
        proxy: Option<&str>,
        wait: Duration,
    ) -> Result<Self, SessionError> {
        Self::open(party, relay, relay_pk, proxy, wait, false).await
    }

    /// [`Self::connect`], keeping every relay message from the first one on in [`Self::raw`].
    pub async fn connect_recorded(
        party: Party,
        relay: &str,
        relay_pk: &[u8; 32],
        wait: Duration,
    ) -> Result<Self, SessionError> {
        Self::open(party, relay, relay_pk, None, wait, true).await
    }

    async fn open(
        mut party: Party,
        relay: &str,
        relay_pk: &[u8; 32],
        proxy: Option<&str>,
        wait: Duration,
        record: bool,
    ) -> Result<Self, SessionError> {
        let mut rng = ChaCha20Rng::from_rng(&mut UnwrapErr(getrandom::SysRng));
        let link = timeout(wait, Link::connect(relay, relay_pk, proxy, &mut rng))
            .await
            .map_err(|_| SessionError::Timeout("the connection to the relay"))??;
        let binding = link.channel_binding();
        party.on_connected(binding);
        let mut s = Self {
            party,
            link,
            rng,
            pending: BTreeSet::new(),
            messages: BTreeSet::new(),
            fetching: 0,
            own: None,
            next_own: OWN_REQ_IDS,
            events: VecDeque::new(),
            saver: None,
            raw: record.then(Vec::new),
        };
        // The challenge comes first; the answer to it is tracked like any request.
        if !s.pump(wait).await? {
            return Err(SessionError::Timeout("the relay's challenge"));
        }
        s.settle(wait).await?;
        s.sync(wait).await?;
        Ok(s)
    }

    /// Saves through `saver` before every send that spends state (from now on).
    pub fn set_saver(&mut self, saver: Saver) {
        self.saver = Some(saver);
    }

    /// Waits until everything the relay queued for us before now has been handled (the backlog
    /// after authenticating, say), so that what we send next is sent from an up-to-date state: an
    /// empty history fetch is answered after every earlier message, whatever its verdict.
    pub async fn sync(&mut self, wait: Duration) -> Result<(), SessionError> {
        let room_id = self.party.room_id();
        match self
            .own_request(
                |req_id| ClientRequest::Fetch { req_id, room_id, from: u64::MAX, until: u64::MAX, limit: 0 },
                wait,
            )
            .await
        {
            Ok(()) | Err(SessionError::Refused(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The RNG the session hands to the state machine.
    pub fn rng(&mut self) -> &mut ChaCha20Rng {
        &mut self.rng
    }

    /// Sends what `out` asks and keeps its events.
    pub async fn apply(&mut self, out: Output) -> Result<(), SessionError> {
        if let (true, Some(save)) = (out.must_save(), self.saver.as_mut()) {
            save(&self.party).map_err(SessionError::Save)?;
        }
        self.events.extend(out.events);
        for req in &out.to_relay {
            match (req.kind, req.req_id) {
                // The state machine answers its own authentication inside: nothing to await.
                (RequestKind::Authenticate, _) | (_, None) => {}
                (RequestKind::Fetch, _) => self.fetching += 1,
                (RequestKind::Message, Some(id)) => {
                    self.messages.insert(id);
                    self.pending.insert(id);
                }
                (_, Some(id)) => {
                    self.pending.insert(id);
                }
            }
            self.link.send(&req.bytes).await?;
        }
        Ok(())
    }

    /// Runs `f` on the owner (error if this is not an owner) and sends its output.
    pub async fn with_owner(
        &mut self,
        f: impl FnOnce(&mut Owner, &mut ChaCha20Rng) -> Result<Output, Error>,
    ) -> Result<(), SessionError> {
        let Party::Owner(o) = &mut self.party else { return Err(Error::NotOwner.into()) };
        let out = f(o, &mut self.rng)?;
        self.apply(out).await
    }

    /// Runs `f` on the member and sends its output.
    pub async fn with_member(
        &mut self,
        f: impl FnOnce(&mut Member, &mut ChaCha20Rng) -> Result<Output, Error>,
    ) -> Result<(), SessionError> {
        let Party::Member(m) = &mut self.party else { return Err(Error::InvalidArgument("not a member").into()) };
        let out = f(m, &mut self.rng)?;
        self.apply(out).await
    }

    /// Sends a request of the session's own (not the state machine's), e.g. `Admit`, and waits
    /// for its answer.
    pub async fn own_request(
        &mut self,
        make: impl FnOnce(u32) -> ClientRequest,
        wait: Duration,
    ) -> Result<(), SessionError> {
        // A fresh id each time: a late answer to an earlier request cannot pass for this one.
        let req_id = self.next_own;
        self.next_own = self.next_own.checked_add(1).unwrap_or(OWN_REQ_IDS);
        self.own = Some((req_id, None));
        self.link.send(&make(req_id).encode()).await?;
        let deadline = tokio::time::Instant::now() + wait;
        while matches!(self.own, Some((_, None))) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() || !self.pump(left).await? {
                self.own = None;
                return Err(SessionError::Timeout("the relay's answer"));
            }
        }
        match self.own.take() {
            Some((_, Some(0))) => Ok(()),
            Some((_, Some(code))) => Err(SessionError::Refused(code)),
            _ => Err(SessionError::Timeout("the relay's answer")),
        }
    }

    /// Receives and handles one relay message; `Ok(false)` if none came within `wait`.
    pub async fn pump(&mut self, wait: Duration) -> Result<bool, SessionError> {
        let Ok(bytes) = timeout(wait, self.link.recv()).await else { return Ok(false) };
        let bytes = bytes?;
        // Decoded here only when a recording or a request of our own needs it: the state
        // machine decodes every message anyway.
        let wanted = self.raw.is_some() || self.own.is_some();
        let msg = if wanted { RelayMessage::decode(&bytes).ok() } else { None };
        if let (Some(raw), Some(msg)) = (self.raw.as_mut(), &msg) {
            raw.push(msg.clone());
        }
        if let (Some(msg), Some((own_id, answer))) = (msg, self.own.as_mut()) {
            match msg {
                RelayMessage::Accepted { req_id, .. } | RelayMessage::FetchDone { req_id, .. } if req_id == *own_id => {
                    *answer = Some(0)
                }
                RelayMessage::Rejected { req_id, code } if req_id == *own_id => *answer = Some(code.max(1)),
                _ => {}
            }
            if answer.is_some() {
                return Ok(true);
            }
        }
        let now = now();
        let out = self.party.handle(&bytes, now, &mut self.rng)?;
        for e in &out.events {
            match e {
                Event::Accepted { req_id, .. } | Event::Rejected { req_id, .. } => {
                    self.pending.remove(req_id);
                }
                Event::HistoryDone { .. } => self.fetching = self.fetching.saturating_sub(1),
                _ => {}
            }
        }
        self.apply(out).await?;
        Ok(true)
    }

    /// Handles relay messages until every request sent so far is answered.
    pub async fn settle(&mut self, wait: Duration) -> Result<(), SessionError> {
        let deadline = tokio::time::Instant::now() + wait;
        while !self.pending.is_empty() || self.fetching > 0 {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() || !self.pump(left).await? {
                return Err(SessionError::Timeout("the relay to answer every request"));
            }
        }
        Ok(())
    }

    /// Handles relay messages until `done` holds for an event (which stays queued) or `wait`
    /// passes.
    pub async fn wait_for(&mut self, wait: Duration, done: impl Fn(&Event) -> bool) -> Result<(), SessionError> {
        let deadline = tokio::time::Instant::now() + wait;
        while !self.events.iter().any(&done) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() || !self.pump(left).await? {
                return Err(SessionError::Timeout("an event"));
            }
        }
        Ok(())
    }

    /// Tells the relay what has been read, so that it does not resend it on the next connection.
    pub async fn ack(&mut self) -> Result<(), SessionError> {
        for req in self.party.ack().to_relay {
            self.link.send(&req.bytes).await?;
        }
        Ok(())
    }

    /// Keeps a quiet connection from being closed as idle by the relay.
    pub async fn keepalive(&mut self) -> Result<(), SessionError> {
        Ok(self.link.ping().await?)
    }

    /// Takes the events seen so far.
    pub fn take_events(&mut self) -> Vec<Event> {
        self.events.drain(..).collect()
    }

    /// Whether `req_id` was one of our room messages (refusals of other submissions are settled
    /// by the state machine and reported as operation events).
    pub fn is_message(&self, req_id: u32) -> bool {
        self.messages.contains(&req_id)
    }

    /// The state machine, the link and the RNG, for callers that drive the link themselves
    /// (the load generator).
    pub fn into_parts(self) -> (Party, Link, ChaCha20Rng) {
        (self.party, self.link, self.rng)
    }

    /// Closes the connection.
    pub async fn close(self) -> Party {
        self.link.close().await;
        self.party
    }
}
