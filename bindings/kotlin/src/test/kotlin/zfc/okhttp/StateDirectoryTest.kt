package zfc.okhttp

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.attribute.PosixFilePermissions
import java.util.concurrent.TimeUnit
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotEquals
import kotlin.test.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir

class StateDirectoryTest {
    /** Exit status of another process trying to take the directory's `fcntl` lock (0: it could). */
    private fun otherProcessLocks(dir: Path): Int {
        val script = "import fcntl,sys\nf=open(sys.argv[1],'r+')\ntry:\n fcntl.lockf(f,fcntl.LOCK_EX|fcntl.LOCK_NB)\nexcept OSError:\n sys.exit(3)"
        val p = ProcessBuilder("python3", "-c", script, dir.resolve(StateDirectory.LOCK_FILE).toString())
            .redirectErrorStream(true).start()
        check(p.waitFor(30, TimeUnit.SECONDS))
        return p.exitValue()
    }

    @Test
    fun `a refused second open in this JVM keeps the first one's lock`(@TempDir tmp: Path) {
        val first = StateDirectory(tmp.resolve("s"))
        assertEquals(3, otherProcessLocks(first.path), "another process is kept out")
        val again = assertFailsWith<StateLockedException> { StateDirectory(tmp.resolve("s")) }
        assertTrue(again.message!!.contains("in use by PID"), again.message)
        // Closing a second descriptor of the lock file would have dropped the process's lock.
        assertEquals(3, otherProcessLocks(first.path), "still kept out after the refused open")
        first.release()
        first.release()
        assertEquals(0, otherProcessLocks(first.path), "free once released")
        StateDirectory(tmp.resolve("s")).release()
    }

    @Test
    fun `an older generation is never written over a newer one, nor anything after release`(@TempDir tmp: Path) {
        val dir = StateDirectory(tmp.resolve("s"))
        dir.write(2u, byteArrayOf(2))
        dir.write(1u, byteArrayOf(1))
        dir.write(2u, byteArrayOf(22))
        assertContentEquals(byteArrayOf(2), dir.read())
        dir.write(3u, byteArrayOf(3))
        assertContentEquals(byteArrayOf(3), dir.read())
        val perms = PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.statePath))
        assertEquals("rw-------", perms)
        dir.release()
        assertFailsWith<IllegalStateException> { dir.write(4u, byteArrayOf(4)) }
        assertNotEquals(4, Files.readAllBytes(dir.statePath).single().toInt())
    }
}
