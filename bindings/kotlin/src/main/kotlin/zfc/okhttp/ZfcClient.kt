package zfc.okhttp

import java.nio.file.Path
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.receiveAsFlow
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.withTimeoutOrNull
import okhttp3.OkHttpClient
import okhttp3.Request
import okhttp3.Response
import okhttp3.WebSocket
import okhttp3.WebSocketListener
import okio.ByteString
import okio.ByteString.Companion.toByteString
import zfc.Client
import zfc.ClientConfig
import zfc.ClientEvent
import zfc.Content
import zfc.RelayAddress
import zfc.RoomInfo
import zfc.RoomSettings
import zfc.Transmit
import zfc.defaults

/**
 * A [zfc.Client] on OkHttp's WebSocket, its sealed state in a locked directory: what a JVM or
 * Android app uses.
 *
 * ```kotlin
 * ZfcClient.open(Path.of("alice-state"), passphrase).use { client ->
 *     val room = client.createRoom(RelayAddress(url, relayKey))
 *     println(client.invite(room))
 *     client.events.collect { event -> when (event) { is ClientEvent.Message -> ...; else -> {} } }
 * }
 * ```
 *
 * One coroutine drives the native client and keeps the order that makes a crash at any point
 * safe: every state the client hands out is written atomically and confirmed (on
 * `Dispatchers.IO`) before the records that need it are sent, and the relay's deliveries are
 * acknowledged only after the state that read them is on disk (the native client holds those
 * records back until then). Dialling again with backoff, keep-alives, resending what must land
 * and the timer are the native client's; this class carries bytes and time.
 *
 * Thread-safe. Calls that can take long (a commit for a large room, a passphrase change) are
 * `suspend` functions that run on `Dispatchers.Default`, never on the caller's thread; the others
 * return in microseconds and may be called from a UI thread.
 */
class ZfcClient private constructor(
    /** The native client, for calls this class does not wrap. Do not close it yourself. */
    val native: Client,
    private val state: StateDirectory,
    http: OkHttpClient?,
) : AutoCloseable {
    // An OkHttpClient the app passed is the app's to shut down; the one made here is ours.
    private val ownsHttp = http == null
    // The native client has its own dial timeout and keep-alive: OkHttp's read timeout and
    // pings would drop quiet connections behind its back.
    private val http = (http ?: OkHttpClient()).newBuilder().readTimeout(0, TimeUnit.MILLISECONDS).pingInterval(0, TimeUnit.MILLISECONDS).build()
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default + CoroutineName("zfc client"))
    private val wake = Channel<Unit>(Channel.CONFLATED)
    private val eventChannel = Channel<ClientEvent>(Channel.UNLIMITED)
    private val sockets = ConcurrentHashMap<ULong, WebSocket>()

    @Volatile
    private var closed = false
    private val loop: Job = scope.launch { run() }

    /**
     * The client's events, in order, until it is closed. Collect it once: the events are not
     * copied to several collectors. A failure of the loop (a state that cannot be written)
     * ends the flow with that exception.
     */
    val events: Flow<ClientEvent> = eventChannel.receiveAsFlow()

    /** The next event; `TimeoutCancellationException` after [timeoutMs]. */
    suspend fun nextEvent(timeoutMs: Long = Long.MAX_VALUE): ClientEvent =
        withTimeout(timeoutMs) { eventChannel.receive() }

    /** The token this relay asks of room creators (sent before a creation there). */
    fun setAdmissionToken(relay: RelayAddress, token: ByteArray) = poke { native.setAdmissionToken(relay, token) }

    /** Creates a room on [relay]; the creation lands once connected (`OperationLanded`). */
    fun createRoom(relay: RelayAddress, settings: RoomSettings = RoomSettings.defaults()): ByteArray =
        poke { native.createRoom(relay, settings) }

    /** A new invite to [room] (owner): a secret, for one person. */
    fun invite(room: ByteArray, ttlSecs: ULong = 86_400u): String = poke { native.invite(room, ttlSecs) }

    /** Revokes an invite by its key (`InviteInfo.inviteKey`). */
    fun revokeInvite(room: ByteArray, inviteKey: ByteArray) = poke { native.revokeInvite(room, inviteKey) }

    /** Asks to join; `Joined` follows once the owner approves (the owner may be offline). */
    fun joinRoom(invite: String, name: String): ByteArray = poke { native.joinRoom(invite, name) }

    /** Sends a text message; its local id (in `MessageSent` / `MessageRefused`). */
    fun sendText(room: ByteArray, text: String): ULong = poke { native.sendText(room, text) }

    /** Sends [content]; its local id. */
    fun send(room: ByteArray, content: Content): ULong = poke { native.send(room, content) }

    /** Approves a join (owner). A commit: runs on `Dispatchers.Default`. */
    suspend fun approveJoin(room: ByteArray, joiner: ByteArray) = slow { native.approveJoin(room, joiner) }

    /** Rejects a join (owner). */
    fun rejectJoin(room: ByteArray, joiner: ByteArray) = poke { native.rejectJoin(room, joiner) }

    /** Removes member [member] (owner). A commit: runs on `Dispatchers.Default`. */
    suspend fun removeMember(room: ByteArray, member: UInt) = slow { native.removeMember(room, member) }

    /** Rotates the room key (owner). A commit: runs on `Dispatchers.Default`. */
    suspend fun rotate(room: ByteArray) = slow { native.rotate(room) }

    /** Replaces this member's own key in [room]. */
    fun updateKey(room: ByteArray) = poke { native.updateKey(room) }

    /** Leaves [room] (member). */
    fun leave(room: ByteArray) = poke { native.leave(room) }

    /** Deletes [room] (owner). */
    fun deleteRoom(room: ByteArray) = poke { native.deleteRoom(room) }

    /** Drops a room this client is out of from the state. */
    fun forgetRoom(room: ByteArray) = poke { native.forgetRoom(room) }

    /** Fetches up to [limit] earlier messages this party may read (`HistoryDone` ends them). */
    fun fetchHistory(room: ByteArray, limit: UInt = 100u) = poke { native.fetchHistory(room, limit) }

    /**
     * Re-seals the state under [new] and writes it before returning. Two Argon2id derivations:
     * runs on `Dispatchers.Default`, the write on `Dispatchers.IO`.
     */
    suspend fun changePassphrase(current: ByteArray, new: ByteArray) {
        val save = withContext(Dispatchers.Default) { native.changePassphrase(current, new) }
        withContext(Dispatchers.IO) { state.write(save.bytes) }
        native.stateSaved(save.generation)
        wake.trySend(Unit)
    }

    /** Every room's id. */
    fun rooms(): List<ByteArray> = native.rooms()

    /** What this party knows of [room]. */
    fun roomInfo(room: ByteArray): RoomInfo = native.roomInfo(room)

    /** Member [member]'s fingerprint in [room], to compare out of band. */
    fun fingerprint(room: ByteArray, member: UInt): String = native.fingerprint(room, member)

    /**
     * Stops the loop, closes the sockets, erases the keys and releases the directory.
     * Idempotent. Blocks until the loop has stopped (at most the state write in progress), so
     * that no write lands after the directory is released.
     */
    override fun close() {
        synchronized(this) {
            if (closed) return
            closed = true
        }
        runBlocking { loop.cancelAndJoin() }
        scope.coroutineContext[Job]?.cancel()
        for (ws in sockets.values) ws.cancel()
        sockets.clear()
        native.erase()
        native.close()
        state.release()
        eventChannel.close()
        if (ownsHttp) {
            // OkHttp's dispatcher threads are not daemons and idle for a minute: without this
            // a JVM whose main() has returned lingers.
            http.dispatcher.executorService.shutdown()
            http.connectionPool.evictAll()
        }
    }

    // ------------------------------------------------------------------ calls

    private inline fun <T> poke(call: () -> T): T {
        try {
            return call()
        } finally {
            wake.trySend(Unit)
        }
    }

    private suspend fun <T> slow(call: () -> T): T {
        try {
            return withContext(Dispatchers.Default) { call() }
        } finally {
            wake.trySend(Unit)
        }
    }

    // ------------------------------------------------------------------ the loop

    private suspend fun run() {
        try {
            while (true) {
                pump()
                val due = native.nextTimeout()
                val woke = if (due == null) {
                    wake.receive()
                    true
                } else {
                    val delay = due.toLong() - nowMs().toLong()
                    delay > 0 && withTimeoutOrNull(delay) { wake.receive() } != null
                }
                if (!woke) native.handleTimeout(nowMs())
            }
        } catch (e: CancellationException) {
            throw e
        } catch (e: Throwable) {
            // Handed to whoever collects the events; the client stops sending.
            eventChannel.close(e)
        }
    }

    /** Saves first (written, then confirmed), then transmits, then events, until idle. */
    private suspend fun pump() {
        while (true) {
            var busy = false
            while (true) {
                val save = native.pollSave() ?: break
                busy = true
                withContext(Dispatchers.IO) { state.write(save.bytes) }
                native.stateSaved(save.generation)
            }
            while (true) {
                val t = native.pollTransmit() ?: break
                busy = true
                when (t) {
                    is Transmit.Connect -> connect(t.conn, t.url)
                    is Transmit.Send -> sockets[t.conn]?.send(t.bytes.toByteString())
                    // A graceful close: OkHttp sends what is queued, then the close frame.
                    is Transmit.Close -> sockets.remove(t.conn)?.close(NORMAL_CLOSURE, closeReason(t.reason))
                }
            }
            while (true) {
                val e = native.pollEvent() ?: break
                busy = true
                eventChannel.send(e)
            }
            if (!busy) return
        }
    }

    private fun connect(conn: ULong, url: String) {
        val request = try {
            Request.Builder().url(url).build()
        } catch (_: IllegalArgumentException) {
            // Not a URL OkHttp dials: a connection that failed at once.
            native.handleClosed(conn, nowMs())
            return
        }
        val listener = Listener(conn)
        sockets[conn] = http.newWebSocket(request, listener)
    }

    /** A socket's news, unless the client gave that socket up or is closed (a late report). */
    private inline fun report(conn: ULong, call: () -> Unit) {
        if (closed || !sockets.containsKey(conn)) return
        try {
            call()
        } catch (_: Exception) {
            // The native client refused the news (it dropped that connection) or was closed
            // meanwhile: nothing to do.
        }
        wake.trySend(Unit)
    }

    private fun gone(conn: ULong) {
        if (closed || sockets.remove(conn) == null) return
        try {
            native.handleClosed(conn, nowMs())
        } catch (_: Exception) {
        }
        wake.trySend(Unit)
    }

    private inner class Listener(private val conn: ULong) : WebSocketListener() {
        override fun onOpen(webSocket: WebSocket, response: Response) =
            report(conn) { native.handleConnected(conn, nowMs()) }

        override fun onMessage(webSocket: WebSocket, bytes: ByteString) =
            report(conn) { native.handleBytes(conn, bytes.toByteArray(), nowMs()) }

        override fun onMessage(webSocket: WebSocket, text: String) {
            // The link speaks binary only: text ends the socket.
            webSocket.cancel()
            gone(conn)
        }

        override fun onClosing(webSocket: WebSocket, code: Int, reason: String) {
            webSocket.close(NORMAL_CLOSURE, null)
            gone(conn)
        }

        override fun onClosed(webSocket: WebSocket, code: Int, reason: String) = gone(conn)

        override fun onFailure(webSocket: WebSocket, t: Throwable, response: Response?) = gone(conn)
    }

    companion object {
        private const val NORMAL_CLOSURE = 1000

        private fun nowMs(): ULong = System.currentTimeMillis().toULong()

        /** A WebSocket close reason is at most 123 bytes of UTF-8. */
        private fun closeReason(reason: String): String {
            var r = reason
            while (r.toByteArray().size > 123) r = r.dropLast(1)
            return r
        }

        /**
         * Opens the client whose state is in [directory], or creates one there, and starts its
         * loop. [http] is the app's OkHttp client to share (its connection pool and dispatcher; the
         * app shuts it down), or null for one of this client's own, shut down by [close].
         * Takes the directory's lock ([StateLockedException] when another holds it).
         * Argon2id: runs on `Dispatchers.Default`; a new state is on disk before this returns.
         */
        suspend fun open(
            directory: Path,
            passphrase: ByteArray,
            config: ClientConfig = ClientConfig.defaults(),
            http: OkHttpClient? = null,
        ): ZfcClient {
            val state = withContext(Dispatchers.IO) { StateDirectory(directory) }
            try {
                val blob = withContext(Dispatchers.IO) { state.read() }
                val native = withContext(Dispatchers.Default) {
                    if (blob == null) Client.create(config, passphrase) else Client.open(config, blob, passphrase)
                }
                try {
                    if (blob == null) {
                        val save = native.pollSave()
                        if (save != null) {
                            withContext(Dispatchers.IO) { state.write(save.bytes) }
                            native.stateSaved(save.generation)
                        }
                    }
                    return ZfcClient(native, state, http)
                } catch (e: Throwable) {
                    native.erase()
                    native.close()
                    throw e
                }
            } catch (e: Throwable) {
                state.release()
                throw e
            }
        }
    }
}
