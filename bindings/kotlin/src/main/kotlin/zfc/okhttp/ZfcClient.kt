package zfc.okhttp

import java.nio.file.Path
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
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
 * `suspend` functions that run on `Dispatchers.Default`, never on the caller's thread. The others
 * take microseconds of work, but every call waits for the native client's lock, which a long
 * call holds (a passphrase change: about a second; a commit in a large room: tens of ms): from a
 * UI thread, call them while no long call runs, or from a coroutine off the main thread.
 *
 * Inbound WebSocket messages are not size-limited by OkHttp: the relay can make this client
 * buffer a large message (as it can deny service in other ways); link records themselves are
 * bounded by the protocol.
 */
class ZfcClient private constructor(
    /** The native client, for calls this class does not wrap. Do not close it yourself. */
    val native: Client,
    private val state: StateDirectory,
    http: OkHttpClient?,
    connectTimeoutMs: ULong,
) : AutoCloseable {
    // An OkHttpClient the app passed is the app's to shut down; the one made here is ours.
    private val ownsHttp = http == null

    // The native client has its own keep-alive: OkHttp's read timeout and pings would drop
    // quiet connections behind its back. The call timeout bounds only the dial and the upgrade
    // (OkHttp ends it at the upgrade), which the native client's own timeout cannot abort.
    private val http = (http ?: OkHttpClient()).newBuilder()
        .readTimeout(0, TimeUnit.MILLISECONDS)
        .pingInterval(0, TimeUnit.MILLISECONDS)
        .callTimeout(connectTimeoutMs.toLong().coerceAtLeast(1), TimeUnit.MILLISECONDS)
        .build()
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default + CoroutineName("zfc client"))
    private val wake = Channel<Unit>(Channel.CONFLATED)

    // Events wait in a queue, not in a channel: a receive cancelled at the wrong moment (a
    // timeout, a collector stopped by the UI's lifecycle) would drop one for good, and the state
    // that read it is already saved and acknowledged.
    private val queue = ConcurrentLinkedQueue<ClientEvent>()
    private val queued = Channel<Unit>(Channel.CONFLATED)

    @Volatile
    private var failure: Throwable? = null

    // Every socket from its Connect until OkHttp reports it gone, so close() can cancel them all.
    private val sockets = ConcurrentHashMap<ULong, Socket>()

    // One writer of the state at a time: the loop's saves and a passphrase change.
    private val saveLock = Mutex()

    @Volatile
    private var closed = false
    private val loop: Job = scope.launch { run() }

    /**
     * The client's events, in order, until it is closed. Collect it once: the events are not
     * copied to several collectors. An event is removed once the collector's block returned, so
     * a collector cancelled inside its block sees that event again when collecting anew. A
     * failure of the loop (a state that cannot be written) ends the flow with that exception.
     */
    val events: Flow<ClientEvent> = flow {
        while (true) {
            val e = queue.peek()
            if (e != null) {
                emit(e)
                queue.remove(e)
                continue
            }
            if (!awaitQueued()) return@flow
        }
    }

    /**
     * The next event; `TimeoutCancellationException` after [timeoutMs]; the loop's failure if it
     * failed; `IllegalStateException` once closed and drained.
     */
    suspend fun nextEvent(timeoutMs: Long = Long.MAX_VALUE): ClientEvent = withTimeout(timeoutMs) {
        while (true) {
            queue.poll()?.let { return@withTimeout it }
            check(awaitQueued()) { "the client is closed" }
        }
        @Suppress("UNREACHABLE_CODE")
        error("unreachable")
    }

    /** Waits for an event to be queued; false once the client is closed and nothing is left. */
    private suspend fun awaitQueued(): Boolean {
        while (true) {
            if (queue.isNotEmpty()) return true
            failure?.let { throw it }
            if (queued.receiveCatching().isClosed) {
                if (queue.isNotEmpty()) return true
                failure?.let { throw it }
                return false
            }
        }
    }

    /** The token this relay asks of room creators (sent before a creation there). */
    fun setAdmissionToken(relay: RelayAddress, token: ByteArray) = poke { native.setAdmissionToken(relay, token) }

    /** Creates a room on [relay]; the creation lands once connected (`OperationLanded`). */
    fun createRoom(relay: RelayAddress, settings: RoomSettings = RoomSettings.defaults()): ByteArray =
        poke { native.createRoom(relay, settings) }

    /**
     * A new invite to [room] (owner): a secret, for one person. Hand it out once its
     * `OperationLanded(RegisterInvite)` arrived: the relay refuses an invite it has not
     * registered yet (`RELAY_INVITE_UNKNOWN`).
     */
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
     * runs on `Dispatchers.Default`, the write on `Dispatchers.IO`, with no other write of the
     * state in between. If the write fails, the client already seals under [new]: its next save
     * writes the state under [new].
     */
    suspend fun changePassphrase(current: ByteArray, new: ByteArray) {
        try {
            saveLock.withLock {
                val save = withContext(Dispatchers.Default) { native.changePassphrase(current, new) }
                withContext(Dispatchers.IO) { state.write(save.generation, save.bytes) }
                native.stateSaved(save.generation)
            }
        } finally {
            wake.trySend(Unit)
        }
    }

    /** Every room's id. */
    fun rooms(): List<ByteArray> = native.rooms()

    /** What this party knows of [room]. */
    fun roomInfo(room: ByteArray): RoomInfo = native.roomInfo(room)

    /** Member [member]'s fingerprint in [room], to compare out of band. */
    fun fingerprint(room: ByteArray, member: UInt): String = native.fingerprint(room, member)

    /**
     * Stops the loop, writes the last state (a message sent just before is not lost: it goes
     * out after the next open), closes the sockets, erases the keys and releases the directory.
     * Idempotent. Blocks until the loop has stopped: the native call or state write it is in
     * finishes first, so that no write lands after the directory is released. Do not call it
     * from an `events` collector running on `Dispatchers.Unconfined`.
     */
    override fun close() {
        synchronized(this) {
            if (closed) return
            closed = true
        }
        try {
            loop.cancel()
            joinUninterruptibly(loop)
            runBlocking(NonCancellable) {
                saveLock.withLock { native.pollSave()?.let { state.write(it.generation, it.bytes) } }
            }
        } catch (_: Exception) {
            // The last save could not be written: the previous one stands, as after a crash.
        } finally {
            for (s in sockets.values) s.ws?.cancel()
            sockets.clear()
            runCatching { native.erase() }
            runCatching { native.close() }
            runCatching { state.release() }
            queued.close()
            wake.close()
            if (ownsHttp) {
                // OkHttp's dispatcher threads are not daemons and idle for a minute: without
                // this a JVM whose main() has returned lingers.
                runCatching { http.dispatcher.executorService.shutdown() }
                runCatching { http.connectionPool.evictAll() }
            }
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
                    // Capped: a wall clock set back must not stall keep-alives and redials.
                    val delay = (due.toLong() - nowMs().toLong()).coerceAtMost(MAX_WAIT_MS)
                    delay > 0 && withTimeoutOrNull(delay) { wake.receive() } != null
                }
                if (!woke) native.handleTimeout(nowMs())
            }
        } catch (e: CancellationException) {
            throw e
        } catch (e: Throwable) {
            // Handed to whoever reads the events; the client stops carrying bytes.
            failure = e
            for (s in sockets.values) s.ws?.cancel()
            queued.close()
        }
    }

    /** Saves first (written, then confirmed), then transmits, then events, until idle. */
    private suspend fun pump() {
        while (true) {
            var busy = false
            saveLock.withLock {
                while (true) {
                    val save = native.pollSave() ?: break
                    busy = true
                    withContext(Dispatchers.IO) { state.write(save.generation, save.bytes) }
                    native.stateSaved(save.generation)
                }
            }
            while (true) {
                val t = native.pollTransmit() ?: break
                busy = true
                when (t) {
                    is Transmit.Connect -> connect(t.conn, t.url)
                    is Transmit.Send -> sockets[t.conn]?.ws?.send(t.bytes.toByteString())
                    is Transmit.Close -> sockets.remove(t.conn)?.let { s ->
                        // An open socket closes gracefully (OkHttp sends what is queued, then
                        // the close frame); one still dialling is abandoned at once.
                        if (s.opened) s.ws?.close(NORMAL_CLOSURE, closeReason(t.reason)) else s.ws?.cancel()
                    }
                }
            }
            while (true) {
                val e = native.pollEvent() ?: break
                busy = true
                queue.add(e)
                queued.trySend(Unit)
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
        // Registered before dialling: OkHttp may report on its own thread (or, with a shut-down
        // dispatcher, inside newWebSocket) before newWebSocket returns.
        val socket = Socket(conn)
        sockets[conn] = socket
        socket.ws = http.newWebSocket(request, socket)
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

    /** One WebSocket the native client asked for, and its listener. */
    private inner class Socket(private val conn: ULong) : WebSocketListener() {
        @Volatile
        var ws: WebSocket? = null

        @Volatile
        var opened = false

        override fun onOpen(webSocket: WebSocket, response: Response) {
            opened = true
            report(conn) { native.handleConnected(conn, nowMs()) }
        }

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
        private const val MAX_WAIT_MS = 60_000L

        /** Waits for [job] to finish even if this thread is interrupted (the flag is kept). */
        private fun joinUninterruptibly(job: Job) {
            val done = CountDownLatch(1)
            job.invokeOnCompletion { done.countDown() }
            var interrupted = false
            while (true) {
                try {
                    done.await()
                    break
                } catch (_: InterruptedException) {
                    interrupted = true
                }
            }
            if (interrupted) Thread.currentThread().interrupt()
        }

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
            // Assigned inside the blocks: withContext can throw CancellationException after its
            // block finished, and what the block made must still be released.
            var state: StateDirectory? = null
            var native: Client? = null
            try {
                withContext(Dispatchers.IO) { state = StateDirectory(directory) }
                val dir = checkNotNull(state)
                val blob = withContext(Dispatchers.IO) { dir.read() }
                withContext(Dispatchers.Default) {
                    native = if (blob == null) Client.create(config, passphrase) else Client.open(config, blob, passphrase)
                }
                val client = checkNotNull(native)
                if (blob == null) {
                    val save = client.pollSave()
                    if (save != null) {
                        withContext(Dispatchers.IO) { dir.write(save.generation, save.bytes) }
                        client.stateSaved(save.generation)
                    }
                }
                return ZfcClient(client, dir, http, config.connectTimeoutMs)
            } catch (e: Throwable) {
                native?.let {
                    it.erase()
                    it.close()
                }
                state?.release()
                throw e
            }
        }
    }
}
