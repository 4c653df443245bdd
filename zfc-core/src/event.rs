//! What the state machines hand back: requests for the relay and events for the app.

use crate::error::Error;
use crate::frame::MemberNo;
use crate::keys::{InviteKey, LogPos, MemberKey};
use crate::proto::Reject;

/// Why the room moved to a new epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EpochReason {
    /// Periodic or on-demand rotation.
    Rotation,
    /// A member was added.
    MemberAdded(MemberNo),
    /// A member was removed (or left).
    MemberRemoved(MemberNo),
}

/// A request that must reach the relay (spec §9.7), as events name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Operation {
    /// (Owner) Creating the room.
    CreateRoom,
    /// (Owner) Registering an invite, by its commitment.
    RegisterInvite {
        /// [`crate::Invite::invite_pk`].
        invite_pk: InviteKey,
    },
    /// (Owner) Revoking an invite (also how a join is refused).
    RevokeInvite {
        /// The invite's commitment.
        invite_pk: InviteKey,
    },
    /// (Owner) Granting a join request.
    Grant {
        /// The joiner's key.
        joiner: MemberKey,
    },
    /// (Owner) Adding a confirmed joiner: its Welcome, then its Add commit.
    Add {
        /// The joiner's key.
        joiner: MemberKey,
    },
    /// (Owner) Removing a member.
    Remove {
        /// The member.
        member: MemberNo,
    },
    /// (Owner) Rotating the epoch key.
    Rotate,
    /// (Owner) Deleting the room.
    DeleteRoom,
    /// (Joiner) The join request.
    JoinRequest,
    /// (Joiner) The confirmation of the owner's grant.
    JoinConfirm,
    /// (Member) Announcing a fresh key-delivery key.
    KeyUpdate {
        /// The update's generation.
        generation: u32,
    },
    /// (Member) Leaving the room.
    Leave,
}

/// Why an operation can never land.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// The relay refused it with this code ([`crate::proto::Reject`]; codes this version does
    /// not know are retried, never final).
    Refused(u16),
    /// It could not be built (e.g. its join was dropped, or a counter ran out).
    Invalid(Error),
}

/// A room message as a receiver sees it.
#[derive(Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// The sender's member number (authenticated by its signature).
    pub sender: MemberNo,
    /// The epoch it was sealed in.
    pub epoch: u32,
    /// The sender's sequence number in that epoch.
    pub seq: u32,
    /// Its position in the relay's order of the room.
    pub relay_seq: LogPos,
    /// Whether it came from a history fetch rather than the live stream.
    pub from_history: bool,
    /// The content.
    pub content: Vec<u8>,
}

impl core::fmt::Debug for ReceivedMessage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { sender, epoch, seq, relay_seq, from_history, content } = self;
        write!(
            f,
            "ReceivedMessage {{ sender: {sender}, epoch: {epoch}, seq: {seq}, relay_seq: {relay_seq}, \
             from_history: {from_history}, content: [{} bytes] }}",
            content.len()
        )
    }
}

/// Something the app should know or decide.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// (Owner) A valid join request arrived; answer with `approve_join` or `reject_join`.
    JoinRequested {
        /// The joiner's member key: the handle for the answer.
        joiner: MemberKey,
        /// The name it gave (unverified: compare the fingerprint out of band).
        name: String,
        /// Its fingerprint.
        fingerprint: String,
    },
    /// (Joiner) The owner's grant was opened and the confirmation sent.
    Granted,
    /// (Joiner) The owner added us; we are a member now.
    Joined {
        /// Our member number.
        member: MemberNo,
        /// The epoch we joined in.
        epoch: u32,
    },
    /// A message.
    Message(ReceivedMessage),
    /// The room moved to a new epoch.
    EpochChanged {
        /// The new epoch.
        epoch: u32,
        /// Why.
        reason: EpochReason,
    },
    /// A member announced it leaves (the owner removes it next).
    MemberLeft(MemberNo),
    /// A member replaced its key-delivery key.
    KeyUpdated(MemberNo),
    /// We were removed from the room; every key was erased.
    RemovedFromRoom,
    /// The owner deleted the room; every key was erased.
    RoomDeleted,
    /// The relay accepted request `req_id` (at log position `seq`, or 0).
    Accepted {
        /// The request.
        req_id: u32,
        /// Log position, or 0.
        seq: LogPos,
    },
    /// The relay refused request `req_id` (one the app sent: answers to the session's own
    /// authentication are handled inside). `req_id` 0: the relay is closing the connection.
    Rejected {
        /// The request.
        req_id: u32,
        /// Why; [`Reject::Unknown`] for a code this version does not know.
        reason: Reject,
    },
    /// A frame arrived in order but failed a check (forged, replayed, wrong epoch, ...): it was
    /// dropped and changed nothing but the position consumed. Log it; do not branch on it.
    FrameRejected {
        /// Its relay sequence number, or its directed-queue id.
        position: u64,
        /// Why.
        error: Error,
    },
    /// A history fetch ended; `next` is the first position not sent.
    HistoryDone {
        /// First position not sent.
        next: LogPos,
    },
    /// An operation's request left in this output.
    OperationSent {
        /// The operation.
        op: Operation,
    },
    /// An operation waits: behind the commit in flight (membership operations go one commit at
    /// a time, removals first), or behind resends that wait for the connection's
    /// authentication. It leaves by itself; `OperationSent` reports when.
    OperationQueued {
        /// The operation.
        op: Operation,
    },
    /// The relay holds the operation (for a commit, a key update, a leave or a deletion: it was
    /// met in the room log, or the relay's answer can only mean it is there).
    OperationLanded {
        /// The operation.
        op: Operation,
    },
    /// The operation can never land; nothing will be resent for it.
    OperationFailed {
        /// The operation.
        op: Operation,
        /// Why.
        reason: Failure,
    },
}

/// What a request for the relay is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestKind {
    /// The room's authentication on this connection (answered inside).
    Authenticate,
    /// A room message.
    Message,
    /// A request that must land, first sent or resent (spec §9.7).
    Operation(Operation),
    /// A history fetch.
    Fetch,
    /// An acknowledgement of the log or of a directed frame (never answered).
    Ack,
}

/// One request for the relay: send `bytes` as one link record, in the order given.
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    /// What it is.
    pub kind: RequestKind,
    /// The request id the relay's answer will carry (`None`: never answered, an Ack).
    pub req_id: Option<u32>,
    /// Whether sending it spends state (a sequence number, a key, an epoch): the state must be
    /// saved before it leaves, so that a crash cannot make the saved state reuse it.
    pub spends: bool,
    /// The encoded [`crate::proto::ClientRequest`].
    pub bytes: Vec<u8>,
}

impl Request {
    pub(crate) fn new(kind: RequestKind, req_id: Option<u32>, spends: bool, bytes: Vec<u8>) -> Self {
        Self { kind, req_id, spends, bytes }
    }
}

impl AsRef<[u8]> for Request {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl core::fmt::Debug for Request {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { kind, req_id, spends, bytes } = self;
        write!(f, "Request {{ kind: {kind:?}, req_id: {req_id:?}, spends: {spends}, bytes: [{} bytes] }}", bytes.len())
    }
}

/// The result of one call: requests to send to the relay, in order, and events for the app.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use = "requests must be sent to the relay and events shown to the app"]
pub struct Output {
    /// Requests to send in this order over the link.
    pub to_relay: Vec<Request>,
    /// Events, in the order they happened.
    pub events: Vec<Event>,
}

impl Output {
    pub(crate) fn event(e: Event) -> Self {
        Self { to_relay: Vec::new(), events: vec![e] }
    }
    pub(crate) fn request(r: Request) -> Self {
        Self { to_relay: vec![r], events: Vec::new() }
    }
    /// Whether the state must be saved before this output's requests leave: one of them spends
    /// state, or an operation was queued (it exists only in the state until it leaves).
    pub fn must_save(&self) -> bool {
        self.to_relay.iter().any(|r| r.spends) || self.events.iter().any(|e| matches!(e, Event::OperationQueued { .. }))
    }
    /// The requests' bytes, in order (for apps that send bytes and nothing else).
    pub fn request_bytes(&self) -> impl Iterator<Item = &[u8]> {
        self.to_relay.iter().map(|r| r.bytes.as_slice())
    }
    /// The first rejected frame's error, if any (convenience for tests and logs).
    pub fn rejection(&self) -> Option<&Error> {
        self.events.iter().find_map(|e| match e {
            Event::FrameRejected { error, .. } => Some(error),
            _ => None,
        })
    }
    /// The messages among the events.
    pub fn messages(&self) -> impl Iterator<Item = &ReceivedMessage> {
        self.events.iter().filter_map(|e| match e {
            Event::Message(m) => Some(m),
            _ => None,
        })
    }
    pub(crate) fn extend(&mut self, other: Output) {
        self.to_relay.extend(other.to_relay);
        self.events.extend(other.events);
    }
}
