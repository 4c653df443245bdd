//! Invites: the single-use token, the keys derived from it, and the copy-pasteable invite string.
//!
//! Invariants: the relay only ever sees the public key derived from the token (the commitment),
//! never the token; the token also yields the PSK that binds the join request and the key grant,
//! so a relay that knows the commitment can neither join nor read a grant. An invite is a bearer
//! secret: its `Debug` hides the token, and `to_uri` is the one way to get it out.

use rand_core::CryptoRng;

use crate::crypto::{self, Secret32, SignKey};
use crate::error::Error;
use crate::frame::RoomId;
use crate::keys::{InviteKey, MemberKey, RelayPublicKey};

const SCHEME: &str = "zfc:join?";

/// The keys an invite token yields.
pub(crate) struct InviteKeys {
    /// Signs the join request; its public key is the commitment the relay holds.
    pub sign: SignKey,
    /// HPKE PSK of the join request and the key grant.
    pub psk: Secret32,
}

/// Derives the invite keys: `seed = HKDF(salt = room id, ikm = token, info = "zfc v1 invite
/// key")`, `psk = HKDF(salt = room id, ikm = token, info = "zfc v1 invite psk")`.
pub(crate) fn invite_keys(room_id: &RoomId, token: &Secret32) -> InviteKeys {
    let seed = crypto::kdf(room_id, token.expose(), b"zfc v1 invite key");
    InviteKeys { sign: SignKey::from_seed(&seed), psk: crypto::kdf(room_id, token.expose(), b"zfc v1 invite psk") }
}

/// Everything a joiner needs: the room, the owner's keys, the token, and the relay to use.
#[derive(Clone)]
pub struct Invite {
    /// The room.
    pub room_id: RoomId,
    /// The owner's Ed25519 room key (verifies the grant and every commit).
    pub owner_sign_pk: MemberKey,
    /// The owner's X25519 room key (the join request is sealed to it).
    pub owner_kx_pk: [u8; 32],
    /// The salt of the room id: with the owner's keys it lets the joiner check the room id.
    pub salt: [u8; 16],
    pub(crate) token: Secret32,
    /// Expiry, in seconds since the Unix epoch.
    pub expires_at: u64,
    /// Where the relay listens, e.g. `ws://127.0.0.1:5103`.
    pub relay_addr: String,
    /// The relay's static X25519 key, pinned by the link.
    pub relay_pk: RelayPublicKey,
}

impl core::fmt::Debug for Invite {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { room_id, owner_sign_pk: _, owner_kx_pk: _, salt: _, token: _, expires_at, relay_addr, relay_pk: _ } =
            self;
        write!(
            f,
            "Invite {{ room: {}, expires_at: {expires_at}, relay: {relay_addr}, token: [redacted] }}",
            crypto::to_hex(room_id)
        )
    }
}

impl Invite {
    pub(crate) fn new_token(rng: &mut impl CryptoRng) -> Secret32 {
        Secret32::random(rng)
    }

    /// The commitment: the public key derived from the token.
    pub fn invite_pk(&self) -> InviteKey {
        InviteKey::from_bytes(invite_keys(&self.room_id, &self.token).sign.public())
    }

    /// The invite string,
    /// `zfc:join?v=1&room=..&owner=..&kx=..&salt=..&token=..&exp=..&relay=..&relay_key=..`
    /// (lower-case hex fields, decimal expiry, in this order). It contains the token: whoever
    /// holds it can ask to join.
    pub fn to_uri(&self) -> String {
        format!(
            "{SCHEME}v=1&room={}&owner={}&kx={}&salt={}&token={}&exp={}&relay={}&relay_key={}",
            crypto::to_hex(&self.room_id),
            crypto::to_hex(self.owner_sign_pk.as_bytes()),
            crypto::to_hex(&self.owner_kx_pk),
            crypto::to_hex(&self.salt),
            crypto::to_hex(self.token.expose()),
            self.expires_at,
            self.relay_addr,
            crypto::to_hex(self.relay_pk.as_bytes()),
        )
    }

    /// Parses an invite string. Surrounding whitespace is ignored; otherwise the string must be
    /// exactly what [`Self::to_uri`] writes (fields in order, lower-case hex, canonical decimal),
    /// so that one invite has one spelling. The room id must match the owner's keys and salt.
    ///
    /// # Errors
    /// [`Error::BadInvite`] naming what is wrong: not the canonical form of spec §14, a field
    /// missing or malformed, or a room id that is not bound to the owner's keys and salt.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        if s.len() > 1024 {
            return Err(Error::BadInvite("too long"));
        }
        let query = s.strip_prefix(SCHEME).ok_or(Error::BadInvite("not a zfc invite"))?;
        const NAMES: [&str; 9] = ["v", "room", "owner", "kx", "salt", "token", "exp", "relay", "relay_key"];
        let mut values = [""; 9];
        let mut pairs = query.split('&');
        for (name, value) in NAMES.iter().zip(values.iter_mut()) {
            let pair = pairs.next().ok_or(Error::BadInvite("missing field"))?;
            let (k, v) = pair.split_once('=').ok_or(Error::BadInvite("field without value"))?;
            if k != *name {
                return Err(Error::BadInvite("unexpected or misplaced field"));
            }
            *value = v;
        }
        if pairs.next().is_some() {
            return Err(Error::BadInvite("unexpected field"));
        }
        let [v, room, owner, kx, salt, token, exp, relay_addr, relay_key] = values;
        if v != "1" {
            return Err(Error::BadInvite("unsupported invite version"));
        }
        if relay_addr.is_empty() || !relay_addr.bytes().all(|b| b.is_ascii_graphic() && b != b'&' && b != b'=') {
            return Err(Error::BadInvite("relay address"));
        }
        let canonical_decimal =
            !exp.is_empty() && exp.bytes().all(|b| b.is_ascii_digit()) && (exp == "0" || !exp.starts_with('0'));
        if !canonical_decimal {
            return Err(Error::BadInvite("expiry"));
        }
        let owner_sign_pk = hex_array::<32>(owner)?;
        if !crypto::is_valid_sign_public(&owner_sign_pk) {
            return Err(Error::BadInvite("owner key"));
        }
        let owner_kx_pk = hex_array::<32>(kx)?;
        let relay_pk = hex_array::<32>(relay_key)?;
        if !crypto::is_valid_kx_public(&owner_kx_pk) || !crypto::is_valid_kx_public(&relay_pk) {
            return Err(Error::BadInvite("key-agreement key"));
        }
        let room_id = hex_array::<16>(room)?;
        let salt = hex_array::<16>(salt)?;
        if crate::room::room_id_for(&owner_sign_pk, &owner_kx_pk, &salt) != room_id {
            return Err(Error::BadInvite("room id does not match the owner's keys"));
        }
        Ok(Self {
            room_id,
            owner_sign_pk: owner_sign_pk.into(),
            owner_kx_pk,
            salt,
            token: Secret32::from_bytes(hex_array::<32>(token)?),
            expires_at: exp.parse().map_err(|_| Error::BadInvite("expiry"))?,
            relay_addr: relay_addr.to_string(),
            relay_pk: relay_pk.into(),
        })
    }
}

/// Parses exactly `2 * N` lower-case hex digits.
pub(crate) fn hex_array<const N: usize>(s: &str) -> Result<[u8; N], Error> {
    let b = s.as_bytes();
    if b.len() != 2 * N {
        return Err(Error::BadInvite("hex field length"));
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(b.chunks_exact(2)) {
        let hi = hex_digit(pair.first().copied())?;
        let lo = hex_digit(pair.get(1).copied())?;
        *o = (hi << 4) | lo;
    }
    Ok(out)
}

fn hex_digit(c: Option<u8>) -> Result<u8, Error> {
    match c {
        Some(c @ b'0'..=b'9') => Ok(c - b'0'),
        Some(c @ b'a'..=b'f') => Ok(c - b'a' + 10),
        _ => Err(Error::BadInvite("hex digit")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn sample() -> Invite {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let owner = SignKey::generate(&mut rng);
        let kx = crate::crypto::KxKey::generate(&mut rng);
        let salt = [5; 16];
        Invite {
            room_id: crate::room::room_id_for(&owner.public(), &kx.public(), &salt),
            owner_sign_pk: owner.public().into(),
            owner_kx_pk: kx.public(),
            salt,
            token: Invite::new_token(&mut rng),
            expires_at: 1_800_000_000,
            relay_addr: "ws://127.0.0.1:5103".into(),
            relay_pk: crate::crypto::KxKey::generate(&mut rng).public().into(),
        }
    }

    #[test]
    fn uri_round_trips() {
        let inv = sample();
        let back = Invite::parse(&format!("  {}\n", inv.to_uri())).unwrap();
        assert_eq!(back.to_uri(), inv.to_uri());
        assert_eq!(back.invite_pk(), inv.invite_pk());
    }

    #[test]
    fn malformed_uris_are_refused() {
        let good = sample().to_uri();
        let cases = [
            good.replace("v=1", "v=2"),
            good.replace("zfc:join?", "zfc:joim?"),
            format!("{good}&v=1"),
            format!("{good}&extra=1"),
            good.replacen("&exp=", "&exp=x", 1),
            good[..good.len() - 2].to_string(),
            good.replace("relay=ws", "relay=w&s"),
            good.replace("&exp=1", "&exp=01"),
            good.replace("&exp=1", "&exp=+1"),
            good.replacen("&kx=", "&KX=", 1),
            good.to_uppercase().replacen("ZFC:JOIN?V=1", "zfc:join?v=1", 1),
            {
                let i = good.find("&salt=").unwrap() + 6;
                let mut g = good.clone();
                g.replace_range(i..i + 2, if &good[i..i + 2] == "00" { "01" } else { "00" });
                g
            },
            String::new(),
        ];
        for c in cases {
            assert!(matches!(Invite::parse(&c), Err(Error::BadInvite(_))), "accepted {c}");
        }
    }

    #[test]
    fn debug_hides_the_token() {
        let inv = sample();
        let tok = crypto::to_hex(inv.token.expose());
        assert!(!format!("{inv:?}").contains(&tok));
    }

    #[test]
    fn different_tokens_give_different_commitments() {
        let a = sample();
        let mut b = a.clone();
        b.token = Secret32::from_bytes([9; 32]);
        assert_ne!(a.invite_pk(), b.invite_pk());
    }
}
