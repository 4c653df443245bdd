//! The content envelope carried inside room messages (spec §21): an application layer above the
//! protocol.
