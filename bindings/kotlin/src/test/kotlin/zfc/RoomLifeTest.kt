package zfc

import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.ValueSource
import org.junit.jupiter.api.Test

/**
 * A whole room life in process: owner, two members, a removal, a rotation, a leave, history for
 * a newcomer by the room's policy, crashes and restores; every client driven through its public
 * loop by [Net].
 */
class RoomLifeTest {
    @ParameterizedTest(name = "connection per room: {0}")
    @ValueSource(booleans = [false, true])
    fun `a room from creation to removal, rotation and leave`(perRoom: Boolean): Unit = Net().use { net ->
        val (alice, bob, carol) = listOf(1, 2, 3).map { net.add(it, perRoom) }
        val a = net.client(alice)

        val r1 = a.createRoom(net.address, RoomSettings.defaults())
        val r2 = a.createRoom(net.address, RoomSettings.defaults().copy(autoApprove = true))
        assertEquals(16, r1.size)
        assertTrue(!r1.contentEquals(r2))
        net.run()
        val created = net.take(alice)
        assertTrue(landed(created, r1, RoomOperation.CreateRoom) && landed(created, r2, RoomOperation.CreateRoom))

        for ((peer, name) in listOf(bob to "bob", carol to "carol")) {
            for (room in listOf(r1, r2)) {
                assertContentEquals(room, net.client(peer).joinRoom(a.invite(room, 3600u), name))
            }
        }
        net.run()
        val asks = net.take(alice).filterIsInstance<ClientEvent.JoinRequested>().filter { it.room.contentEquals(r1) }
        assertEquals(listOf("bob", "carol"), asks.map { it.name }.sorted(), "the room that asks names each joiner")
        for (e in asks) {
            assertTrue(e.fingerprint.isNotEmpty())
            a.approveJoin(r1, e.joiner)
        }
        net.run()
        for (peer in listOf(bob, carol)) {
            val ev = net.take(peer)
            for (room in listOf(r1, r2)) {
                assertTrue(ev.any { it is ClientEvent.Joined && it.room.contentEquals(room) })
                assertEquals(RoomRole.MEMBER, net.client(peer).roomInfo(room).role)
            }
        }
        assertEquals(listOf(0u, 1u, 2u), a.roomInfo(r1).members)
        assertEquals(a.fingerprint(r1, 1u), net.client(bob).fingerprint(r1, 1u), "both sides see one fingerprint")

        val localId = net.client(bob).sendText(r1, "hello r1")
        net.client(carol).send(r2, Content.Text("hello r2"))
        net.run()
        for (peer in listOf(alice, bob, carol)) {
            assertEquals(listOf("hello r1"), net.texts(peer, r1))
            assertEquals(listOf("hello r2"), net.texts(peer, r2))
        }
        assertTrue(net.peers[bob].events.any { it is ClientEvent.MessageSent && it.localId == localId })
        val msg = net.peers[alice].events.filterIsInstance<ClientEvent.Message>().first { it.room.contentEquals(r1) }.message
        assertEquals(1u, msg.sender)
        assertEquals(net.nowMs, msg.claimedSentAtMs)
        assertTrue(!msg.fromHistory)

        // Removal: carol is out of r1 and still in r2; what follows in r1 she cannot read.
        a.removeMember(r1, 2u)
        net.run()
        assertTrue(landed(net.peers[alice].events, r1, RoomOperation.Remove(2u)))
        assertTrue(net.peers[carol].events.any { it is ClientEvent.RemovedFromRoom && it.room.contentEquals(r1) })
        assertEquals(RoomRole.GONE, net.client(carol).roomInfo(r1).role)
        val gone = assertFailsWith<ZfcException.RoomGone> { net.client(carol).sendText(r1, "still here?") }
        assertEquals("REMOVED", gone.name)
        net.client(bob).sendText(r1, "carol cannot read this")
        net.client(bob).sendText(r2, "carol reads this")
        net.run()
        assertEquals(listOf("hello r1"), net.texts(carol, r1))
        assertEquals(listOf("hello r2", "carol reads this"), net.texts(carol, r2))
        assertEquals(listOf("hello r1", "carol cannot read this"), net.texts(alice, r1))

        // A rotation and a leave land.
        a.rotate(r2)
        net.client(bob).leave(r2)
        net.run()
        assertTrue(landed(net.peers[alice].events, r2, RoomOperation.Rotate))
        assertTrue(landed(net.peers[bob].events, r2, RoomOperation.Leave))
        assertTrue(
            net.peers[carol].events.any {
                it is ClientEvent.EpochChanged && it.room.contentEquals(r2) && it.change == EpochChange.Rotation
            },
        )
    }

    @Test
    fun `a newcomer reads history by the room's policy`(): Unit = Net().use { net ->
        val (alice, bob, dave) = listOf(1, 2, 4).map { net.add(it) }
        val a = net.client(alice)
        val open = a.createRoom(net.address, RoomSettings.defaults().copy(autoApprove = true))
        val closed = a.createRoom(
            net.address,
            RoomSettings(history = HistoryPolicy.SINCE_JOIN, autoApprove = true),
        )
        net.run()
        for (room in listOf(open, closed)) net.client(bob).joinRoom(a.invite(room, 3600u), "bob")
        net.run()
        for (room in listOf(open, closed)) net.client(bob).sendText(room, "before dave")
        net.run()
        for (room in listOf(open, closed)) net.client(dave).joinRoom(a.invite(room, 3600u), "dave")
        net.run()
        for (room in listOf(open, closed)) net.client(dave).fetchHistory(room, 50u)
        net.run()
        assertEquals(listOf("before dave"), net.texts(dave, open))
        assertEquals(emptyList(), net.texts(dave, closed))
        val read = net.peers[dave].events.filterIsInstance<ClientEvent.Message>().map { it.message }
        assertTrue(read.isNotEmpty() && read.all { it.fromHistory })
        assertTrue(net.peers[dave].events.any { it is ClientEvent.HistoryDone })
    }

    @Test
    fun `a client restored from its last save carries on`(): Unit = Net().use { net ->
        val (alice, bob) = listOf(1, 2).map { net.add(it) }
        val room = net.client(alice).createRoom(net.address, RoomSettings.defaults().copy(autoApprove = true))
        net.run()
        net.client(bob).joinRoom(net.client(alice).invite(room, 3600u), "bob")
        net.run()
        net.client(bob).sendText(room, "one")
        net.run()
        net.crash(bob)
        net.crash(alice)
        net.run()
        assertContentEquals(room, net.client(bob).rooms().single())
        net.client(bob).sendText(room, "two")
        net.run()
        assertEquals(listOf("one", "two"), net.texts(alice, room))
        // A wrong passphrase opens nothing and says so with the shared code.
        val wrong = assertFailsWith<ZfcException.LocalState> {
            Client.open(net.peers[bob].config, checkNotNull(net.peers[bob].saved), "not the passphrase".toByteArray())
        }
        assertEquals(300u to "WRONG_PASSWORD", wrong.code to wrong.name)
        assertEquals(300, wrong.errorCode)
    }
}
