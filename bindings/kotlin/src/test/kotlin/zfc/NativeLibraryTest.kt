package zfc

import com.sun.jna.NativeLibrary
import java.io.File
import kotlin.test.assertNotEquals
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.junit.jupiter.api.Test

/** The native library is found on the classpath under JNA's resource path, with no library path
 * set (scripts/test-kotlin.sh proves the same of the packaged jar, from another directory). */
class NativeLibraryTest {
    @Test
    fun `the library comes from the classpath resource, not a library path`() {
        assertNull(System.getProperty("jna.library.path"), "the tests set no library path")
        assertNull(System.getenv("LD_LIBRARY_PATH")?.takeIf { it.contains("target/debug") })
        assertTrue(errorCodes().isNotEmpty()) // loads the library
        val file = NativeLibrary.getInstance("zfc_ffi").file
        assertTrue(file.path.endsWith("linux-x86-64/libzfc_ffi.so") || file.name.startsWith("jna"), file.path)
        val built = File(System.getProperty("zfc.cargoLibrary")).canonicalFile
        assertNotEquals(built, file.canonicalFile, "not cargo's own copy")
    }
}
