package zfc.okhttp

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit
import kotlin.concurrent.thread

/**
 * A `zfc-relay` process for the end-to-end tests: started on a free loopback port (the relay
 * binds port 0 and prints its URL), restarted on the same port and data directory, stopped at
 * the end. The binary is the workspace's build (`-Dzfc.relay=`, which the pom sets).
 */
class RelayProcess(private val dataDir: Path, private val extraArgs: List<String> = emptyList()) : AutoCloseable {
    private var proc: Process? = null
    private var listen = "127.0.0.1:0"
    var url = ""
        private set
    var key = ByteArray(0)
        private set

    fun start() {
        val bin = System.getProperty("zfc.relay") ?: error("-Dzfc.relay is not set (the pom sets it)")
        check(Files.isExecutable(Path.of(bin))) { "no zfc-relay at $bin: cargo build -p zfc-relay" }
        val pb = ProcessBuilder(listOf(bin, "--listen", listen, "--data-dir", dataDir.toString()) + extraArgs)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
        pb.environment()["ZFC_LOG"] = "warn"
        val p = pb.start()
        proc = p
        val out = p.inputStream.bufferedReader()
        val first = out.readLine() ?: error("zfc-relay exited at once")
        val second = out.readLine() ?: error("zfc-relay printed no key")
        val u = first.trim().split(" ").last()
        check(u.startsWith("ws://")) { "zfc-relay did not start: $first" }
        // Keep draining stdout so the relay never blocks on a full pipe.
        thread(isDaemon = true) { out.useLines { lines -> lines.forEach { } } }
        url = u
        val hex = second.trim().split(" ").last()
        key = ByteArray(hex.length / 2) { hex.substring(2 * it, 2 * it + 2).toInt(16).toByte() }
        // Restarts come back on the same port, so clients reconnect to the address they hold.
        listen = u.removePrefix("ws://")
    }

    fun stop() {
        val p = proc ?: return
        proc = null
        p.destroy() // SIGTERM: the relay shuts down cleanly
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly()
            p.waitFor()
        }
    }

    fun restart() {
        stop()
        start()
    }

    override fun close() = stop()
}
