package zfc

import java.nio.file.Path
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestFactory
import zfc.testing.decodeContent
import zfc.testing.encodeContent
import zfc.testing.openMessage
import zfc.testing.openSealedState

/**
 * The spec's vectors (spec/vectors/), read from the JSON: invites and the fingerprint through
 * the API; the sealed state envelope, sealed messages and content envelopes through the test
 * hooks of `zfc.testing` (no API call opens a state or a message without a room around it).
 *
 * Not reachable from Kotlin, and checked by zfc-core's own tests instead: frames.json,
 * link.json, hpke.json, vault.json and the other derivations (they need keys and transcripts
 * that the API never hands out, by design).
 */
class VectorsTest {
    private fun load(name: String): List<Map<String, String>> {
        val root = Path.of(System.getProperty("zfc.root", "../..")).resolve("spec/vectors/$name")
        val doc = Json.parseToJsonElement(root.toFile().readText()).jsonObject
        val list = doc.getValue("vectors").jsonArray.map { v ->
            v.jsonObject.mapValues { it.value.jsonPrimitive.content }
        }
        assertTrue(list.isNotEmpty(), name)
        return list
    }

    private fun hex(s: String): ByteArray = ByteArray(s.length / 2) { s.substring(2 * it, 2 * it + 2).toInt(16).toByte() }

    private fun ByteArray.hex(): String = joinToString("") { "%02x".format(it) }

    @TestFactory
    fun invites(): List<DynamicTest> {
        val all = load("invites.json")
        assertTrue(all.size >= 10 && all.any { it["error"]!!.isEmpty() } && all.any { it["error"]!!.isNotEmpty() })
        return all.map { v ->
            DynamicTest.dynamicTest(v.getValue("name")) {
                if (v.getValue("error").isEmpty()) {
                    val i = parseInvite(v.getValue("uri"))
                    assertEquals(v["room_id"], i.room.hex())
                    assertEquals(v["owner_sign_pk"], i.ownerSignKey.hex())
                    assertEquals(v["owner_kx_pk"], i.ownerKxKey.hex())
                    assertEquals(v["salt"], i.salt.hex())
                    assertEquals(v["invite_pk"], i.inviteKey.hex())
                    assertEquals(v.getValue("expires_at").toULong(), i.expiresAtSecs)
                    assertEquals(v["relay_addr"], i.relayUrl)
                    assertEquals(v["relay_pk"], i.relayKey.hex())
                    assertFalse(i.toString().contains(v.getValue("token")), "the token is the invite's secret")
                } else {
                    assertEquals("BadInvite", v["error"])
                    val e = assertFailsWith<ZfcException.Invite> { parseInvite(v.getValue("uri")) }
                    assertEquals("BAD_INVITE", e.name)
                }
            }
        }
    }

    @Test
    fun `the fingerprint`() {
        val v = load("derivations.json").single { it["name"] == "fingerprint" }
        assertEquals(v["fingerprint"], fingerprint(hex(v.getValue("room_id")), hex(v.getValue("sign_pk"))))
    }

    @TestFactory
    fun `the sealed state envelope opens`() = load("state.json").map { v ->
        DynamicTest.dynamicTest(v.getValue("name")) {
            val sealed = hex(v.getValue("sealed"))
            assertContentEquals(hex(v.getValue("plaintext")), openSealedState(sealed, v.getValue("password").toByteArray()))
            val wrong = assertFailsWith<ZfcException.LocalState> { openSealedState(sealed, "not the password".toByteArray()) }
            assertEquals("WRONG_PASSWORD", wrong.name)
        }
    }

    @TestFactory
    fun `sealed messages open`() = load("messages.json").map { v ->
        DynamicTest.dynamicTest("${v["name"]} ${v["padded_len"]}") {
            val frame = hex(v.getValue("frame"))
            val key = hex(v.getValue("message_key"))
            val signer = hex(v.getValue("sender_sign_pk"))
            val m = openMessage(frame, key, signer)
            assertEquals(v["room_id"], m.room.hex())
            assertEquals(v.getValue("epoch").toUInt(), m.epoch)
            assertEquals(v.getValue("sender").toUInt(), m.sender)
            assertEquals(v.getValue("seq").toUInt(), m.seq)
            assertEquals(v["nonce"], m.nonce.hex())
            assertEquals(v["aad"], m.aad.hex())
            assertEquals(v.getValue("padded_len").toULong(), m.paddedLen)
            assertEquals(v["content"], m.content.hex())
            val flipped = frame.copyOf()
            // Inside the ciphertext: the signature no longer verifies.
            flipped[flipped.size - 70] = (flipped[flipped.size - 70].toInt() xor 1).toByte()
            assertFailsWith<ZfcException.PeerMisbehaved> { openMessage(flipped, key, signer) }
            assertFailsWith<ZfcException.PeerMisbehaved> { openMessage(frame, ByteArray(32), signer) }
        }
    }

    @TestFactory
    fun `content envelopes decode and encode`() = load("content.json").map { v ->
        DynamicTest.dynamicTest(v.getValue("name")) {
            val data = hex(v.getValue("bytes"))
            val got = decodeContent(data)
            val expected: Content = when (v["content"]) {
                "text" -> Content.Text(v.getValue("text"))
                "display name" -> Content.DisplayName(v.getValue("display_name"))
                "topic" -> Content.Topic(v.getValue("topic"))
                "other" -> Content.Other(v.getValue("type_code").toUShort(), hex(v.getValue("body")))
                else -> {
                    assertEquals("not an envelope", v["content"])
                    val c = got.content
                    assertTrue(c is Content.NotEnvelope && c.bytes.contentEquals(data))
                    assertEquals(null, got.claimedSentAtMs)
                    return@dynamicTest
                }
            }
            // Data classes compare ByteArray fields by reference: compare Other field by field.
            if (expected is Content.Other) {
                val c = got.content
                assertTrue(c is Content.Other && c.typeCode == expected.typeCode && c.body.contentEquals(expected.body))
            } else {
                assertEquals(expected, got.content)
            }
            val sentAt = v.getValue("sent_at_ms").toULong()
            val claimed = if (sentAt == 0uL) null else sentAt
            assertEquals(claimed, got.claimedSentAtMs)
            assertContentEquals(data, encodeContent(expected, claimed))
        }
    }
}
