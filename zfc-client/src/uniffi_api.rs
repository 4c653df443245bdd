//! The UniFFI surface (feature `uniffi`): what Kotlin and Swift see of the facade.
//!
//! The records and enums carry UniFFI derives where they are declared, so no binding re-declares
//! them; zfc-core's two types inside them (`Argon2Params`, `HistoryPolicy`) are declared here as
//! UniFFI remote types. [`Client`] and [`RelayAddress`] are UniFFI objects; their exported
//! methods below differ from the Rust ones only where UniFFI cannot carry a Rust signature: owned
//! `Vec<u8>` and `String` arguments instead of slices, `Arc<RelayAddress>` instead of
//! `&RelayAddress`, and [`ZfcError`] instead of [`Error`]. Each is one line calling the Rust
//! method, so the two cannot behave differently.
//!
//! Invariant: a [`ZfcError`] has the group, code and name of the [`Error`] it came from
//! (`zfc_core::code::TABLE`), so Kotlin and Swift report what C and Python report.

use std::sync::Arc;

use zeroize::Zeroizing;
use zfc_core::HistoryPolicy;
use zfc_core::code::ErrorGroup;
use zfc_core::pickle::Argon2Params;

use crate::content::Content;
use crate::{Client, ClientConfig, ClientEvent, Error, RelayAddress, RoomInfo, RoomSettings, Save, Transmit};

/// zfc-core's Argon2id parameters, as UniFFI carries them; the defaults are
/// `Argon2Params::DEFAULT` (64 MiB, 3 iterations, 1 lane).
#[uniffi::remote(Record)]
pub struct Argon2Params {
    #[uniffi(default = 65536)]
    pub m_cost_kib: u32,
    #[uniffi(default = 3)]
    pub t_cost: u32,
    #[uniffi(default = 1)]
    pub p_cost: u32,
}

/// zfc-core's history policy, as UniFFI carries it.
#[uniffi::remote(Enum)]
pub enum HistoryPolicy {
    SinceLastEpoch = 0,
    SinceJoin = 1,
}

/// Why a call failed: one variant per [`ErrorGroup`] (what a caller does about it), each with
/// the shared `code` and its `name` (`zfc_core::code::TABLE`, the numbers C's `zfc_result` and
/// Python's `.code` report) and the error in words. Kotlin: `ZfcException`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Error)]
pub enum ZfcError {
    /// Bytes from the network failed a check; nothing changed.
    PeerMisbehaved {
        /// The shared code.
        code: u32,
        /// The code's name.
        name: String,
        /// The error in words.
        detail: String,
    },
    /// The call was wrong (an argument, the state, or a closed object: `CLOSED`).
    ApiMisuse {
        /// The shared code.
        code: u32,
        /// The code's name.
        name: String,
        /// The error in words.
        detail: String,
    },
    /// An invite was refused or is malformed.
    Invite {
        /// The shared code.
        code: u32,
        /// The code's name.
        name: String,
        /// The error in words.
        detail: String,
    },
    /// The room is gone for this client.
    RoomGone {
        /// The shared code.
        code: u32,
        /// The code's name.
        name: String,
        /// The error in words.
        detail: String,
    },
    /// This side's own state: a wrong passphrase, a damaged or newer state.
    LocalState {
        /// The shared code.
        code: u32,
        /// The code's name.
        name: String,
        /// The error in words.
        detail: String,
    },
    /// The encrypted link to the relay failed.
    Link {
        /// The shared code.
        code: u32,
        /// The code's name.
        name: String,
        /// The error in words.
        detail: String,
    },
    /// The relay refused a request.
    RelayRefused {
        /// The shared code.
        code: u32,
        /// The code's name.
        name: String,
        /// The error in words.
        detail: String,
    },
    /// The connection is over.
    ConnectionClosed {
        /// The shared code.
        code: u32,
        /// The code's name.
        name: String,
        /// The error in words.
        detail: String,
    },
}

impl ZfcError {
    /// The shared code.
    pub fn code(&self) -> u32 {
        match self {
            Self::PeerMisbehaved { code, .. }
            | Self::ApiMisuse { code, .. }
            | Self::Invite { code, .. }
            | Self::RoomGone { code, .. }
            | Self::LocalState { code, .. }
            | Self::Link { code, .. }
            | Self::RelayRefused { code, .. }
            | Self::ConnectionClosed { code, .. } => *code,
        }
    }
}

impl From<Error> for ZfcError {
    fn from(e: Error) -> Self {
        let code = e.code();
        let name = e.name().unwrap_or("RELAY_UNKNOWN").to_owned();
        let detail = e.to_string();
        match e.group() {
            ErrorGroup::PeerMisbehaved => Self::PeerMisbehaved { code, name, detail },
            ErrorGroup::ApiMisuse => Self::ApiMisuse { code, name, detail },
            ErrorGroup::Invite => Self::Invite { code, name, detail },
            ErrorGroup::RoomGone => Self::RoomGone { code, name, detail },
            ErrorGroup::LocalState => Self::LocalState { code, name, detail },
            ErrorGroup::Link => Self::Link { code, name, detail },
            ErrorGroup::RelayRefused => Self::RelayRefused { code, name, detail },
            ErrorGroup::Closed => Self::ConnectionClosed { code, name, detail },
            // A group added to zfc-core later: LocalState is the group of what this version does
            // not classify; the code still says exactly what it is.
            _ => Self::LocalState { code, name, detail },
        }
    }
}

impl core::fmt::Display for ZfcError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::PeerMisbehaved { name, detail, .. }
            | Self::ApiMisuse { name, detail, .. }
            | Self::Invite { name, detail, .. }
            | Self::RoomGone { name, detail, .. }
            | Self::LocalState { name, detail, .. }
            | Self::Link { name, detail, .. }
            | Self::RelayRefused { name, detail, .. }
            | Self::ConnectionClosed { name, detail, .. } => write!(f, "{name} ({}): {detail}", self.code()),
        }
    }
}

impl std::error::Error for ZfcError {}

type Out<T> = Result<T, ZfcError>;

/// One row of the code table (`zfc_core::code::TABLE`): what C's `zfc_result_text`, Python's
/// `zfc.error_codes()` and this list all read.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ErrorCodeInfo {
    /// The stable number.
    pub code: u32,
    /// The stable name (`WRONG_PASSWORD`).
    pub name: String,
    /// Its group: the [`ZfcError`] variant it comes as (`LocalState`; `Closed` is
    /// `ConnectionClosed`).
    pub group: String,
    /// A short English description.
    pub text: String,
}

/// Every code the library can report, ascending.
#[uniffi::export]
pub fn error_codes() -> Vec<ErrorCodeInfo> {
    zfc_core::code::TABLE
        .iter()
        .map(|e| ErrorCodeInfo {
            code: e.code,
            name: e.name.to_owned(),
            group: e.group.name().to_owned(),
            text: e.text.to_owned(),
        })
        .collect()
}

/// [`crate::parse_invite`]: an invite's public fields, read without joining.
#[uniffi::export(name = "parse_invite")]
pub fn uniffi_parse_invite(uri: String) -> Out<crate::InviteInfo> {
    let uri = Zeroizing::new(uri);
    Ok(crate::parse_invite(&uri)?)
}

/// [`crate::fingerprint`]: a member key's fingerprint in a room.
#[uniffi::export(name = "fingerprint")]
pub fn uniffi_fingerprint(room: Vec<u8>, member_key: Vec<u8>) -> Out<String> {
    Ok(crate::fingerprint(&room, &member_key)?)
}

#[uniffi::export]
impl RelayAddress {
    /// A relay address from its `ws://` or `wss://` URL and its 32-byte link key.
    #[uniffi::constructor(name = "new")]
    pub fn uniffi_new(url: String, key: Vec<u8>) -> Out<Self> {
        Ok(Self::new(&url, &key)?)
    }

    /// The address to dial, as written.
    #[uniffi::method(name = "url")]
    pub fn uniffi_url(&self) -> String {
        self.url().to_owned()
    }

    /// The relay's link key (32 bytes).
    #[uniffi::method(name = "key")]
    pub fn uniffi_key(&self) -> Vec<u8> {
        self.key()
    }
}

/// The exported methods: see the Rust methods of the same name for what each does, its
/// errors. Calls marked **Blocking** can take more than ~10 ms (Argon2id, or a commit that
/// seals a key share per member); every other call returns in microseconds.
#[uniffi::export]
impl Client {
    /// [`Client::create`]. **Blocking**: Argon2id, ~0.1-1 s: never on a UI thread.
    #[uniffi::constructor(name = "create")]
    pub fn uniffi_create(config: ClientConfig, passphrase: Vec<u8>) -> Out<Self> {
        let passphrase = Zeroizing::new(passphrase);
        Ok(Self::create(config, &passphrase)?)
    }

    /// [`Client::open`]. **Blocking**: Argon2id, ~0.1-1 s: never on a UI thread.
    #[uniffi::constructor(name = "open")]
    pub fn uniffi_open(config: ClientConfig, blob: Vec<u8>, passphrase: Vec<u8>) -> Out<Self> {
        let passphrase = Zeroizing::new(passphrase);
        Ok(Self::open(config, &blob, &passphrase)?)
    }

    /// [`Client::close`]: erases every key now, even while another thread holds the object;
    /// later calls fail with `CLOSED`. Named `erase` because Kotlin's `close()` (`AutoCloseable`)
    /// is UniFFI's own: it frees the object, which erases the keys too (the client's `Drop`)
    /// once no call is in flight.
    #[uniffi::method(name = "erase")]
    pub fn uniffi_close(&self) {
        self.close();
    }

    /// [`Client::is_closed`].
    #[uniffi::method(name = "is_closed")]
    pub fn uniffi_is_closed(&self) -> bool {
        self.is_closed()
    }

    /// [`Client::set_admission_token`].
    #[uniffi::method(name = "set_admission_token")]
    pub fn uniffi_set_admission_token(&self, relay: Arc<RelayAddress>, token: Vec<u8>) -> Out<()> {
        let token = Zeroizing::new(token);
        Ok(self.set_admission_token(&relay, &token)?)
    }

    /// [`Client::create_room`].
    #[uniffi::method(name = "create_room")]
    pub fn uniffi_create_room(&self, relay: Arc<RelayAddress>, settings: RoomSettings) -> Out<Vec<u8>> {
        Ok(self.create_room(&relay, settings)?)
    }

    /// [`Client::join_room`].
    #[uniffi::method(name = "join_room")]
    pub fn uniffi_join_room(&self, invite: String, name: String) -> Out<Vec<u8>> {
        let invite = Zeroizing::new(invite);
        Ok(self.join_room(&invite, &name)?)
    }

    /// [`Client::import_room`]. **Blocking**: Argon2id of the room's own blob: never on a UI thread.
    #[uniffi::method(name = "import_room")]
    pub fn uniffi_import_room(&self, blob: Vec<u8>, passphrase: Vec<u8>, relay: Arc<RelayAddress>) -> Out<Vec<u8>> {
        let passphrase = Zeroizing::new(passphrase);
        Ok(self.import_room(&blob, &passphrase, &relay)?)
    }

    /// [`Client::invite`]: the invite string (a secret: give it to one person).
    #[uniffi::method(name = "invite")]
    pub fn uniffi_invite(&self, room: Vec<u8>, ttl_secs: u64) -> Out<String> {
        Ok(self.invite(&room, ttl_secs)?)
    }

    /// [`Client::revoke_invite`].
    #[uniffi::method(name = "revoke_invite")]
    pub fn uniffi_revoke_invite(&self, room: Vec<u8>, invite_key: Vec<u8>) -> Out<()> {
        Ok(self.revoke_invite(&room, &invite_key)?)
    }

    /// [`Client::approve_join`]. **Blocking**: a commit, one key share per member (tens of ms in a
    /// large room): never on a UI thread.
    #[uniffi::method(name = "approve_join")]
    pub fn uniffi_approve_join(&self, room: Vec<u8>, joiner: Vec<u8>) -> Out<()> {
        Ok(self.approve_join(&room, &joiner)?)
    }

    /// [`Client::reject_join`].
    #[uniffi::method(name = "reject_join")]
    pub fn uniffi_reject_join(&self, room: Vec<u8>, joiner: Vec<u8>) -> Out<()> {
        Ok(self.reject_join(&room, &joiner)?)
    }

    /// [`Client::remove_member`]. **Blocking**: a commit (tens of ms in a large room): never on a UI
    /// thread.
    #[uniffi::method(name = "remove_member")]
    pub fn uniffi_remove_member(&self, room: Vec<u8>, member: u32) -> Out<()> {
        Ok(self.remove_member(&room, member)?)
    }

    /// [`Client::rotate`]. **Blocking**: a commit (tens of ms in a large room): never on a UI thread.
    #[uniffi::method(name = "rotate")]
    pub fn uniffi_rotate(&self, room: Vec<u8>) -> Out<()> {
        Ok(self.rotate(&room)?)
    }

    /// [`Client::delete_room`].
    #[uniffi::method(name = "delete_room")]
    pub fn uniffi_delete_room(&self, room: Vec<u8>) -> Out<()> {
        Ok(self.delete_room(&room)?)
    }

    /// [`Client::update_key`].
    #[uniffi::method(name = "update_key")]
    pub fn uniffi_update_key(&self, room: Vec<u8>) -> Out<()> {
        Ok(self.update_key(&room)?)
    }

    /// [`Client::leave`].
    #[uniffi::method(name = "leave")]
    pub fn uniffi_leave(&self, room: Vec<u8>) -> Out<()> {
        Ok(self.leave(&room)?)
    }

    /// [`Client::fetch_history`].
    #[uniffi::method(name = "fetch_history")]
    pub fn uniffi_fetch_history(&self, room: Vec<u8>, limit: u32) -> Out<()> {
        Ok(self.fetch_history(&room, limit)?)
    }

    /// [`Client::send`]: the message's local id (as in `MessageSent` / `MessageRefused`).
    #[uniffi::method(name = "send")]
    pub fn uniffi_send(&self, room: Vec<u8>, content: Content) -> Out<u64> {
        Ok(self.send(&room, content)?)
    }

    /// [`Client::send_text`].
    #[uniffi::method(name = "send_text")]
    pub fn uniffi_send_text(&self, room: Vec<u8>, text: String) -> Out<u64> {
        Ok(self.send_text(&room, &text)?)
    }

    /// [`Client::forget_room`].
    #[uniffi::method(name = "forget_room")]
    pub fn uniffi_forget_room(&self, room: Vec<u8>) -> Out<()> {
        Ok(self.forget_room(&room)?)
    }

    /// [`Client::rooms`].
    #[uniffi::method(name = "rooms")]
    pub fn uniffi_rooms(&self) -> Out<Vec<Vec<u8>>> {
        Ok(self.rooms()?)
    }

    /// [`Client::room_info`].
    #[uniffi::method(name = "room_info")]
    pub fn uniffi_room_info(&self, room: Vec<u8>) -> Out<RoomInfo> {
        Ok(self.room_info(&room)?)
    }

    /// [`Client::fingerprint`].
    #[uniffi::method(name = "fingerprint")]
    pub fn uniffi_fingerprint(&self, room: Vec<u8>, member: u32) -> Out<String> {
        Ok(self.fingerprint(&room, member)?)
    }

    /// [`Client::change_passphrase`]. **Blocking**: two Argon2id derivations: never on a UI thread.
    #[uniffi::method(name = "change_passphrase")]
    pub fn uniffi_change_passphrase(&self, current: Vec<u8>, new: Vec<u8>) -> Out<Save> {
        let (current, new) = (Zeroizing::new(current), Zeroizing::new(new));
        Ok(self.change_passphrase(&current, &new)?)
    }

    /// [`Client::poll_save`].
    #[uniffi::method(name = "poll_save")]
    pub fn uniffi_poll_save(&self) -> Out<Option<Save>> {
        Ok(self.poll_save()?)
    }

    /// [`Client::state_saved`].
    #[uniffi::method(name = "state_saved")]
    pub fn uniffi_state_saved(&self, generation: u64) -> Out<()> {
        Ok(self.state_saved(generation)?)
    }

    /// [`Client::waits_for_save`].
    #[uniffi::method(name = "waits_for_save")]
    pub fn uniffi_waits_for_save(&self) -> Out<bool> {
        Ok(self.waits_for_save()?)
    }

    /// [`Client::poll_transmit`].
    #[uniffi::method(name = "poll_transmit")]
    pub fn uniffi_poll_transmit(&self) -> Out<Option<Transmit>> {
        Ok(self.poll_transmit()?)
    }

    /// [`Client::poll_event`].
    #[uniffi::method(name = "poll_event")]
    pub fn uniffi_poll_event(&self) -> Out<Option<ClientEvent>> {
        Ok(self.poll_event()?)
    }

    /// [`Client::handle_connected`].
    #[uniffi::method(name = "handle_connected")]
    pub fn uniffi_handle_connected(&self, conn: u64, now_ms: u64) -> Out<()> {
        Ok(self.handle_connected(conn, now_ms)?)
    }

    /// [`Client::handle_bytes`].
    #[uniffi::method(name = "handle_bytes")]
    pub fn uniffi_handle_bytes(&self, conn: u64, bytes: Vec<u8>, now_ms: u64) -> Out<()> {
        Ok(self.handle_bytes(conn, &bytes, now_ms)?)
    }

    /// [`Client::handle_closed`].
    #[uniffi::method(name = "handle_closed")]
    pub fn uniffi_handle_closed(&self, conn: u64, now_ms: u64) -> Out<()> {
        Ok(self.handle_closed(conn, now_ms)?)
    }

    /// [`Client::next_timeout`].
    #[uniffi::method(name = "next_timeout")]
    pub fn uniffi_next_timeout(&self) -> Out<Option<u64>> {
        Ok(self.next_timeout()?)
    }

    /// [`Client::handle_timeout`].
    #[uniffi::method(name = "handle_timeout")]
    pub fn uniffi_handle_timeout(&self, now_ms: u64) -> Out<()> {
        Ok(self.handle_timeout(now_ms)?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use zfc_core::code;

    #[test]
    fn every_code_of_the_table_keeps_its_group_code_and_name() {
        // One error of every group a client call can fail with, checked against the table.
        let cases: Vec<Error> = vec![
            zfc_core::Error::Forged.into(),
            crate::vault::VaultError::Closed.into(),
            zfc_core::Error::InviteUsed.into(),
            zfc_core::Error::Removed.into(),
            crate::vault::VaultError::WrongPassphrase.into(),
            zfc_core::Error::Link(zfc_core::link::LinkError::Handshake).into(),
        ];
        // (A client call never fails in the groups RelayRefused or Closed: relay refusals and
        // lost connections reach the app as events.)
        for e in cases {
            let (c, g, n) = (e.code(), e.group(), e.name());
            let z = ZfcError::from(e);
            assert_eq!(z.code(), c);
            let row = code::entry(c).unwrap();
            assert_eq!(Some(row.name), n);
            assert_eq!(row.group, g);
            let variant_group = match &z {
                ZfcError::PeerMisbehaved { .. } => ErrorGroup::PeerMisbehaved,
                ZfcError::ApiMisuse { .. } => ErrorGroup::ApiMisuse,
                ZfcError::Invite { .. } => ErrorGroup::Invite,
                ZfcError::RoomGone { .. } => ErrorGroup::RoomGone,
                ZfcError::LocalState { .. } => ErrorGroup::LocalState,
                ZfcError::Link { .. } => ErrorGroup::Link,
                ZfcError::RelayRefused { .. } => ErrorGroup::RelayRefused,
                ZfcError::ConnectionClosed { .. } => ErrorGroup::Closed,
            };
            assert_eq!(variant_group, g, "{z}");
            assert!(z.to_string().starts_with(row.name));
        }
    }
}
