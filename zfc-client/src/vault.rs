//! The sealed client state (spec §17.8): the per-room pickles in one container, sealed under a
//! key derived from the passphrase once.
