//! Room messages: length padding, sealing under the epoch's message key, signing by the sender,
//! and the per-sender replay window.
//!
//! Invariants: a nonce is 24 fresh random bytes, so a state restored from an old backup cannot
//! repeat one; the header (room, epoch, sender, sequence) is the AEAD's associated data and is
//! covered by the sender's signature, so it cannot be moved to another room, epoch or sender.

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::crypto::{self, NONCE_LEN, Secret32, SignKey, TAG_LEN};
use crate::error::{DecodeError, Error};
use crate::frame::{MAX_MESSAGE_CT, Message, Signed};
use crate::room::{MemberNo, RoomId};

/// How far behind the newest accepted sequence number of a sender a message may arrive.
pub const REORDER_WINDOW: u32 = 64;

use crate::padding::LEN_PREFIX;
pub use crate::padding::{MAX_CONTENT_LEN, Padding};

/// The message key of an epoch: `HKDF(salt = epoch hash, ikm = epoch secret,
/// info = "zfc v1 message key" || room id || epoch)`.
pub(crate) fn message_key(secret: &Secret32, epoch_hash: &[u8; 32], room_id: &RoomId, epoch: u32) -> Secret32 {
    let mut info = b"zfc v1 message key".to_vec();
    info.extend_from_slice(room_id);
    info.extend_from_slice(&epoch.to_be_bytes());
    crypto::kdf(epoch_hash, secret.expose(), &info)
}

/// What a sender needs to seal one message.
pub(crate) struct Sealer<'a> {
    pub room_id: RoomId,
    pub epoch: u32,
    pub sender: MemberNo,
    pub seq: u32,
    pub key: &'a Secret32,
    pub sign_key: &'a SignKey,
    pub padding: &'a Padding,
}

impl Sealer<'_> {
    pub(crate) fn seal(&self, content: &[u8], rng: &mut impl CryptoRng) -> Result<Signed<Message>, Error> {
        if content.len() > MAX_CONTENT_LEN {
            return Err(Error::MessageTooLong { len: content.len(), max: MAX_CONTENT_LEN });
        }
        let padded_len = self.padding.padded_len(content.len());
        let mut pt = Zeroizing::new(Vec::with_capacity(padded_len));
        pt.extend_from_slice(&(content.len() as u32).to_be_bytes());
        pt.extend_from_slice(content);
        pt.resize(padded_len, 0);
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let mut msg = Message {
            room_id: self.room_id,
            epoch: self.epoch,
            sender: self.sender,
            seq: self.seq,
            nonce,
            ct: Vec::new(),
        };
        msg.ct = crypto::seal(self.key, &nonce, &msg.aad(), &pt);
        debug_assert!(msg.ct.len() <= MAX_MESSAGE_CT);
        Ok(Signed::sign(msg, self.sign_key))
    }
}

/// Opens a message whose signature was already checked; returns the content without padding.
pub(crate) fn open(msg: &Message, key: &Secret32) -> Result<Zeroizing<Vec<u8>>, Error> {
    if msg.ct.len() < TAG_LEN + LEN_PREFIX {
        return Err(Error::Forged);
    }
    let pt = crypto::open(key, &msg.nonce, &msg.aad(), &msg.ct).ok_or(Error::Forged)?;
    let bad_padding = Error::Decode(DecodeError::InvalidValue("padding"));
    let (len_bytes, rest) = pt.split_first_chunk::<LEN_PREFIX>().ok_or(Error::Forged)?;
    let len = u32::from_be_bytes(*len_bytes) as usize;
    let (content, padding) = rest.split_at_checked(len).ok_or(bad_padding.clone())?;
    if padding.iter().any(|b| *b != 0) {
        return Err(bad_padding);
    }
    Ok(Zeroizing::new(content.to_vec()))
}

/// The sequence numbers of one sender in one epoch that were already accepted: the newest, and
/// a bitmap of the [`REORDER_WINDOW`] below it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ReplayWindow {
    newest: Option<u32>,
    /// Bit `i` set: `newest - i` was accepted (bit 0 is `newest` itself).
    seen: u64,
}

impl ReplayWindow {
    pub(crate) fn check(&self, sender: MemberNo, seq: u32) -> Result<(), Error> {
        let Some(newest) = self.newest else { return Ok(()) };
        if seq > newest {
            return Ok(());
        }
        let back = newest - seq;
        if back >= REORDER_WINDOW {
            return Err(Error::TooOld { sender, seq, newest });
        }
        if self.seen & (1u64 << back) != 0 {
            return Err(Error::Replay { sender, seq });
        }
        Ok(())
    }
    /// Records `seq`; call only after [`Self::check`] passed and the message authenticated.
    pub(crate) fn accept(&mut self, seq: u32) {
        match self.newest {
            None => {
                self.newest = Some(seq);
                self.seen = 1;
            }
            Some(newest) if seq > newest => {
                let shift = seq - newest;
                self.seen = if shift >= 64 { 1 } else { (self.seen << shift) | 1 };
                self.newest = Some(seq);
            }
            Some(newest) => {
                let back = newest - seq;
                if back < 64 {
                    self.seen |= 1u64 << back;
                }
            }
        }
    }
    pub(crate) fn from_parts(newest: Option<u32>, seen: u64) -> Self {
        Self { newest, seen }
    }
    pub(crate) fn parts(&self) -> (Option<u32>, u64) {
        (self.newest, self.seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    /// A sealer's keys, drawn from `rng` so that the same rng can go on to seal.
    struct SealerKeys {
        key: Secret32,
        sign_key: SignKey,
        padding: Padding,
    }

    impl SealerKeys {
        fn new(rng: &mut ChaCha20Rng) -> Self {
            let key = Secret32::random(rng);
            SealerKeys { key, sign_key: SignKey::generate(rng), padding: Padding::default() }
        }

        fn sealer(&self) -> Sealer<'_> {
            let (key, sign_key, padding) = (&self.key, &self.sign_key, &self.padding);
            Sealer { room_id: [7; 16], epoch: 1, sender: 2, seq: 0, key, sign_key, padding }
        }
    }

    #[test]
    fn seal_open_round_trip_and_tamper() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let keys = SealerKeys::new(&mut rng);
        let key = &keys.key;
        let m = keys.sealer().seal(b"hello", &mut rng).unwrap();
        assert_eq!(m.body.ct.len(), 64 + TAG_LEN);
        assert_eq!(open(&m.body, key).unwrap().as_slice(), b"hello");
        let mut t = m.body.clone();
        t.ct[3] ^= 1;
        assert_eq!(open(&t, key), Err(Error::Forged));
        let mut moved = m.body.clone();
        moved.seq = 1;
        assert_eq!(open(&moved, key), Err(Error::Forged), "header is authenticated");
        let other = Secret32::random(&mut rng);
        assert_eq!(open(&m.body, &other), Err(Error::Forged));
    }

    #[test]
    fn content_may_be_max_content_len_and_no_more() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let keys = SealerKeys::new(&mut rng);
        let s = keys.sealer();
        let m = s.seal(&vec![1; MAX_CONTENT_LEN], &mut rng).unwrap();
        assert_eq!(open(&m.body, &keys.key).unwrap().len(), MAX_CONTENT_LEN);
        let too_long = s.seal(&vec![1; MAX_CONTENT_LEN + 1], &mut rng);
        assert!(
            matches!(too_long, Err(Error::MessageTooLong { len, max: MAX_CONTENT_LEN }) if len == MAX_CONTENT_LEN + 1)
        );
    }

    #[test]
    fn the_replay_window_bitmap_tracks_the_newest_and_the_64_below() {
        let mut w = ReplayWindow::default();
        w.accept(100);
        assert_eq!(w.parts(), (Some(100), 0b1));
        w.accept(102);
        assert_eq!(w.parts(), (Some(102), 0b101));
        w.accept(101);
        assert_eq!(w.parts(), (Some(102), 0b111));
        w.accept(102 - 63);
        assert_eq!(w.parts(), (Some(102), 0b111 | 1 << 63));
        w.accept(102 + 63);
        assert_eq!(w.parts(), (Some(165), 1 << 63 | 1));
        w.accept(165 + 64);
        assert_eq!(w.parts(), (Some(229), 1), "a jump of 64 clears the bitmap");
        w.accept(229 - 64); // outside the bitmap: nothing to record
        assert_eq!(w.parts(), (Some(229), 1));
        assert_eq!(ReplayWindow::from_parts(Some(9), 0b11).parts(), (Some(9), 0b11));
    }

    #[test]
    fn replay_window_detects_repeats_and_old() {
        let mut w = ReplayWindow::default();
        for s in [5u32, 3, 9, 4] {
            w.check(0, s).unwrap();
            w.accept(s);
        }
        assert_eq!(w.check(0, 5), Err(Error::Replay { sender: 0, seq: 5 }));
        assert_eq!(w.check(0, 9), Err(Error::Replay { sender: 0, seq: 9 }));
        w.check(0, 6).unwrap();
        w.accept(200);
        assert!(matches!(w.check(0, 100), Err(Error::TooOld { .. })));
        w.check(0, 199).unwrap();
    }
}
