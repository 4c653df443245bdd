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

/** Another process (or another client in this one) holds the state directory. */
class StateLockedException(message: String) : IOException(message)

/**
 * A client's state directory: an exclusive lock on `lock` held until [release], and the sealed
 * state (`state.zfc`) written atomically: a temporary file, fsync, rename, fsync of the
 * directory. A crash at any point leaves the old state or the new one, never a mix.
 *
 * The lock is the JVM's `FileLock` (POSIX `fcntl` locks on Linux): it excludes other JVMs and
 * this one; Python's `zfc.aio` takes `flock`, which Linux keeps apart, so do not point a Python
 * and a Kotlin client at one directory.
 */
class StateDirectory(val path: Path) {
    private val channel: FileChannel
    private var lock: FileLock?

    init {
        Files.createDirectories(path)
        try {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwx------"))
        } catch (_: UnsupportedOperationException) {
            // Not a POSIX file system: its own permissions apply.
        }
        channel = FileChannel.open(path.resolve(LOCK_FILE), READ, WRITE, CREATE)
        val taken = try {
            channel.tryLock()
        } catch (_: OverlappingFileLockException) {
            null // held by this JVM
        }
        if (taken == null) {
            val holder = try {
                val buf = ByteBuffer.allocate(32)
                channel.read(buf, 0)
                String(buf.array(), 0, buf.position()).trim().ifEmpty { "unknown" }
            } finally {
                channel.close()
            }
            throw StateLockedException("$path is in use by PID $holder")
        }
        lock = taken
        channel.truncate(0)
        channel.write(ByteBuffer.wrap("${ProcessHandle.current().pid()}\n".toByteArray()), 0)
    }

    /** The sealed state's file. */
    val statePath: Path get() = path.resolve(STATE_FILE)

    /** The sealed state, or null when there is none yet. */
    fun read(): ByteArray? = try {
        Files.readAllBytes(statePath)
    } catch (_: NoSuchFileException) {
        null
    }

    /** Writes [data] atomically and durably (returns once it is on disk). */
    fun write(data: ByteArray) {
        check(lock != null) { "the state directory was released" }
        val tmp = path.resolve("$STATE_FILE.tmp")
        FileChannel.open(tmp, WRITE, CREATE, TRUNCATE_EXISTING).use { f ->
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
    }

    /** Drops the lock (idempotent). */
    fun release() {
        lock?.let {
            lock = null
            it.release()
            channel.close()
        }
    }

    companion object {
        /** The sealed state's file name. */
        const val STATE_FILE = "state.zfc"

        /** The lock file's name. */
        const val LOCK_FILE = "lock"
    }
}
