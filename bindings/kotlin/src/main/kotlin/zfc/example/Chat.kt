// A chat in one room, from the jar: `java -cp zfc.jar:... zfc.example.ChatKt` (bindings/kotlin/README.md).
package zfc.example

import java.nio.file.Path
import kotlin.system.exitProcess
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeoutOrNull
import zfc.ClientEvent
import zfc.Content
import zfc.RelayAddress
import zfc.RoomOperation
import zfc.RoomRole
import zfc.RoomSettings
import zfc.ZfcException
import zfc.defaults
import zfc.okhttp.StateLockedException
import zfc.okhttp.ZfcClient

private const val USAGE = """usage: chat STATE_DIR RELAY_URL RELAY_KEY_HEX [INVITE]
  Without INVITE: opens (or creates) the room kept in STATE_DIR and prints an invite; whoever
  uses it joins (the room approves joins itself). With INVITE: joins that room.
  Every line typed is sent; each message read is printed as "member N: text". End with Ctrl-D.
  The passphrase is read from ZFC_PASSPHRASE, or asked for."""

fun main(args: Array<String>) {
    if (args.size !in 3..4) {
        System.err.println(USAGE)
        exitProcess(2)
    }
    val passphrase = System.getenv("ZFC_PASSPHRASE")?.toByteArray()
        ?: System.console()?.readPassword("passphrase: ")?.let { String(it).toByteArray() }
        ?: run {
            System.err.println("set ZFC_PASSPHRASE or run in a terminal")
            exitProcess(2)
        }
    val key = args[2].takeIf { it.length == 64 && it.all { c -> c in "0123456789abcdefABCDEF" } }
        ?.chunked(2)?.map { it.toInt(16).toByte() }?.toByteArray()
        ?: run {
            System.err.println("RELAY_KEY_HEX: 64 hex digits (zfc-relay-data/relay.pub)")
            exitProcess(2)
        }
    val code = try {
        runBlocking { chat(Path.of(args[0]), RelayAddress(args[1], key), passphrase, args.getOrNull(3)) }
    } catch (e: ZfcException) {
        System.err.println("zfc: ${e.message}")
        1
    } catch (e: StateLockedException) {
        System.err.println("zfc: ${e.message}")
        1
    }
    exitProcess(code)
}

/** Peer text as the terminal must see it: control and format characters (escape sequences,
 * newlines that would forge a line, bidi overrides) shown as `\uXXXX`. */
private fun printable(text: String): String = buildString {
    for (c in text) {
        if (c.isISOControl() || c.category == CharCategory.FORMAT) append("\\u%04x".format(c.code)) else append(c)
    }
}

private suspend fun chat(dir: Path, relay: RelayAddress, passphrase: ByteArray, invite: String?): Int {
    val client = ZfcClient.open(dir, passphrase)
    try {
        val existing = client.rooms().firstOrNull()
        if (existing != null && invite != null) System.err.println("* $dir already holds a room: the invite is not used")
        val room = existing
            ?: invite?.let { client.joinRoom(it, System.getenv("USER") ?: "kotlin") }
            ?: client.createRoom(relay, RoomSettings.defaults().copy(autoApprove = true))
        val role = client.roomInfo(room).role
        // A joiner types once the owner's side let it in; an owner or a member at once.
        val ready = CompletableDeferred<Boolean>()
        if (role == RoomRole.OWNER || role == RoomRole.MEMBER) ready.complete(true)
        if (role == RoomRole.GONE) ready.complete(false)
        // An invite is printed once the relay has registered it (it refuses one it does not know).
        val offered = HashMap<String, String>()
        // Local ids of messages typed and not yet on the relay; a sendText and its id's entry
        // happen under this lock, so the event about it cannot come between.
        val pending = HashSet<ULong>()
        val over = CompletableDeferred<Int>()
        return coroutineScope {
            val reader = launch {
                client.events.collect { e ->
                    when (e) {
                        is ClientEvent.OperationLanded -> (e.op as? RoomOperation.RegisterInvite)?.let { op ->
                            offered.remove(op.inviteKey.toHex())?.let { println("invite: $it") }
                        }
                        is ClientEvent.OperationFailed -> {
                            println("* ${e.op} failed with code ${e.code}")
                            if (e.op == RoomOperation.JoinRequest) ready.complete(false)
                        }
                        is ClientEvent.Joined -> {
                            println("* joined as member ${e.member}")
                            ready.complete(true)
                        }
                        is ClientEvent.EpochChanged -> println("* epoch ${e.epoch}: ${e.change}")
                        is ClientEvent.Message -> (e.message.content as? Content.Text)?.let {
                            println("member ${e.message.sender}: ${printable(it.body)}")
                        }
                        is ClientEvent.MessageSent -> synchronized(pending) { pending.remove(e.localId) }
                        is ClientEvent.MessageRefused -> {
                            println("* message refused with code ${e.code}")
                            synchronized(pending) { pending.remove(e.localId) }
                        }
                        is ClientEvent.RemovedFromRoom -> {
                            println("* removed from the room")
                            over.complete(0)
                        }
                        is ClientEvent.RoomDeleted -> {
                            println("* the room was deleted")
                            over.complete(0)
                        }
                        is ClientEvent.Disconnected ->
                            System.err.println("* disconnected (${e.reason}); again in ${e.retryInMs} ms")
                        else -> {}
                    }
                    System.out.flush()
                }
            }
            if (role == RoomRole.OWNER) {
                val uri = client.invite(room, 86_400u)
                offered[zfc.parseInvite(uri).inviteKey.toHex()] = uri
            }
            // Stdin in a daemon thread: a blocking read cannot be cancelled.
            Thread {
                runBlocking {
                    if (!ready.await()) {
                        over.complete(1)
                        return@runBlocking
                    }
                    while (true) {
                        val line = readlnOrNull() ?: break
                        if (line.isBlank()) continue
                        try {
                            synchronized(pending) { pending.add(client.sendText(room, line)) }
                        } catch (e: ZfcException) {
                            System.err.println("zfc: ${e.message}")
                        }
                    }
                    // Stdin is over: leave once everything typed reached the relay (10 s at most).
                    withTimeoutOrNull(10_000) {
                        while (synchronized(pending) { pending.isNotEmpty() }) delay(50)
                    }
                    over.complete(0)
                }
            }.apply {
                isDaemon = true
                start()
            }
            val code = over.await()
            reader.cancel()
            code
        }
    } finally {
        client.close()
    }
}

private fun ByteArray.toHex() = joinToString("") { "%02x".format(it) }
