package zfc

import kotlin.reflect.KClass
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.junit.jupiter.api.Test

/**
 * Every refusal: its exception class (one per error group, all under the sealed
 * [ZfcException]), its shared code and name (the numbers C and Python report), and that it
 * changed nothing.
 */
class ErrorsTest {
    private val codes = errorCodes().associateBy { it.name }

    private val groupClass: Map<String, KClass<out ZfcException>> = mapOf(
        "PeerMisbehaved" to ZfcException.PeerMisbehaved::class,
        "ApiMisuse" to ZfcException.ApiMisuse::class,
        "Invite" to ZfcException.Invite::class,
        "RoomGone" to ZfcException.RoomGone::class,
        "LocalState" to ZfcException.LocalState::class,
        "Link" to ZfcException.Link::class,
        "RelayRefused" to ZfcException.RelayRefused::class,
        "Closed" to ZfcException.ConnectionClosed::class,
    )

    /** [call] throws the class of [name]'s group with [name]'s code. */
    private fun refused(name: String, call: () -> Any?): ZfcException {
        val row = checkNotNull(codes[name]) { "no code named $name" }
        val cls = checkNotNull(groupClass[row.group]) { row.group }
        val err = assertFailsWith(cls) { call() }
        assertEquals(row.code.toInt() to name, err.errorCode to err.errorName, err.message)
        assertTrue(err.message!!.contains(name))
        return err
    }

    private fun quiet(client: Client) {
        assertNull(client.pollSave(), "a refused call saved nothing")
        assertNull(client.pollTransmit(), "a refused call sent nothing")
        assertNull(client.pollEvent(), "a refused call said nothing")
    }

    /** A room of alice's with bob in it and carol removed, everything settled. */
    private fun settled(net: Net): Pair<ByteArray, String> {
        val (alice, bob, carol) = listOf(1, 2, 3).map { net.add(it) }
        val room = net.client(alice).createRoom(net.address, RoomSettings.defaults().copy(autoApprove = true))
        net.run()
        val invite = net.client(alice).invite(room, 3600u)
        for ((peer, name) in listOf(bob to "bob", carol to "carol")) {
            net.client(peer).joinRoom(net.client(alice).invite(room, 3600u), name)
            net.run()
        }
        net.client(alice).removeMember(room, 2u)
        net.run()
        for (p in listOf(alice, bob, carol)) net.take(p)
        return room to invite
    }

    @Test
    fun `the hierarchy has a class for every group of the table`() {
        assertEquals(groupClass.keys, codes.values.map { it.group }.toSet(), "a class for every group")
        for (cls in groupClass.values) assertTrue(ZfcException::class.java.isAssignableFrom(cls.java))
        assertTrue(Exception::class.java.isAssignableFrom(ZfcException::class.java))
        val list = errorCodes().map { it.code }
        assertEquals(list.sorted().distinct(), list, "unique codes, ascending")
        assertEquals("LocalState" to 300u, codes.getValue("WRONG_PASSWORD").let { it.group to it.code })
        assertEquals(5u, codes.getValue("CLOSED").code)
    }

    @Test
    fun `room calls refuse with the shared codes and change nothing`(): Unit = Net().use { net ->
        val (room, invite) = settled(net)
        val (alice, bob, carol) = (0..2).map { net.client(it) }
        for (c in listOf(alice, bob, carol)) quiet(c)
        refused("INVALID_ARGUMENT") { alice.roomInfo(byteArrayOf(1, 2, 3)) }
        refused("NO_SUCH_ROOM") { alice.roomInfo(ByteArray(16)) }
        refused("NO_SUCH_ROOM") { alice.sendText(ByteArray(16), "x") }
        refused("NOT_OWNER") { bob.invite(room, 60u) }
        refused("NOT_OWNER") { bob.removeMember(room, 0u) }
        refused("INVALID_ARGUMENT") { alice.updateKey(room) }
        refused("NO_SUCH_JOIN") { alice.approveJoin(room, ByteArray(32) { 5 }) }
        refused("INVALID_ARGUMENT") { alice.approveJoin(room, ByteArray(3)) }
        refused("NO_SUCH_MEMBER") { alice.fingerprint(room, 99u) }
        refused("ROOM_EXISTS") { bob.joinRoom(invite, "again") }
        refused("BAD_INVITE") { bob.joinRoom("zfc://join?nonsense", "x") }
        refused("BAD_INVITE") { bob.joinRoom("\u0000".repeat(5000), "x") }
        refused("MESSAGE_TOO_LONG") { bob.sendText(room, "x".repeat(70_000)) }
        refused("MESSAGE_TOO_LONG") { bob.send(room, Content.DisplayName("n".repeat(1000))) }
        refused("REMOVED") { carol.sendText(room, "still here?") }
        refused("REMOVED") { carol.leave(room) }
        refused("INVALID_ARGUMENT") { alice.stateSaved(1_000_000u) }
        refused("INVALID_ARGUMENT") { alice.handleConnected(424_242u, 0u) }
        refused("INVALID_ARGUMENT") { alice.setAdmissionToken(net.address, ByteArray(5)) }
        refused("WRONG_PASSWORD") { alice.changePassphrase("not it".toByteArray(), "new".toByteArray()) }
        for (c in listOf(alice, bob, carol)) quiet(c)
        alice.deleteRoom(room)
        net.run()
        refused("ROOM_DELETED") { net.client(0).invite(room, 60u) }
        refused("ROOM_DELETED") { net.client(1).sendText(room, "anyone?") }
    }

    @Test
    fun `opening and creating refuse with the shared codes`() {
        val weak = weakConfig(1)
        Client.create(weak, "pass".toByteArray()).use { client ->
            val save = checkNotNull(client.pollSave())
            refused("WRONG_PASSWORD") { Client.open(weak, save.bytes, "wrong".toByteArray()) }
            refused("STATE_MALFORMED") { Client.open(weak, "not a state".toByteArray(), "pass".toByteArray()) }
            refused("STATE_MALFORMED") {
                Client.open(weak, save.bytes.copyOf(save.bytes.size / 2), "pass".toByteArray())
            }
            // Inside the sealed manifest (header 33 bytes, nonce 24, length 4): the AEAD refuses
            // it, which a wrong passphrase and damage both are.
            val damaged = save.bytes.copyOf()
            damaged[33 + 24 + 4 + 1] = (damaged[33 + 24 + 4 + 1].toInt() xor 1).toByte()
            refused("WRONG_PASSWORD") { Client.open(weak, damaged, "pass".toByteArray()) }
        }
        val unsafe = ClientConfig.defaults().copy(kdf = Argon2Params(8u, 1u, 1u))
        refused("WEAK_KDF") { Client.create(unsafe, "pass".toByteArray()) }
        refused("INVALID_ARGUMENT") {
            Client.create(ClientConfig.defaults().copy(randomness = Randomness.SeededForTests(ByteArray(3))), "p".toByteArray())
        }
        refused("INVALID_ARGUMENT") { RelayAddress("http://relay", ByteArray(32)) }
        refused("INVALID_ARGUMENT") { RelayAddress("ws://relay", ByteArray(31)) }
        refused("BAD_INVITE") { parseInvite("zfc://join?nonsense") }
        refused("INVALID_ARGUMENT") { fingerprint(ByteArray(15), ByteArray(32)) }
    }

    @Test
    fun `an erased client refuses every call with CLOSED, a closed one with IllegalStateException`(): Unit = Net().use { net ->
        val (room, _) = settled(net)
        val alice = net.client(0)
        alice.erase()
        alice.erase() // twice is fine
        assertTrue(alice.isClosed())
        val calls: List<() -> Any?> = listOf(
            { alice.rooms() },
            { alice.roomInfo(room) },
            { alice.sendText(room, "x") },
            { alice.invite(room, 60u) },
            { alice.pollSave() },
            { alice.pollTransmit() },
            { alice.pollEvent() },
            { alice.handleBytes(1u, byteArrayOf(1), 0u) },
            { alice.handleTimeout(0u) },
            { alice.nextTimeout() },
            { alice.changePassphrase("pass".toByteArray(), "new".toByteArray()) },
        )
        for (call in calls) assertTrue(refused("CLOSED", call) is ZfcException.ApiMisuse)
        // AutoCloseable.close() frees the object: UniFFI refuses every later call before Rust.
        alice.close()
        alice.close()
        assertFailsWith<IllegalStateException> { alice.rooms() }
    }

    @Test
    fun `junk from a socket drops the socket, not the client`(): Unit = Net().use { net ->
        val (room, _) = settled(net)
        val bob = 1
        net.client(bob).handleBytes(1u, ByteArray(40) { -1 }, net.nowMs)
        net.run()
        assertTrue(net.take(bob).any { it is ClientEvent.Disconnected })
        net.advance(1_000u)
        net.client(bob).sendText(room, "back")
        net.run()
        assertEquals("back", net.texts(0, room).last())
    }
}
