//! [`ClientEvent`]: what a [`crate::Client`] tells the app, as owned records that every binding
//! carries as they are (byte vectors, strings, numbers; no borrowed data, no `[u8; N]`).
//!
//! Invariant: every event names the room it concerns (16-byte id) or the relay address of the
//! connection it concerns; the codes in events are numbers of the shared table
//! (`zfc_core::code`), relay refusals as `RELAY_BASE` + the relay's code.

use zfc_core::code::{ErrorCode, RELAY_BASE};
use zfc_core::{EpochReason, Event, Failure, Operation};

use crate::content::{Content, Envelope};

/// A room message as the app shows it: the content decoded (spec §21).
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomMessage {
    /// The sender's member number (authenticated by its signature; 0 is the owner).
    pub sender: u32,
    /// The epoch it was sealed in.
    pub epoch: u32,
    /// The sender's sequence number in that epoch.
    pub seq: u32,
    /// Its position in the room's log: identifies it (a message seen again after a crash has
    /// the same position).
    pub position: u64,
    /// Whether it came from a history fetch rather than the live stream.
    pub from_history: bool,
    /// The content.
    pub content: Content,
    /// When the sender says it sent it (Unix milliseconds): the sender's claim, not checked by
    /// anyone.
    pub claimed_sent_at_ms: Option<u64>,
}

/// A request that must reach the relay (spec §9.7), as events name it.
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoomOperation {
    /// (Owner) Creating the room.
    CreateRoom,
    /// (Owner) Registering an invite (its 32-byte commitment).
    RegisterInvite {
        /// The invite's key.
        invite_key: Vec<u8>,
    },
    /// (Owner) Revoking an invite, or refusing a join.
    RevokeInvite {
        /// The invite's key.
        invite_key: Vec<u8>,
    },
    /// (Owner) Granting a join request.
    Grant {
        /// The joiner's 32-byte key.
        joiner: Vec<u8>,
    },
    /// (Owner) Adding a confirmed joiner.
    Add {
        /// The joiner's 32-byte key.
        joiner: Vec<u8>,
    },
    /// (Owner) Removing a member.
    Remove {
        /// The member.
        member: u32,
    },
    /// (Owner) Rotating the room key.
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
    /// An operation this version of the facade does not name.
    Other,
}

impl From<Operation> for RoomOperation {
    fn from(op: Operation) -> Self {
        match op {
            Operation::CreateRoom => Self::CreateRoom,
            Operation::RegisterInvite { invite_pk } => {
                Self::RegisterInvite { invite_key: invite_pk.to_bytes().to_vec() }
            }
            Operation::RevokeInvite { invite_pk } => Self::RevokeInvite { invite_key: invite_pk.to_bytes().to_vec() },
            Operation::Grant { joiner } => Self::Grant { joiner: joiner.to_bytes().to_vec() },
            Operation::Add { joiner } => Self::Add { joiner: joiner.to_bytes().to_vec() },
            Operation::Remove { member } => Self::Remove { member },
            Operation::Rotate => Self::Rotate,
            Operation::DeleteRoom => Self::DeleteRoom,
            Operation::JoinRequest => Self::JoinRequest,
            Operation::JoinConfirm => Self::JoinConfirm,
            Operation::KeyUpdate { generation } => Self::KeyUpdate { generation },
            Operation::Leave => Self::Leave,
            _ => Self::Other,
        }
    }
}

/// Why the room moved to a new epoch.
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EpochChange {
    /// A rotation of the room key.
    Rotation,
    /// A member was added.
    MemberAdded {
        /// Its number.
        member: u32,
    },
    /// A member was removed (or left).
    MemberRemoved {
        /// Its number.
        member: u32,
    },
}

/// Something the app should show, log or decide. Events may repeat after a crash (the relay
/// delivers again what the last saved state had not acknowledged): a message is identified by
/// its room and [`RoomMessage::position`].
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientEvent {
    /// A connection to `relay` is up (the link to the pinned key is established).
    Connected {
        /// The relay's address.
        relay: String,
        /// The connection's id (as in [`crate::Transmit`]).
        conn: u64,
    },
    /// A connection went down; the client dials again in `retry_in_ms`.
    Disconnected {
        /// The relay's address.
        relay: String,
        /// The connection's id.
        conn: u64,
        /// Why, in words (for logs).
        reason: String,
        /// When the next attempt is due.
        retry_in_ms: u64,
    },
    /// The relay refused the admission token (code `RELAY_CREATION_RESTRICTED`): rooms waiting
    /// to be created on it wait on; the client tries again on its next connection.
    AdmissionRefused {
        /// The relay's address.
        relay: String,
        /// The shared code.
        code: u32,
    },
    /// A room message.
    Message {
        /// The room.
        room: Vec<u8>,
        /// The message.
        message: RoomMessage,
    },
    /// The relay took a message of ours ([`crate::Client::send`]'s id) into the room's log.
    /// Said once per message, however often it was sent (a copy sent again after a lost answer
    /// is settled by the first one's echo in the log).
    MessageSent {
        /// The room.
        room: Vec<u8>,
        /// What `send` returned.
        local_id: u64,
        /// Its position in the room's log; 0 when the relay refused a copy sent again as a repeat
        /// and the first one's place was not seen (the relay no longer held it).
        position: u64,
    },
    /// The relay refused a message of ours: it will not be delivered (send it again if the code
    /// says so, e.g. after a rotation that crossed it).
    MessageRefused {
        /// The room.
        room: Vec<u8>,
        /// What `send` returned.
        local_id: u64,
        /// The shared code (`RELAY_BASE` + the relay's).
        code: u32,
    },
    /// (Owner) Someone asks to join: answer with `approve_join` or `reject_join`.
    JoinRequested {
        /// The room.
        room: Vec<u8>,
        /// The joiner's 32-byte key: the handle for the answer.
        joiner: Vec<u8>,
        /// The name it gave (unverified: compare the fingerprint out of band).
        name: String,
        /// Its fingerprint.
        fingerprint: String,
    },
    /// (Joiner) The owner granted the join; the confirmation left.
    Granted {
        /// The room.
        room: Vec<u8>,
    },
    /// (Joiner) We are a member now.
    Joined {
        /// The room.
        room: Vec<u8>,
        /// Our member number.
        member: u32,
        /// The epoch we joined in.
        epoch: u32,
    },
    /// The room moved to a new epoch.
    EpochChanged {
        /// The room.
        room: Vec<u8>,
        /// The new epoch.
        epoch: u32,
        /// Why.
        change: EpochChange,
    },
    /// A member announced it leaves.
    MemberLeft {
        /// The room.
        room: Vec<u8>,
        /// The member.
        member: u32,
    },
    /// A member replaced its key-delivery key.
    KeyUpdated {
        /// The room.
        room: Vec<u8>,
        /// The member.
        member: u32,
    },
    /// We were removed from the room; its keys are erased.
    RemovedFromRoom {
        /// The room.
        room: Vec<u8>,
    },
    /// The owner deleted the room; its keys are erased.
    RoomDeleted {
        /// The room.
        room: Vec<u8>,
    },
    /// A frame failed a check and was dropped (forged, replayed, of a wrong epoch): log it.
    FrameRejected {
        /// The room.
        room: Vec<u8>,
        /// Its log position or directed-queue id.
        position: u64,
        /// The shared code.
        code: u32,
        /// The error in words.
        detail: String,
    },
    /// A history fetch ended; `next` is the first position not sent.
    HistoryDone {
        /// The room.
        room: Vec<u8>,
        /// First position not sent.
        next: u64,
    },
    /// An operation waits (behind the commit in flight, or for the connection).
    OperationQueued {
        /// The room.
        room: Vec<u8>,
        /// The operation.
        op: RoomOperation,
    },
    /// An operation's request left (or is about to, once the state is saved).
    OperationSent {
        /// The room.
        room: Vec<u8>,
        /// The operation.
        op: RoomOperation,
    },
    /// The relay holds the operation.
    OperationLanded {
        /// The room.
        room: Vec<u8>,
        /// The operation.
        op: RoomOperation,
    },
    /// The operation can never land; nothing more is sent for it.
    OperationFailed {
        /// The room.
        room: Vec<u8>,
        /// The operation.
        op: RoomOperation,
        /// The shared code: `RELAY_BASE` + the relay's refusal, or the local error's.
        code: u32,
    },
}

/// The shared code of a relay refusal.
pub(crate) fn relay_code(code: u16) -> u32 {
    RELAY_BASE + u32::from(code)
}

/// zfc-core's event as the app sees it; `None` for what the facade settles itself (answers to
/// requests, which become `MessageSent`/`MessageRefused` or operation events).
pub(crate) fn from_core(room: &[u8], event: Event) -> Option<ClientEvent> {
    let room = room.to_vec();
    Some(match event {
        Event::JoinRequested { joiner, name, fingerprint } => {
            ClientEvent::JoinRequested { room, joiner: joiner.to_bytes().to_vec(), name, fingerprint }
        }
        Event::Granted => ClientEvent::Granted { room },
        Event::Joined { member, epoch } => ClientEvent::Joined { room, member, epoch },
        Event::Message(m) => {
            let Envelope { content, claimed_sent_at_ms } = Envelope::decode(&m.content);
            let message = RoomMessage {
                sender: m.sender,
                epoch: m.epoch,
                seq: m.seq,
                position: m.relay_seq.into(),
                from_history: m.from_history,
                content,
                claimed_sent_at_ms,
            };
            ClientEvent::Message { room, message }
        }
        Event::EpochChanged { epoch, reason } => {
            let change = match reason {
                EpochReason::Rotation => EpochChange::Rotation,
                EpochReason::MemberAdded(member) => EpochChange::MemberAdded { member },
                EpochReason::MemberRemoved(member) => EpochChange::MemberRemoved { member },
            };
            ClientEvent::EpochChanged { room, epoch, change }
        }
        Event::MemberLeft(member) => ClientEvent::MemberLeft { room, member },
        Event::KeyUpdated(member) => ClientEvent::KeyUpdated { room, member },
        Event::RemovedFromRoom => ClientEvent::RemovedFromRoom { room },
        Event::RoomDeleted => ClientEvent::RoomDeleted { room },
        Event::FrameRejected { position, error } => {
            ClientEvent::FrameRejected { room, position, code: error.error_code(), detail: error.to_string() }
        }
        Event::HistoryDone { next } => ClientEvent::HistoryDone { room, next: next.into() },
        Event::OperationQueued { op } => ClientEvent::OperationQueued { room, op: op.into() },
        Event::OperationSent { op } => ClientEvent::OperationSent { room, op: op.into() },
        Event::OperationLanded { op } => ClientEvent::OperationLanded { room, op: op.into() },
        Event::OperationFailed { op, reason } => {
            let code = match reason {
                Failure::Refused(code) => relay_code(code),
                Failure::Invalid(e) => e.error_code(),
                _ => zfc_core::code::UNKNOWN,
            };
            ClientEvent::OperationFailed { room, op: op.into(), code }
        }
        Event::Accepted { .. } | Event::Rejected { .. } => return None,
        _ => return None,
    })
}
