//! OpenMLS 0.9 reference: commit creation and processing (remove, self-update), join from a Welcome, and wire sizes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

// Notes on what is measured:
// - Ciphersuite MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519, provider `OpenMlsRustCrypto`
//   (its in-memory storage serializes state, and that cost is part of every OpenMLS call here).
// - Handshake messages use PURE_PLAINTEXT (PublicMessage with membership tag): a PrivateMessage
//   commit consumes a handshake ratchet key when decrypted, so the same commit could not be
//   processed twice. Application messages are always PrivateMessage.
// - The ratchet tree is passed out of band (no ratchet-tree extension), so the Welcome does not
//   carry the tree; its size is recorded separately as `openmls/ratchet_tree/N/bytes`.
// - Padding is set explicitly to 0 (`padding_size(0)`, also OpenMLS's default), recorded as
//   `openmls/app_message_256_padding`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use openmls::prelude::tls_codec::Serialize as _;
use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use zfc_bench::facts;

const CIPHERSUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519;
const PADDING: usize = 0;

/// One side of the room that we keep: its provider (storage), signer and group state.
struct Client {
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    group: MlsGroup,
}

/// An N-member group seen by its creator ("owner", leaf 0) and one other member (leaf 1).
struct Room {
    n: usize,
    owner: Client,
    member: Client,
    /// Serialized commit (MlsMessageOut bytes) by the owner removing the last leaf.
    remove_commit: Vec<u8>,
    /// Serialized self-update commit by the owner.
    self_update_commit: Vec<u8>,
}

fn credential(name: &str) -> (CredentialWithKey, SignatureKeyPair) {
    let signer = SignatureKeyPair::new(CIPHERSUITE.signature_algorithm()).expect("signature key");
    let credential = CredentialWithKey {
        credential: BasicCredential::new(name.as_bytes().to_vec()).into(),
        signature_key: signer.to_public_vec().into(),
    };
    (credential, signer)
}

fn key_package(provider: &OpenMlsRustCrypto, name: &str) -> (KeyPackage, SignatureKeyPair) {
    let (cred, signer) = credential(name);
    let bundle = KeyPackage::builder().build(CIPHERSUITE, provider, &signer, cred).expect("key package");
    (bundle.key_package().clone(), signer)
}

fn create_config() -> MlsGroupCreateConfig {
    MlsGroupCreateConfig::builder()
        .ciphersuite(CIPHERSUITE)
        .wire_format_policy(PURE_PLAINTEXT_WIRE_FORMAT_POLICY)
        .padding_size(PADDING)
        .use_ratchet_tree_extension(false)
        .build()
}

fn join_config() -> MlsGroupJoinConfig {
    MlsGroupJoinConfig::builder()
        .wire_format_policy(PURE_PLAINTEXT_WIRE_FORMAT_POLICY)
        .padding_size(PADDING)
        .use_ratchet_tree_extension(false)
        .build()
}

fn welcome_from(msg: &MlsMessageOut) -> Welcome {
    let bytes = msg.to_bytes().expect("serialize welcome");
    match MlsMessageIn::tls_deserialize_exact_bytes(&bytes).expect("deserialize welcome").extract() {
        MlsMessageBodyIn::Welcome(w) => w,
        _ => panic!("not a welcome"),
    }
}

fn protocol_message(bytes: &[u8]) -> ProtocolMessage {
    MlsMessageIn::tls_deserialize_exact_bytes(bytes)
        .expect("deserialize message")
        .try_into_protocol_message()
        .expect("protocol message")
}

/// Builds the room with one add commit carrying all N-1 key packages; only the owner and one
/// member are kept, the other N-2 members' keys are dropped.
fn build_room(n: usize) -> Room {
    assert!(n >= 3, "need owner, member and a third leaf to remove");
    let owner_provider = OpenMlsRustCrypto::default();
    let (owner_cred, owner_signer) = credential("owner");
    let mut owner_group =
        MlsGroup::new(&owner_provider, &owner_signer, &create_config(), owner_cred).expect("create group");

    let member_provider = OpenMlsRustCrypto::default();
    let (member_kp, member_signer) = key_package(&member_provider, "member");
    let mut key_packages = Vec::with_capacity(n - 1);
    key_packages.push(member_kp);
    {
        // The other members' private keys are never needed: one throwaway provider for all.
        let others = OpenMlsRustCrypto::default();
        for i in 2..n {
            key_packages.push(key_package(&others, &format!("m{i}")).0);
        }
    }
    let (_commit, welcome, _info) =
        owner_group.add_members(&owner_provider, &owner_signer, &key_packages).expect("add members");
    drop(key_packages);
    owner_group.merge_pending_commit(&owner_provider).expect("merge add");
    assert_eq!(owner_group.members().count(), n);

    let staged = StagedWelcome::new_from_welcome(
        &member_provider,
        &join_config(),
        welcome_from(&welcome),
        Some(owner_group.export_ratchet_tree().into()),
    )
    .expect("stage welcome");
    let member_group = staged.into_group(&member_provider).expect("member joins");
    assert_eq!(member_group.own_leaf_index(), LeafNodeIndex::new(1));
    assert_eq!(member_group.epoch(), owner_group.epoch());

    let mut owner = Client { provider: owner_provider, signer: owner_signer, group: owner_group };
    let removed = last_leaf(n);
    let (commit, _, _) = owner.group.remove_members(&owner.provider, &owner.signer, &[removed]).expect("remove commit");
    let remove_commit = commit.to_bytes().expect("serialize remove commit");
    owner.group.clear_pending_commit(owner.provider.storage()).expect("clear");
    let bundle = owner
        .group
        .self_update(&owner.provider, &owner.signer, LeafNodeParameters::default())
        .expect("self-update commit");
    let self_update_commit = bundle.commit().to_bytes().expect("serialize self-update commit");
    owner.group.clear_pending_commit(owner.provider.storage()).expect("clear");

    facts::record(&format!("openmls/commit_remove/{n}/bytes"), remove_commit.len() as f64, "bytes");
    facts::record(&format!("openmls/commit_self_update/{n}/bytes"), self_update_commit.len() as f64, "bytes");
    let tree = owner.group.export_ratchet_tree().tls_serialize_detached().expect("serialize tree");
    facts::record(&format!("openmls/ratchet_tree/{n}/bytes"), tree.len() as f64, "bytes");

    Room {
        n,
        owner,
        member: Client { provider: member_provider, signer: member_signer, group: member_group },
        remove_commit,
        self_update_commit,
    }
}

/// The leaf removed in the remove benchmarks: the last one, never the owner (0) nor the member (1).
fn last_leaf(n: usize) -> LeafNodeIndex {
    LeafNodeIndex::new(u32::try_from(n - 1).expect("leaf index"))
}

/// A newcomer's inputs to join: its own provider (holding its key package), the Welcome and the
/// ratchet tree after the add.
struct Newcomer {
    provider: OpenMlsRustCrypto,
    welcome: Welcome,
    tree: RatchetTreeIn,
}

/// Owner adds a fresh newcomer, hands out the Welcome, then discards its commit (the group stays at N).
fn newcomer(owner: &mut Client) -> (Newcomer, usize) {
    let provider = OpenMlsRustCrypto::default();
    let (kp, _signer) = key_package(&provider, "newcomer");
    let (_commit, welcome, _info) =
        owner.group.add_members(&owner.provider, &owner.signer, &[kp]).expect("add newcomer");
    let tree = owner
        .group
        .pending_commit()
        .expect("pending add")
        .export_ratchet_tree(owner.provider.crypto(), owner.group.export_ratchet_tree())
        .expect("tree after add")
        .expect("member commit has a tree");
    owner.group.clear_pending_commit(owner.provider.storage()).expect("clear");
    let welcome_len = welcome.to_bytes().expect("serialize welcome").len();
    (Newcomer { provider, welcome: welcome_from(&welcome), tree: tree.into() }, welcome_len)
}

/// Times the owner making one commit with `commit`; the pending commit is cleared untimed, so
/// every iteration starts from the same epoch.
fn time_owner_commit(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: &str,
    n: usize,
    owner: &mut Client,
    mut commit: impl FnMut(&mut Client),
) {
    group.bench_function(BenchmarkId::new(id, n), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                commit(owner);
                total += start.elapsed();
                owner.group.clear_pending_commit(owner.provider.storage()).expect("clear");
            }
            total
        });
    });
}

fn benches(c: &mut Criterion) {
    let sizes = facts::room_sizes(&[10, 100, 1000]);
    let mut rooms: Vec<Room> = sizes.iter().map(|&n| build_room(n)).collect();

    // Application message with 256 bytes of content (always a PrivateMessage).
    if let Some(room) = rooms.first_mut() {
        let owner = &mut room.owner;
        let msg = owner.group.create_message(&owner.provider, &owner.signer, &[0x5a; 256]).expect("app message");
        facts::record("openmls/app_message_256/bytes", msg.to_bytes().expect("serialize").len() as f64, "bytes");
        facts::record("openmls/app_message_256_padding", PADDING as f64, "bytes");
    }

    {
        let mut group = zfc_bench::group(c, "rotation_owner", 10, Duration::from_secs(3));
        for room in &mut rooms {
            let n = room.n;
            let owner = &mut room.owner;
            time_owner_commit(&mut group, "openmls_remove", n, owner, |o| {
                black_box(o.group.remove_members(&o.provider, &o.signer, &[last_leaf(n)]).expect("remove commit"));
            });
            time_owner_commit(&mut group, "openmls_self_update", n, owner, |o| {
                black_box(
                    o.group
                        .self_update(&o.provider, &o.signer, LeafNodeParameters::default())
                        .expect("self-update commit"),
                );
            });
        }
        group.finish();
    }

    {
        let mut group = zfc_bench::group(c, "rotation_member", 10, Duration::from_secs(3));
        for room in &mut rooms {
            let n = room.n;
            let member = &mut room.member;
            for (id, commit) in
                [("openmls_remove", &room.remove_commit), ("openmls_self_update", &room.self_update_commit)]
            {
                group.bench_function(BenchmarkId::new(id, n), |b| {
                    b.iter(|| {
                        // Not merged: the member stays at the same epoch and can process it again.
                        let processed = member
                            .group
                            .process_message(&member.provider, protocol_message(commit))
                            .expect("process commit");
                        assert!(matches!(processed.content(), ProcessedMessageContent::StagedCommitMessage(_)));
                        processed
                    });
                });
            }
        }
        group.finish();
    }

    {
        let mut group = zfc_bench::group(c, "join_welcome", 10, Duration::from_secs(3));
        let join = join_config();
        for room in &mut rooms {
            let n = room.n;
            let (_, welcome_len) = newcomer(&mut room.owner);
            facts::record(&format!("openmls/welcome/{n}/bytes"), welcome_len as f64, "bytes");
            let owner = &mut room.owner;
            group.bench_function(BenchmarkId::new("openmls", n), |b| {
                b.iter_batched(
                    || newcomer(owner).0,
                    |nc| {
                        let staged = StagedWelcome::new_from_welcome(&nc.provider, &join, nc.welcome, Some(nc.tree))
                            .expect("stage welcome");
                        let group = staged.into_group(&nc.provider).expect("join");
                        (nc.provider, group)
                    },
                    BatchSize::SmallInput,
                );
            });
            assert_eq!(owner.group.members().count(), n);
        }
        group.finish();
    }
}

criterion_group!(openmls_benches, benches);
criterion_main!(openmls_benches);
