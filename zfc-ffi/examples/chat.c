/* A room in one process with the client API: alice creates a room, carol joins with her invite,
 * they talk. Each app runs the same loop (save, transmit, events); the "network" below stands in
 * for WebSockets to a relay (here the relay's rule book in the same process, behind real Noise
 * links). Build: cc chat.c $(pkg-config --cflags --libs zfc) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zfc.h"

static void die(const char *what, zfc_result r) {
    fprintf(stderr, "%s: %s\n", what, zfc_result_text(r));
    exit(1);
}
#define TRY(call) do { zfc_result r_ = (call); if (r_ != ZFC_OK) die(#call, r_); } while (0)

static uint64_t now_ms = 1800000000000ull; /* the apps' clock (manual here: a simulation) */

/* ---- the network: sockets to an in-process relay (an app opens WebSockets instead) ---- */

typedef struct {
    zfc_client *app;   /* whose socket */
    uint64_t conn;     /* the client's id for it */
    zfc_link *relay_end;
} socket_t;

static socket_t sockets[8];
static int n_sockets;
static zfc_rng *relay_rng;
static zfc_relay *relay;
static zfc_relay_key *relay_key;

/* The relay's answers go back over each socket's link. */
static void relay_says(zfc_relay_output *out) {
    for (size_t i = 0; i < zfc_relay_output_count(out); i++) {
        uint64_t to;
        const uint8_t *data;
        size_t len;
        TRY(zfc_relay_output_get(out, i, &to, &data, &len));
        socket_t *s = &sockets[to];
        zfc_buf *record = NULL;
        TRY(zfc_link_seal(s->relay_end, data, len, &record));
        TRY(zfc_client_handle_bytes(s->app, s->conn, zfc_buf_data(record), zfc_buf_len(record), now_ms));
        zfc_buf_free(record);
    }
    zfc_relay_output_free(out);
}

/* What an app wrote on socket `i` reaches the relay: the link handshake first, then requests. */
static void relay_hears(int i, const uint8_t *bytes, size_t len) {
    socket_t *s = &sockets[i];
    zfc_relay_output *out = NULL;
    if (!s->relay_end) {
        zfc_buf *answer = NULL;
        uint8_t binding[32];
        TRY(zfc_link_respond(relay_key, bytes, len, relay_rng, &s->relay_end, &answer));
        TRY(zfc_client_handle_bytes(s->app, s->conn, zfc_buf_data(answer), zfc_buf_len(answer), now_ms));
        zfc_buf_free(answer);
        TRY(zfc_link_channel_binding(s->relay_end, binding));
        TRY(zfc_relay_connect(relay, (uint64_t)i, binding, relay_rng, &out));
    } else {
        zfc_buf *request = NULL;
        TRY(zfc_link_open(s->relay_end, bytes, len, &request));
        TRY(zfc_relay_handle(relay, (uint64_t)i, zfc_buf_data(request), zfc_buf_len(request), now_ms / 1000, &out));
        zfc_buf_free(request);
    }
    relay_says(out);
}

/* ---- an app: its client and the loop every app runs ---- */

typedef struct {
    const char *name;
    zfc_client *client;
    int joined;
    uint8_t joiner[32]; /* the last join request seen (the owner approves it) */
    int join_requests;
} app;

/* One turn of the loop; returns whether anything happened. */
static int turn(app *a) {
    int busy = 0;
    zfc_buf *state;
    uint64_t generation;
    /* 1. Write every save (a real app: temporary file, fsync, rename), then confirm it. */
    while (zfc_client_poll_save(a->client, &state, &generation) == ZFC_OK && state) {
        busy = 1;
        zfc_buf_free(state);
        TRY(zfc_client_state_saved(a->client, generation));
    }
    /* 2. Do what the client asks of its sockets. */
    zfc_transmit *t;
    while (zfc_client_poll_transmit(a->client, &t) == ZFC_OK && t) {
        busy = 1;
        const uint8_t *data;
        size_t len;
        uint64_t conn = zfc_transmit_get_conn(t);
        TRY(zfc_transmit_data(t, &data, &len));
        int i = 0;
        while (i < n_sockets && !(sockets[i].app == a->client && sockets[i].conn == conn)) i++;
        if (zfc_transmit_get_kind(t) == ZFC_TRANSMIT_CONNECT) { /* data: the relay's URL */
            sockets[n_sockets++] = (socket_t){a->client, conn, NULL};
            TRY(zfc_client_handle_connected(a->client, conn, now_ms));
        } else if (zfc_transmit_get_kind(t) == ZFC_TRANSMIT_SEND && i < n_sockets) {
            relay_hears(i, data, len);
        }
        zfc_transmit_free(t);
    }
    /* 3. Show the events. */
    zfc_client_event *e;
    while (zfc_client_poll_event(a->client, &e) == ZFC_OK && e) {
        busy = 1;
        zfc_client_event_info ev;
        TRY(zfc_client_event_get(e, &ev));
        if (ev.kind == ZFC_CLIENT_EVENT_MESSAGE && ev.content_type == ZFC_CONTENT_TEXT)
            printf("%s read: %s (from member %u)\n", a->name, (const char *)ev.text, ev.member);
        if (ev.kind == ZFC_CLIENT_EVENT_JOINED) {
            printf("%s joined as member %u\n", a->name, ev.member);
            a->joined = 1;
        }
        if (ev.kind == ZFC_CLIENT_EVENT_JOIN_REQUESTED) {
            printf("%s: join request from %s, fingerprint %s\n", a->name, (const char *)ev.text,
                   (const char *)ev.detail);
            memcpy(a->joiner, ev.key, 32);
            a->join_requests++;
        }
        zfc_client_event_free(e);
    }
    return busy;
}

static void run(app *a, app *b) {
    while (turn(a) | turn(b)) {
    }
}

static zfc_client *new_client(uint8_t seed_byte) {
    uint8_t seed[32];
    memset(seed, seed_byte, sizeof seed);
    zfc_client_config config;
    TRY(zfc_client_config_default(&config));
    /* For this demo only: a fixed seed, a cheap KDF and a manual clock. An app keeps the
     * defaults (operating-system randomness, Argon2id at its floor, the system clock). */
    config.seed_for_tests = seed;
    config.kdf_m_cost_kib = 8;
    config.kdf_t_cost = 1;
    config.insecure_weak_kdf_for_tests = true;
    config.manual_clock = true;
    zfc_client *c = NULL;
    TRY(zfc_client_create(&config, (const uint8_t *)"a passphrase", 12, &c));
    TRY(zfc_client_handle_timeout(c, now_ms));
    return c;
}

int main(void) {
    uint8_t seed[32] = {42}, relay_pk[32];
    TRY(zfc_rng_new_seeded(seed, &relay_rng));
    TRY(zfc_relay_new(&relay));
    TRY(zfc_relay_key_new(relay_rng, &relay_key));
    TRY(zfc_relay_key_public(relay_key, relay_pk));

    app alice = {"alice", new_client(1), 0, {0}, 0}, carol = {"carol", new_client(2), 0, {0}, 0};
    uint8_t room[16], joined[16];
    TRY(zfc_client_create_room(alice.client, "ws://relay.example:5103", relay_pk, NULL, room));
    run(&alice, &carol);

    zfc_buf *invite = NULL;
    TRY(zfc_client_invite(alice.client, room, 3600, &invite));
    char uri[1024];
    snprintf(uri, sizeof uri, "%.*s", (int)zfc_buf_len(invite), (const char *)zfc_buf_data(invite));
    zfc_buf_free(invite);
    run(&alice, &carol);

    TRY(zfc_client_join_room(carol.client, uri, "carol", joined));
    run(&alice, &carol);
    if (alice.join_requests != 1) die("no join request reached alice", ZFC_ERR_INVALID_ARGUMENT);
    TRY(zfc_client_approve_join(alice.client, room, alice.joiner)); /* after comparing fingerprints */
    run(&alice, &carol);
    if (!carol.joined) die("carol did not join", ZFC_ERR_INVALID_ARGUMENT);

    const char *hello = "hello from the C example";
    uint64_t id;
    TRY(zfc_client_send(alice.client, room, ZFC_CONTENT_TEXT, 0, (const uint8_t *)hello, strlen(hello), &id));
    run(&alice, &carol);

    zfc_client_free(alice.client); /* erases the keys */
    zfc_client_free(carol.client);
    for (int i = 0; i < n_sockets; i++) zfc_link_free(sockets[i].relay_end);
    zfc_relay_free(relay);
    zfc_relay_key_free(relay_key);
    zfc_rng_free(relay_rng);
    return 0;
}
