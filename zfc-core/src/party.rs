//! A party: the owner or a member, behind one type, for apps and tools that hold either (the
//! reference client, the load generator, the simulation).

use rand_core::CryptoRng;

use crate::error::Error;
use crate::event::Output;
use crate::member::Member;
use crate::owner::Owner;

/// The owner or a member.
#[derive(Debug)]
pub enum Party {
    /// The room's owner.
    Owner(Box<Owner>),
    /// A member or joiner.
    Member(Box<Member>),
}

impl Party {
    /// [`Owner::handle`] or [`Member::handle`].
    ///
    /// # Errors
    /// As [`Owner::handle`] or [`Member::handle`].
    pub fn handle(&mut self, bytes: &[u8], now: u64, rng: &mut impl CryptoRng) -> Result<Output, Error> {
        match self {
            Self::Owner(o) => o.handle(bytes, now, rng),
            Self::Member(m) => m.handle(bytes, rng),
        }
    }
    /// [`Owner::on_connected`] or [`Member::on_connected`].
    pub fn on_connected(&mut self, binding: crate::ChannelBinding) {
        match self {
            Self::Owner(o) => o.on_connected(binding),
            Self::Member(m) => m.on_connected(binding),
        }
    }
    /// [`Owner::send`] or [`Member::send`].
    ///
    /// # Errors
    /// As [`Owner::send`] or [`Member::send`].
    pub fn send(&mut self, content: &[u8], rng: &mut impl CryptoRng) -> Result<Output, Error> {
        match self {
            Self::Owner(o) => o.send(content, rng),
            Self::Member(m) => m.send(content, rng),
        }
    }
    /// [`Owner::ack`] or [`Member::ack`].
    pub fn ack(&self) -> Output {
        match self {
            Self::Owner(o) => o.ack(),
            Self::Member(m) => m.ack(),
        }
    }
    /// The room of the owner or member.
    pub fn room_id(&self) -> crate::RoomId {
        match self {
            Self::Owner(o) => o.room_id(),
            Self::Member(m) => m.room_id(),
        }
    }
}

impl Party {
    /// The whole state as a pickle.
    pub fn pickle(&self) -> Vec<u8> {
        match self {
            Self::Owner(o) => o.pickle().to_vec(),
            Self::Member(m) => m.pickle().to_vec(),
        }
    }
    /// A party loaded from [`Self::pickle`]'s output, of the same kind as `self`.
    ///
    /// # Errors
    /// As [`Owner::unpickle`] or [`Member::unpickle`].
    pub fn restore_like(&self, blob: &[u8]) -> Result<Self, crate::Error> {
        Ok(match self {
            Self::Owner(_) => Self::Owner(Box::new(Owner::unpickle(blob)?)),
            Self::Member(_) => Self::Member(Box::new(Member::unpickle(blob)?)),
        })
    }
}
