//! What a call hands back: requests for the relay and events for the app.

use zfc_core::{EpochReason, Event, Failure, Operation, Output};

use crate::boundary::{free_handle, into_handle};
use crate::result::zfc_result;

/// The requests and events of one call.
pub struct zfc_output {
    requests: Vec<Vec<u8>>,
    events: Vec<(Event, Vec<u8>)>,
}

impl zfc_output {
    /// Boxes an output; `room_id` renders fingerprints of join requests.
    pub(crate) fn new(out: Output) -> *mut zfc_output {
        let events = out
            .events
            .into_iter()
            .map(|e| {
                let text = match &e {
                    Event::JoinRequested { fingerprint, .. } => fingerprint.as_bytes().to_vec(),
                    _ => Vec::new(),
                };
                (e, text)
            })
            .collect();
        into_handle(zfc_output { requests: out.to_relay.into_iter().map(|r| r.bytes).collect(), events })
    }
}

/// What an event is.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum zfc_event_kind {
    /// (Owner) A join request: `key` is the joiner's key (answer with zfc_owner_approve_join or
    /// zfc_owner_reject_join), `data` its name (UTF-8, unverified), `text` its fingerprint.
    ZFC_EVENT_JOIN_REQUESTED = 1,
    /// (Joiner) The grant was opened and the confirmation sent.
    ZFC_EVENT_GRANTED = 2,
    /// (Joiner) We are a member: `member` is our number, `epoch` the epoch we joined in.
    ZFC_EVENT_JOINED = 3,
    /// A message: `member` sent it in `epoch` with number `seq`; `position` is its place in the
    /// room's order; `data` is the content; `from_history` tells a history fetch.
    ZFC_EVENT_MESSAGE = 4,
    /// New epoch `epoch`; `code` is 0 rotation, 1 member added, 2 member removed; `member` the
    /// member added or removed.
    ZFC_EVENT_EPOCH_CHANGED = 5,
    /// `member` announced it leaves.
    ZFC_EVENT_MEMBER_LEFT = 6,
    /// `member` refreshed its key-delivery key.
    ZFC_EVENT_KEY_UPDATED = 7,
    /// We were removed; every key was erased.
    ZFC_EVENT_REMOVED_FROM_ROOM = 8,
    /// The room was deleted; every key was erased.
    ZFC_EVENT_ROOM_DELETED = 9,
    /// The relay accepted request `request` at log position `position` (0 if not logged).
    ZFC_EVENT_ACCEPTED = 10,
    /// The relay refused request `request` with code `code` (see zfc_reject_name).
    ZFC_EVENT_REJECTED = 11,
    /// A frame at `position` failed a check and was dropped; `code` is the zfc_result saying why.
    ZFC_EVENT_FRAME_REJECTED = 12,
    /// A history fetch ended; `position` is the first position not sent.
    ZFC_EVENT_HISTORY_DONE = 13,
    /// A request that must land left for the first time (`operation` says which; `member`,
    /// `epoch` and `key` its details, see zfc_operation).
    ZFC_EVENT_OPERATION_SENT = 14,
    /// An operation waits (behind the commit in flight, or behind resends that wait for the
    /// connection's authentication); ZFC_EVENT_OPERATION_SENT follows when it leaves.
    ZFC_EVENT_OPERATION_QUEUED = 15,
    /// The relay holds the operation (for a commit: met in the room log).
    ZFC_EVENT_OPERATION_LANDED = 16,
    /// The operation can never land: the relay refused it with `code` (zfc_reject_name), or, when
    /// `code` is 0, it could not be built and `error` is the zfc_result saying why.
    ZFC_EVENT_OPERATION_FAILED = 17,
    /// An event this version of the C API does not describe.
    ZFC_EVENT_OTHER = 99,
}

/// Which operation an operation event names (spec §9.7), and where its details are.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum zfc_operation {
    /// Not an operation event.
    ZFC_OPERATION_NONE = 0,
    /// (Owner) Creating the room.
    ZFC_OPERATION_CREATE_ROOM = 1,
    /// (Owner) Registering the invite whose commitment is `key`.
    ZFC_OPERATION_REGISTER_INVITE = 2,
    /// (Owner) Revoking the invite whose commitment is `key`.
    ZFC_OPERATION_REVOKE_INVITE = 3,
    /// (Owner) Granting the join of `key`.
    ZFC_OPERATION_GRANT = 4,
    /// (Owner) Adding the joiner `key` (its Welcome, then its commit).
    ZFC_OPERATION_ADD = 5,
    /// (Owner) Removing `member`.
    ZFC_OPERATION_REMOVE = 6,
    /// (Owner) Rotating the epoch key.
    ZFC_OPERATION_ROTATE = 7,
    /// (Owner) Deleting the room.
    ZFC_OPERATION_DELETE_ROOM = 8,
    /// (Joiner) The join request.
    ZFC_OPERATION_JOIN_REQUEST = 9,
    /// (Joiner) The confirmation of the grant.
    ZFC_OPERATION_JOIN_CONFIRM = 10,
    /// (Member) The key update of generation `epoch`.
    ZFC_OPERATION_KEY_UPDATE = 11,
    /// (Member) Leaving.
    ZFC_OPERATION_LEAVE = 12,
    /// An operation this version of the C API does not describe.
    ZFC_OPERATION_OTHER = 99,
}

/// The zfc_operation of `op`, with its details written into `ev`.
fn operation(op: &Operation, ev: &mut zfc_event) -> zfc_operation {
    use zfc_operation as O;
    match op {
        Operation::CreateRoom => O::ZFC_OPERATION_CREATE_ROOM,
        Operation::RegisterInvite { invite_pk } => {
            ev.key = invite_pk.to_bytes();
            O::ZFC_OPERATION_REGISTER_INVITE
        }
        Operation::RevokeInvite { invite_pk } => {
            ev.key = invite_pk.to_bytes();
            O::ZFC_OPERATION_REVOKE_INVITE
        }
        Operation::Grant { joiner } => {
            ev.key = joiner.to_bytes();
            O::ZFC_OPERATION_GRANT
        }
        Operation::Add { joiner } => {
            ev.key = joiner.to_bytes();
            O::ZFC_OPERATION_ADD
        }
        Operation::Remove { member } => {
            ev.member = *member;
            O::ZFC_OPERATION_REMOVE
        }
        Operation::Rotate => O::ZFC_OPERATION_ROTATE,
        Operation::DeleteRoom => O::ZFC_OPERATION_DELETE_ROOM,
        Operation::JoinRequest => O::ZFC_OPERATION_JOIN_REQUEST,
        Operation::JoinConfirm => O::ZFC_OPERATION_JOIN_CONFIRM,
        Operation::KeyUpdate { generation } => {
            ev.epoch = *generation;
            O::ZFC_OPERATION_KEY_UPDATE
        }
        Operation::Leave => O::ZFC_OPERATION_LEAVE,
        _ => O::ZFC_OPERATION_OTHER,
    }
}

/// One event. Pointers borrow from the zfc_output it came from.
#[repr(C)]
pub struct zfc_event {
    /// A zfc_event_kind.
    pub kind: u32,
    /// A member number (see the kind).
    pub member: u32,
    /// An epoch.
    pub epoch: u32,
    /// A sender's sequence number.
    pub seq: u32,
    /// A request id.
    pub request: u32,
    /// A code (see the kind).
    pub code: u32,
    /// A log position.
    pub position: u64,
    /// Whether a message came from a history fetch.
    pub from_history: bool,
    /// Message content or joiner name; NULL when empty.
    pub data: *const u8,
    /// Length of `data`.
    pub data_len: usize,
    /// Fingerprint text (not NUL-terminated); NULL when empty.
    pub text: *const u8,
    /// Length of `text`.
    pub text_len: usize,
    /// A key (the joiner's, for ZFC_EVENT_JOIN_REQUESTED; see zfc_operation), else zeros.
    pub key: [u8; 32],
    /// For the ZFC_EVENT_OPERATION_* kinds, a zfc_operation; else 0.
    pub operation: u32,
    /// For ZFC_EVENT_OPERATION_FAILED with `code` 0, the zfc_result saying why; else 0.
    pub error: u32,
}

fn bytes_ptr(b: &[u8]) -> (*const u8, usize) {
    if b.is_empty() { (std::ptr::null(), 0) } else { (b.as_ptr(), b.len()) }
}

fn describe(e: &Event, text: &[u8]) -> zfc_event {
    let mut ev = zfc_event {
        kind: zfc_event_kind::ZFC_EVENT_OTHER as u32,
        member: 0,
        epoch: 0,
        seq: 0,
        request: 0,
        code: 0,
        position: 0,
        from_history: false,
        data: std::ptr::null(),
        data_len: 0,
        text: std::ptr::null(),
        text_len: 0,
        key: [0; 32],
        operation: zfc_operation::ZFC_OPERATION_NONE as u32,
        error: 0,
    };
    let kind = match e {
        Event::JoinRequested { joiner, name, .. } => {
            ev.key = joiner.to_bytes();
            (ev.data, ev.data_len) = bytes_ptr(name.as_bytes());
            (ev.text, ev.text_len) = bytes_ptr(text);
            zfc_event_kind::ZFC_EVENT_JOIN_REQUESTED
        }
        Event::Granted => zfc_event_kind::ZFC_EVENT_GRANTED,
        Event::Joined { member, epoch } => {
            (ev.member, ev.epoch) = (*member, *epoch);
            zfc_event_kind::ZFC_EVENT_JOINED
        }
        Event::Message(m) => {
            (ev.member, ev.epoch, ev.seq, ev.position, ev.from_history) =
                (m.sender, m.epoch, m.seq, m.relay_seq.get(), m.from_history);
            (ev.data, ev.data_len) = bytes_ptr(&m.content);
            zfc_event_kind::ZFC_EVENT_MESSAGE
        }
        Event::EpochChanged { epoch, reason } => {
            ev.epoch = *epoch;
            (ev.code, ev.member) = match reason {
                EpochReason::Rotation => (0, 0),
                EpochReason::MemberAdded(m) => (1, *m),
                EpochReason::MemberRemoved(m) => (2, *m),
            };
            zfc_event_kind::ZFC_EVENT_EPOCH_CHANGED
        }
        Event::MemberLeft(m) => {
            ev.member = *m;
            zfc_event_kind::ZFC_EVENT_MEMBER_LEFT
        }
        Event::KeyUpdated(m) => {
            ev.member = *m;
            zfc_event_kind::ZFC_EVENT_KEY_UPDATED
        }
        Event::RemovedFromRoom => zfc_event_kind::ZFC_EVENT_REMOVED_FROM_ROOM,
        Event::RoomDeleted => zfc_event_kind::ZFC_EVENT_ROOM_DELETED,
        Event::Accepted { req_id, seq } => {
            (ev.request, ev.position) = (*req_id, seq.get());
            zfc_event_kind::ZFC_EVENT_ACCEPTED
        }
        Event::Rejected { req_id, reason } => {
            (ev.request, ev.code) = (*req_id, u32::from(reason.code()));
            zfc_event_kind::ZFC_EVENT_REJECTED
        }
        Event::FrameRejected { position, error } => {
            ev.position = *position;
            ev.code = zfc_result::from(error.clone()) as u32;
            zfc_event_kind::ZFC_EVENT_FRAME_REJECTED
        }
        Event::HistoryDone { next } => {
            ev.position = next.get();
            zfc_event_kind::ZFC_EVENT_HISTORY_DONE
        }
        Event::OperationSent { op } => {
            ev.operation = operation(op, &mut ev) as u32;
            zfc_event_kind::ZFC_EVENT_OPERATION_SENT
        }
        Event::OperationQueued { op } => {
            ev.operation = operation(op, &mut ev) as u32;
            zfc_event_kind::ZFC_EVENT_OPERATION_QUEUED
        }
        Event::OperationLanded { op } => {
            ev.operation = operation(op, &mut ev) as u32;
            zfc_event_kind::ZFC_EVENT_OPERATION_LANDED
        }
        Event::OperationFailed { op, reason } => {
            ev.operation = operation(op, &mut ev) as u32;
            match reason {
                Failure::Refused(code) => ev.code = u32::from(*code),
                Failure::Invalid(e) => ev.error = zfc_result::from(e.clone()) as u32,
                _ => ev.error = zfc_result::ZFC_ERR_UNKNOWN as u32,
            }
            zfc_event_kind::ZFC_EVENT_OPERATION_FAILED
        }
        _ => zfc_event_kind::ZFC_EVENT_OTHER,
    };
    ev.kind = kind as u32;
    ev
}

/// Hands the output of a core call to C, or turns its error into a result code. The caller
/// checked `out` with `out_check!`.
pub(crate) fn emit(r: Result<Output, zfc_core::Error>, out: *mut *mut zfc_output) -> zfc_result {
    match r {
        Ok(o) => {
            out_write!(out, zfc_output::new(o));
            zfc_result::ZFC_OK
        }
        Err(e) => e.into(),
    }
}

/// Number of requests to send to the relay, in order; 0 for NULL.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_output_request_count(out: *const zfc_output) -> usize {
    ffi_value!(0, {
        // SAFETY: the header requires `out` to be NULL or a live output from this library.
        unsafe { out.as_ref() }.map(|o| o.requests.len()).unwrap_or(0)
    })
}

/// Request `index` (borrowed until `out` is freed): send its bytes over the link, in order.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_output_request(
    out: *const zfc_output,
    index: usize,
    data_out: *mut *const u8,
    len_out: *mut usize,
) -> zfc_result {
    ffi!({
        let out = arg_ref!(out);
        out_check!(data_out, len_out);
        let Some(r) = out.requests.get(index) else { return zfc_result::ZFC_ERR_INDEX };
        out_write!(data_out, r.as_ptr());
        out_write!(len_out, r.len());
        zfc_result::ZFC_OK
    })
}

/// Number of events; 0 for NULL.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_output_event_count(out: *const zfc_output) -> usize {
    ffi_value!(0, {
        // SAFETY: the header requires `out` to be NULL or a live output from this library.
        unsafe { out.as_ref() }.map(|o| o.events.len()).unwrap_or(0)
    })
}

/// Event `index`, written to `*event_out` (its pointers borrow from `out`).
#[unsafe(no_mangle)]
pub extern "C" fn zfc_output_event(out: *const zfc_output, index: usize, event_out: *mut zfc_event) -> zfc_result {
    ffi!({
        let out = arg_ref!(out);
        out_check!(event_out);
        let Some((e, text)) = out.events.get(index) else { return zfc_result::ZFC_ERR_INDEX };
        out_write!(event_out, describe(e, text));
        zfc_result::ZFC_OK
    })
}

/// Frees an output; NULL does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_output_free(out: *mut zfc_output) {
    ffi_void!({
        // SAFETY: the header requires `out` to be NULL or from this library, not yet freed.
        unsafe { free_handle(out) }
    })
}
