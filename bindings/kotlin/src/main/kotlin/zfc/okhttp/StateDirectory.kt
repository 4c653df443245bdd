package zfc.okhttp

import java.io.IOException
import java.nio.ByteBuffer
import java.nio.channels.FileChannel
import java.nio.channels.FileLock
import java.nio.channels.OverlappingFileLockException
import java.nio.file.AtomicMoveNotSupportedException
import java.nio.file.Files
import java.nio.file.NoSuchFileException
import java.nio.file.Path
import java.nio.file.StandardCopyOption
import java.nio.file.StandardOpenOption.CREATE
import java.nio.file.StandardOpenOption.READ
import java.nio.file.StandardOpenOption.TRUNCATE_EXISTING
import java.nio.file.StandardOpenOption.WRITE
import java.nio.file.attribute.PosixFilePermissions
import java.util.concurrent.ConcurrentHashMap

/** Another process (or another client in this one) holds the state directory. */
class StateLockedException(message: String) : IOException(message)

/**
 * A client's state directory: an exclusive lock on `lock` held until [release], and the sealed
 * state (`state.zfc`) written atomically: a temporary file, fsync, rename, fsync of the
 * directory. A crash at any point leaves the old state or the new one, never a mix; a
 * generation older than one already written is never written over it.
 *
 * The lock is the JVM's `FileLock` (POSIX `fcntl` locks on Linux and Android): it excludes other
 * processes. Within one JVM a registry of held directories excludes a second client (an `fcntl`
 * lock is the process's, and closing any descriptor of the file would drop it). Python's
 * `zfc.aio` takes `flock`, which Linux keeps apart, so do not point a Python and a Kotlin
 * client at one directory. Needs `java.nio.file` (Android API 26+).
 */
class StateDirectory(val path: Path) {
    private val key: Path
    private val channel: FileChannel
    private var lock: FileLock? = null
    private var written: ULong? = null

    init {
        Files.createDirectories(path)
        try {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwx------"))
        } catch (_: UnsupportedOperationException) {
            // Not a POSIX file system: its own permissions apply.
        }
        key = path.toRealPath()
        if (!held.add(key)) throw StateLockedException("$path is in use by PID ${pid()} (this process)")
        try {
            channel = FileChannel.open(path.resolve(LOCK_FILE), READ, WRITE, CREATE)
        } catch (e: Throwable) {
            held.remove(key)
            throw e
        }
        try {
            val taken = try {
                channel.tryLock()
            } catch (_: OverlappingFileLockException) {
                null
            }
            if (taken == null) {
                val buf = ByteBuffer.allocate(32)
                channel.read(buf, 0)
                val holder = String(buf.array(), 0, buf.position()).trim().ifEmpty { "unknown" }
                throw StateLockedException("$path is in use by PID $holder")
            }
            lock = taken
            channel.truncate(0)
            channel.write(ByteBuffer.wrap("${pid()}\n".toByteArray()), 0)
        } catch (e: Throwable) {
            lock = null
            channel.close() // drops the lock if it was taken
            held.remove(key)
            throw e
        }
    }

    /** The sealed state's file. */
    val statePath: Path get() = path.resolve(STATE_FILE)

    /** The sealed state, or null when there is none yet. */
    fun read(): ByteArray? = try {
        Files.readAllBytes(statePath)
    } catch (_: NoSuchFileException) {
        null
    }

    /**
     * Writes [data], the state's save [generation], atomically and durably (returns once it is
     * on disk). A generation not newer than the last written is skipped: it is already covered.
     */
    @Synchronized
    fun write(generation: ULong, data: ByteArray) {
        check(lock != null) { "the state directory was released" }
        written?.let { if (generation <= it) return }
        val tmp = path.resolve("$STATE_FILE.tmp")
        Files.deleteIfExists(tmp)
        val options = mutableSetOf(WRITE, CREATE, TRUNCATE_EXISTING)
        val attrs = try {
            arrayOf(PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
        } catch (_: UnsupportedOperationException) {
            emptyArray()
        }
        val file = try {
            FileChannel.open(tmp, options, *attrs)
        } catch (_: UnsupportedOperationException) {
            FileChannel.open(tmp, options)
        }
        file.use { f ->
            val buf = ByteBuffer.wrap(data)
            while (buf.hasRemaining()) f.write(buf)
            f.force(true)
        }
        try {
            Files.move(tmp, statePath, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING)
        } catch (e: AtomicMoveNotSupportedException) {
            throw IOException("$path cannot replace a file atomically", e)
        }
        // The rename itself is durable once the directory is: Linux opens a directory for
        // reading and syncs it; systems that cannot (Windows) refuse, and rely on the rename.
        try {
            FileChannel.open(path, READ).use { it.force(true) }
        } catch (_: IOException) {
        }
        written = generation
    }

    /** Drops the lock (idempotent). No write happens after it returns. */
    @Synchronized
    fun release() {
        val l = lock ?: return
        lock = null
        try {
            l.release()
        } finally {
            channel.close()
            held.remove(key)
        }
    }

    companion object {
        /** The sealed state's file name. */
        const val STATE_FILE = "state.zfc"

        /** The lock file's name. */
        const val LOCK_FILE = "lock"

        /** Directories held by this JVM (real paths). */
        private val held: MutableSet<Path> = ConcurrentHashMap.newKeySet()

        /** This process's id; Android has no `ProcessHandle`. */
        private fun pid(): String = try {
            ProcessHandle.current().pid().toString()
        } catch (_: Throwable) {
            "unknown"
        }
    }
}
