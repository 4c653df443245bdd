//! The rule book's durable changes, as a journal a relay writes before it answers.
//!
//! Invariant: a rule book rebuilt by replaying, in order, the entries another rule book returned
//! holds the same rooms, rosters, invites, pending joins, logs, cursors and directed queues; only
//! connections (which a restart drops anyway) are missing.

use crate::error::DecodeError;
use crate::frame::{MemberNo, RoomId};
use crate::wire::{MAX_ENVELOPE_LEN, MAX_FRAME_LEN, Reader, Writer};

mod kind {
    pub const SUBMITTED: u8 = 0x60;
    pub const ACKED: u8 = 0x61;
    pub const ACKED_DIRECT: u8 = 0x62;
}

/// One change to the relay's durable state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JournalEntry {
    /// A frame the rule book accepted at time `now` (Unix seconds).
    Submitted {
        /// The clock the checks ran with; replay runs them again with it.
        now: u64,
        /// The frame's wire bytes.
        frame: Vec<u8>,
    },
    /// A member acknowledged the log up to and including `seq`.
    Acked {
        /// The room.
        room_id: RoomId,
        /// The member.
        member: MemberNo,
        /// Last position read.
        seq: u64,
    },
    /// A directed frame was acknowledged and dropped.
    AckedDirect {
        /// The room.
        room_id: RoomId,
        /// The frame's queue id (unique across the relay).
        id: u64,
    },
}

impl JournalEntry {
    /// Wire bytes (version byte first, as every zfc encoding).
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::Submitted { now, frame } => {
                let mut w = Writer::frame(kind::SUBMITTED);
                w.u64(*now).bytes(frame);
                w.finish()
            }
            Self::Acked { room_id, member, seq } => {
                let mut w = Writer::frame(kind::ACKED);
                w.fixed(room_id).u32(*member).u64(*seq);
                w.finish()
            }
            Self::AckedDirect { room_id, id } => {
                let mut w = Writer::frame(kind::ACKED_DIRECT);
                w.fixed(room_id).u64(*id);
                w.finish()
            }
        }
    }

    /// Parses wire bytes.
    ///
    /// # Errors
    /// [`DecodeError`] for bytes that are not one well-formed journal entry (spec §10.4).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::open_bounded(bytes, MAX_ENVELOPE_LEN)?;
        let entry = match r.u8()? {
            kind::SUBMITTED => Self::Submitted { now: r.u64()?, frame: r.bytes(MAX_FRAME_LEN)?.to_vec() },
            kind::ACKED => Self::Acked { room_id: r.array()?, member: r.u32()?, seq: r.u64()? },
            kind::ACKED_DIRECT => Self::AckedDirect { room_id: r.array()?, id: r.u64()? },
            other => return Err(DecodeError::UnknownKind(other)),
        };
        r.finish()?;
        Ok(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_refuse_damage() {
        let entries = [
            JournalEntry::Submitted { now: 7, frame: vec![1, 2, 3] },
            JournalEntry::Acked { room_id: [4; 16], member: 3, seq: 99 },
            JournalEntry::AckedDirect { room_id: [5; 16], id: 12 },
        ];
        for e in entries {
            let bytes = e.encode();
            assert_eq!(JournalEntry::decode(&bytes).unwrap(), e);
            assert!(JournalEntry::decode(&bytes[..bytes.len() - 1]).is_err());
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(JournalEntry::decode(&longer).is_err());
        }
        assert_eq!(JournalEntry::decode(&[1, 0x6f]), Err(DecodeError::UnknownKind(0x6f)));
    }
}
