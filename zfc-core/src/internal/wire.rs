//! The byte codec every frame uses: big-endian integers, fixed arrays, length-prefixed byte
//! strings, and a reader that refuses trailing bytes.
//!
//! Invariant: decoding never allocates more than the input's own length, so a crafted length
//! prefix cannot make a decoder allocate beyond the frame it was handed.

use crate::error::DecodeError;

/// The only protocol version this implementation speaks; every frame starts with it.
pub const PROTOCOL_VERSION: u8 = 1;

/// Largest frame (of any kind) a party accepts, in bytes.
pub const MAX_FRAME_LEN: usize = 1024 * 1024;

/// Largest client request or relay message: a frame plus its envelope.
pub const MAX_ENVELOPE_LEN: usize = MAX_FRAME_LEN + 64;

/// Appends encoded fields to a buffer (used by frame encoders).
#[derive(Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn new() -> Self {
        Self { buf: Vec::with_capacity(128) }
    }

    /// Starts a frame with the protocol version and the frame's kind.
    pub(crate) fn frame(kind: u8) -> Self {
        let mut w = Self::new();
        w.u8(PROTOCOL_VERSION);
        w.u8(kind);
        w
    }

    pub(crate) fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }
    pub(crate) fn u16(&mut self, v: u16) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub(crate) fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub(crate) fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// A fixed-length field: no prefix, the length is implied by the frame layout.
    pub(crate) fn fixed(&mut self, v: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(v);
        self
    }
    /// A variable-length field: u32 length, then the bytes.
    pub(crate) fn bytes(&mut self, v: &[u8]) -> &mut Self {
        // Callers bound every variable field well below 4 GiB (MAX_FRAME_LEN), so the cast is exact.
        self.u32(v.len() as u32);
        self.buf.extend_from_slice(v);
        self
    }
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.buf
    }
    pub(crate) fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads encoded fields from a byte slice; every read is bounds-checked.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    /// Opens a frame: checks the size bound, the version and the expected kind.
    pub(crate) fn frame(data: &'a [u8], kind: u8) -> Result<Self, DecodeError> {
        let mut r = Self::open_any(data)?;
        let got = r.u8()?;
        if got != kind {
            return Err(DecodeError::UnexpectedKind { expected: kind, got });
        }
        Ok(r)
    }

    /// Checks the size bound and the version, leaving the kind byte unread.
    pub(crate) fn open_any(data: &'a [u8]) -> Result<Self, DecodeError> {
        Self::open_bounded(data, MAX_FRAME_LEN)
    }

    /// Like [`Self::open_any`] with another size bound (envelopes are a little larger).
    pub(crate) fn open_bounded(data: &'a [u8], max: usize) -> Result<Self, DecodeError> {
        if data.len() > max {
            return Err(DecodeError::TooLong { len: data.len(), max });
        }
        let mut r = Self::new(data);
        let version = r.u8()?;
        if version != PROTOCOL_VERSION {
            return Err(DecodeError::UnsupportedVersion(version));
        }
        Ok(r)
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError::Truncated)?;
        let out = self.data.get(self.pos..end).ok_or(DecodeError::Truncated)?;
        self.pos = end;
        Ok(out)
    }
    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }
    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    pub(crate) fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    /// A u32-length-prefixed field of at most `max` bytes.
    pub(crate) fn bytes(&mut self, max: usize) -> Result<&'a [u8], DecodeError> {
        let len = self.u32()? as usize;
        if len > max {
            return Err(DecodeError::FieldTooLong { len, max });
        }
        self.take(len)
    }
    /// A count of items that follow, each at least `min_item_len` bytes, checked against the
    /// remaining input before anything is allocated for them.
    pub(crate) fn count(&mut self, min_item_len: usize, max: usize) -> Result<usize, DecodeError> {
        let n = self.u32()? as usize;
        if n > max {
            return Err(DecodeError::FieldTooLong { len: n, max });
        }
        let needed = n.checked_mul(min_item_len).ok_or(DecodeError::Truncated)?;
        if needed > self.remaining() {
            return Err(DecodeError::Truncated);
        }
        Ok(n)
    }
    pub(crate) fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }
    /// Fails unless the whole input was consumed.
    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        if self.remaining() != 0 {
            return Err(DecodeError::TrailingBytes(self.remaining()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_and_trailing_inputs_are_refused() {
        let mut w = Writer::frame(7);
        w.u32(5).bytes(b"abc");
        let bytes = w.finish();
        let mut r = Reader::frame(&bytes, 7).unwrap();
        assert_eq!(r.u32().unwrap(), 5);
        assert_eq!(r.bytes(16).unwrap(), b"abc");
        r.finish().unwrap();

        for cut in 0..bytes.len() {
            let res = Reader::frame(&bytes[..cut], 7).and_then(|mut r| {
                r.u32()?;
                r.bytes(16)?;
                r.finish()
            });
            assert!(res.is_err(), "prefix of {cut} bytes accepted");
        }
        let mut long = bytes.clone();
        long.push(0);
        let mut r = Reader::frame(&long, 7).unwrap();
        r.u32().unwrap();
        r.bytes(16).unwrap();
        assert_eq!(r.finish(), Err(DecodeError::TrailingBytes(1)));
    }

    #[test]
    fn unknown_version_is_refused() {
        assert_eq!(Reader::frame(&[2, 7], 7).err(), Some(DecodeError::UnsupportedVersion(2)));
    }

    #[test]
    fn huge_counts_do_not_allocate() {
        let mut w = Writer::new();
        w.u32(u32::MAX);
        let bytes = w.finish();
        let mut r = Reader::new(&bytes);
        assert!(r.count(32, usize::MAX).is_err());
    }
}
