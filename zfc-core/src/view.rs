//! A party's view of a room once it is in it: roster, epochs, its place in the relay's order,
//! and the handling every party shares (messages, key updates, leaves, deletion, the link's
//! authentication). The owner and the member wrap it and add what only they do.
//!
//! Invariants: a log entry is processed only at the position the view expects (live stream
//! from `live_next`, history contiguous below `live_start`); a frame whose content fails any
//! check changes nothing but the consumed position.

use std::collections::BTreeMap;

use rand_core::CryptoRng;

use crate::crypto::SignKey;
use crate::epoch::EpochChain;
use crate::error::Error;
use crate::event::{Event, Output, ReceivedMessage, Request, RequestKind};
use crate::frame::{DeleteRoom, HistoryPolicy, KeyUpdate, Leave, MemberNo, Message, OWNER_MEMBER, RoomId, Signed};
use crate::message::{self, Padding, Sealer};
use crate::proto::ClientRequest;
use crate::room::Roster;
use crate::session::Session;

/// Where a log entry sits relative to what the view has processed.
pub(crate) enum Position {
    Live,
    History,
}

#[derive(Debug)]
pub(crate) struct RoomView {
    pub room_id: RoomId,
    pub owner_sign_pk: [u8; 32],
    pub policy: HistoryPolicy,
    pub me: MemberNo,
    pub sign_key: SignKey,
    pub roster: Roster,
    /// Members removed, with the epoch their removal opened: their messages of earlier epochs
    /// still verify in history.
    pub former: BTreeMap<MemberNo, ([u8; 32], u32)>,
    pub chain: EpochChain,
    pub live_start: u64,
    pub live_next: u64,
    pub history_next: Option<u64>,
    /// Next sequence number to send, per epoch (only the newest epoch is kept).
    pub send_seq: (u32, u32),
    pub padding: Padding,
}

impl RoomView {
    /// Classifies a log position; errors on a gap or a repeat.
    pub(crate) fn position(&self, seq: u64) -> Result<Position, Error> {
        if seq >= self.live_start {
            return match seq.cmp(&self.live_next) {
                core::cmp::Ordering::Equal => Ok(Position::Live),
                core::cmp::Ordering::Greater => Err(Error::RelayGap { expected: self.live_next, got: seq }),
                core::cmp::Ordering::Less => Err(Error::RelayReplay { expected: self.live_next, got: seq }),
            };
        }
        match self.history_next {
            None => Ok(Position::History),
            Some(next) if seq == next => Ok(Position::History),
            Some(next) if seq > next => Err(Error::RelayGap { expected: next, got: seq }),
            Some(next) => Err(Error::RelayReplay { expected: next, got: seq }),
        }
    }

    /// Marks a position consumed.
    pub(crate) fn consume(&mut self, seq: u64, pos: &Position) {
        match pos {
            Position::Live => self.live_next = seq + 1,
            Position::History => self.history_next = Some(seq + 1),
        }
    }

    pub(crate) fn sender_key(&self, sender: MemberNo, epoch: u32) -> Result<[u8; 32], Error> {
        if let Some(e) = self.roster.get(sender) {
            return Ok(e.sign_pk.to_bytes());
        }
        match self.former.get(&sender) {
            Some((pk, removed_at)) if epoch < *removed_at => Ok(*pk),
            _ => Err(Error::UnknownSender(sender)),
        }
    }

    /// Checks and opens a room message at log position `seq`.
    pub(crate) fn receive_message(&mut self, f: &Signed<Message>, seq: u64, history: bool) -> Result<Event, Error> {
        let m = &f.body;
        if m.room_id != self.room_id {
            return Err(Error::WrongRoom);
        }
        let pk = self.sender_key(m.sender, m.epoch)?;
        if !f.verify(&pk) {
            return Err(Error::BadSignature);
        }
        let key = self.chain.check(m, seq)?;
        let content = message::open(m, key)?;
        self.chain.accept(m);
        if m.sender == self.me {
            // A restored backup may be behind what it already sent; never reuse a number.
            let next = m.seq.saturating_add(1);
            if m.epoch > self.send_seq.0 {
                self.send_seq = (m.epoch, next);
            } else if m.epoch == self.send_seq.0 {
                self.send_seq.1 = self.send_seq.1.max(next);
            }
        }
        Ok(Event::Message(ReceivedMessage {
            sender: m.sender,
            epoch: m.epoch,
            seq: m.seq,
            relay_seq: seq.into(),
            from_history: history,
            content: content.to_vec(),
        }))
    }

    pub(crate) fn receive_key_update(&mut self, f: &Signed<KeyUpdate>) -> Result<Event, Error> {
        self.check_member_frame(&f.body.room_id, f.body.member, |pk| f.verify(pk))?;
        if f.body.generation <= self.roster.kx_generation(f.body.member) {
            return Err(Error::Unexpected("replayed or reordered key update"));
        }
        self.roster.set_kx(f.body.member, f.body.kx_pk, f.body.generation);
        Ok(Event::KeyUpdated(f.body.member))
    }

    pub(crate) fn receive_leave(&mut self, f: &Signed<Leave>) -> Result<Event, Error> {
        self.check_member_frame(&f.body.room_id, f.body.member, |pk| f.verify(pk))?;
        if f.body.member == OWNER_MEMBER {
            return Err(Error::Unexpected("the owner cannot leave; it deletes the room"));
        }
        Ok(Event::MemberLeft(f.body.member))
    }

    pub(crate) fn check_delete(&self, f: &Signed<DeleteRoom>) -> Result<(), Error> {
        if f.body.room_id != self.room_id {
            return Err(Error::WrongRoom);
        }
        if !f.verify(&self.owner_sign_pk) {
            return Err(Error::BadSignature);
        }
        Ok(())
    }

    fn check_member_frame(
        &self,
        room: &RoomId,
        member: MemberNo,
        verify: impl Fn(&[u8; 32]) -> bool,
    ) -> Result<(), Error> {
        if room != &self.room_id {
            return Err(Error::WrongRoom);
        }
        let entry = self.roster.get(member).ok_or(Error::UnknownSender(member))?;
        if !verify(entry.sign_pk.as_bytes()) {
            return Err(Error::BadSignature);
        }
        Ok(())
    }

    /// Seals and signs a message under the newest epoch; returns the request to send.
    pub(crate) fn send(&mut self, s: &mut Session, content: &[u8], rng: &mut impl CryptoRng) -> Result<Output, Error> {
        let epoch = self.chain.current().ok_or(Error::NotJoined)?;
        let key = epoch.key.as_ref().ok_or(Error::NotJoined)?;
        let seq = if self.send_seq.0 == epoch.number { self.send_seq.1 } else { 0 };
        let next = seq.checked_add(1).ok_or(Error::CounterExhausted)?;
        let sealer = Sealer {
            room_id: self.room_id,
            epoch: epoch.number,
            sender: self.me,
            seq,
            key,
            sign_key: &self.sign_key,
            padding: &self.padding,
        };
        let frame = sealer.seal(content, rng)?;
        self.send_seq = (epoch.number, next);
        Ok(Output::request(s.submit(frame.encode())))
    }

    /// A request for the next page of history below the live stream (from where the last page
    /// ended, or from the relay's floor for us the first time).
    pub(crate) fn fetch_history(&mut self, s: &mut Session, limit: u32) -> Output {
        let from = self.history_next.unwrap_or(0);
        Output::request(s.fetch(self.room_id, from, self.live_start, limit))
    }

    /// The acknowledgement of everything processed so far (empty before the first live entry).
    pub(crate) fn ack(&self) -> Output {
        let ack = (self.live_next > self.live_start).then(|| {
            let bytes = ClientRequest::Ack { room_id: self.room_id, seq: self.live_next - 1 }.encode();
            Request::new(RequestKind::Ack, None, false, bytes)
        });
        Output { to_relay: ack.into_iter().collect(), events: Vec::new() }
    }

    /// Erases every key: after a removal or deletion nothing may be read or sent.
    pub(crate) fn erase_keys(&mut self) {
        self.chain.epochs.clear();
    }
}
