//! Raw connections to the rule book, for tests that speak the relay protocol themselves.

use super::*;
use crate::crypto::SignKey;
use crate::relay::proto::authenticate;

/// A raw connection to the rule book.
pub(crate) struct Raw {
    pub(crate) conn: ConnId,
    pub(crate) challenge: [u8; 32],
    pub(crate) binding: [u8; 32],
}

pub(crate) fn open(r: &mut Room, conn: ConnId) -> Raw {
    let binding = [conn as u8; 32];
    let out = r.sim.relay.connect(conn, binding.into(), &mut r.sim.rng);
    let Ok(RelayMessage::Challenge { nonce }) = RelayMessage::decode(&out[0].bytes) else { panic!("no challenge") };
    Raw { conn, challenge: nonce, binding }
}

/// Party `id`'s connection, already authenticated by the simulation: no challenge is needed.
pub(crate) fn party_conn(r: &Room, id: PartyId) -> Raw {
    Raw { conn: conn(r, id), challenge: [0; 32], binding: [0; 32] }
}

/// Sends `req` on `raw` and returns the messages for that connection.
pub(crate) fn request(r: &mut Room, raw: &Raw, req: ClientRequest) -> Vec<RelayMessage> {
    let out = r.sim.relay.handle(raw.conn, &req.encode(), NOW).expect("a well-formed request");
    out.into_iter().filter(|o| o.conn == raw.conn).map(|o| RelayMessage::decode(&o.bytes).unwrap()).collect()
}

pub(crate) fn auth(r: &mut Room, raw: &Raw, key: &SignKey, resume_from: u64) -> Vec<RelayMessage> {
    let room = room_id(r);
    request(r, raw, authenticate(1, key, &raw.challenge, &raw.binding, room, resume_from))
}

pub(crate) fn delivered(msgs: &[RelayMessage]) -> Vec<u64> {
    msgs.iter().filter_map(|m| if let RelayMessage::Deliver { seq, .. } = m { Some(*seq) } else { None }).collect()
}

pub(crate) fn directs(msgs: &[RelayMessage]) -> Vec<u64> {
    msgs.iter().filter_map(|m| if let RelayMessage::Direct { id, .. } = m { Some(*id) } else { None }).collect()
}
