//! The panic boundary and the checked reading of C arguments.
//!
//! Since Rust 1.81 a panic that unwinds out of an `extern "C"` function aborts the process, so
//! every export runs its body inside `catch_unwind` through one of these macros:
//! - `ffi!({ .. })` for functions returning `zfc_result` (a panic becomes `ZFC_ERR_PANIC`);
//! - `ffi_value!(default, { .. })` for accessors returning a plain value (a panic returns
//!   `default`);
//! - `ffi_void!({ .. })` for `*_free` and other functions returning nothing.
//!
//! The argument macros turn C pointers into references, returning `ZFC_ERR_NULL_ARGUMENT` for a
//! NULL and never creating a reference to anything but what the caller handed in.

/// Body of an export returning `zfc_result`.
macro_rules! ffi {
    ($body:block) => {{
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| -> $crate::result::zfc_result { $body })) {
            Ok(code) => code,
            Err(_) => $crate::result::zfc_result::ZFC_ERR_PANIC,
        }
    }};
}

/// Body of an export returning a plain value; a panic returns `$default`.
macro_rules! ffi_value {
    ($default:expr, $body:block) => {{
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| $body)) {
            Ok(v) => v,
            Err(_) => $default,
        }
    }};
}

/// Body of an export returning nothing.
macro_rules! ffi_void {
    ($body:block) => {{
        let _ = ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| $body));
    }};
}

/// `&T` from a handle pointer, or return `ZFC_ERR_NULL_ARGUMENT`.
macro_rules! arg_ref {
    ($p:expr) => {{
        // SAFETY: the header requires every handle argument to be NULL or a pointer this library
        // returned and that was not freed, used from one thread at a time; NULL is caught here.
        match unsafe { $p.as_ref() } {
            Some(r) => r,
            None => return $crate::result::zfc_result::ZFC_ERR_NULL_ARGUMENT,
        }
    }};
}

/// `&mut T` from a handle pointer, or return `ZFC_ERR_NULL_ARGUMENT`.
macro_rules! arg_mut {
    ($p:expr) => {{
        // SAFETY: as for `arg_ref!`; the header forbids using one handle from two threads at
        // once, so this is the only reference to it for the duration of the call.
        match unsafe { $p.as_mut() } {
            Some(r) => r,
            None => return $crate::result::zfc_result::ZFC_ERR_NULL_ARGUMENT,
        }
    }};
}

/// `&[u8]` from a pointer and a length (NULL allowed only with length 0).
macro_rules! arg_bytes {
    ($p:expr, $len:expr) => {{
        let (p, len): (*const u8, usize) = ($p, $len);
        if len == 0 {
            &[][..]
        } else if p.is_null() {
            return $crate::result::zfc_result::ZFC_ERR_NULL_ARGUMENT;
        } else {
            // SAFETY: the header requires `p` to point to `len` readable bytes that stay
            // unchanged during the call; the slice does not outlive the call.
            unsafe { ::std::slice::from_raw_parts(p, len) }
        }
    }};
}

/// `&[u8; N]` from a pointer to a fixed-size array.
macro_rules! arg_array {
    ($p:expr, $n:literal) => {{
        let p: *const u8 = $p;
        if p.is_null() {
            return $crate::result::zfc_result::ZFC_ERR_NULL_ARGUMENT;
        }
        // SAFETY: the header declares the parameter as `const uint8_t name[N]`, so the caller
        // guarantees N readable bytes; `[u8; N]` has alignment 1.
        unsafe { &*(p as *const [u8; $n]) }
    }};
}

/// `&str` from a NUL-terminated UTF-8 string.
macro_rules! arg_str {
    ($p:expr) => {{
        let p: *const ::std::ffi::c_char = $p;
        if p.is_null() {
            return $crate::result::zfc_result::ZFC_ERR_NULL_ARGUMENT;
        }
        // SAFETY: the header requires a NUL-terminated string valid for the call.
        match unsafe { ::std::ffi::CStr::from_ptr(p) }.to_str() {
            Ok(s) => s,
            Err(_) => return $crate::result::zfc_result::ZFC_ERR_INVALID_UTF8,
        }
    }};
}

/// Checks an output pointer before any work is done.
macro_rules! out_check {
    ($($p:expr),+) => {{
        $(
            if $p.is_null() {
                return $crate::result::zfc_result::ZFC_ERR_NULL_ARGUMENT;
            }
        )+
    }};
}

/// Writes an output value (the pointer was checked by `out_check!`).
macro_rules! out_write {
    ($p:expr, $v:expr) => {{
        let v = $v;
        // SAFETY: `$p` was checked non-NULL by `out_check!` and the header requires it to point
        // to writable memory of its type; `write` does not read or drop the old contents.
        unsafe { $p.write(v) }
    }};
}

/// Writes bytes into a caller's fixed-size output array.
macro_rules! out_array {
    ($p:expr, $v:expr) => {{
        let v = $v;
        // SAFETY: checked non-NULL by `out_check!`; the header declares the parameter as an
        // array of exactly `v.len()` bytes.
        unsafe { ::std::ptr::copy_nonoverlapping(v.as_ptr(), $p, v.len()) }
    }};
}

/// Moves a value to the heap and hands its ownership to C.
pub(crate) fn into_handle<T>(v: T) -> *mut T {
    Box::into_raw(Box::new(v))
}

/// Takes ownership back from C and drops the value; NULL does nothing.
///
/// # Safety
/// `p` must be NULL or a pointer from [`into_handle`] of the same type, not yet freed.
pub(crate) unsafe fn free_handle<T>(p: *mut T) {
    if !p.is_null() {
        // SAFETY: guaranteed by this function's contract, which every `*_free` passes on to C.
        drop(unsafe { Box::from_raw(p) });
    }
}

/// Takes ownership back from C and returns the value (for handles a call consumes).
///
/// # Safety
/// As [`free_handle`]; `p` must not be NULL.
pub(crate) unsafe fn take_handle<T>(p: *mut T) -> T {
    // SAFETY: guaranteed by this function's contract.
    *unsafe { Box::from_raw(p) }
}
