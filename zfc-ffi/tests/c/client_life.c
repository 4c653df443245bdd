/* zfc_client through the C ABI: three clients and an in-process relay (the rule book behind
 * real links), every byte through the exports and each client driven only by its loop
 * (poll_save / state_saved, poll_transmit, handle_*, poll_event). A room's life, a restart from
 * the last written state, and the result codes of the refusals. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define NOW_MS 1800000000000ull
#define URL "ws://relay.test:5103"
#define MAX_SOCKS 64

typedef struct {
    zfc_client *client;
    uint8_t seed[32];
    uint8_t *state; /* the last state written */
    size_t state_len;
    /* What the test looks at. */
    char last_text[256];
    int texts;
    int joined;
    int removed;
    int join_requests;
    uint8_t last_joiner[32];
    uint64_t last_sent_local_id;
    int landed_creates;
    int disconnects;
} peer;

typedef struct {
    int used;
    int peer;
    uint64_t conn;   /* the client's id */
    uint64_t relay_conn;
    zfc_link *link;  /* the relay's end; NULL before the handshake */
} sock;

typedef struct {
    zfc_rng *rng;
    zfc_relay *relay;
    zfc_relay_key *key;
    uint8_t relay_pk[32];
    peer peers[3];
    int n;
    sock socks[MAX_SOCKS];
    uint64_t next_relay_conn;
    uint64_t now_ms;
} net;

static zfc_client_config config_for(const uint8_t seed[32]) {
    zfc_client_config c;
    CHECK_OK(zfc_client_config_default(&c));
    c.kdf_m_cost_kib = 8; /* tests only: the floor is refused without the flag below */
    c.kdf_t_cost = 1;
    c.kdf_p_cost = 1;
    c.insecure_weak_kdf_for_tests = true;
    c.seed_for_tests = seed;
    c.manual_clock = true;
    return c;
}

static int add_peer(net *w) {
    int i = w->n++;
    peer *p = &w->peers[i];
    memset(p, 0, sizeof *p);
    memset(p->seed, 0x10 + i, 32);
    zfc_client_config c = config_for(p->seed);
    CHECK_OK(zfc_client_create(&c, (const uint8_t *)"pass", 4, &p->client));
    CHECK_OK(zfc_client_handle_timeout(p->client, w->now_ms));
    return i;
}

static sock *find_sock(net *w, int p, uint64_t conn) {
    for (int i = 0; i < MAX_SOCKS; i++)
        if (w->socks[i].used && w->socks[i].peer == p && w->socks[i].conn == conn) return &w->socks[i];
    return NULL;
}

static void drop_sock(net *w, sock *s) {
    CHECK_OK(zfc_relay_disconnect(w->relay, s->relay_conn));
    zfc_link_free(s->link);
    memset(s, 0, sizeof *s);
}

/* The relay's messages, sealed on their socket's link and handed to its client. */
static void deliver(net *w, zfc_relay_output *out) {
    size_t n = zfc_relay_output_count(out);
    for (size_t i = 0; i < n; i++) {
        uint64_t rc;
        const uint8_t *data;
        size_t len;
        CHECK_OK(zfc_relay_output_get(out, i, &rc, &data, &len));
        for (int k = 0; k < MAX_SOCKS; k++) {
            sock *s = &w->socks[k];
            if (!s->used || s->relay_conn != rc || !s->link) continue;
            zfc_buf *record = NULL;
            CHECK_OK(zfc_link_seal(s->link, data, len, &record));
            CHECK_OK(zfc_client_handle_bytes(w->peers[s->peer].client, s->conn, zfc_buf_data(record),
                                             zfc_buf_len(record), w->now_ms));
            zfc_buf_free(record);
        }
    }
    zfc_relay_output_free(out);
}

/* Bytes a client wrote on socket `s`: the link handshake, then requests for the rule book. */
static void to_relay(net *w, sock *s, const uint8_t *data, size_t len) {
    zfc_client *c = w->peers[s->peer].client;
    if (!s->link) {
        zfc_buf *answer = NULL;
        CHECK_OK(zfc_link_respond(w->key, data, len, w->rng, &s->link, &answer));
        CHECK_OK(zfc_client_handle_bytes(c, s->conn, zfc_buf_data(answer), zfc_buf_len(answer), w->now_ms));
        zfc_buf_free(answer);
        uint8_t binding[32];
        CHECK_OK(zfc_link_channel_binding(s->link, binding));
        zfc_relay_output *out = NULL;
        CHECK_OK(zfc_relay_connect(w->relay, s->relay_conn, binding, w->rng, &out));
        deliver(w, out);
        return;
    }
    zfc_buf *plain = NULL;
    CHECK_OK(zfc_link_open(s->link, data, len, &plain));
    zfc_relay_output *out = NULL;
    zfc_result r = zfc_relay_handle(w->relay, s->relay_conn, zfc_buf_data(plain), zfc_buf_len(plain),
                                    w->now_ms / 1000, &out);
    zfc_buf_free(plain);
    if (r == ZFC_OK) deliver(w, out);
    else CHECK(0 && "an honest client's request closes no connection");
}

static void take_event(peer *p, const zfc_client_event_info *e) {
    switch (e->kind) {
    case ZFC_CLIENT_EVENT_MESSAGE:
        if (e->content_type == ZFC_CONTENT_TEXT && e->text_len < sizeof p->last_text) {
            memcpy(p->last_text, e->text, e->text_len + 1); /* the NUL comes with it */
            p->texts++;
        }
        break;
    case ZFC_CLIENT_EVENT_MESSAGE_SENT: p->last_sent_local_id = e->local_id; break;
    case ZFC_CLIENT_EVENT_JOIN_REQUESTED:
        p->join_requests++;
        memcpy(p->last_joiner, e->key, 32);
        CHECK(e->text_len == 3 && memcmp(e->text, "bob", 4) == 0);
        CHECK(e->detail_len > 0);
        break;
    case ZFC_CLIENT_EVENT_JOINED: p->joined++; break;
    case ZFC_CLIENT_EVENT_REMOVED_FROM_ROOM: p->removed++; break;
    case ZFC_CLIENT_EVENT_DISCONNECTED: p->disconnects++; break;
    case ZFC_CLIENT_EVENT_OPERATION_LANDED:
        if (e->operation == ZFC_OPERATION_CREATE_ROOM) p->landed_creates++;
        break;
    default: break;
    }
}

/* One round of peer i's loop; whether anything happened. */
static int step(net *w, int i) {
    peer *p = &w->peers[i];
    int busy = 0;
    for (;;) {
        zfc_buf *state = NULL;
        uint64_t generation = 0;
        CHECK_OK(zfc_client_poll_save(p->client, &state, &generation));
        if (!state) break;
        busy = 1;
        free(p->state);
        p->state_len = zfc_buf_len(state);
        p->state = malloc(p->state_len);
        memcpy(p->state, zfc_buf_data(state), p->state_len);
        zfc_buf_free(state);
        CHECK_OK(zfc_client_state_saved(p->client, generation));
    }
    for (;;) {
        zfc_transmit *t = NULL;
        CHECK_OK(zfc_client_poll_transmit(p->client, &t));
        if (!t) break;
        busy = 1;
        const uint8_t *data;
        size_t len;
        CHECK_OK(zfc_transmit_data(t, &data, &len));
        uint64_t conn = zfc_transmit_get_conn(t);
        switch (zfc_transmit_get_kind(t)) {
        case ZFC_TRANSMIT_CONNECT: {
            CHECK(strcmp((const char *)data, URL) == 0);
            sock *s = NULL;
            for (int k = 0; k < MAX_SOCKS && !s; k++)
                if (!w->socks[k].used) s = &w->socks[k];
            s->used = 1;
            s->peer = i;
            s->conn = conn;
            s->relay_conn = w->next_relay_conn++;
            s->link = NULL;
            CHECK_OK(zfc_client_handle_connected(p->client, conn, w->now_ms));
            break;
        }
        case ZFC_TRANSMIT_SEND: {
            sock *s = find_sock(w, i, conn);
            if (s) to_relay(w, s, data, len);
            break;
        }
        case ZFC_TRANSMIT_CLOSE: {
            sock *s = find_sock(w, i, conn);
            if (s) drop_sock(w, s);
            break;
        }
        default: CHECK(0 && "a known transmit kind");
        }
        zfc_transmit_free(t);
    }
    for (;;) {
        zfc_client_event *e = NULL;
        CHECK_OK(zfc_client_poll_event(p->client, &e));
        if (!e) break;
        busy = 1;
        zfc_client_event_info info;
        CHECK_OK(zfc_client_event_get(e, &info));
        take_event(p, &info);
        zfc_client_event_free(e);
    }
    return busy;
}

static void run(net *w) {
    for (int round = 0; round < 10000; round++) {
        int busy = 0;
        for (int i = 0; i < w->n; i++) busy |= step(w, i);
        if (!busy) return;
    }
    CHECK(0 && "the network went quiet");
}

/* Peer i stops as a crash would and starts again from the last state it wrote. */
static void restart(net *w, int i) {
    peer *p = &w->peers[i];
    for (int k = 0; k < MAX_SOCKS; k++)
        if (w->socks[k].used && w->socks[k].peer == i) drop_sock(w, &w->socks[k]);
    zfc_client_free(p->client);
    p->client = NULL;
    zfc_client_config c = config_for(p->seed);
    CHECK_ERR(zfc_client_open(&c, p->state, p->state_len, (const uint8_t *)"wrong", 5, &p->client),
              ZFC_ERR_WRONG_PASSWORD);
    CHECK(p->client == NULL);
    CHECK_OK(zfc_client_open(&c, p->state, p->state_len, (const uint8_t *)"pass", 4, &p->client));
    CHECK_OK(zfc_client_handle_timeout(p->client, w->now_ms));
}

/* A zfc_client is shared by threads: two send at once while nothing else runs. */
typedef struct {
    zfc_client *client;
    const uint8_t *room;
    int sent;
} sender_arg;

static void *sender(void *p) {
    sender_arg *a = p;
    for (int i = 0; i < 50; i++) {
        char text[32];
        int n = snprintf(text, sizeof text, "thread message %d", i);
        uint64_t id;
        if (zfc_client_send(a->client, a->room, ZFC_CONTENT_TEXT, 0, (const uint8_t *)text, (size_t)n, &id) == ZFC_OK)
            a->sent++;
    }
    return NULL;
}

static void threads(net *w, const uint8_t room[16]) {
    int before = w->peers[1].texts;
    sender_arg a = {w->peers[0].client, room, 0}, b = {w->peers[0].client, room, 0};
    pthread_t ta, tb;
    CHECK(pthread_create(&ta, NULL, sender, &a) == 0);
    CHECK(pthread_create(&tb, NULL, sender, &b) == 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK(a.sent == 50 && b.sent == 50);
    run(w);
    CHECK(w->peers[1].texts - before == 100); /* every message reached bob, none twice */
}

static void refusals(net *w, const uint8_t room[16]) {
    zfc_client *alice = w->peers[0].client, *bob = w->peers[1].client;
    uint8_t nowhere[16] = {0};
    uint64_t id = 0;
    zfc_buf *buf = NULL;
    CHECK_ERR(zfc_client_send(alice, nowhere, ZFC_CONTENT_TEXT, 0, (const uint8_t *)"x", 1, &id),
              ZFC_ERR_NO_SUCH_ROOM);
    CHECK_ERR(zfc_client_invite(bob, room, 60, &buf), ZFC_ERR_NOT_OWNER);
    CHECK(buf == NULL); /* outputs are written only on success */
    CHECK_ERR(zfc_client_send(alice, room, ZFC_CONTENT_TEXT, 0, (const uint8_t *)"\xff\xfe", 2, &id),
              ZFC_ERR_INVALID_UTF8);
    CHECK_ERR(zfc_client_send(alice, room, 77, 0, (const uint8_t *)"x", 1, &id), ZFC_ERR_INVALID_ARGUMENT);
    CHECK_ERR(zfc_client_send(alice, room, ZFC_CONTENT_TEXT, 0, NULL, 1, &id), ZFC_ERR_NULL_ARGUMENT);
    CHECK_ERR(zfc_client_send(NULL, room, ZFC_CONTENT_TEXT, 0, (const uint8_t *)"x", 1, &id), ZFC_ERR_NULL_ARGUMENT);
    CHECK_ERR(zfc_client_remove_member(alice, room, 99), ZFC_ERR_NO_SUCH_MEMBER);
    CHECK_ERR(zfc_client_join_room(bob, "zfc:join?v=1", "bob", (uint8_t[16]){0}), ZFC_ERR_BAD_INVITE);
    CHECK_ERR(zfc_client_state_saved(alice, 1u << 30), ZFC_ERR_INVALID_ARGUMENT);
    CHECK_ERR(zfc_client_create_room(alice, "http://no", w->relay_pk, NULL, (uint8_t[16]){0}),
              ZFC_ERR_INVALID_ARGUMENT);
    zfc_room_settings bad;
    CHECK_OK(zfc_room_settings_default(&bad));
    bad.history = 9;
    CHECK_ERR(zfc_client_create_room(alice, URL, w->relay_pk, &bad, (uint8_t[16]){0}), ZFC_ERR_INVALID_ARGUMENT);

    /* A weak KDF is refused unless the test flag is set. */
    uint8_t seed[32] = {1};
    zfc_client_config c = config_for(seed);
    c.insecure_weak_kdf_for_tests = false;
    zfc_client *weak = NULL;
    CHECK_ERR(zfc_client_create(&c, (const uint8_t *)"p", 1, &weak), ZFC_ERR_WEAK_KDF);
    CHECK(weak == NULL);
    /* Nothing above changed anything. */
    for (int i = 0; i < 2; i++) {
        zfc_buf *state = NULL;
        uint64_t generation;
        CHECK_OK(zfc_client_poll_save(w->peers[i].client, &state, &generation));
        CHECK(state == NULL);
    }
}

int main(void) {
    net w;
    memset(&w, 0, sizeof w);
    w.now_ms = NOW_MS;
    w.next_relay_conn = 1;
    uint8_t relay_seed[32];
    memset(relay_seed, 0x42, 32);
    CHECK_OK(zfc_rng_new_seeded(relay_seed, &w.rng));
    CHECK_OK(zfc_relay_new(&w.relay));
    CHECK_OK(zfc_relay_key_new(w.rng, &w.key));
    CHECK_OK(zfc_relay_key_public(w.key, w.relay_pk));
    int alice = add_peer(&w), bob = add_peer(&w);
    const char *version = zfc_version();
    CHECK(version != NULL && strchr(version, '.') != NULL);
    printf("zfc %s\n", version);

    /* Alice creates a room; bob joins with her invite; she approves. */
    uint8_t room[16], joined_room[16];
    CHECK_OK(zfc_client_create_room(w.peers[alice].client, URL, w.relay_pk, NULL, room));
    run(&w);
    CHECK(w.peers[alice].landed_creates == 1);
    zfc_buf *invite = NULL;
    CHECK_OK(zfc_client_invite(w.peers[alice].client, room, 3600, &invite));
    char invite_str[1024] = {0};
    CHECK(zfc_buf_len(invite) < sizeof invite_str);
    memcpy(invite_str, zfc_buf_data(invite), zfc_buf_len(invite));
    zfc_buf_free(invite);
    run(&w);
    CHECK_OK(zfc_client_join_room(w.peers[bob].client, invite_str, "bob", joined_room));
    CHECK(memcmp(room, joined_room, 16) == 0);
    run(&w);
    CHECK(w.peers[alice].join_requests == 1);
    CHECK_OK(zfc_client_approve_join(w.peers[alice].client, room, w.peers[alice].last_joiner));
    run(&w);
    CHECK(w.peers[bob].joined == 1);
    zfc_room_info info;
    CHECK_OK(zfc_client_room_info(w.peers[bob].client, room, &info, NULL));
    CHECK(info.role == 3 && info.member == 1 && info.member_count == 2);
    CHECK(memcmp(info.relay_key, w.relay_pk, 32) == 0);

    /* A message each way. */
    uint64_t id = 0;
    const char *hello = "hello from C";
    CHECK_OK(zfc_client_send(w.peers[bob].client, room, ZFC_CONTENT_TEXT, 0, (const uint8_t *)hello, strlen(hello), &id));
    run(&w);
    CHECK(strcmp(w.peers[alice].last_text, hello) == 0);
    CHECK(w.peers[bob].last_sent_local_id == id);

    refusals(&w, room);
    threads(&w, room);

    /* Alice crashes and comes back from what she wrote; the room goes on. */
    restart(&w, alice);
    run(&w);
    const char *back = "back after a restart";
    CHECK_OK(zfc_client_send(w.peers[alice].client, room, ZFC_CONTENT_TEXT, 0, (const uint8_t *)back, strlen(back), &id));
    run(&w);
    CHECK(strcmp(w.peers[bob].last_text, back) == 0);

    /* Bob's network fails: he hears of it and reconnects after the backoff. */
    for (int k = 0; k < MAX_SOCKS; k++) {
        sock *s = &w.socks[k];
        if (s->used && s->peer == bob) {
            uint64_t conn = s->conn;
            drop_sock(&w, s);
            CHECK_OK(zfc_client_handle_closed(w.peers[bob].client, conn, w.now_ms));
        }
    }
    run(&w);
    CHECK(w.peers[bob].disconnects == 1);
    bool has = false;
    uint64_t at = 0;
    CHECK_OK(zfc_client_next_timeout(w.peers[bob].client, &has, &at));
    CHECK(has && at > w.now_ms);
    w.now_ms = at;
    for (int i = 0; i < w.n; i++) CHECK_OK(zfc_client_handle_timeout(w.peers[i].client, w.now_ms));
    run(&w);

    /* The owner removes bob; he hears it. */
    CHECK_OK(zfc_client_remove_member(w.peers[alice].client, room, 1));
    run(&w);
    CHECK(w.peers[bob].removed == 1);
    CHECK_OK(zfc_client_room_info(w.peers[bob].client, room, &info, NULL));
    CHECK(info.role == 4);

    /* A closed client refuses every call. */
    CHECK_OK(zfc_client_close(w.peers[bob].client));
    CHECK_ERR(zfc_client_room_info(w.peers[bob].client, room, &info, NULL), ZFC_ERR_CLOSED);
    CHECK_ERR(zfc_client_poll_event(w.peers[bob].client, &(zfc_client_event *){NULL}), ZFC_ERR_CLOSED);

    for (int i = 0; i < w.n; i++) {
        zfc_client_free(w.peers[i].client);
        free(w.peers[i].state);
    }
    for (int k = 0; k < MAX_SOCKS; k++) zfc_link_free(w.socks[k].link);
    zfc_relay_free(w.relay);
    zfc_relay_key_free(w.key);
    zfc_rng_free(w.rng);
    return finish("client_life");
}
