package zfc.okhttp

import java.nio.file.Files
import java.nio.file.Path
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import okhttp3.OkHttpClient
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import zfc.Argon2Params
import zfc.ClientConfig
import zfc.ClientEvent
import zfc.Content
import zfc.RelayAddress
import zfc.RoomOperation
import zfc.ZfcException
import zfc.defaults

/**
 * End to end: [ZfcClient]s on OkHttp against a `zfc-relay` process on a loopback port. Three
 * clients chat, one is removed and reads nothing after, the relay restarts mid-conversation and
 * nothing acknowledged is lost, a client restored from its saved state carries on, and a second
 * client cannot take a state directory in use.
 */
class EndToEndTest {
    private val pass = "end to end passphrase".toByteArray()

    // A cheap KDF so that tests run fast; quick reconnects so that a relay restart heals soon.
    private val config = ClientConfig.defaults().copy(
        kdf = Argon2Params(8u, 1u, 1u),
        insecureWeakKdfForTests = true,
        reconnectInitialMs = 100u,
        reconnectMaxMs = 1000u,
    )

    /** A client and everything it has said so far. */
    private class Party(val client: ZfcClient) {
        val seen = mutableListOf<ClientEvent>()

        suspend fun until(timeoutMs: Long = 20_000, pred: (ClientEvent) -> Boolean): ClientEvent {
            seen.firstOrNull(pred)?.let { return it }
            return withTimeout(timeoutMs) {
                while (true) {
                    val e = client.nextEvent()
                    seen.add(e)
                    if (pred(e)) return@withTimeout e
                }
                @Suppress("UNREACHABLE_CODE")
                error("unreachable")
            }
        }

        fun texts(room: ByteArray): List<String> {
            val byPosition = sortedMapOf<ULong, String>()
            for (e in seen) {
                if (e is ClientEvent.Message && e.room.contentEquals(room)) {
                    (e.message.content as? Content.Text)?.let { byPosition.putIfAbsent(e.message.position, it.body) }
                }
            }
            return byPosition.values.toList()
        }

        suspend fun read(room: ByteArray, text: String) = until {
            it is ClientEvent.Message && it.room.contentEquals(room) && it.message.content == Content.Text(text)
        }
    }

    private suspend fun party(dir: Path) = Party(ZfcClient.open(dir, pass, config))

    @Test
    fun `three clients, a removal, a relay restart and a restore`(@TempDir tmp: Path): Unit = runBlocking {
        RelayProcess(tmp.resolve("relay")).use { relay ->
            relay.start()
            val address = RelayAddress(relay.url, relay.key)
            val alice = party(tmp.resolve("alice"))
            var bob = party(tmp.resolve("bob"))
            val carol = party(tmp.resolve("carol"))
            val room = alice.client.createRoom(address)
            alice.until { it is ClientEvent.OperationLanded && it.room.contentEquals(room) }

            for ((p, name) in listOf(bob to "bob", carol to "carol")) {
                val invite = alice.client.invite(room, 600u)
                // The relay refuses an invite it has not registered yet (RELAY_INVITE_UNKNOWN):
                // an app hands the invite out once it has landed.
                val key = zfc.parseInvite(invite).inviteKey
                alice.until { it is ClientEvent.OperationLanded && (it.op as? RoomOperation.RegisterInvite)?.inviteKey?.contentEquals(key) == true }
                assertContentEquals(room, p.client.joinRoom(invite, name))
                val ask = alice.until { it is ClientEvent.JoinRequested && it.name == name } as ClientEvent.JoinRequested
                alice.client.approveJoin(room, ask.joiner)
                p.until { it is ClientEvent.Joined && it.room.contentEquals(room) }
            }

            bob.client.sendText(room, "hello from bob")
            carol.client.sendText(room, "hello from carol")
            for (p in listOf(alice, bob, carol)) {
                p.read(room, "hello from bob")
                p.read(room, "hello from carol")
            }

            // Carol is removed and reads nothing after.
            alice.client.removeMember(room, 2u)
            carol.until { it is ClientEvent.RemovedFromRoom && it.room.contentEquals(room) }
            bob.until { it is ClientEvent.EpochChanged && it.room.contentEquals(room) }
            bob.client.sendText(room, "carol is gone")
            alice.read(room, "carol is gone")

            // The relay restarts mid-conversation: what was acknowledged is kept, the clients
            // dial again with backoff and come back.
            val sent = bob.client.sendText(room, "just before the restart")
            bob.until { it is ClientEvent.MessageSent && it.localId == sent }
            relay.restart()
            bob.until { it is ClientEvent.Disconnected }
            alice.client.sendText(room, "after the restart")
            for (p in listOf(alice, bob)) {
                p.read(room, "just before the restart")
                p.read(room, "after the restart")
            }

            // Bob stops and comes back from his saved state (the directory), and carries on.
            bob.client.close()
            bob = party(tmp.resolve("bob"))
            assertContentEquals(room, bob.client.rooms().single())
            bob.client.sendText(room, "bob restored")
            alice.read(room, "bob restored")
            bob.read(room, "bob restored")

            // Whatever carol still receives, no text after her removal is among it.
            assertFailsWith<TimeoutCancellationException> { carol.until(1_000) { false } }
            assertEquals(listOf("hello from bob", "hello from carol"), carol.texts(room).sorted(), "nothing after the removal")
            for (p in listOf(alice, bob, carol)) p.client.close()
        }
    }

    @Test
    fun `a relay that restricts creation takes the operator's token and no other`(@TempDir tmp: Path): Unit = runBlocking {
        val token = ByteArray(32) { 0xab.toByte() }
        RelayProcess(tmp.resolve("relay"), listOf("--admission-token", "ab".repeat(32))).use { relay ->
            relay.start()
            val address = RelayAddress(relay.url, relay.key)
            val without = party(tmp.resolve("without"))
            val room = without.client.createRoom(address)
            val failed = without.until {
                it is ClientEvent.OperationFailed && it.room.contentEquals(room) && it.op == RoomOperation.CreateRoom
            } as ClientEvent.OperationFailed
            val restricted = zfc.errorCodes().single { it.name == "RELAY_CREATION_RESTRICTED" }
            assertEquals(restricted.code, failed.code)

            val wrong = party(tmp.resolve("wrong"))
            wrong.client.setAdmissionToken(address, ByteArray(32) { 0xcd.toByte() })
            wrong.client.createRoom(address)
            wrong.until { it is ClientEvent.AdmissionRefused && it.relay == relay.url }

            val right = party(tmp.resolve("right"))
            right.client.setAdmissionToken(address, token)
            val admitted = right.client.createRoom(address)
            right.until { it is ClientEvent.OperationLanded && it.room.contentEquals(admitted) }
            for (p in listOf(without, wrong, right)) p.client.close()
        }
    }

    @Test
    fun `a state directory is held by one client`(@TempDir tmp: Path): Unit = runBlocking {
        val dir = tmp.resolve("s")
        val first = ZfcClient.open(dir, pass, config)
        assertTrue(Files.exists(dir.resolve(StateDirectory.STATE_FILE)), "a new state is on disk before open returns")
        val locked = assertFailsWith<StateLockedException> { ZfcClient.open(dir, pass, config) }
        assertTrue(locked.message!!.contains("in use by PID ${ProcessHandle.current().pid()}"), locked.message)
        first.close()
        first.close() // idempotent
        val wrong = assertFailsWith<ZfcException.LocalState> { ZfcClient.open(dir, "wrong".toByteArray(), config) }
        assertEquals("WRONG_PASSWORD", wrong.name)
        // The refused open let go of the directory.
        ZfcClient.open(dir, pass, config).close()
    }

    @Test
    fun `a dial OkHttp fails at once is reported at once`(@TempDir tmp: Path): Unit = runBlocking {
        // A shut-down dispatcher makes OkHttp call onFailure inside newWebSocket, before it
        // returns: the socket must already be known, or the failure waits for the dial timeout.
        val http = OkHttpClient()
        http.dispatcher.executorService.shutdown()
        val slowDial = config.copy(connectTimeoutMs = 60_000u)
        ZfcClient.open(tmp.resolve("s"), pass, slowDial, http).use { client ->
            client.createRoom(RelayAddress("ws://127.0.0.1:9", ByteArray(32) { 1 }))
            val p = Party(client)
            p.until(10_000) { it is ClientEvent.Disconnected }
        }
    }

    @Test
    fun `a passphrase change is on disk when it returns`(@TempDir tmp: Path): Unit = runBlocking {
        val dir = tmp.resolve("s")
        ZfcClient.open(dir, pass, config).use { it.changePassphrase(pass, "new one".toByteArray()) }
        assertFailsWith<ZfcException.LocalState> { ZfcClient.open(dir, pass, config) }
        ZfcClient.open(dir, "new one".toByteArray(), config).close()
    }
}
