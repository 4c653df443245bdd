// A chat in one room, from the jar: `java -cp zfc.jar:... zfc.example.ChatKt` (bindings/kotlin/README.md).
package zfc.example

import java.nio.file.Path
import kotlin.system.exitProcess
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.cancel
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import zfc.ClientEvent
import zfc.Content
import zfc.RelayAddress
import zfc.RoomOperation
import zfc.RoomRole
import zfc.RoomSettings
import zfc.ZfcException
import zfc.defaults
import zfc.okhttp.ZfcClient

private const val USAGE = """usage: chat STATE_DIR RELAY_URL RELAY_KEY_HEX [INVITE]
  Without INVITE: opens (or creates) the room kept in STATE_DIR and prints an invite; whoever
  uses it joins (the room approves joins itself). With INVITE: joins that room.
  Every line typed is sent; each message read is printed as "name: text". End with Ctrl-D.
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
    val key = args[2].chunked(2).map { it.toInt(16).toByte() }.toByteArray()
    try {
        runBlocking { chat(Path.of(args[0]), RelayAddress(args[1], key), passphrase, args.getOrNull(3)) }
    } catch (e: ZfcException) {
        System.err.println("zfc: ${e.message}")
        exitProcess(1)
    }
}

private suspend fun chat(dir: Path, relay: RelayAddress, passphrase: ByteArray, invite: String?) = coroutineScopeUse(
    ZfcClient.open(dir, passphrase),
) { client ->
    val existing = client.rooms().firstOrNull()
    val room = existing
        ?: invite?.let { client.joinRoom(it, System.getenv("USER") ?: "kotlin") }
        ?: client.createRoom(relay, RoomSettings.defaults().copy(autoApprove = true))
    val owner = client.roomInfo(room).role == RoomRole.OWNER
    // A joiner types once the owner's side let it in; an owner or a returning member at once.
    val ready = CompletableDeferred<Unit>()
    if (existing != null || owner) ready.complete(Unit)
    // An invite is printed once the relay has registered it (it refuses one it does not know).
    val offered = HashMap<String, String>()
    fun offerInvite() {
        val uri = client.invite(room, 86_400u)
        offered[zfc.parseInvite(uri).inviteKey.toHex()] = uri
    }
    val unsent = AtomicInteger(0)
    val inputDone = AtomicBoolean(false)
    coroutineScope {
        val reader = launch {
            client.events.collect { e ->
                when (e) {
                    is ClientEvent.OperationLanded -> when (val op = e.op) {
                        is RoomOperation.RegisterInvite -> offered.remove(op.inviteKey.toHex())?.let { println("invite: $it") }
                        else -> {}
                    }
                    is ClientEvent.OperationFailed -> println("* ${e.op} failed with code ${e.code}")
                    is ClientEvent.Joined -> {
                        println("* joined as member ${e.member}")
                        ready.complete(Unit)
                    }
                    is ClientEvent.EpochChanged -> println("* epoch ${e.epoch}: ${e.change}")
                    is ClientEvent.Message -> (e.message.content as? Content.Text)?.let {
                        println("member ${e.message.sender}: ${it.body}")
                    }
                    is ClientEvent.MessageSent -> unsent.decrementAndGet()
                    is ClientEvent.RemovedFromRoom -> println("* removed from the room")
                    is ClientEvent.Disconnected -> System.err.println("* disconnected (${e.reason}); again in ${e.retryInMs} ms")
                    else -> {}
                }
                System.out.flush()
                if (inputDone.get() && unsent.get() == 0) currentCoroutineContext().cancel()
            }
        }
        if (owner) offerInvite()
        ready.await()
        withContext(Dispatchers.IO) {
            while (true) {
                val line = readlnOrNull() ?: break
                if (line.isBlank()) continue
                unsent.incrementAndGet()
                client.sendText(room, line)
            }
        }
        // Stdin is over: leave once everything typed has reached the relay.
        inputDone.set(true)
        if (unsent.get() == 0) reader.cancel()
    }
}

private fun ByteArray.toHex() = joinToString("") { "%02x".format(it) }

/** [block] with [client], closed after (AutoCloseable.use for a suspend block). */
private suspend fun <T> coroutineScopeUse(client: ZfcClient, block: suspend (ZfcClient) -> T): T =
    try {
        block(client)
    } finally {
        client.close()
    }
