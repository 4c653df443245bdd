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
use crate::frame::{MAX_MESSAGE_CT, MemberNo, Message, RoomId, Signed};
use crate::room::REORDER_WINDOW;

/// Largest message content, in bytes.
pub const MAX_CONTENT_LEN: usize = 64 * 1024;
const LEN_PREFIX: usize = 4;

/// How message lengths are hidden: the padded plaintext (4-byte length, content, zeros) is
/// rounded up to the smallest bucket that holds it, or past the largest bucket to a multiple of
/// the largest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Padding {
    buckets: Vec<u32>,
}

impl Default for Padding {
    /// Powers of two from 64 bytes to 64 KiB.
    fn default() -> Self {
        Self { buckets: (6..=16).map(|p| 1u32 << p).collect() }
    }
}

impl Padding {
    /// No padding: the ciphertext shows the exact length.
    pub fn none() -> Self {
        Self { buckets: Vec::new() }
    }
    /// Custom buckets: strictly ascending, each at most 64 KiB.
    pub fn buckets(buckets: Vec<u32>) -> Result<Self, Error> {
        let p = Self { buckets };
        p.check()?;
        Ok(p)
    }
    pub(crate) fn check(&self) -> Result<(), Error> {
        let ascending = self.buckets.windows(2).all(|w| matches!(w, [a, b] if a < b));
        let bounded = self.buckets.iter().all(|b| *b >= 1 && *b as usize <= MAX_CONTENT_LEN);
        if !ascending || !bounded {
            return Err(Error::InvalidArgument("padding buckets must ascend within 1..=65536"));
        }
        Ok(())
    }
    /// The buckets, ascending (empty: no padding).
    pub fn bucket_list(&self) -> &[u32] {
        &self.buckets
    }
    /// The padded plaintext length for `content_len` bytes of content.
    pub fn padded_len(&self, content_len: usize) -> usize {
        let need = content_len + LEN_PREFIX;
        match self.buckets.iter().find(|b| **b as usize >= need) {
            Some(b) => *b as usize,
            None => match self.buckets.last() {
                Some(&largest) => need.div_ceil(largest as usize) * largest as usize,
                None => need,
            },
        }
    }
}

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
    fn padding_rounds_to_buckets() {
        let p = Padding::default();
        assert_eq!(p.padded_len(0), 64);
        assert_eq!(p.padded_len(60), 64);
        assert_eq!(p.padded_len(61), 128);
        assert_eq!(p.padded_len(65536), 131072);
        assert_eq!(Padding::none().padded_len(10), 14);
        assert!(Padding::buckets(vec![128, 64]).is_err());
        assert!(Padding::buckets(vec![0, 64]).is_err());
        assert!(Padding::buckets(vec![64, 70_000]).is_err());
        assert!(Padding::buckets(vec![64, 65_536]).is_ok());
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
