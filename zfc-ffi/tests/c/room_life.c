/* A whole room life through the C API: create, invite, joins approved by the owner, messages,
 * removal, rotation, a newcomer reading history, fingerprints, saving and loading state. */
#include "harness.h"

int main(void) {
    net w;
    net_init(&w, 1);
    w.auto_approve_in_test = 1;

    zfc_room_config cfg;
    CHECK_OK(zfc_room_config_default(&cfg));
    CHECK(cfg.rotate_every == 100 && cfg.history_policy == 0 && !cfg.auto_approve);
    int owner = add_owner(&w, &cfg);

    int bob = join_member(&w, owner, "bob");
    int carol = join_member(&w, owner, "carol");
    CHECK(w.parties[owner].join_requests == 2);
    CHECK(w.parties[bob].joined && w.parties[carol].joined);
    bool joined = false;
    CHECK_OK(zfc_member_is_joined(w.parties[bob].member, &joined));
    CHECK(joined);
    uint32_t number = 0;
    CHECK_OK(zfc_member_number(w.parties[carol].member, &number));
    CHECK(number == 2);
    size_t count = 0;
    CHECK_OK(zfc_owner_member_count(w.parties[owner].owner, &count));
    CHECK(count == 3);

    send_text(&w, bob, "hi from bob");
    CHECK(strcmp(w.parties[carol].last_message, "hi from bob") == 0);
    CHECK(strcmp(w.parties[owner].last_message, "hi from bob") == 0);
    send_text(&w, owner, "welcome");
    CHECK(strcmp(w.parties[bob].last_message, "welcome") == 0);

    /* Fingerprints agree between the owner's and a member's view. */
    zfc_buf *f1 = NULL, *f2 = NULL;
    CHECK_OK(zfc_owner_fingerprint(w.parties[owner].owner, 1, &f1));
    CHECK_OK(zfc_member_fingerprint(w.parties[carol].member, 1, &f2));
    CHECK(zfc_buf_len(f1) == 35 && zfc_buf_len(f1) == zfc_buf_len(f2));
    CHECK(memcmp(zfc_buf_data(f1), zfc_buf_data(f2), zfc_buf_len(f1)) == 0);
    zfc_buf_free(f1);
    zfc_buf_free(f2);

    /* Removal: bob is cut off, carol moves on. */
    uint32_t e0 = 0, e1 = 0;
    CHECK_OK(zfc_owner_epoch(w.parties[owner].owner, &e0));
    zfc_output *out = NULL;
    CHECK_OK(zfc_owner_remove(w.parties[owner].owner, 1, w.rng, &out));
    take_output(&w, owner, out);
    pump(&w);
    CHECK_OK(zfc_owner_epoch(w.parties[owner].owner, &e1));
    CHECK(e1 == e0 + 1);
    CHECK(w.parties[bob].removed);
    /* The owner is told the removal landed (met in the log), naming the member. */
    CHECK(w.parties[owner].last_landed_operation == ZFC_OPERATION_REMOVE);
    CHECK(w.parties[owner].last_landed_member == 1);
    CHECK(w.parties[owner].operations_failed == 0);
    int bob_before = w.parties[bob].messages;
    send_text(&w, carol, "bob cannot read this");
    CHECK(w.parties[bob].messages == bob_before);
    CHECK(strcmp(w.parties[owner].last_message, "bob cannot read this") == 0);
    out = NULL;
    CHECK_ERR(zfc_member_send(w.parties[bob].member, (const uint8_t *)"x", 1, w.rng, &out), ZFC_ERR_REMOVED);
    CHECK(out == NULL);

    /* Rotation on demand. */
    CHECK_OK(zfc_owner_rotate(w.parties[owner].owner, w.rng, &out));
    take_output(&w, owner, out);
    pump(&w);
    uint32_t ec = 0;
    CHECK_OK(zfc_member_epoch(w.parties[carol].member, &ec));
    CHECK_OK(zfc_owner_epoch(w.parties[owner].owner, &e1));
    CHECK(ec == e1 && e1 == e0 + 2);
    CHECK(w.parties[owner].last_landed_operation == ZFC_OPERATION_ROTATE);
    send_text(&w, owner, "first of the new epoch");
    send_text(&w, carol, "second of the new epoch");

    /* A newcomer reads history since the last rotation (0FC's policy). */
    int dave = join_member(&w, owner, "dave");
    CHECK(w.parties[dave].joined);
    CHECK_OK(zfc_member_fetch_history(w.parties[dave].member, 100, &out));
    take_output(&w, dave, out);
    pump(&w);
    CHECK(w.parties[dave].history_messages == 2);

    /* Saved state: sealed, loaded, wrong password refused, the loaded member carries on. */
    zfc_buf *state = NULL;
    const char *pw = "correct horse battery staple";
    CHECK_OK(zfc_member_seal_state(w.parties[carol].member, (const uint8_t *)pw, strlen(pw), 8, 1, 1, w.rng, &state));
    zfc_member *loaded = NULL;
    CHECK_ERR(zfc_member_open_state(zfc_buf_data(state), zfc_buf_len(state), (const uint8_t *)"nope", 4, &loaded), ZFC_ERR_WRONG_PASSWORD);
    CHECK(loaded == NULL);
    zfc_owner *wrong_kind = NULL;
    CHECK_ERR(zfc_owner_open_state(zfc_buf_data(state), zfc_buf_len(state), (const uint8_t *)pw, strlen(pw), &wrong_kind), ZFC_ERR_STATE_KIND);
    CHECK_OK(zfc_member_open_state(zfc_buf_data(state), zfc_buf_len(state), (const uint8_t *)pw, strlen(pw), &loaded));
    zfc_buf_free(state);
    disconnect_party(&w, carol);
    zfc_member_free(w.parties[carol].member);
    w.parties[carol].member = loaded;
    connect_party(&w, carol);
    pump(&w);
    send_text(&w, carol, "back from disk");
    CHECK(strcmp(w.parties[dave].last_message, "back from disk") == 0);

    /* The owner's state too. */
    CHECK_OK(zfc_owner_seal_state(w.parties[owner].owner, (const uint8_t *)pw, strlen(pw), 8, 1, 1, w.rng, &state));
    zfc_owner *owner2 = NULL;
    CHECK_OK(zfc_owner_open_state(zfc_buf_data(state), zfc_buf_len(state), (const uint8_t *)pw, strlen(pw), &owner2));
    uint8_t id1[16], id2[16];
    CHECK_OK(zfc_owner_room_id(w.parties[owner].owner, id1));
    CHECK_OK(zfc_owner_room_id(owner2, id2));
    CHECK(memcmp(id1, id2, 16) == 0);
    zfc_owner_free(owner2);
    zfc_buf_free(state);

    /* A member leaves; the owner deletes the room. */
    CHECK_OK(zfc_member_leave(w.parties[dave].member, &out));
    take_output(&w, dave, out);
    pump(&w);
    CHECK_OK(zfc_owner_member_count(w.parties[owner].owner, &count));
    CHECK(count == 2);
    CHECK_OK(zfc_owner_delete_room(w.parties[owner].owner, &out));
    take_output(&w, owner, out);
    pump(&w);
    CHECK(w.parties[carol].deleted);

    net_free(&w);
    return finish("room_life");
}
