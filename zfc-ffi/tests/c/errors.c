/* Error paths through the C API: NULL arguments, calls in the wrong state, corrupted frames and
 * records, wrong passwords, bad invites; outputs are never written on error. */
#include "harness.h"

static void null_arguments(net *w) {
    zfc_output *out = (zfc_output *)0x1;
    zfc_owner *owner = (zfc_owner *)0x1;
    zfc_room_config cfg;
    CHECK_OK(zfc_room_config_default(&cfg));
    CHECK_ERR(zfc_owner_create(NULL, w->rng, &owner, &out), ZFC_ERR_NULL_ARGUMENT);
    CHECK_ERR(zfc_owner_create(&cfg, NULL, &owner, &out), ZFC_ERR_NULL_ARGUMENT);
    CHECK_ERR(zfc_owner_create(&cfg, w->rng, NULL, &out), ZFC_ERR_NULL_ARGUMENT);
    CHECK_ERR(zfc_owner_create(&cfg, w->rng, &owner, NULL), ZFC_ERR_NULL_ARGUMENT);
    CHECK(owner == (zfc_owner *)0x1 && out == (zfc_output *)0x1); /* untouched on error */
    CHECK_ERR(zfc_owner_send(NULL, (const uint8_t *)"x", 1, w->rng, &out), ZFC_ERR_NULL_ARGUMENT);
    CHECK_ERR(zfc_member_handle(NULL, NULL, 0, w->rng, &out), ZFC_ERR_NULL_ARGUMENT);
    CHECK_ERR(zfc_member_join(NULL, "x", NOW, w->rng, NULL, &out), ZFC_ERR_NULL_ARGUMENT);
    CHECK_ERR(zfc_relay_handle(w->relay, 1, NULL, 5, NOW, NULL), ZFC_ERR_NULL_ARGUMENT);
    CHECK_ERR(zfc_link_client_finish(NULL, NULL, 0, NULL), ZFC_ERR_NULL_ARGUMENT);
    CHECK_ERR(zfc_rng_new_seeded(NULL, NULL), ZFC_ERR_NULL_ARGUMENT);
    CHECK(zfc_buf_len(NULL) == 0 && zfc_buf_data(NULL) == NULL);
    CHECK(zfc_output_request_count(NULL) == 0 && zfc_output_event_count(NULL) == 0);
    /* Every free accepts NULL. */
    zfc_owner_free(NULL);
    zfc_member_free(NULL);
    zfc_output_free(NULL);
    zfc_buf_free(NULL);
    zfc_rng_free(NULL);
    zfc_relay_free(NULL);
    zfc_relay_output_free(NULL);
    zfc_relay_key_free(NULL);
    zfc_link_free(NULL);
    zfc_link_handshake_free(NULL);
}

static void texts(void) {
    CHECK(strcmp(zfc_result_text(ZFC_OK), "success") == 0);
    CHECK(strcmp(zfc_result_text(ZFC_ERR_WRONG_PASSWORD), "wrong password") == 0);
    CHECK(strcmp(zfc_result_text(123456), "unknown result code") == 0);
    CHECK(strcmp(zfc_reject_name(31), "InviteUsed") == 0);
    CHECK(strcmp(zfc_reject_name(9999), "unknown") == 0);
}

static void wrong_state_and_arguments(net *w, int owner) {
    zfc_output *out = NULL;
    zfc_room_config bad;
    CHECK_OK(zfc_room_config_default(&bad));
    bad.rotate_every = 0;
    zfc_owner *o = NULL;
    CHECK_ERR(zfc_owner_create(&bad, w->rng, &o, &out), ZFC_ERR_INVALID_ARGUMENT);
    bad.rotate_every = 5;
    bad.history_policy = 7;
    CHECK_ERR(zfc_owner_create(&bad, w->rng, &o, &out), ZFC_ERR_INVALID_ARGUMENT);
    CHECK(o == NULL && out == NULL);
    CHECK_ERR(zfc_owner_remove(w->parties[owner].owner, 0, w->rng, &out), ZFC_ERR_INVALID_ARGUMENT);
    CHECK_ERR(zfc_owner_remove(w->parties[owner].owner, 42, w->rng, &out), ZFC_ERR_NO_SUCH_MEMBER);
    uint8_t nobody[32] = {0};
    CHECK_ERR(zfc_owner_approve_join(w->parties[owner].owner, nobody, w->rng, &out), ZFC_ERR_NO_SUCH_JOIN);
    zfc_buf *f = NULL;
    CHECK_ERR(zfc_owner_fingerprint(w->parties[owner].owner, 42, &f), ZFC_ERR_NO_SUCH_MEMBER);
    CHECK(f == NULL && out == NULL);

    /* A joiner that is not in yet cannot send, has no number or epoch. */
    zfc_buf *invite = NULL;
    CHECK_OK(zfc_owner_invite(w->parties[owner].owner, NOW, 60, "ws://127.0.0.1:5103", w->relay_pk, w->rng, &invite, &out));
    take_output(w, owner, out);
    pump(w);
    char uri[1024];
    memcpy(uri, zfc_buf_data(invite), zfc_buf_len(invite));
    uri[zfc_buf_len(invite)] = 0;
    zfc_buf_free(invite);
    zfc_member *m = NULL;
    CHECK_ERR(zfc_member_join(uri, "late", NOW + 61, w->rng, &m, &out), ZFC_ERR_INVITE_EXPIRED);
    CHECK_OK(zfc_member_join(uri, "eve", NOW, w->rng, &m, &out));
    zfc_output_free(out);
    out = NULL;
    CHECK_ERR(zfc_member_send(m, (const uint8_t *)"x", 1, w->rng, &out), ZFC_ERR_NOT_JOINED);
    uint32_t n = 77;
    CHECK_ERR(zfc_member_number(m, &n), ZFC_ERR_NOT_JOINED);
    CHECK(n == 77);
    zfc_output *o2 = NULL;
    CHECK_ERR(zfc_member_fetch_history(m, 1, &o2), ZFC_ERR_NOT_JOINED);
    CHECK(o2 == NULL);
    CHECK_OK(zfc_member_leave(m, &o2) == ZFC_ERR_NOT_JOINED ? ZFC_OK : ZFC_ERR_UNKNOWN);
    const uint8_t *data;
    size_t len;
    CHECK_ERR(zfc_output_request(NULL, 0, &data, &len), ZFC_ERR_NULL_ARGUMENT);
    zfc_member_free(m);

    /* Bad invite strings. */
    const char *bad_invites[] = {"", "zfc:join?v=2", "http://example/", "zfc:join?v=1&room=00"};
    for (size_t i = 0; i < sizeof bad_invites / sizeof *bad_invites; i++) {
        zfc_member *mm = NULL;
        CHECK_ERR(zfc_member_join(bad_invites[i], "x", NOW, w->rng, &mm, &out), ZFC_ERR_BAD_INVITE);
        CHECK(mm == NULL);
    }
    uint8_t not_utf8[] = {'z', 0xff, 0xfe, 0};
    CHECK_ERR(zfc_member_join((const char *)not_utf8, "x", NOW, w->rng, &m, &out), ZFC_ERR_INVALID_UTF8);
}

static void corrupted_input(net *w, int owner, int bob) {
    /* Bytes that are no relay message at all: a typed error, nothing changes. */
    zfc_output *out = NULL;
    uint8_t junk[] = {1, 0x43, 9, 9, 9};
    CHECK_ERR(zfc_member_handle(w->parties[bob].member, junk, sizeof junk, w->rng, &out), ZFC_ERR_MALFORMED);
    uint8_t v2[] = {2, 0x40};
    CHECK_ERR(zfc_member_handle(w->parties[bob].member, v2, sizeof v2, w->rng, &out), ZFC_ERR_UNSUPPORTED_VERSION);
    CHECK(out == NULL);

    /* A genuine frame with one bit flipped, delivered at the right position by a relay: the
     * member drops it with a typed reason and changes nothing else. A copy of bob (through its
     * sealed state) takes the tampered delivery. */
    party *b = &w->parties[bob];
    zfc_output *sent = NULL;
    CHECK_OK(zfc_owner_send(w->parties[owner].owner, (const uint8_t *)"tamper me", 9, w->rng, &sent));
    const uint8_t *req;
    size_t req_len;
    CHECK_OK(zfc_output_request(sent, 0, &req, &req_len));
    /* Submit = version, kind, u32 request id, u32 length, frame. */
    size_t frame_len = req_len - 10;
    uint8_t *deliver = malloc(frame_len + 30);
    deliver[0] = 1;
    deliver[1] = 0x43; /* Deliver: version, kind, room id (16), u64 position, u32 length, frame */
    CHECK_OK(zfc_owner_room_id(w->parties[owner].owner, deliver + 2));
    memcpy(deliver + 30, req + 10, frame_len);
    deliver[26] = (uint8_t)(frame_len >> 24);
    deliver[27] = (uint8_t)(frame_len >> 16);
    deliver[28] = (uint8_t)(frame_len >> 8);
    deliver[29] = (uint8_t)frame_len;
    zfc_buf *snapshot = NULL;
    CHECK_OK(zfc_member_seal_state(b->member, (const uint8_t *)"pw", 2, 8, 1, 1, w->rng, &snapshot));
    take_output(w, owner, sent);
    pump(w);
    CHECK(strcmp(b->last_message, "tamper me") == 0);
    uint64_t pos = w->parties[owner].last_accepted_position;
    CHECK(pos > 0);
    for (int k = 0; k < 8; k++) deliver[18 + k] = (uint8_t)(pos >> (56 - 8 * k));
    /* Genuine bytes at that position open in the copy; flipped ones are dropped with a reason. */
    size_t flips[] = {30 + 20, 30 + frame_len / 2, 30 + frame_len - 1};
    for (size_t f = 0; f < sizeof flips / sizeof *flips; f++) {
        zfc_member *copy = NULL;
        CHECK_OK(zfc_member_open_state(zfc_buf_data(snapshot), zfc_buf_len(snapshot), (const uint8_t *)"pw", 2, &copy));
        deliver[flips[f]] ^= 0x04;
        zfc_output *o = NULL;
        CHECK_OK(zfc_member_handle(copy, deliver, frame_len + 30, w->rng, &o));
        zfc_event ev;
        CHECK(zfc_output_event_count(o) == 1);
        CHECK_OK(zfc_output_event(o, 0, &ev));
        CHECK(ev.kind == ZFC_EVENT_FRAME_REJECTED && ev.position == pos);
        CHECK(ev.code == ZFC_ERR_BAD_SIGNATURE || ev.code == ZFC_ERR_FORGED || ev.code == ZFC_ERR_UNKNOWN_SENDER || ev.code == ZFC_ERR_WRONG_ROOM || ev.code == ZFC_ERR_UNKNOWN_EPOCH || ev.code == ZFC_ERR_EPOCH_CLOSED);
        deliver[flips[f]] ^= 0x04;
        zfc_output_free(o);
        zfc_member_free(copy);
    }
    zfc_member *copy = NULL;
    CHECK_OK(zfc_member_open_state(zfc_buf_data(snapshot), zfc_buf_len(snapshot), (const uint8_t *)"pw", 2, &copy));
    zfc_output *o = NULL;
    CHECK_OK(zfc_member_handle(copy, deliver, frame_len + 30, w->rng, &o));
    zfc_event ev;
    CHECK_OK(zfc_output_event(o, 0, &ev));
    CHECK(ev.kind == ZFC_EVENT_MESSAGE && ev.data_len == 9 && memcmp(ev.data, "tamper me", 9) == 0);
    zfc_output_free(o);
    /* The same position again is a replay by the relay: refused whole. */
    o = NULL;
    CHECK_ERR(zfc_member_handle(copy, deliver, frame_len + 30, w->rng, &o), ZFC_ERR_RELAY_REPLAY);
    CHECK(o == NULL);
    zfc_member_free(copy);
    zfc_buf_free(snapshot);
    free(deliver);

    /* Link: a tampered record is refused and changes nothing. */
    zfc_buf *r1 = NULL, *p1 = NULL;
    CHECK_OK(zfc_link_seal(b->client_end, (const uint8_t *)"abc", 3, &r1));
    uint8_t *bad = malloc(zfc_buf_len(r1));
    memcpy(bad, zfc_buf_data(r1), zfc_buf_len(r1));
    bad[zfc_buf_len(r1) - 1] ^= 1;
    CHECK_ERR(zfc_link_open(b->relay_end, bad, zfc_buf_len(r1), &p1), ZFC_ERR_LINK_DECRYPT);
    CHECK(p1 == NULL);
    CHECK_OK(zfc_link_open(b->relay_end, zfc_buf_data(r1), zfc_buf_len(r1), &p1));
    CHECK(zfc_buf_len(p1) == 3 && memcmp(zfc_buf_data(p1), "abc", 3) == 0);
    CHECK_ERR(zfc_link_open(b->relay_end, zfc_buf_data(r1), zfc_buf_len(r1), &p1), ZFC_ERR_LINK_REPLAYED);
    free(bad);
    zfc_buf_free(r1);
    zfc_buf_free(p1);

    /* The relay closes a connection that sends junk, and says why. */
    zfc_relay_output *ro = NULL;
    CHECK_ERR(zfc_relay_handle(w->relay, b->conn, junk, sizeof junk, NOW, &ro), ZFC_ERR_RELAY_MALFORMED);
    CHECK(ro == NULL);
    CHECK_ERR(zfc_relay_handle(w->relay, 999999, junk, sizeof junk, NOW, &ro), ZFC_ERR_RELAY_NOT_AUTHENTICATED);

    /* A wrong relay key fails the handshake. */
    uint8_t zero_key[32] = {0};
    zfc_link_handshake *hs = NULL;
    zfc_buf *m1 = NULL;
    CHECK_ERR(zfc_link_client_start(zero_key, w->rng, &hs, &m1), ZFC_ERR_LINK_INVALID_KEY);
    zfc_relay_key *other = NULL;
    uint8_t other_pk[32];
    CHECK_OK(zfc_relay_key_new(w->rng, &other));
    CHECK_OK(zfc_relay_key_public(other, other_pk));
    CHECK_OK(zfc_link_client_start(other_pk, w->rng, &hs, &m1));
    zfc_link *l = NULL;
    zfc_buf *m2 = NULL;
    CHECK_ERR(zfc_link_respond(w->relay_key, zfc_buf_data(m1), zfc_buf_len(m1), w->rng, &l, &m2), ZFC_ERR_LINK_HANDSHAKE);
    CHECK(l == NULL && m2 == NULL);
    zfc_link_handshake_free(hs);
    zfc_buf_free(m1);
    zfc_relay_key_free(other);

    /* Damaged saved state. */
    zfc_buf *state = NULL;
    CHECK_OK(zfc_member_seal_state(b->member, (const uint8_t *)"pw", 2, 8, 1, 1, w->rng, &state));
    uint8_t *damaged = malloc(zfc_buf_len(state));
    memcpy(damaged, zfc_buf_data(state), zfc_buf_len(state));
    damaged[zfc_buf_len(state) / 2] ^= 0x10;
    zfc_member *m = NULL;
    CHECK_ERR(zfc_member_open_state(damaged, zfc_buf_len(state), (const uint8_t *)"pw", 2, &m), ZFC_ERR_WRONG_PASSWORD);
    damaged[5] = 0xff; /* Argon2 memory cost far out of bounds */
    CHECK_ERR(zfc_member_open_state(damaged, zfc_buf_len(state), (const uint8_t *)"pw", 2, &m), ZFC_ERR_ARGON2_PARAMS);
    CHECK_ERR(zfc_member_open_state(damaged, 3, (const uint8_t *)"pw", 2, &m), ZFC_ERR_STATE_MALFORMED);
    CHECK(m == NULL);
    zfc_buf *weak = NULL;
    CHECK_ERR(zfc_member_seal_state(b->member, (const uint8_t *)"pw", 2, 1, 1, 1, w->rng, &weak), ZFC_ERR_ARGON2_PARAMS);
    CHECK(weak == NULL);
    free(damaged);
    zfc_buf_free(state);
}

int main(void) {
    net w;
    net_init(&w, 2);
    w.auto_approve_in_test = 1;
    texts();
    null_arguments(&w);
    zfc_room_config cfg;
    CHECK_OK(zfc_room_config_default(&cfg));
    int owner = add_owner(&w, &cfg);
    int bob = join_member(&w, owner, "bob");
    CHECK(w.parties[bob].joined);
    wrong_state_and_arguments(&w, owner);
    corrupted_input(&w, owner, bob);
    net_free(&w);
    return finish("errors");
}
