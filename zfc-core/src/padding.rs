//! Padding: how message lengths are hidden (spec §8.1). Its own noun, so that the room's
//! configuration and the message sealer both use it without depending on each other.

use crate::error::Error;

/// Largest message content, in bytes (and so the largest padding bucket).
pub const MAX_CONTENT_LEN: usize = 64 * 1024;

/// Bytes of the length prefix inside the padded plaintext.
pub(crate) const LEN_PREFIX: usize = 4;

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
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] unless the buckets ascend strictly within 1..=65536.
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
