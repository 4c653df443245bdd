//! What the client hands out: `Save`, `Transmit`, `RoomInfo`, `RoomRole`, `Content`,
//! `RoomMessage`, `EpochChange`, `RoomOperation` and `ClientEvent`, as frozen Python objects
//! (the enums as classes per variant with `__match_args__`, so `match` works), converted from
//! zfc-client's owned values. Byte strings are `bytes`.

use pyo3::prelude::*;
use zfc_client::content::Content as CContent;
use zfc_client::{ClientEvent as CEvent, EpochChange as CEpoch, RoomOperation as COp, RoomRole as CRole};

/// A sealed state to write (atomically) before `Client.state_saved(generation)`.
#[pyclass(frozen, module = "zfc")]
pub struct Save {
    /// The sealed client state.
    #[pyo3(get)]
    pub bytes: Vec<u8>,
    /// Its generation, for `Client.state_saved`.
    #[pyo3(get)]
    pub generation: u64,
}

impl From<zfc_client::Save> for Save {
    fn from(s: zfc_client::Save) -> Self {
        Self { bytes: s.bytes, generation: s.generation }
    }
}

#[pymethods]
impl Save {
    fn __repr__(&self) -> String {
        format!("Save(generation={}, bytes=<{} bytes>)", self.generation, self.bytes.len())
    }
}

/// What the app's sockets must do next.
#[pyclass(frozen, module = "zfc")]
pub enum Transmit {
    /// Open a WebSocket to `url` and report it as `conn`.
    Connect { conn: u64, url: String },
    /// Write `bytes` on `conn` as one binary message.
    Send { conn: u64, bytes: Vec<u8> },
    /// Close `conn`, saying `reason`.
    Close { conn: u64, reason: String },
}

impl From<zfc_client::Transmit> for Transmit {
    fn from(t: zfc_client::Transmit) -> Self {
        match t {
            zfc_client::Transmit::Connect { conn, url } => Self::Connect { conn, url },
            zfc_client::Transmit::Send { conn, bytes } => Self::Send { conn, bytes },
            zfc_client::Transmit::Close { conn, reason } => Self::Close { conn, reason },
        }
    }
}

/// This party's part in a room.
#[pyclass(frozen, eq, eq_int, module = "zfc")]
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RoomRole {
    /// It created the room.
    #[pyo3(name = "OWNER")]
    Owner,
    /// Its join is under way.
    #[pyo3(name = "JOINING")]
    Joining,
    /// A member.
    #[pyo3(name = "MEMBER")]
    Member,
    /// Removed, left, or the room was deleted.
    #[pyo3(name = "GONE")]
    Gone,
}

impl From<CRole> for RoomRole {
    fn from(r: CRole) -> Self {
        match r {
            CRole::Owner => Self::Owner,
            CRole::Joining => Self::Joining,
            CRole::Member => Self::Member,
            CRole::Gone => Self::Gone,
        }
    }
}

/// A room as this party sees it.
#[pyclass(frozen, get_all, module = "zfc")]
pub struct RoomInfo {
    /// The room id (16 bytes).
    pub room: Vec<u8>,
    /// The relay's URL.
    pub relay_url: String,
    /// The relay's pinned key.
    pub relay_key: Vec<u8>,
    /// This party's part.
    pub role: RoomRole,
    /// Its member number, once it has one.
    pub member: Option<u32>,
    /// The epoch it is in, once it has one.
    pub epoch: Option<u32>,
    /// The member numbers it knows, ascending.
    pub members: Vec<u32>,
}

impl From<zfc_client::RoomInfo> for RoomInfo {
    fn from(i: zfc_client::RoomInfo) -> Self {
        Self {
            room: i.room,
            relay_url: i.relay_url,
            relay_key: i.relay_key,
            role: i.role.into(),
            member: i.member,
            epoch: i.epoch,
            members: i.members,
        }
    }
}

#[pymethods]
impl RoomInfo {
    fn __repr__(&self) -> String {
        format!(
            "RoomInfo(role={:?}, member={:?}, epoch={:?}, members={:?})",
            self.role as u8, self.member, self.epoch, self.members
        )
    }
}

/// What a room message carries (spec §21). Untrusted text: sanitise before display.
#[pyclass(frozen, eq, module = "zfc")]
#[derive(Clone, PartialEq, Eq)]
pub enum Content {
    /// A chat message.
    Text { body: String },
    /// The name the sender wants shown for itself (empty: withdrawn).
    DisplayName { name: String },
    /// The room's topic (honoured only from the owner, member 0).
    Topic { topic: String },
    /// An envelope of a type this version does not know, kept as is.
    Other { type_code: u16, body: Vec<u8> },
    /// Content that is no envelope at all, every byte as received.
    NotEnvelope { bytes: Vec<u8> },
}

impl From<CContent> for Content {
    fn from(c: CContent) -> Self {
        match c {
            CContent::Text { body } => Self::Text { body },
            CContent::DisplayName { name } => Self::DisplayName { name },
            CContent::Topic { topic } => Self::Topic { topic },
            CContent::Other { type_code, body } => Self::Other { type_code, body },
            CContent::NotEnvelope { bytes } => Self::NotEnvelope { bytes },
            // A kind a later zfc-client adds: its bytes are not at hand here; say so plainly.
            _ => Self::NotEnvelope { bytes: Vec::new() },
        }
    }
}

impl From<&Content> for CContent {
    fn from(c: &Content) -> Self {
        match c {
            Content::Text { body } => Self::Text { body: body.clone() },
            Content::DisplayName { name } => Self::DisplayName { name: name.clone() },
            Content::Topic { topic } => Self::Topic { topic: topic.clone() },
            Content::Other { type_code, body } => Self::Other { type_code: *type_code, body: body.clone() },
            Content::NotEnvelope { bytes } => Self::NotEnvelope { bytes: bytes.clone() },
        }
    }
}

/// One message read in a room.
#[pyclass(frozen, get_all, module = "zfc")]
pub struct RoomMessage {
    /// The sender's member number (authenticated).
    pub sender: u32,
    /// The epoch it was sealed in.
    pub epoch: u32,
    /// The sender's sequence number in that epoch.
    pub seq: u32,
    /// Its position in the relay's log.
    pub position: u64,
    /// Whether it came from a history fetch.
    pub from_history: bool,
    /// What it carries.
    pub content: Py<Content>,
    /// The sender's clock when it sent (Unix ms): the sender's claim, not verified.
    pub claimed_sent_at_ms: Option<u64>,
}

#[pymethods]
impl RoomMessage {
    #[classattr]
    fn __match_args__() -> (&'static str, &'static str, &'static str) {
        ("sender", "content", "claimed_sent_at_ms")
    }
    fn __repr__(&self) -> String {
        format!(
            "RoomMessage(sender={}, epoch={}, seq={}, position={})",
            self.sender, self.epoch, self.seq, self.position
        )
    }
}

/// Why an epoch began.
#[pyclass(frozen, eq, module = "zfc")]
#[derive(Clone, PartialEq, Eq)]
pub enum EpochChange {
    /// A rotation.
    Rotation {},
    /// A member was added.
    MemberAdded { member: u32 },
    /// A member was removed.
    MemberRemoved { member: u32 },
}

impl From<CEpoch> for EpochChange {
    fn from(c: CEpoch) -> Self {
        match c {
            CEpoch::Rotation => Self::Rotation {},
            CEpoch::MemberAdded { member } => Self::MemberAdded { member },
            CEpoch::MemberRemoved { member } => Self::MemberRemoved { member },
        }
    }
}

/// A room operation the client tracks until the relay took it (queued, sent, landed, failed).
#[pyclass(frozen, eq, module = "zfc")]
#[derive(Clone, PartialEq, Eq)]
pub enum RoomOperation {
    /// The room's creation.
    CreateRoom {},
    /// A new invite, by its public key.
    RegisterInvite { invite_key: Vec<u8> },
    /// An invite revoked.
    RevokeInvite { invite_key: Vec<u8> },
    /// A join granted to `joiner`.
    Grant { joiner: Vec<u8> },
    /// `joiner` added by a commit.
    Add { joiner: Vec<u8> },
    /// `member` removed by a commit.
    Remove { member: u32 },
    /// A rotation.
    Rotate {},
    /// The room's deletion.
    DeleteRoom {},
    /// This party's join request.
    JoinRequest {},
    /// This party's join confirmation.
    JoinConfirm {},
    /// This member's key update.
    KeyUpdate { generation: u32 },
    /// This member's leave.
    Leave {},
    /// An operation a later version names.
    Other {},
}

impl From<COp> for RoomOperation {
    fn from(o: COp) -> Self {
        match o {
            COp::CreateRoom => Self::CreateRoom {},
            COp::RegisterInvite { invite_key } => Self::RegisterInvite { invite_key },
            COp::RevokeInvite { invite_key } => Self::RevokeInvite { invite_key },
            COp::Grant { joiner } => Self::Grant { joiner },
            COp::Add { joiner } => Self::Add { joiner },
            COp::Remove { member } => Self::Remove { member },
            COp::Rotate => Self::Rotate {},
            COp::DeleteRoom => Self::DeleteRoom {},
            COp::JoinRequest => Self::JoinRequest {},
            COp::JoinConfirm => Self::JoinConfirm {},
            COp::KeyUpdate { generation } => Self::KeyUpdate { generation },
            COp::Leave => Self::Leave {},
            COp::Other => Self::Other {},
        }
    }
}

/// What the client tells the app, in order.
#[pyclass(frozen, module = "zfc")]
pub enum ClientEvent {
    /// A relay connection is up and authenticated.
    Connected { relay: String, conn: u64 },
    /// A relay connection was lost; the client dials again in `retry_in_ms`.
    Disconnected { relay: String, conn: u64, reason: String, retry_in_ms: u64 },
    /// The relay refused this client's admission token (`code`): room creation there fails.
    AdmissionRefused { relay: String, code: u32 },
    /// A message was read.
    Message { room: Vec<u8>, message: Py<RoomMessage> },
    /// A message of this client's landed at `position`.
    MessageSent { room: Vec<u8>, local_id: u64, position: u64 },
    /// A message of this client's was refused for good (`code`).
    MessageRefused { room: Vec<u8>, local_id: u64, code: u32 },
    /// Someone asks to join (owner only): compare `fingerprint` out of band, then approve or reject.
    JoinRequested { room: Vec<u8>, joiner: Vec<u8>, name: String, fingerprint: String },
    /// The owner granted this party's join.
    Granted { room: Vec<u8> },
    /// This party joined as `member` in `epoch`.
    Joined { room: Vec<u8>, member: u32, epoch: u32 },
    /// A new epoch began.
    EpochChanged { room: Vec<u8>, epoch: u32, change: Py<EpochChange> },
    /// A member left.
    MemberLeft { room: Vec<u8>, member: u32 },
    /// A member updated its key.
    KeyUpdated { room: Vec<u8>, member: u32 },
    /// This party was removed; the room's keys are erased.
    RemovedFromRoom { room: Vec<u8> },
    /// The owner deleted the room.
    RoomDeleted { room: Vec<u8> },
    /// A frame from the relay failed a check (`code`) and was skipped.
    FrameRejected { room: Vec<u8>, position: u64, code: u32, detail: String },
    /// A history fetch is done; `next` is where the next one starts.
    HistoryDone { room: Vec<u8>, next: u64 },
    /// An operation waits for a connection.
    OperationQueued { room: Vec<u8>, op: Py<RoomOperation> },
    /// An operation went to the relay.
    OperationSent { room: Vec<u8>, op: Py<RoomOperation> },
    /// The relay took an operation.
    OperationLanded { room: Vec<u8>, op: Py<RoomOperation> },
    /// An operation failed for good (`code`).
    OperationFailed { room: Vec<u8>, op: Py<RoomOperation>, code: u32 },
}

impl ClientEvent {
    /// `e` as Python objects.
    pub fn from_client(py: Python<'_>, e: CEvent) -> PyResult<Self> {
        // `into_pyobject` (not `Py::new`) makes the variant's class, e.g. `RoomOperation.Rotate`.
        let op = |op: COp| RoomOperation::from(op).into_pyobject(py).map(Bound::unbind);
        Ok(match e {
            CEvent::Connected { relay, conn } => Self::Connected { relay, conn },
            CEvent::Disconnected { relay, conn, reason, retry_in_ms } => {
                Self::Disconnected { relay, conn, reason, retry_in_ms }
            }
            CEvent::AdmissionRefused { relay, code } => Self::AdmissionRefused { relay, code },
            CEvent::Message { room, message: m } => {
                let content = Content::from(m.content).into_pyobject(py)?.unbind();
                let message = Py::new(
                    py,
                    RoomMessage {
                        sender: m.sender,
                        epoch: m.epoch,
                        seq: m.seq,
                        position: m.position,
                        from_history: m.from_history,
                        content,
                        claimed_sent_at_ms: m.claimed_sent_at_ms,
                    },
                )?;
                Self::Message { room, message }
            }
            CEvent::MessageSent { room, local_id, position } => Self::MessageSent { room, local_id, position },
            CEvent::MessageRefused { room, local_id, code } => Self::MessageRefused { room, local_id, code },
            CEvent::JoinRequested { room, joiner, name, fingerprint } => {
                Self::JoinRequested { room, joiner, name, fingerprint }
            }
            CEvent::Granted { room } => Self::Granted { room },
            CEvent::Joined { room, member, epoch } => Self::Joined { room, member, epoch },
            CEvent::EpochChanged { room, epoch, change } => {
                Self::EpochChanged { room, epoch, change: EpochChange::from(change).into_pyobject(py)?.unbind() }
            }
            CEvent::MemberLeft { room, member } => Self::MemberLeft { room, member },
            CEvent::KeyUpdated { room, member } => Self::KeyUpdated { room, member },
            CEvent::RemovedFromRoom { room } => Self::RemovedFromRoom { room },
            CEvent::RoomDeleted { room } => Self::RoomDeleted { room },
            CEvent::FrameRejected { room, position, code, detail } => {
                Self::FrameRejected { room, position, code, detail }
            }
            CEvent::HistoryDone { room, next } => Self::HistoryDone { room, next },
            CEvent::OperationQueued { room, op: o } => Self::OperationQueued { room, op: op(o)? },
            CEvent::OperationSent { room, op: o } => Self::OperationSent { room, op: op(o)? },
            CEvent::OperationLanded { room, op: o } => Self::OperationLanded { room, op: op(o)? },
            CEvent::OperationFailed { room, op: o, code } => Self::OperationFailed { room, op: op(o)?, code },
        })
    }
}
