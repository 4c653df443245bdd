//! Requests that must land (spec §9.7): what a party asked the relay for and has not seen settled,
//! resent with the same bytes on every new connection until an answer or the room log settles it,
//! and the one table that says what each relay answer means for each kind of request.
//!
//! Invariants: a request leaves the table only through an answer the table calls landed or final,
//! or through the room log (a logged frame met byte for byte, a commit that lost its epoch), and
//! the owner or member reports every exit as an event; requests are resent in the order they were
//! made; on a connection, resends go out only after the room's authentication on it was accepted,
//! except CreateRoom and JoinRequest, which must reach the relay before any authentication can
//! succeed and go out with the answer to the challenge; while resends wait for that
//! authentication, new requests queue behind them rather than overtake them.

use std::collections::VecDeque;

use crate::error::DecodeError;
use crate::event::{Event, Operation, Output, Request, RequestKind};
use crate::frame::{Change, Frame};
use crate::proto::ClientRequest;
use crate::proto::Reject;

/// Bytes before the frame in an encoded Submit: version, kind, `req_id` u32, length u32.
const SUBMIT_HEADER: usize = 10;

/// The kinds of request that must land.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    CreateRoom,
    JoinRequest,
    RegisterInvite,
    RevokeInvite,
    KeyGrant,
    JoinConfirm,
    Welcome,
    Commit,
    KeyUpdate,
    Leave,
    DeleteRoom,
}

impl Kind {
    /// Sent before authentication: the relay must hold it before the party has a role at all.
    fn before_auth(self) -> bool {
        matches!(self, Self::CreateRoom | Self::JoinRequest)
    }
}

/// What one relay answer means for a request that must land (spec §9.7, table "Answers").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The relay holds it: it accepted it now, or the refusal can only mean it took it earlier.
    Landed,
    /// Not now (load, a queue, an unauthenticated connection, a code this version does not
    /// know): send it again after the next accepted authentication.
    Retry,
    /// Another frame may hold its place (a commit's epoch, a key update's generation): the room
    /// log decides, and the party met that log before this answer when it was subscribed.
    Log,
    /// The answer alone does not tell: the party decides from its own state.
    Ask,
    /// It can never land.
    Final,
}

/// The table. `None` is `Accepted`.
pub(crate) fn verdict(kind: Kind, answer: Option<u16>) -> Verdict {
    use Kind as K;
    use Reject as R;
    let Some(code) = answer else { return Verdict::Landed };
    let Some(reject) = Reject::from_code(code) else { return Verdict::Retry };
    match (kind, reject) {
        (_, R::NotAuthenticated | R::QueueFull) => Verdict::Retry,
        // The room id binds the owner's keys and salt: only this CreateRoom can have made it.
        (K::CreateRoom, R::RoomExists) => Verdict::Landed,
        // The joiner key is fresh and ours: if it is pending or a member, our request did it.
        (K::JoinRequest, R::BadChange) => Verdict::Landed,
        // The commitment comes from our random token.
        (K::RegisterInvite, R::InviteExists) => Verdict::Landed,
        (K::RevokeInvite, R::InviteRevoked) => Verdict::Landed,
        // Nothing to revoke: landed, unless our registration of it is still to land.
        (K::RevokeInvite, R::InviteUnknown) => Verdict::Ask,
        // The join left stage Requested: our grant moved it on, or it was used or revoked.
        (K::KeyGrant, R::NoPendingJoin) => Verdict::Ask,
        // No join of ours waits for a confirmation: this one was taken, or the join ended. The
        // log cannot tell which; a Welcome and the Add commit follow in the first case.
        (K::JoinConfirm, R::NoPendingJoin) => Verdict::Landed,
        (K::Welcome, R::BadChange) | (K::Commit, R::WrongEpoch | R::ForkedChain) => Verdict::Log,
        // A Remove of a member the relay no longer has: done, if our roster agrees.
        (K::Commit, R::BadChange) => Verdict::Ask,
        (K::KeyUpdate, R::StaleKeyUpdate) => Verdict::Log,
        // The relay already marked us left (or removed us).
        (K::Leave, R::NotMember) => Verdict::Landed,
        (K::DeleteRoom, R::RoomDeleted) => Verdict::Landed,
        _ => Verdict::Final,
    }
}

/// Where a request stands on the current connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sent {
    /// To be sent (again) once the connection allows it.
    Unsent,
    /// Handed out on connection `conn` (0: before any connection, for the first one);
    /// `subscribed`: after the room's authentication on it was accepted.
    On { conn: u64, subscribed: bool },
}

/// One request that must land.
#[derive(Clone, Debug)]
pub(crate) struct Flight {
    pub kind: Kind,
    pub op: Operation,
    pub req_id: u32,
    /// The encoded Submit: resent as it is.
    pub request: Vec<u8>,
    pub sent: Sent,
    /// Whether it ever left (for [`crate::Event::OperationSent`] when a held request goes out).
    pub announced: bool,
}

impl Flight {
    /// The request to send again: the same bytes; the state that spent them was saved when
    /// they were made.
    pub fn resend(&self) -> Request {
        Request::new(RequestKind::Operation(self.op), Some(self.req_id), false, self.request.clone())
    }

    /// The frame inside the Submit.
    pub fn frame(&self) -> &[u8] {
        self.request.get(SUBMIT_HEADER..).unwrap_or_default()
    }

    /// A flight rebuilt from a saved Submit: its kind and operation come from its frame.
    pub fn from_request(request: Vec<u8>, announced: bool) -> Result<Self, DecodeError> {
        let ClientRequest::Submit { req_id, frame } = ClientRequest::decode(&request)? else {
            return Err(DecodeError::InvalidValue("saved request"));
        };
        let (kind, op) = describe(&Frame::decode(&frame)?).ok_or(DecodeError::InvalidValue("saved request"))?;
        Ok(Self { kind, op, req_id, request, sent: Sent::Unsent, announced })
    }
}

/// The kind and operation of a frame that must land (None for room messages).
pub(crate) fn describe(frame: &Frame) -> Option<(Kind, Operation)> {
    Some(match frame {
        Frame::CreateRoom(_) => (Kind::CreateRoom, Operation::CreateRoom),
        Frame::RegisterInvite(f) => {
            (Kind::RegisterInvite, Operation::RegisterInvite { invite_pk: f.body.invite_pk.into() })
        }
        Frame::RevokeInvite(f) => (Kind::RevokeInvite, Operation::RevokeInvite { invite_pk: f.body.invite_pk.into() }),
        Frame::JoinRequest(_) => (Kind::JoinRequest, Operation::JoinRequest),
        Frame::KeyGrant(f) => (Kind::KeyGrant, Operation::Grant { joiner: f.body.joiner_sign_pk.into() }),
        Frame::JoinConfirm(_) => (Kind::JoinConfirm, Operation::JoinConfirm),
        Frame::Welcome(f) => (Kind::Welcome, Operation::Add { joiner: f.body.joiner_sign_pk.into() }),
        Frame::Commit(f) => (Kind::Commit, commit_operation(&f.body.change)),
        Frame::KeyUpdate(f) => (Kind::KeyUpdate, Operation::KeyUpdate { generation: f.body.generation }),
        Frame::Leave(_) => (Kind::Leave, Operation::Leave),
        Frame::DeleteRoom(_) => (Kind::DeleteRoom, Operation::DeleteRoom),
        Frame::Message(_) => return None,
    })
}

/// The operation a commit carries out.
pub(crate) fn commit_operation(change: &Change) -> Operation {
    match change {
        Change::Rotate => Operation::Rotate,
        Change::Remove { member } => Operation::Remove { member: *member },
        Change::Add { sign_pk, .. } => Operation::Add { joiner: (*sign_pk).into() },
    }
}

/// The requests in flight of one party, and where its current connection stands.
#[derive(Debug, Default)]
pub(crate) struct Requests {
    pub flights: VecDeque<Flight>,
    /// Number of the current connection (0: none yet). Not saved: a restored party starts over.
    conn: u64,
    /// The room's authentication on the current connection was accepted.
    subscribed: bool,
    /// A NotAuthenticated answer already made us authenticate again on this connection.
    reauthenticated: bool,
}

impl Requests {
    /// Tracks a new request; returns its bytes when they may leave now, `None` when they wait
    /// for a connection's authentication: before the first connection (only the CreateRoom or
    /// JoinRequest of a new party leaves then, for the app to send on it), or behind resends.
    pub fn push(&mut self, kind: Kind, op: Operation, req_id: u32, request: Vec<u8>) -> Option<Vec<u8>> {
        let waiting = self.conn == 0
            || !self.subscribed && self.flights.iter().any(|f| f.sent == Sent::Unsent && !f.kind.before_auth());
        let held = waiting && !kind.before_auth();
        let sent = if held { Sent::Unsent } else { Sent::On { conn: self.conn, subscribed: self.subscribed } };
        let out = (!held).then(|| request.clone());
        self.flights.push_back(Flight { kind, op, req_id, request, sent, announced: !held });
        out
    }

    /// [`Self::push`], with the output that says whether the request left now or waits.
    pub fn track(&mut self, kind: Kind, op: Operation, req_id: u32, request: Vec<u8>) -> Output {
        match self.push(kind, op, req_id, request) {
            Some(bytes) => Output {
                to_relay: vec![Request::new(RequestKind::Operation(op), Some(req_id), true, bytes)],
                events: vec![Event::OperationSent { op }],
            },
            None => Output::event(Event::OperationQueued { op }),
        }
    }

    /// The request id of the CreateRoom or JoinRequest in flight, if any: authentication is
    /// tried again once it is accepted.
    pub fn before_auth_req(&self) -> Option<u32> {
        self.flights.iter().find(|f| f.kind.before_auth()).map(|f| f.req_id)
    }

    /// [`Self::on_subscribed`] as an output: the requests, and `OperationSent` for those that
    /// leave for the first time.
    pub fn subscribed(&mut self) -> Output {
        let (to_relay, first) = self.on_subscribed();
        Output { to_relay, events: first.into_iter().map(|op| Event::OperationSent { op }).collect() }
    }

    /// A new connection: everything not settled is sent again on it (requests handed out before
    /// the first connection are the app's to send on it).
    pub fn on_connected(&mut self) {
        self.conn = self.conn.saturating_add(1);
        self.subscribed = false;
        self.reauthenticated = false;
        let first = self.conn == 1;
        for f in &mut self.flights {
            f.sent = match f.sent {
                Sent::On { conn: 0, .. } if first => Sent::On { conn: 1, subscribed: false },
                _ => Sent::Unsent,
            };
        }
    }

    /// Resends that go out with the answer to the challenge (CreateRoom, JoinRequest).
    pub fn before_auth(&mut self) -> Vec<Request> {
        let conn = self.conn;
        self.flights
            .iter_mut()
            .filter(|f| f.sent == Sent::Unsent && f.kind.before_auth())
            .map(|f| {
                f.sent = Sent::On { conn, subscribed: false };
                f.resend()
            })
            .collect()
    }

    /// The room's authentication on this connection was accepted: every request waiting goes out
    /// now, in order. Returns the requests and the operations that leave for the first time.
    pub fn on_subscribed(&mut self) -> (Vec<Request>, Vec<Operation>) {
        self.subscribed = true;
        let conn = self.conn;
        let mut first = Vec::new();
        let requests = self
            .flights
            .iter_mut()
            .filter(|f| f.sent == Sent::Unsent)
            .map(|f| {
                f.sent = Sent::On { conn, subscribed: true };
                if !f.announced {
                    f.announced = true;
                    first.push(f.op);
                }
                f.resend()
            })
            .collect();
        (requests, first)
    }

    /// The authentication on this connection was refused: nothing more leaves on it until one
    /// is accepted.
    pub fn on_unsubscribed(&mut self) {
        self.subscribed = false;
    }

    /// The flight an answer on this connection is for, with what the answer means. A `Log`
    /// verdict is resolved here: if the request was sent while subscribed, the log entries that
    /// could explain it were delivered before this answer and did not, so it is final; if not,
    /// it is retried after the next authentication.
    pub fn answer(&self, req_id: u32, code: Option<u16>) -> Option<(usize, Verdict)> {
        let conn = self.conn;
        let i = self
            .flights
            .iter()
            .position(|f| f.req_id == req_id && matches!(f.sent, Sent::On { conn: c, .. } if c == conn))?;
        let f = self.flights.get(i)?;
        let v = match verdict(f.kind, code) {
            Verdict::Log if matches!(f.sent, Sent::On { subscribed: true, .. }) => Verdict::Final,
            Verdict::Log => Verdict::Retry,
            v => v,
        };
        Some((i, v))
    }

    /// Removes flight `i`.
    pub fn take(&mut self, i: usize) -> Option<Flight> {
        self.flights.remove(i)
    }

    /// Flight `i` goes out again after the next accepted authentication. Returns whether the
    /// caller should authenticate again on this connection now (a NotAuthenticated answer, once
    /// per connection).
    pub fn retry(&mut self, i: usize, code: Option<u16>) -> bool {
        if let Some(f) = self.flights.get_mut(i) {
            f.sent = Sent::Unsent;
        }
        let again = code == Some(Reject::NotAuthenticated.code()) && !self.reauthenticated;
        if again {
            self.reauthenticated = true;
            self.subscribed = false;
        }
        again
    }

    /// Removes the flight of `kind` whose frame is `frame` (a logged frame met in the log).
    pub fn take_frame(&mut self, kind: Kind, frame: &[u8]) -> Option<Flight> {
        let i = self.flights.iter().position(|f| f.kind == kind && f.frame() == frame)?;
        self.flights.remove(i)
    }

    /// Removes every flight `pick` selects.
    pub fn take_where(&mut self, pick: impl Fn(&Flight) -> bool) -> Vec<Flight> {
        let (taken, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.flights).into_iter().partition(|f| pick(f));
        self.flights = kept.into();
        taken
    }

    /// Whether a flight `pick` selects is in the table.
    pub fn any(&self, pick: impl Fn(&Flight) -> bool) -> bool {
        self.flights.iter().any(pick)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flight(kind: Kind, req_id: u32) -> (Kind, Operation, u32, Vec<u8>) {
        (kind, Operation::Rotate, req_id, vec![1, 0x21, 0, 0, 0, req_id as u8, 0, 0, 0, 0])
    }

    #[test]
    fn unknown_codes_and_load_refusals_are_retried_for_every_kind() {
        for kind in [Kind::CreateRoom, Kind::Commit, Kind::Leave, Kind::RevokeInvite, Kind::Welcome] {
            assert_eq!(verdict(kind, Some(9999)), Verdict::Retry);
            assert_eq!(verdict(kind, Some(Reject::QueueFull.code())), Verdict::Retry);
            assert_eq!(verdict(kind, Some(Reject::NotAuthenticated.code())), Verdict::Retry);
            assert_eq!(verdict(kind, None), Verdict::Landed);
        }
    }

    #[test]
    fn duplicates_count_as_landed_and_other_refusals_are_final() {
        assert_eq!(verdict(Kind::CreateRoom, Some(Reject::RoomExists.code())), Verdict::Landed);
        assert_eq!(verdict(Kind::RegisterInvite, Some(Reject::InviteExists.code())), Verdict::Landed);
        assert_eq!(verdict(Kind::Leave, Some(Reject::NotMember.code())), Verdict::Landed);
        assert_eq!(verdict(Kind::RevokeInvite, Some(Reject::InviteUsed.code())), Verdict::Final);
        assert_eq!(verdict(Kind::Commit, Some(Reject::RosterMismatch.code())), Verdict::Final);
    }

    #[test]
    fn a_log_verdict_is_final_only_when_sent_while_subscribed() {
        let mut r = Requests::default();
        r.on_connected();
        let (k, op, id, req) = flight(Kind::Commit, 1);
        assert!(r.push(k, op, id, req).is_some());
        let wrong_epoch = Some(Reject::WrongEpoch.code());
        assert_eq!(r.answer(1, wrong_epoch).map(|a| a.1), Some(Verdict::Retry));
        r.on_connected();
        let _ = r.on_subscribed();
        assert_eq!(r.answer(1, wrong_epoch).map(|a| a.1), Some(Verdict::Final));
    }

    #[test]
    fn only_a_creation_or_join_leaves_before_the_first_connection() {
        let mut r = Requests::default();
        let (k, op, id, req) = flight(Kind::CreateRoom, 1);
        assert!(r.push(k, op, id, req).is_some(), "the app sends it on its first connection");
        let (k, op, id, req) = flight(Kind::RegisterInvite, 2);
        assert!(r.push(k, op, id, req.clone()).is_none(), "held until authenticated");
        r.on_connected();
        assert!(r.before_auth().is_empty(), "the creation is not sent twice");
        assert_eq!(r.on_subscribed().0.into_iter().map(|r| r.bytes).collect::<Vec<_>>(), vec![req]);
    }

    #[test]
    fn resends_wait_for_authentication_and_new_requests_queue_behind_them() {
        let mut r = Requests::default();
        r.on_connected();
        let (k, op, id, req) = flight(Kind::RegisterInvite, 1);
        assert!(r.push(k, op, id, req.clone()).is_some());
        r.on_connected();
        let (k2, op2, id2, req2) = flight(Kind::RevokeInvite, 2);
        assert!(r.push(k2, op2, id2, req2.clone()).is_none(), "a revoke must not overtake its registration");
        assert_eq!(r.answer(1, None), None, "an answer on an earlier connection is not taken");
        let (sent, first) = r.on_subscribed();
        assert_eq!(sent.into_iter().map(|r| r.bytes).collect::<Vec<_>>(), vec![req, req2]);
        assert_eq!(first.len(), 1);
        assert!(r.on_subscribed().0.is_empty(), "sent once per connection");
    }

    #[test]
    fn not_authenticated_authenticates_again_once_per_connection() {
        let mut r = Requests::default();
        r.on_connected();
        let _ = r.on_subscribed();
        let (k, op, id, req) = flight(Kind::Commit, 7);
        assert!(r.push(k, op, id, req).is_some());
        let code = Some(Reject::NotAuthenticated.code());
        let (i, v) = r.answer(7, code).unwrap();
        assert_eq!(v, Verdict::Retry);
        assert!(r.retry(i, code));
        assert_eq!(r.on_subscribed().0.len(), 1);
        let (i, _) = r.answer(7, code).unwrap();
        assert!(!r.retry(i, code), "a second refusal waits for the next connection");
    }
}
