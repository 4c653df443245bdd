package zfc

import java.util.Collections
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlin.concurrent.thread
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import org.junit.jupiter.api.Test

/** One client object from many threads: every call takes the client's lock, so threads on
 * separate rooms and on one room each keep their own order and lose nothing. */
class ThreadsTest {
    @Test
    fun `threads on separate rooms and on one room`(): Unit = Net().use { net ->
        val (alice, bob) = listOf(1, 2).map { net.add(it) }
        val a = net.client(alice)
        val rooms = List(4) { a.createRoom(net.address, RoomSettings.defaults().copy(autoApprove = true)) }
        net.run()
        for (room in rooms) net.client(bob).joinRoom(a.invite(room, 3600u), "bob")
        net.run()
        val errors = Collections.synchronizedList(mutableListOf<Throwable>())
        val start = CountDownLatch(1)
        fun sender(room: ByteArray, tag: String) = thread {
            try {
                start.await()
                repeat(25) { k -> net.client(bob).sendText(room, "$tag $k") }
            } catch (e: Throwable) {
                errors.add(e)
            }
        }
        // Four threads, one per room, and two more on the first room.
        val threads = rooms.mapIndexed { i, room -> sender(room, "r$i") } + listOf("x", "y").map { sender(rooms[0], it) }
        start.countDown()
        for (t in threads) t.join(TimeUnit.SECONDS.toMillis(60))
        assertEquals(emptyList(), errors.toList())
        net.run()
        for ((i, room) in rooms.withIndex()) {
            val mine = net.texts(alice, room).filter { it.startsWith("r$i ") }
            assertEquals(List(25) { "r$i $it" }, mine, "each thread's messages in its order")
        }
        val first = net.texts(alice, rooms[0])
        assertEquals(75, first.size)
        assertEquals(List(25) { "x $it" }, first.filter { it.startsWith("x ") })
    }

    @Test
    fun `a reader thread and a writer thread on one client`(): Unit = Net().use { net ->
        // The poll calls of an app's loop on one thread while the UI thread sends: the lock
        // inside the native client orders them; nothing is lost or duplicated.
        val (alice, bob) = listOf(1, 2).map { net.add(it) }
        val room = net.client(alice).createRoom(net.address, RoomSettings.defaults().copy(autoApprove = true))
        net.run()
        net.client(bob).joinRoom(net.client(alice).invite(room, 3600u), "bob")
        net.run()
        net.take(bob)
        val b = net.client(bob)
        val polled = Collections.synchronizedList(mutableListOf<Any>())
        val done = CountDownLatch(1)
        val poller = thread {
            while (done.count > 0) {
                b.pollSave()?.let { b.stateSaved(it.generation); polled.add(it) }
                b.pollEvent()?.let { polled.add(it) }
            }
        }
        repeat(50) { b.sendText(room, "m$it") }
        done.countDown()
        poller.join(60_000)
        net.run()
        assertTrue(polled.any { it is Save }, "the poller saw the saves the sends made")
        assertEquals(List(50) { "m$it" }, net.texts(alice, room))
    }
}
