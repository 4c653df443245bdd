"""The UniFFI exports of zfc-client, called from the Python UniFFI generates.

Not the Python package (that is PyO3, `bindings/python/`): this proves the exported scaffolding
that Kotlin and Swift use is whole and behaves as the Rust API does, before those bindings exist.
Run by scripts/test-all.sh: `python3 smoke.py GENERATED_DIR` with libzfc_ffi.so copied there.
"""
import sys

sys.path.insert(0, sys.argv[1])
import zfc  # noqa: E402  (the generated module)

RELAY_KEY = bytes(range(32))
WEAK_KDF = zfc.Argon2Params(m_cost_kib=8, t_cost=1, p_cost=1)


def config(seed):
    return zfc.ClientConfig(
        kdf=WEAK_KDF,
        insecure_weak_kdf_for_tests=True,
        randomness=zfc.Randomness.SEEDED_FOR_TESTS(seed=bytes([seed]) * 32),
        clock=zfc.Clock.MANUAL,
    )


def refused(call, group, name):
    try:
        call()
    except group as e:
        assert e.name == name, (e.name, name)
        return e.code
    raise AssertionError(f"expected {group.__name__} {name}")


def saved(client):
    save = client.poll_save()
    assert save is not None, "a new room must be saved before anything is sent"
    # The crash-safe order: a dial may start, but no record leaves until the state that spent
    # it is written.
    steps = []
    while (step := client.poll_transmit()) is not None:
        assert not isinstance(step, zfc.Transmit.SEND), step
        steps.append(step)
    client.state_saved(save.generation)
    assert not client.waits_for_save()
    return save, steps


def main():
    defaults = zfc.ClientConfig(randomness=zfc.Randomness.OS(), clock=zfc.Clock.SYSTEM)
    assert defaults.keepalive_interval_ms == 30000 and not defaults.insecure_weak_kdf_for_tests
    assert defaults.kdf.m_cost_kib >= 65536, "the record's defaults are the production ones"

    relay = zfc.RelayAddress("ws://127.0.0.1:9/", RELAY_KEY)
    assert relay.url() == "ws://127.0.0.1:9/" and relay.key() == RELAY_KEY
    refused(lambda: zfc.RelayAddress("not a url", RELAY_KEY), zfc.ZfcError.ApiMisuse, "INVALID_ARGUMENT")
    refused(lambda: zfc.RelayAddress("ws://h/", b"short"), zfc.ZfcError.ApiMisuse, "INVALID_ARGUMENT")

    alice = zfc.Client.create(config(1), b"alice's passphrase")
    first = alice.poll_save()
    alice.state_saved(first.generation)
    settings = zfc.RoomSettings(history=zfc.HistoryPolicy.SINCE_JOIN, auto_approve=True)
    room = alice.create_room(relay, settings)
    assert len(room) == 16 and alice.rooms() == [room]
    save, steps = saved(alice)
    assert len(steps) == 1, steps
    step = steps[0]
    assert isinstance(step, zfc.Transmit.CONNECT), step
    assert step.url == "ws://127.0.0.1:9/"
    info = alice.room_info(room)
    assert info.role == zfc.RoomRole.OWNER and info.members == [0], info
    assert info.room == room and info.relay_key == RELAY_KEY and info.epoch == 0, info
    assert len(alice.fingerprint(room, 0)) > 0
    assert alice.next_timeout() is not None, "a dial in flight has a deadline"

    # The shared codes, from the same table C and the PyO3 package report.
    code = refused(lambda: zfc.Client.open(config(1), save.bytes, b"wrong"), zfc.ZfcError.LocalState, "WRONG_PASSWORD")
    assert code == 300, code
    refused(lambda: alice.room_info(bytes(16)), zfc.ZfcError.ApiMisuse, "NO_SUCH_ROOM")
    refused(lambda: alice.send_text(room, "x" * 70000), zfc.ZfcError.ApiMisuse, "MESSAGE_TOO_LONG")
    refused(lambda: alice.join_room("zfc://join?nonsense", "x"), zfc.ZfcError.Invite, "BAD_INVITE")
    assert alice.poll_save() is None, "a refused call saved nothing"

    # The saved state opens into the same room; a message waits for its save too.
    again = zfc.Client.open(config(2), save.bytes, b"alice's passphrase")
    assert again.rooms() == [room]
    seq = again.send(room, zfc.Content.TEXT(body="hello"))
    assert seq >= 0
    saved(again)
    again.erase()
    again.erase()  # idempotent
    assert again.is_closed()
    code = refused(lambda: again.rooms(), zfc.ZfcError.ApiMisuse, "CLOSED")
    assert code == 5, code
    alice.erase()
    print("uniffi smoke: ok")


if __name__ == "__main__":
    main()
