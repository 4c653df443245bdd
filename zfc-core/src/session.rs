//! A party on a relay connection: what the owner and the member share, in the manner of rustls'
//! `ConnectionCommon`. The session holds the channel binding, the challenge and the retries of
//! the room's authentication, the one request-id counter, the requests that must land
//! ([`crate::inflight`]), and the one dispatch of relay messages to the role's handlers
//! ([`Role`]); `Owner` and `Member` keep only what differs.
//!
//! Invariants: request ids come from one counter per party (1, 2, … wrapping, never 0); the
//! answers to the session's own authentication stay inside (the app sees no `Accepted` or
//! `Rejected` for a request it did not make); a relay message for another room changes nothing.

use rand_core::CryptoRng;

use crate::error::Error;
use crate::event::{Event, Output, Request, RequestKind};
use crate::frame::RoomId;
use crate::inflight::{Flight, Requests, Verdict};
use crate::proto::Reject;
use crate::proto::{self, ClientRequest, RelayMessage};

/// What a party remembers of its authentication on the current connection, so that it can
/// authenticate again once the relay knows it: a joiner whose request was not in yet, an owner
/// whose room was not created yet. Not saved: it belongs to one connection.
#[derive(Debug, Default)]
pub(crate) struct AuthRetry {
    /// The connection's challenge.
    pub challenge: Option<[u8; 32]>,
    /// Request id of the last authentication, and whether the relay refused it.
    pub auth: Option<(u32, bool)>,
    /// Request id of the submission after whose acceptance a refused authentication is retried.
    pub retry_after: Option<u32>,
}

impl AuthRetry {
    fn on_rejected(&mut self, req_id: u32) {
        if let Some((id, refused)) = &mut self.auth
            && *id == req_id
        {
            *refused = true;
        }
    }
    /// Whether `req_id` is our last authentication on this connection.
    fn is_auth(&self, req_id: u32) -> bool {
        self.auth.is_some_and(|(id, _)| id == req_id)
    }
    /// The challenge to answer again, when `req_id` is the awaited submission and the last
    /// authentication was refused.
    fn retry(&self, req_id: u32) -> Option<[u8; 32]> {
        let refused = self.auth.is_some_and(|(_, refused)| refused);
        if self.retry_after == Some(req_id) && refused { self.challenge } else { None }
    }
}

/// The connection-facing state of one party.
#[derive(Debug, Default)]
pub(crate) struct Session {
    /// The current link's handshake hash, once connected.
    pub binding: Option<[u8; 32]>,
    pub auth: AuthRetry,
    pub requests: Requests,
    /// The last request id handed out.
    pub next_req: u32,
}

impl Session {
    /// A session whose last request id was `next_req` (restored from a saved state).
    pub(crate) fn resumed(next_req: u32) -> Self {
        Self { next_req, ..Self::default() }
    }

    /// A new party's session: its request ids start at a point taken from its public key, so
    /// that two parties' ids do not run in step. The relay echoes ids on the connection a
    /// request came in on; an answer injected on our connection with another party's id
    /// (a replay, a relay that mixes connections) then finds none of our requests in flight.
    /// Below 2^31: ids from 0xffff_0000 up are the reference client's own.
    pub(crate) fn for_key(public: &[u8; 32]) -> Self {
        let [a, b, c, d, ..] = *public;
        Self::resumed(u32::from_be_bytes([a, b, c, d]) & 0x7fff_ffff)
    }

    /// The next request id: 1, 2, … wrapping around and skipping 0 (spec §6.1).
    pub(crate) fn next_req_id(&mut self) -> u32 {
        self.next_req = self.next_req.wrapping_add(1).max(1);
        self.next_req
    }

    /// A Submit of a room message with a fresh request id (not tracked: a lost message is the
    /// app's to send again); it spends the message's sequence number.
    pub(crate) fn submit(&mut self, frame: Vec<u8>) -> Request {
        let req_id = self.next_req_id();
        Request::new(RequestKind::Message, Some(req_id), true, ClientRequest::Submit { req_id, frame }.encode())
    }

    /// A history fetch with a fresh request id.
    pub(crate) fn fetch(&mut self, room_id: RoomId, from: u64, until: u64, limit: u32) -> Request {
        let req_id = self.next_req_id();
        let bytes = ClientRequest::Fetch { req_id, room_id, from, until, limit }.encode();
        Request::new(RequestKind::Fetch, Some(req_id), false, bytes)
    }

    /// Tracks a request that must land; its bytes leave in the output unless they wait for a
    /// connection's authentication ([`Requests::push`]).
    pub(crate) fn must_land(
        &mut self,
        kind: crate::inflight::Kind,
        op: crate::event::Operation,
        frame: Vec<u8>,
    ) -> Output {
        let req_id = self.next_req_id();
        let request = ClientRequest::Submit { req_id, frame }.encode();
        self.requests.track(kind, op, req_id, request)
    }

    /// A new link is up: a fresh authentication state, and every unsettled request to send again.
    pub(crate) fn on_connected(&mut self, binding: [u8; 32]) {
        self.binding = Some(binding);
        // The awaited submission (a CreateRoom or JoinRequest) is found again from the
        // requests in flight when the challenge comes.
        self.auth = AuthRetry { retry_after: self.auth.retry_after, ..AuthRetry::default() };
        self.requests.on_connected();
    }

    /// An Authenticate on this connection for `identity` in `room_id`, remembered as ours.
    pub(crate) fn authenticate(
        &mut self,
        key: &crate::crypto::SignKey,
        nonce: &[u8; 32],
        room_id: RoomId,
        resume_from: u64,
    ) -> Result<Request, Error> {
        let binding = self.binding.ok_or(Error::Unexpected("challenge before on_connected"))?;
        let req = self.next_req_id();
        self.auth.auth = Some((req, false));
        let bytes = proto::authenticate(req, key, nonce, &binding, room_id, resume_from).encode();
        Ok(Request::new(RequestKind::Authenticate, Some(req), false, bytes))
    }
}

/// What differs between the owner and the member: the session dispatches every relay message
/// through these.
pub(crate) trait Role {
    /// The party's session.
    fn session(&mut self) -> &mut Session;
    /// The party's room.
    fn room_id(&self) -> RoomId;
    /// The Authenticate answering `nonce` on this connection (`None`: the party has nothing to
    /// authenticate, e.g. it is gone).
    fn authenticate(&mut self, nonce: &[u8; 32]) -> Result<Option<Request>, Error>;
    /// A directed frame (queue id `id`); the session acknowledges it afterwards.
    fn on_direct(&mut self, frame: &[u8], id: u64, now: u64, rng: &mut impl CryptoRng) -> Result<Output, Error>;
    /// A room-log entry at `seq`.
    fn on_deliver(&mut self, seq: u64, frame: &[u8], rng: &mut impl CryptoRng) -> Result<Output, Error>;
    /// What an answer the table leaves to the party's state means (`Verdict::Ask`).
    fn decide(&mut self, flight: &Flight, code: Option<u16>) -> Verdict;
    /// A request that landed.
    fn landed(&mut self, flight: Flight, rng: &mut impl CryptoRng) -> Result<Output, Error>;
    /// A request that can never land, refused with `code`.
    fn failed(&mut self, flight: Flight, code: u16, rng: &mut impl CryptoRng) -> Result<Output, Error>;
    /// The relay refused the session's authentication with `code`.
    fn auth_refused(&mut self, code: u16) -> Output;
}

/// Handles one message from the relay for `party`: the one dispatch both roles share.
pub(crate) fn handle<P: Role>(
    party: &mut P,
    bytes: &[u8],
    now: u64,
    rng: &mut impl CryptoRng,
) -> Result<Output, Error> {
    match RelayMessage::decode(bytes)? {
        RelayMessage::Challenge { nonce } => {
            let s = party.session();
            s.auth.challenge = Some(nonce);
            // A CreateRoom or JoinRequest not yet answered goes first; authentication is tried
            // again once it is accepted.
            let mut out = Output::default();
            out.to_relay.extend(s.requests.before_auth());
            if let Some(id) = s.requests.before_auth_req() {
                s.auth.retry_after = Some(id);
            }
            out.to_relay.extend(party.authenticate(&nonce)?);
            Ok(out)
        }
        RelayMessage::Accepted { req_id, seq } => {
            let s = party.session();
            let mut out = if s.auth.is_auth(req_id) {
                // Our own authentication: what waited for it leaves now.
                s.requests.subscribed()
            } else {
                let mut out = Output::event(Event::Accepted { req_id, seq: seq.into() });
                out.extend(answer(party, req_id, None, rng)?);
                out
            };
            // Authenticated before the relay knew the room or our join request: again, now.
            if let Some(nonce) = party.session().auth.retry(req_id) {
                out.to_relay.extend(party.authenticate(&nonce)?);
            }
            Ok(out)
        }
        RelayMessage::Rejected { req_id, code } => {
            let s = party.session();
            s.auth.on_rejected(req_id);
            if s.auth.is_auth(req_id) {
                s.requests.on_unsubscribed();
                return Ok(party.auth_refused(code));
            }
            let mut out = Output::event(Event::Rejected { req_id, reason: Reject::from(code) });
            out.extend(answer(party, req_id, Some(code), rng)?);
            Ok(out)
        }
        RelayMessage::FetchDone { next, .. } => Ok(Output::event(Event::HistoryDone { next: next.into() })),
        RelayMessage::Direct { room_id, id, frame } => {
            if room_id != party.room_id() {
                return Err(Error::WrongRoom);
            }
            let mut out = match party.on_direct(&frame, id, now, rng) {
                Ok(o) => o,
                Err(error) => Output::event(Event::FrameRejected { position: id, error }),
            };
            let ack = ClientRequest::AckDirect { room_id, id }.encode();
            out.to_relay.push(Request::new(RequestKind::Ack, None, false, ack));
            Ok(out)
        }
        RelayMessage::Deliver { room_id, seq, frame } => {
            if room_id != party.room_id() {
                return Err(Error::WrongRoom);
            }
            party.on_deliver(seq, &frame, rng)
        }
    }
}

/// A relay answer to one of the party's requests that must land (`code` None: accepted).
fn answer<P: Role>(party: &mut P, req_id: u32, code: Option<u16>, rng: &mut impl CryptoRng) -> Result<Output, Error> {
    let Some((i, verdict)) = party.session().requests.answer(req_id, code) else { return Ok(Output::default()) };
    let verdict = match verdict {
        Verdict::Ask => match party.session().requests.flights.get(i).cloned() {
            Some(f) => party.decide(&f, code),
            None => return Ok(Output::default()),
        },
        v => v,
    };
    match verdict {
        Verdict::Retry => {
            let s = party.session();
            let mut out = Output::default();
            if s.requests.retry(i, code)
                && let Some(nonce) = s.auth.challenge
            {
                out.to_relay.extend(party.authenticate(&nonce)?);
            }
            Ok(out)
        }
        Verdict::Landed => match party.session().requests.take(i) {
            Some(f) => party.landed(f, rng),
            None => Ok(Output::default()),
        },
        Verdict::Final | Verdict::Log | Verdict::Ask => match party.session().requests.take(i) {
            Some(f) => party.failed(f, code.unwrap_or_default(), rng),
            None => Ok(Output::default()),
        },
    }
}
