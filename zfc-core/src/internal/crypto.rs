//! Thin wrappers over the primitives zfc uses, each with its domain label, so the protocol
//! modules never touch a raw primitive API.
//!
//! Primitives: Ed25519 (`ed25519-dalek`, strict verification), X25519 (`x25519-dalek`),
//! HKDF-SHA-256, HMAC-SHA-256, XChaCha20-Poly1305, and RFC 9180 HPKE with
//! DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20Poly1305 (`hpke`).
//!
//! Invariant: every secret lives in a type that zeroizes on drop and prints as `[redacted]`.

use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use hpke::{Deserializable, OpModeR, OpModeS, PskBundle, Serializable};
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

type HpkeKem = hpke::kem::X25519HkdfSha256;
type HpkeKdf = hpke::kdf::HkdfSha256;
type HpkeAead = hpke::aead::ChaCha20Poly1305;

/// Length of an XChaCha20-Poly1305 nonce.
pub const NONCE_LEN: usize = 24;
/// Length of an AEAD tag (Poly1305).
pub const TAG_LEN: usize = 16;
/// Length of an Ed25519 signature.
pub const SIG_LEN: usize = 64;

/// A 32-byte secret, boxed so moves do not leave copies behind, zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Secret32(Box<[u8; 32]>);

impl Secret32 {
    /// Wraps secret bytes (the caller's copy should be zeroized by the caller).
    pub(crate) fn from_bytes(bytes: [u8; 32]) -> Self {
        let mut b = Zeroizing::new(bytes);
        let s = Self(Box::new(*b));
        b.zeroize();
        s
    }
    /// Fresh random secret.
    pub(crate) fn random(rng: &mut impl CryptoRng) -> Self {
        let mut s = Self(Box::new([0u8; 32]));
        rng.fill_bytes(s.0.as_mut());
        s
    }
    pub(crate) fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl ConstantTimeEq for Secret32 {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.0.as_slice().ct_eq(other.0.as_slice())
    }
}

impl core::fmt::Debug for Secret32 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Secret32([redacted])")
    }
}

/// SHA-256 over a domain label and the given parts, each part prefixed with its u32 length so
/// that no two different part lists hash the same.
pub(crate) fn hash(label: &str, parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update((label.len() as u32).to_be_bytes());
    h.update(label.as_bytes());
    for p in parts {
        h.update((p.len() as u32).to_be_bytes());
        h.update(p);
    }
    h.finalize().into()
}

/// HKDF-SHA-256: extract with `salt` over `ikm`, expand with `info` to 32 bytes.
pub(crate) fn kdf(salt: &[u8], ikm: &[u8], info: &[u8]) -> Secret32 {
    let hk = Hkdf::<Sha256>::new(Some(salt), ikm);
    let mut out = Zeroizing::new([0u8; 32]);
    // 32 bytes is far below HKDF-SHA-256's 8160-byte limit, so expand cannot fail.
    let _ = hk.expand(info, out.as_mut());
    Secret32::from_bytes(*out)
}

/// HMAC-SHA-256 tag.
pub(crate) fn mac(key: &Secret32, data: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so construction cannot fail.
    let mut m = match <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(key.expose()) {
        Ok(m) => m,
        Err(_) => return [0u8; 32],
    };
    for d in data {
        m.update(&(d.len() as u32).to_be_bytes());
        m.update(d);
    }
    m.finalize().into_bytes().into()
}

/// Constant-time equality of two byte strings.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// XChaCha20-Poly1305 seal; the output is ciphertext followed by the 16-byte tag.
pub(crate) fn seal(key: &Secret32, nonce: &[u8; NONCE_LEN], aad: &[u8], pt: &[u8]) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(key.expose().into());
    // Encryption fails only for inputs beyond 256 GiB; frames are bounded far below that.
    cipher.encrypt(nonce.into(), Payload { msg: pt, aad }).unwrap_or_default()
}

/// XChaCha20-Poly1305 open; `None` when the tag does not verify.
pub(crate) fn open(key: &Secret32, nonce: &[u8; NONCE_LEN], aad: &[u8], ct: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let cipher = XChaCha20Poly1305::new(key.expose().into());
    cipher.decrypt(nonce.into(), Payload { msg: ct, aad }).ok().map(Zeroizing::new)
}

/// An Ed25519 signing key with a redacted `Debug`; the dalek key zeroizes itself on drop.
#[derive(Clone)]
pub struct SignKey(SigningKey);

impl SignKey {
    pub(crate) fn generate(rng: &mut impl CryptoRng) -> Self {
        Self(SigningKey::generate(rng))
    }
    pub(crate) fn from_seed(seed: &Secret32) -> Self {
        Self(SigningKey::from_bytes(seed.expose()))
    }
    pub(crate) fn seed(&self) -> Secret32 {
        Secret32::from_bytes(self.0.to_bytes())
    }
    pub(crate) fn public(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }
    /// Signs `label || msg`; labels keep signatures of one frame kind from verifying as another.
    pub(crate) fn sign(&self, label: &str, msg: &[u8]) -> [u8; SIG_LEN] {
        let mut buf = Vec::with_capacity(label.len() + 1 + msg.len());
        buf.extend_from_slice(label.as_bytes());
        buf.push(0);
        buf.extend_from_slice(msg);
        self.0.sign(&buf).to_bytes()
    }
}

impl core::fmt::Debug for SignKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SignKey {{ public: {}, secret: [redacted] }}", hex_short(&self.public()))
    }
}

/// Verifies an Ed25519 signature over `label || 0 || msg` with strict (non-malleable) rules.
pub(crate) fn verify(public: &[u8; 32], label: &str, msg: &[u8], sig: &[u8; SIG_LEN]) -> bool {
    let Ok(vk) = VerifyingKey::from_bytes(public) else { return false };
    let sig = Signature::from_bytes(sig);
    let mut buf = Vec::with_capacity(label.len() + 1 + msg.len());
    buf.extend_from_slice(label.as_bytes());
    buf.push(0);
    buf.extend_from_slice(msg);
    vk.verify_strict(&buf, &sig).is_ok()
}

/// Whether 32 bytes are a valid, non-weak Ed25519 public key.
pub(crate) fn is_valid_sign_public(public: &[u8; 32]) -> bool {
    VerifyingKey::from_bytes(public).map(|vk| !vk.is_weak()).unwrap_or(false)
}

/// Whether 32 bytes are an X25519 public key of full order (not one of the low-order points,
/// with which every shared secret is zero and anyone could open what is sealed to it).
pub(crate) fn is_valid_kx_public(public: &[u8; 32]) -> bool {
    let probe = x25519_dalek::StaticSecret::from([0x11; 32]);
    probe.diffie_hellman(&x25519_dalek::PublicKey::from(*public)).was_contributory()
}

/// An X25519 private key (key delivery and ephemeral keys).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct KxKey(Secret32);

impl KxKey {
    pub(crate) fn generate(rng: &mut impl CryptoRng) -> Self {
        Self(Secret32::random(rng))
    }
    pub(crate) fn from_secret(s: Secret32) -> Self {
        Self(s)
    }
    pub(crate) fn secret(&self) -> &Secret32 {
        &self.0
    }
    pub(crate) fn public(&self) -> [u8; 32] {
        let sk = x25519_dalek::StaticSecret::from(*self.0.expose());
        x25519_dalek::PublicKey::from(&sk).to_bytes()
    }
}

impl core::fmt::Debug for KxKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "KxKey {{ public: {}, secret: [redacted] }}", hex_short(&self.public()))
    }
}

/// A pre-shared key for HPKE's PSK mode, with its identifier.
pub(crate) struct Psk<'a> {
    pub key: &'a Secret32,
    pub id: &'a [u8],
}

/// Result of an HPKE seal: the encapsulated key, the ciphertext and an exported secret.
pub(crate) struct HpkeSealed {
    pub enc: [u8; 32],
    pub ct: Vec<u8>,
    pub export: Secret32,
}

/// Label of the secret exported from every HPKE context (RFC 9180 §5.3).
const HPKE_EXPORT_LABEL: &[u8] = b"zfc v1 hpke export";

/// HPKE single-shot seal to `recipient` (X25519 public key) in Base or PSK mode, also exporting
/// a 32-byte secret from the context.
pub(crate) fn hpke_seal(
    recipient: &[u8; 32],
    info: &[u8],
    aad: &[u8],
    pt: &[u8],
    psk: Option<Psk<'_>>,
    rng: &mut impl CryptoRng,
) -> Option<HpkeSealed> {
    let pk = <HpkeKem as hpke::Kem>::PublicKey::from_bytes(recipient).ok()?;
    let bundle;
    let mode = match &psk {
        Some(p) => {
            bundle = PskBundle::new(p.key.expose(), p.id).ok()?;
            OpModeS::Psk(bundle)
        }
        None => OpModeS::Base,
    };
    let (enc, mut ctx) = hpke::setup_sender_with_rng::<HpkeAead, HpkeKdf, HpkeKem>(&mode, &pk, info, rng).ok()?;
    let ct = ctx.seal(pt, aad).ok()?;
    let mut export = Zeroizing::new([0u8; 32]);
    ctx.export(HPKE_EXPORT_LABEL, export.as_mut()).ok()?;
    let mut enc_bytes = [0u8; 32];
    enc_bytes.copy_from_slice(&enc.to_bytes());
    Some(HpkeSealed { enc: enc_bytes, ct, export: Secret32::from_bytes(*export) })
}

/// HPKE single-shot open; `None` on any failure (bad key, bad tag, wrong PSK).
pub(crate) fn hpke_open(
    recipient: &KxKey,
    enc: &[u8; 32],
    info: &[u8],
    aad: &[u8],
    ct: &[u8],
    psk: Option<Psk<'_>>,
) -> Option<(Zeroizing<Vec<u8>>, Secret32)> {
    let sk = <HpkeKem as hpke::Kem>::PrivateKey::from_bytes(recipient.secret().expose()).ok()?;
    let enc = <HpkeKem as hpke::Kem>::EncappedKey::from_bytes(enc).ok()?;
    let bundle;
    let mode = match &psk {
        Some(p) => {
            bundle = PskBundle::new(p.key.expose(), p.id).ok()?;
            OpModeR::Psk(bundle)
        }
        None => OpModeR::Base,
    };
    let mut ctx = hpke::setup_receiver::<HpkeAead, HpkeKdf, HpkeKem>(&mode, &sk, &enc, info).ok()?;
    let pt = ctx.open(ct, aad).ok()?;
    let mut export = Zeroizing::new([0u8; 32]);
    ctx.export(HPKE_EXPORT_LABEL, export.as_mut()).ok()?;
    Some((Zeroizing::new(pt), Secret32::from_bytes(*export)))
}

/// The first four bytes in hex, for logs and `Debug` of public values.
pub(crate) fn hex_short(b: &[u8]) -> String {
    b.iter().take(4).map(|x| format!("{x:02x}")).collect()
}

/// Lower-case hex of the whole slice.
pub fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn signatures_are_bound_to_their_label() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let k = SignKey::generate(&mut rng);
        let sig = k.sign("a", b"msg");
        assert!(verify(&k.public(), "a", b"msg", &sig));
        assert!(!verify(&k.public(), "b", b"msg", &sig));
        assert!(!verify(&k.public(), "a", b"msh", &sig));
    }

    #[test]
    fn hpke_psk_mode_needs_the_psk() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let r = KxKey::generate(&mut rng);
        let psk = Secret32::random(&mut rng);
        let other = Secret32::random(&mut rng);
        let sealed = hpke_seal(&r.public(), b"i", b"a", b"pt", Some(Psk { key: &psk, id: b"x" }), &mut rng).unwrap();
        let (pt, exp) = hpke_open(&r, &sealed.enc, b"i", b"a", &sealed.ct, Some(Psk { key: &psk, id: b"x" })).unwrap();
        assert_eq!(pt.as_slice(), b"pt");
        assert!(ct_eq(exp.expose(), sealed.export.expose()));
        assert!(hpke_open(&r, &sealed.enc, b"i", b"a", &sealed.ct, Some(Psk { key: &other, id: b"x" })).is_none());
        assert!(hpke_open(&r, &sealed.enc, b"j", b"a", &sealed.ct, Some(Psk { key: &psk, id: b"x" })).is_none());
    }

    #[test]
    fn debug_output_never_shows_secret_bytes() {
        let s = Secret32::from_bytes([0xab; 32]);
        assert!(!format!("{s:?}").contains("ab"));
        let k = KxKey::from_secret(Secret32::from_bytes([0xcd; 32]));
        assert!(!format!("{k:?}").contains("cdcd"));
    }
}
