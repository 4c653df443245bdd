package zfc

import zfc.testing.TestRelay

const val URL = "ws://relay.test:5103"
val PASSPHRASE = "a passphrase for tests".toByteArray()
const val START_MS: ULong = 1_800_000_000_000u

/** Seeded randomness, a manual clock and the cheapest KDF: tests only. */
fun weakConfig(seed: Int, connectionPerRoom: Boolean = false): ClientConfig =
    ClientConfig.defaults().copy(
        connectionPerRoom = connectionPerRoom,
        kdf = Argon2Params(mCostKib = 8u, tCost = 1u, pCost = 1u),
        insecureWeakKdfForTests = true,
        randomness = Randomness.SeededForTests(ByteArray(32) { seed.toByte() }),
        clock = Clock.MANUAL,
    )

class Peer(var client: Client, val config: ClientConfig) {
    val events = mutableListOf<ClientEvent>()
    var saved: ByteArray? = null
}

/**
 * An in-process network: clients on `zfc.testing.TestRelay` (the real rule book behind real
 * links), each driven through its public loop exactly as an app drives it (write each save,
 * confirm it, do the transmits, feed the sockets' bytes, collect the events), on a manual clock.
 */
class Net(seed: ULong = 99u) : AutoCloseable {
    val relay = TestRelay(seed)
    val address = RelayAddress(URL, relay.publicKey())
    var nowMs: ULong = START_MS
    val peers = mutableListOf<Peer>()

    // relay socket -> (peer index, the client's conn id)
    private val socks = LinkedHashMap<ULong, Pair<Int, ULong>>()

    fun add(seed: Int, connectionPerRoom: Boolean = false): Int {
        val config = weakConfig(seed, connectionPerRoom)
        val client = Client.create(config, PASSPHRASE)
        client.handleTimeout(nowMs)
        peers.add(Peer(client, config))
        return peers.size - 1
    }

    fun client(i: Int): Client = peers[i].client

    fun take(i: Int): List<ClientEvent> {
        val out = peers[i].events.toList()
        peers[i].events.clear()
        return out
    }

    fun advance(ms: ULong) {
        nowMs += ms
        for (p in peers) p.client.handleTimeout(nowMs)
        run()
    }

    fun run() {
        repeat(10_000) {
            if (peers.indices.map { step(it) }.none { it }) return
        }
        error("the network never went quiet")
    }

    /** Peer [i] dies and starts again from the last state it wrote. */
    fun crash(i: Int) {
        val p = peers[i]
        for ((sock, owner) in socks.entries.toList()) {
            if (owner.first == i) {
                socks.remove(sock)
                relay.close(sock)
            }
        }
        p.client.close()
        p.client = Client.open(p.config, checkNotNull(p.saved), PASSPHRASE)
        p.client.handleTimeout(nowMs)
    }

    private fun step(i: Int): Boolean {
        val p = peers[i]
        var busy = false
        while (true) {
            val save = p.client.pollSave() ?: break
            busy = true
            p.saved = save.bytes
            p.client.stateSaved(save.generation)
        }
        while (true) {
            val t = p.client.pollTransmit() ?: break
            busy = true
            when (t) {
                is Transmit.Connect -> {
                    check(t.url == URL) { t.url }
                    val sock = relay.open()
                    socks[sock] = i to t.conn
                    p.client.handleConnected(t.conn, nowMs)
                }
                is Transmit.Send -> relayReceives(i, t.conn, t.bytes)
                is Transmit.Close -> for ((sock, owner) in socks.entries.toList()) {
                    if (owner == (i to t.conn)) {
                        socks.remove(sock)
                        relay.close(sock)
                    }
                }
            }
        }
        while (true) {
            val e = p.client.pollEvent() ?: break
            busy = true
            p.events.add(e)
        }
        return busy
    }

    private fun relayReceives(i: Int, conn: ULong, data: ByteArray) {
        val sock = socks.entries.firstOrNull { it.value == (i to conn) }?.key ?: return
        val got = relay.receive(sock, data, nowMs)
        for (r in got.records) {
            val (peer, peerConn) = socks[r.sock] ?: continue
            peers[peer].client.handleBytes(peerConn, r.bytes, nowMs)
        }
        if (got.closed) {
            socks.remove(sock)
            peers[i].client.handleClosed(conn, nowMs)
        }
    }

    /** The texts peer [i] read in [room], each log position once. */
    fun texts(i: Int, room: ByteArray): List<String> {
        val seen = HashSet<ULong>()
        return peers[i].events.filterIsInstance<ClientEvent.Message>()
            .filter { it.room.contentEquals(room) && seen.add(it.message.position) }
            .mapNotNull { (it.message.content as? Content.Text)?.body }
    }

    override fun close() {
        for (p in peers) p.client.close()
        relay.close()
        address.close()
    }
}

fun landed(events: List<ClientEvent>, room: ByteArray, op: RoomOperation): Boolean =
    events.any { it is ClientEvent.OperationLanded && it.room.contentEquals(room) && it.op == op }
