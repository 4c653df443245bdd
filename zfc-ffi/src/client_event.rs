//! What a `zfc_client` hands out besides results: socket actions (`zfc_transmit`) and events
//! (`zfc_client_event`), each an owned handle whose accessors' pointers borrow from it.

use zfc_client::content::Content;
use zfc_client::{ClientEvent, EpochChange, RoomOperation, Transmit};

use crate::boundary::{free_handle, into_handle};
use crate::output::zfc_operation;
use crate::result::zfc_result;

/// What a socket action asks.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum zfc_transmit_kind {
    /// Open a WebSocket to the URL in `data` (also NUL-terminated); report it with
    /// zfc_client_handle_connected(conn), or zfc_client_handle_closed(conn) if it fails.
    ZFC_TRANSMIT_CONNECT = 1,
    /// Write `data` as one binary message on socket `conn`.
    ZFC_TRANSMIT_SEND = 2,
    /// Close socket `conn` (`data`: the reason, for logs).
    ZFC_TRANSMIT_CLOSE = 3,
}

/// One socket action (from zfc_client_poll_transmit).
pub struct zfc_transmit {
    kind: zfc_transmit_kind,
    conn: u64,
    /// The bytes, and for text one NUL after them (not counted in the length).
    data: Vec<u8>,
    len: usize,
}

impl zfc_transmit {
    pub(crate) fn new(t: Transmit) -> *mut zfc_transmit {
        let (kind, conn, data, text) = match t {
            Transmit::Connect { conn, url } => (zfc_transmit_kind::ZFC_TRANSMIT_CONNECT, conn, url.into_bytes(), true),
            Transmit::Send { conn, bytes } => (zfc_transmit_kind::ZFC_TRANSMIT_SEND, conn, bytes, false),
            Transmit::Close { conn, reason } => {
                (zfc_transmit_kind::ZFC_TRANSMIT_CLOSE, conn, reason.into_bytes(), true)
            }
        };
        let len = data.len();
        let mut data = data;
        if text {
            data.push(0);
        }
        into_handle(zfc_transmit { kind, conn, data, len })
    }
}

/// The action's kind (a zfc_transmit_kind); 0 for NULL.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_transmit_get_kind(transmit: *const zfc_transmit) -> u32 {
    ffi_value!(0, {
        // SAFETY: the header requires `transmit` to be NULL or a live handle from this library.
        unsafe { transmit.as_ref() }.map_or(0, |t| t.kind as u32)
    })
}

/// The socket the action is about; 0 for NULL.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_transmit_get_conn(transmit: *const zfc_transmit) -> u64 {
    ffi_value!(0, {
        // SAFETY: as in zfc_transmit_get_kind.
        unsafe { transmit.as_ref() }.map_or(0, |t| t.conn)
    })
}

/// The action's bytes (borrowed until the handle is freed) and their length.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_transmit_data(
    transmit: *const zfc_transmit,
    data_out: *mut *const u8,
    len_out: *mut usize,
) -> zfc_result {
    ffi!({
        let t = arg_ref!(transmit);
        out_check!(data_out, len_out);
        out_write!(data_out, t.data.as_ptr());
        out_write!(len_out, t.len);
        zfc_result::ZFC_OK
    })
}

/// Frees a socket action; NULL does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_transmit_free(transmit: *mut zfc_transmit) {
    ffi_void!({
        // SAFETY: the header requires `transmit` to be NULL or from this library, not yet freed.
        unsafe { free_handle(transmit) }
    })
}

/// What a client event is. Every kind but the connection ones names a `room`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum zfc_client_event_kind {
    /// A connection to the relay at `text` is up (`conn`).
    ZFC_CLIENT_EVENT_CONNECTED = 1,
    /// Connection `conn` to `text` went down (`detail`: why); the client dials again in
    /// `retry_in_ms`.
    ZFC_CLIENT_EVENT_DISCONNECTED = 2,
    /// The relay at `text` refused our admission token (`code`); creation is retried.
    ZFC_CLIENT_EVENT_ADMISSION_REFUSED = 3,
    /// A message: `member` sent it in `epoch` with number `seq`, at `position`;
    /// `content_type` (a zfc_content_type) says what `text` (TEXT, DISPLAY_NAME, TOPIC) or
    /// `data` (OTHER with `type_code`, NOT_ENVELOPE) holds; `claimed_sent_at_ms` is the
    /// sender's unverified claim (0: none); `from_history` tells a history fetch.
    ZFC_CLIENT_EVENT_MESSAGE = 4,
    /// Our message `local_id` is in the room at `position`.
    ZFC_CLIENT_EVENT_MESSAGE_SENT = 5,
    /// The relay refused our message `local_id` with `code`.
    ZFC_CLIENT_EVENT_MESSAGE_REFUSED = 6,
    /// (Owner) A join request: `key` the joiner (for zfc_client_approve_join), `text` its name
    /// (unverified), `detail` its fingerprint.
    ZFC_CLIENT_EVENT_JOIN_REQUESTED = 7,
    /// (Joiner) The owner granted the join; the confirmation left.
    ZFC_CLIENT_EVENT_GRANTED = 8,
    /// (Joiner) We are member `member` from `epoch`.
    ZFC_CLIENT_EVENT_JOINED = 9,
    /// New epoch `epoch`: `change` 0 rotation, 1 `member` added, 2 `member` removed.
    ZFC_CLIENT_EVENT_EPOCH_CHANGED = 10,
    /// `member` announced it leaves.
    ZFC_CLIENT_EVENT_MEMBER_LEFT = 11,
    /// `member` refreshed its key-delivery key.
    ZFC_CLIENT_EVENT_KEY_UPDATED = 12,
    /// We were removed; the room's keys are erased.
    ZFC_CLIENT_EVENT_REMOVED_FROM_ROOM = 13,
    /// The room was deleted; its keys are erased.
    ZFC_CLIENT_EVENT_ROOM_DELETED = 14,
    /// A frame at `position` failed a check and was dropped (`code`; `detail` in words).
    ZFC_CLIENT_EVENT_FRAME_REJECTED = 15,
    /// A history fetch ended; `position` is the first position not sent.
    ZFC_CLIENT_EVENT_HISTORY_DONE = 16,
    /// An operation (`operation`, a zfc_operation; `member`, `epoch`, `key` its details) waits.
    ZFC_CLIENT_EVENT_OPERATION_QUEUED = 17,
    /// An operation left for the first time.
    ZFC_CLIENT_EVENT_OPERATION_SENT = 18,
    /// The relay holds the operation.
    ZFC_CLIENT_EVENT_OPERATION_LANDED = 19,
    /// The operation can never land (`code`: the relay's refusal, 1000 + its code, or the local
    /// error's).
    ZFC_CLIENT_EVENT_OPERATION_FAILED = 20,
    /// An event this version of the C API does not describe.
    ZFC_CLIENT_EVENT_OTHER = 99,
}

/// One event's fields. Pointers borrow from the zfc_client_event they came from; a field a kind
/// does not use is 0, false or NULL.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct zfc_client_event_info {
    /// A zfc_client_event_kind.
    pub kind: u32,
    /// Whether `room` is set (every kind but the connection ones).
    pub has_room: bool,
    /// The room.
    pub room: [u8; 16],
    /// A connection id.
    pub conn: u64,
    /// A member number.
    pub member: u32,
    /// An epoch (or a key update's generation, for operations).
    pub epoch: u32,
    /// A sender's sequence number.
    pub seq: u32,
    /// A log position.
    pub position: u64,
    /// The id zfc_client_send returned.
    pub local_id: u64,
    /// A code of the shared table (zfc_result_text names the known ones).
    pub code: u32,
    /// For EPOCH_CHANGED: 0 rotation, 1 member added, 2 member removed.
    pub change: u32,
    /// For operation events, a zfc_operation.
    pub operation: u32,
    /// A key (a joiner's, an invite's commitment), else zeros.
    pub key: [u8; 32],
    /// For MESSAGE, a zfc_content_type.
    pub content_type: u32,
    /// For MESSAGE with ZFC_CONTENT_OTHER, the application's type.
    pub type_code: u16,
    /// The sender's claimed time, Unix ms (0: none).
    pub claimed_sent_at_ms: u64,
    /// Whether a message came from a history fetch.
    pub from_history: bool,
    /// When the client dials again, ms.
    pub retry_in_ms: u64,
    /// UTF-8 text (message text, name, topic, relay address), NUL-terminated; NULL when none.
    /// A peer's text may itself hold NUL bytes: use `text_len`, not strlen.
    pub text: *const u8,
    /// Length of `text` without the NUL.
    pub text_len: usize,
    /// Bytes (OTHER or NOT_ENVELOPE content); NULL when none.
    pub data: *const u8,
    /// Length of `data`.
    pub data_len: usize,
    /// More UTF-8 text (a disconnection's reason, a fingerprint, a refusal's detail),
    /// NUL-terminated; NULL when none.
    pub detail: *const u8,
    /// Length of `detail` without the NUL.
    pub detail_len: usize,
}

/// One event (from zfc_client_poll_event); may hold message text: zeroized when freed.
pub struct zfc_client_event {
    info: zfc_client_event_info,
    /// Owned storage the pointers of `info` borrow (NUL-terminated texts).
    text: zeroize::Zeroizing<Vec<u8>>,
    data: zeroize::Zeroizing<Vec<u8>>,
    detail: zeroize::Zeroizing<Vec<u8>>,
}

fn nul_terminated(s: String) -> Vec<u8> {
    let mut v = s.into_bytes();
    v.push(0);
    v
}

/// Copies `src` to the front of a fixed C field; whether it fit (the facade's ids and keys
/// always do: 16 and 32 bytes).
pub(crate) fn fill(dst: &mut [u8], src: &[u8]) -> bool {
    dst.get_mut(..src.len()).map(|d| d.copy_from_slice(src)).is_some()
}

/// The zfc_operation of `op`, its details written into `info`.
fn operation(op: &RoomOperation, info: &mut zfc_client_event_info) -> zfc_operation {
    use zfc_operation as O;
    let key = |info: &mut zfc_client_event_info, k: &[u8]| {
        fill(&mut info.key, k);
    };
    match op {
        RoomOperation::CreateRoom => O::ZFC_OPERATION_CREATE_ROOM,
        RoomOperation::RegisterInvite { invite_key } => {
            key(info, invite_key);
            O::ZFC_OPERATION_REGISTER_INVITE
        }
        RoomOperation::RevokeInvite { invite_key } => {
            key(info, invite_key);
            O::ZFC_OPERATION_REVOKE_INVITE
        }
        RoomOperation::Grant { joiner } => {
            key(info, joiner);
            O::ZFC_OPERATION_GRANT
        }
        RoomOperation::Add { joiner } => {
            key(info, joiner);
            O::ZFC_OPERATION_ADD
        }
        RoomOperation::Remove { member } => {
            info.member = *member;
            O::ZFC_OPERATION_REMOVE
        }
        RoomOperation::Rotate => O::ZFC_OPERATION_ROTATE,
        RoomOperation::DeleteRoom => O::ZFC_OPERATION_DELETE_ROOM,
        RoomOperation::JoinRequest => O::ZFC_OPERATION_JOIN_REQUEST,
        RoomOperation::JoinConfirm => O::ZFC_OPERATION_JOIN_CONFIRM,
        RoomOperation::KeyUpdate { generation } => {
            info.epoch = *generation;
            O::ZFC_OPERATION_KEY_UPDATE
        }
        RoomOperation::Leave => O::ZFC_OPERATION_LEAVE,
        RoomOperation::Other => O::ZFC_OPERATION_OTHER,
    }
}

impl zfc_client_event {
    pub(crate) fn new(e: ClientEvent) -> *mut zfc_client_event {
        use zfc_client_event_kind as K;
        let mut info = zfc_client_event_info {
            kind: K::ZFC_CLIENT_EVENT_OTHER as u32,
            has_room: false,
            room: [0; 16],
            conn: 0,
            member: 0,
            epoch: 0,
            seq: 0,
            position: 0,
            local_id: 0,
            code: 0,
            change: 0,
            operation: 0,
            key: [0; 32],
            content_type: 0,
            type_code: 0,
            claimed_sent_at_ms: 0,
            from_history: false,
            retry_in_ms: 0,
            text: std::ptr::null(),
            text_len: 0,
            data: std::ptr::null(),
            data_len: 0,
            detail: std::ptr::null(),
            detail_len: 0,
        };
        let (mut text, mut data, mut detail) = (None, Vec::new(), None);
        let room = |info: &mut zfc_client_event_info, r: &[u8]| {
            info.has_room = fill(&mut info.room, r);
        };
        let kind = match e {
            ClientEvent::Connected { relay, conn } => {
                (info.conn, text) = (conn, Some(relay));
                K::ZFC_CLIENT_EVENT_CONNECTED
            }
            ClientEvent::Disconnected { relay, conn, reason, retry_in_ms } => {
                (info.conn, info.retry_in_ms, text, detail) = (conn, retry_in_ms, Some(relay), Some(reason));
                K::ZFC_CLIENT_EVENT_DISCONNECTED
            }
            ClientEvent::AdmissionRefused { relay, code } => {
                (info.code, text) = (code, Some(relay));
                K::ZFC_CLIENT_EVENT_ADMISSION_REFUSED
            }
            ClientEvent::Message { room: r, message: m } => {
                room(&mut info, &r);
                (info.member, info.epoch, info.seq, info.position, info.from_history) =
                    (m.sender, m.epoch, m.seq, m.position, m.from_history);
                info.claimed_sent_at_ms = m.claimed_sent_at_ms.unwrap_or(0);
                info.content_type = match m.content {
                    Content::Text { body } => {
                        text = Some(body);
                        1
                    }
                    Content::DisplayName { name } => {
                        text = Some(name);
                        2
                    }
                    Content::Topic { topic } => {
                        text = Some(topic);
                        3
                    }
                    Content::Other { type_code, body } => {
                        (info.type_code, data) = (type_code, body);
                        4
                    }
                    Content::NotEnvelope { bytes } => {
                        data = bytes;
                        5
                    }
                    _ => 0,
                };
                K::ZFC_CLIENT_EVENT_MESSAGE
            }
            ClientEvent::MessageSent { room: r, local_id, position } => {
                room(&mut info, &r);
                (info.local_id, info.position) = (local_id, position);
                K::ZFC_CLIENT_EVENT_MESSAGE_SENT
            }
            ClientEvent::MessageRefused { room: r, local_id, code } => {
                room(&mut info, &r);
                (info.local_id, info.code) = (local_id, code);
                K::ZFC_CLIENT_EVENT_MESSAGE_REFUSED
            }
            ClientEvent::JoinRequested { room: r, joiner, name, fingerprint } => {
                room(&mut info, &r);
                fill(&mut info.key, &joiner);
                (text, detail) = (Some(name), Some(fingerprint));
                K::ZFC_CLIENT_EVENT_JOIN_REQUESTED
            }
            ClientEvent::Granted { room: r } => {
                room(&mut info, &r);
                K::ZFC_CLIENT_EVENT_GRANTED
            }
            ClientEvent::Joined { room: r, member, epoch } => {
                room(&mut info, &r);
                (info.member, info.epoch) = (member, epoch);
                K::ZFC_CLIENT_EVENT_JOINED
            }
            ClientEvent::EpochChanged { room: r, epoch, change } => {
                room(&mut info, &r);
                info.epoch = epoch;
                (info.change, info.member) = match change {
                    EpochChange::Rotation => (0, 0),
                    EpochChange::MemberAdded { member } => (1, member),
                    EpochChange::MemberRemoved { member } => (2, member),
                };
                K::ZFC_CLIENT_EVENT_EPOCH_CHANGED
            }
            ClientEvent::MemberLeft { room: r, member } => {
                room(&mut info, &r);
                info.member = member;
                K::ZFC_CLIENT_EVENT_MEMBER_LEFT
            }
            ClientEvent::KeyUpdated { room: r, member } => {
                room(&mut info, &r);
                info.member = member;
                K::ZFC_CLIENT_EVENT_KEY_UPDATED
            }
            ClientEvent::RemovedFromRoom { room: r } => {
                room(&mut info, &r);
                K::ZFC_CLIENT_EVENT_REMOVED_FROM_ROOM
            }
            ClientEvent::RoomDeleted { room: r } => {
                room(&mut info, &r);
                K::ZFC_CLIENT_EVENT_ROOM_DELETED
            }
            ClientEvent::FrameRejected { room: r, position, code, detail: d } => {
                room(&mut info, &r);
                (info.position, info.code, detail) = (position, code, Some(d));
                K::ZFC_CLIENT_EVENT_FRAME_REJECTED
            }
            ClientEvent::HistoryDone { room: r, next } => {
                room(&mut info, &r);
                info.position = next;
                K::ZFC_CLIENT_EVENT_HISTORY_DONE
            }
            ClientEvent::OperationQueued { room: r, op } => {
                room(&mut info, &r);
                info.operation = operation(&op, &mut info) as u32;
                K::ZFC_CLIENT_EVENT_OPERATION_QUEUED
            }
            ClientEvent::OperationSent { room: r, op } => {
                room(&mut info, &r);
                info.operation = operation(&op, &mut info) as u32;
                K::ZFC_CLIENT_EVENT_OPERATION_SENT
            }
            ClientEvent::OperationLanded { room: r, op } => {
                room(&mut info, &r);
                info.operation = operation(&op, &mut info) as u32;
                K::ZFC_CLIENT_EVENT_OPERATION_LANDED
            }
            ClientEvent::OperationFailed { room: r, op, code } => {
                room(&mut info, &r);
                info.operation = operation(&op, &mut info) as u32;
                info.code = code;
                K::ZFC_CLIENT_EVENT_OPERATION_FAILED
            }
        };
        info.kind = kind as u32;
        let text = zeroize::Zeroizing::new(text.map(nul_terminated).unwrap_or_default());
        let detail = zeroize::Zeroizing::new(detail.map(nul_terminated).unwrap_or_default());
        let data = zeroize::Zeroizing::new(data);
        let mut ev = Box::new(zfc_client_event { info, text, data, detail });
        // The boxed vectors do not move again: the pointers stay valid until the handle is freed.
        if let Some(len) = ev.text.len().checked_sub(1) {
            (ev.info.text, ev.info.text_len) = (ev.text.as_ptr(), len);
        }
        if !ev.data.is_empty() {
            (ev.info.data, ev.info.data_len) = (ev.data.as_ptr(), ev.data.len());
        }
        if let Some(len) = ev.detail.len().checked_sub(1) {
            (ev.info.detail, ev.info.detail_len) = (ev.detail.as_ptr(), len);
        }
        Box::into_raw(ev)
    }
}

/// The event's fields, to `*info_out` (its pointers borrow from `event`).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_event_get(
    event: *const zfc_client_event,
    info_out: *mut zfc_client_event_info,
) -> zfc_result {
    ffi!({
        let e = arg_ref!(event);
        out_check!(info_out);
        out_write!(info_out, e.info);
        zfc_result::ZFC_OK
    })
}

/// Frees an event, zeroizing what it held; NULL does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_client_event_free(event: *mut zfc_client_event) {
    ffi_void!({
        // SAFETY: the header requires `event` to be NULL or from this library, not yet freed.
        unsafe { free_handle(event) }
    })
}
