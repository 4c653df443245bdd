//! Randomness and byte buffers handed to C.

use rand_chacha::ChaCha20Rng;
use rand_core::{SeedableRng, UnwrapErr};
use zeroize::Zeroizing;

use crate::boundary::{free_handle, into_handle};
use crate::result::zfc_result;

/// A cryptographic random generator: ChaCha20, seeded from the operating system or, for
/// reproducible tests, from 32 given bytes.
pub struct zfc_rng {
    pub(crate) inner: ChaCha20Rng,
}

/// Creates a generator seeded from the operating system's randomness.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_rng_new_os(rng_out: *mut *mut zfc_rng) -> zfc_result {
    ffi!({
        out_check!(rng_out);
        let inner = ChaCha20Rng::from_rng(&mut UnwrapErr(getrandom::SysRng));
        out_write!(rng_out, into_handle(zfc_rng { inner }));
        zfc_result::ZFC_OK
    })
}

/// Creates a generator from a 32-byte seed: the same seed gives the same bytes. For tests and
/// test vectors only; never for real keys.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_rng_new_seeded(seed: *const u8, rng_out: *mut *mut zfc_rng) -> zfc_result {
    ffi!({
        let seed = arg_array!(seed, 32);
        out_check!(rng_out);
        out_write!(rng_out, into_handle(zfc_rng { inner: ChaCha20Rng::from_seed(*seed) }));
        zfc_result::ZFC_OK
    })
}

/// Frees a generator; NULL does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_rng_free(rng: *mut zfc_rng) {
    ffi_void!({
        // SAFETY: the header requires `rng` to be NULL or from zfc_rng_new_*, not yet freed.
        unsafe { free_handle(rng) }
    })
}

/// Bytes the library hands to the caller (a request, a saved state, an invite string, a
/// fingerprint). Its contents are zeroized when it is freed, since some hold secrets.
pub struct zfc_buf {
    pub(crate) bytes: Zeroizing<Vec<u8>>,
}

impl zfc_buf {
    pub(crate) fn new(bytes: Vec<u8>) -> *mut zfc_buf {
        into_handle(zfc_buf { bytes: Zeroizing::new(bytes) })
    }
}

/// The bytes of `buf` (borrowed: valid until `buf` is freed); NULL for a NULL buffer.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_buf_data(buf: *const zfc_buf) -> *const u8 {
    ffi_value!(std::ptr::null(), {
        // SAFETY: the header requires `buf` to be NULL or a live buffer from this library.
        match unsafe { buf.as_ref() } {
            Some(b) => b.bytes.as_ptr(),
            None => std::ptr::null(),
        }
    })
}

/// The length of `buf` in bytes; 0 for a NULL buffer.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_buf_len(buf: *const zfc_buf) -> usize {
    ffi_value!(0, {
        // SAFETY: the header requires `buf` to be NULL or a live buffer from this library.
        unsafe { buf.as_ref() }.map(|b| b.bytes.len()).unwrap_or(0)
    })
}

/// Frees a buffer, zeroizing it first; NULL does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn zfc_buf_free(buf: *mut zfc_buf) {
    ffi_void!({
        // SAFETY: the header requires `buf` to be NULL or from this library, not yet freed.
        unsafe { free_handle(buf) }
    })
}
