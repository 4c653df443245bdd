//! Fingerprints and safety numbers, for comparing member keys out of band.
//!
//! Invariant: a fingerprint depends on the room and the key only; a safety number of two
//! members is the same whichever of the two computes it.

use crate::crypto;
use crate::frame::RoomId;
use crate::keys::MemberKey;

const ITERATIONS: usize = 1024;

/// 30 digits in six groups of five for `sign_pk` in `room_id`:
/// `H` = SHA-256 iterated 1024 times from `H("zfc v1 fingerprint", room id, key)`, each
/// next round `H("zfc v1 fingerprint", previous, key)`; each group is 5 bytes of the result, read
/// big-endian, modulo 100000.
pub fn fingerprint(room_id: &RoomId, sign_pk: &MemberKey) -> String {
    let sign_pk = sign_pk.as_bytes();
    let mut h = crypto::hash("zfc v1 fingerprint", &[room_id, sign_pk]);
    for _ in 1..ITERATIONS {
        h = crypto::hash("zfc v1 fingerprint", &[&h, sign_pk]);
    }
    let groups: Vec<String> = h
        .chunks_exact(5)
        .take(6)
        .map(|c| {
            let v = c.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
            format!("{:05}", v % 100_000)
        })
        .collect();
    groups.join(" ")
}

/// The safety number of two members: both fingerprints, the smaller key's first.
pub fn safety_number(room_id: &RoomId, a: &MemberKey, b: &MemberKey) -> String {
    let (x, y) = if a <= b { (a, b) } else { (b, a) };
    format!("{} | {}", fingerprint(room_id, x), fingerprint(room_id, y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_shape_and_symmetry() {
        let (two, three) = (MemberKey::from_bytes([2; 32]), MemberKey::from_bytes([3; 32]));
        let f = fingerprint(&[1; 16], &two);
        assert_eq!(f.len(), 35);
        assert_ne!(f, fingerprint(&[1; 16], &three));
        assert_ne!(f, fingerprint(&[9; 16], &two));
        assert_eq!(safety_number(&[1; 16], &two, &three), safety_number(&[1; 16], &three, &two));
    }
}
