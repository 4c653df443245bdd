/* A small in-process network for the C tests: an owner and members, each connected to a relay
 * rule book through a real Noise link, every byte through the C API. */
#ifndef ZFC_TEST_HARNESS_H
#define ZFC_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zfc.h"

#define NOW 1800000000ull
#define MAX_PARTIES 8
#define MAX_QUEUE 4096

#include "check.h"

typedef struct {
    int is_owner;
    zfc_owner *owner;
    zfc_member *member;
    zfc_link *client_end;
    zfc_link *relay_end;
    uint64_t conn;
    int online;
    /* What the test looks at. */
    int messages;
    char last_message[256];
    int joined;
    int removed;
    int deleted;
    int rejected_frames;
    int relay_refusals;
    uint32_t last_refusal;
    uint32_t last_frame_error;
    int join_requests;
    int history_messages;
    uint64_t last_accepted_position;
    uint32_t last_landed_operation; /* a zfc_operation */
    uint32_t last_landed_member;
    int operations_failed;
} party;

typedef struct {
    int to_relay; /* 1: party -> relay; 0: relay -> party */
    int party;
    uint8_t *bytes;
    size_t len;
} queued;

typedef struct {
    zfc_rng *rng;
    zfc_relay *relay;
    zfc_relay_key *relay_key;
    uint8_t relay_pk[32];
    party parties[MAX_PARTIES];
    int n;
    queued queue[MAX_QUEUE];
    int head, tail;
    uint64_t next_conn;
    int auto_approve_in_test; /* the owner approves join requests as they come */
} net;

static inline void enqueue(net *w, int to_relay, int p, const uint8_t *bytes, size_t len) {
    if (w->tail >= MAX_QUEUE) {
        fprintf(stderr, "queue overflow\n");
        exit(2);
    }
    queued *q = &w->queue[w->tail++];
    q->to_relay = to_relay;
    q->party = p;
    q->bytes = malloc(len ? len : 1);
    memcpy(q->bytes, bytes, len);
    q->len = len;
}

static inline void take_output(net *w, int p, zfc_output *out);

static inline void take_relay_output(net *w, zfc_relay_output *out) {
    size_t n = zfc_relay_output_count(out);
    for (size_t i = 0; i < n; i++) {
        uint64_t conn;
        const uint8_t *data;
        size_t len;
        CHECK_OK(zfc_relay_output_get(out, i, &conn, &data, &len));
        for (int p = 0; p < w->n; p++) {
            if (w->parties[p].online && w->parties[p].conn == conn) {
                enqueue(w, 0, p, data, len);
            }
        }
    }
    zfc_relay_output_free(out);
}

static inline void net_init(net *w, uint8_t seed_byte) {
    memset(w, 0, sizeof *w);
    uint8_t seed[32];
    memset(seed, seed_byte, sizeof seed);
    CHECK_OK(zfc_rng_new_seeded(seed, &w->rng));
    CHECK_OK(zfc_relay_new(&w->relay));
    CHECK_OK(zfc_relay_key_new(w->rng, &w->relay_key));
    CHECK_OK(zfc_relay_key_public(w->relay_key, w->relay_pk));
    w->next_conn = 1;
}

static inline void connect_party(net *w, int p) {
    party *x = &w->parties[p];
    zfc_link_handshake *hs = NULL;
    zfc_buf *m1 = NULL, *m2 = NULL;
    CHECK_OK(zfc_link_client_start(w->relay_pk, w->rng, &hs, &m1));
    CHECK_OK(zfc_link_respond(w->relay_key, zfc_buf_data(m1), zfc_buf_len(m1), w->rng, &x->relay_end, &m2));
    CHECK_OK(zfc_link_client_finish(hs, zfc_buf_data(m2), zfc_buf_len(m2), &x->client_end));
    zfc_buf_free(m1);
    zfc_buf_free(m2);
    uint8_t binding[32], relay_binding[32];
    CHECK_OK(zfc_link_channel_binding(x->client_end, binding));
    CHECK_OK(zfc_link_channel_binding(x->relay_end, relay_binding));
    CHECK(memcmp(binding, relay_binding, 32) == 0);
    if (x->is_owner) CHECK_OK(zfc_owner_on_connected(x->owner, binding));
    else CHECK_OK(zfc_member_on_connected(x->member, binding));
    x->conn = w->next_conn++;
    x->online = 1;
    zfc_relay_output *out = NULL;
    CHECK_OK(zfc_relay_connect(w->relay, x->conn, binding, w->rng, &out));
    take_relay_output(w, out);
}

static inline void disconnect_party(net *w, int p) {
    party *x = &w->parties[p];
    if (!x->online) return;
    CHECK_OK(zfc_relay_disconnect(w->relay, x->conn));
    zfc_link_free(x->client_end);
    zfc_link_free(x->relay_end);
    x->client_end = x->relay_end = NULL;
    x->online = 0;
}

/* Moves everything queued until nothing is left. Requests of offline parties are dropped (the
 * tests keep parties online while they act). */
static inline void pump(net *w) {
    while (w->head < w->tail) {
        queued q = w->queue[w->head++];
        party *x = &w->parties[q.party];
        if (!x->online) {
            free(q.bytes);
            continue;
        }
        zfc_buf *rec = NULL, *plain = NULL;
        if (q.to_relay) {
            CHECK_OK(zfc_link_seal(x->client_end, q.bytes, q.len, &rec));
            CHECK_OK(zfc_link_open(x->relay_end, zfc_buf_data(rec), zfc_buf_len(rec), &plain));
            zfc_relay_output *out = NULL;
            zfc_result r = zfc_relay_handle(w->relay, x->conn, zfc_buf_data(plain), zfc_buf_len(plain), NOW, &out);
            if (r == ZFC_OK) take_relay_output(w, out);
            else disconnect_party(w, q.party);
        } else {
            CHECK_OK(zfc_link_seal(x->relay_end, q.bytes, q.len, &rec));
            CHECK_OK(zfc_link_open(x->client_end, zfc_buf_data(rec), zfc_buf_len(rec), &plain));
            zfc_output *out = NULL;
            zfc_result r = x->is_owner
                ? zfc_owner_handle(x->owner, zfc_buf_data(plain), zfc_buf_len(plain), NOW, w->rng, &out)
                : zfc_member_handle(x->member, zfc_buf_data(plain), zfc_buf_len(plain), w->rng, &out);
            if (r == ZFC_OK) take_output(w, q.party, out);
            else fprintf(stderr, "party %d: handle returned %u (%s)\n", q.party, (unsigned)r, zfc_result_text(r));
        }
        zfc_buf_free(rec);
        zfc_buf_free(plain);
        free(q.bytes);
    }
    w->head = w->tail = 0;
}

static inline void take_output(net *w, int p, zfc_output *out) {
    party *x = &w->parties[p];
    size_t n = zfc_output_request_count(out);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *data;
        size_t len;
        CHECK_OK(zfc_output_request(out, i, &data, &len));
        enqueue(w, 1, p, data, len);
    }
    size_t e = zfc_output_event_count(out);
    for (size_t i = 0; i < e; i++) {
        zfc_event ev;
        CHECK_OK(zfc_output_event(out, i, &ev));
        switch (ev.kind) {
        case ZFC_EVENT_MESSAGE: {
            x->messages++;
            if (ev.from_history) x->history_messages++;
            size_t len = ev.data_len < sizeof x->last_message - 1 ? ev.data_len : sizeof x->last_message - 1;
            if (len) memcpy(x->last_message, ev.data, len);
            x->last_message[len] = 0;
            break;
        }
        case ZFC_EVENT_JOINED: x->joined = 1; break;
        case ZFC_EVENT_ACCEPTED: if (ev.position) x->last_accepted_position = ev.position; break;
        case ZFC_EVENT_REMOVED_FROM_ROOM: x->removed = 1; break;
        case ZFC_EVENT_ROOM_DELETED: x->deleted = 1; break;
        case ZFC_EVENT_FRAME_REJECTED: x->rejected_frames++; x->last_frame_error = ev.code; break;
        case ZFC_EVENT_REJECTED: x->relay_refusals++; x->last_refusal = ev.code; break;
        case ZFC_EVENT_OPERATION_LANDED:
            x->last_landed_operation = ev.operation;
            x->last_landed_member = ev.member;
            break;
        case ZFC_EVENT_OPERATION_FAILED: x->operations_failed++; break;
        case ZFC_EVENT_JOIN_REQUESTED:
            x->join_requests++;
            CHECK(ev.data_len > 0 && ev.text_len == 35);
            if (w->auto_approve_in_test && x->is_owner) {
                zfc_output *o2 = NULL;
                CHECK_OK(zfc_owner_approve_join(x->owner, ev.key, w->rng, &o2));
                take_output(w, p, o2);
            }
            break;
        default: break;
        }
    }
    zfc_output_free(out);
}

static inline int add_owner(net *w, zfc_room_config *cfg) {
    int p = w->n++;
    party *x = &w->parties[p];
    x->is_owner = 1;
    zfc_output *out = NULL;
    CHECK_OK(zfc_owner_create(cfg, w->rng, &x->owner, &out));
    connect_party(w, p);
    take_output(w, p, out);
    pump(w);
    return p;
}

/* Invites and joins a member; returns its index. */
static inline int join_member(net *w, int owner, const char *name) {
    zfc_buf *invite = NULL;
    zfc_output *out = NULL;
    CHECK_OK(zfc_owner_invite(w->parties[owner].owner, NOW, 3600, "ws://127.0.0.1:5103", w->relay_pk, w->rng, &invite, &out));
    take_output(w, owner, out);
    pump(w);
    char uri[1024];
    size_t len = zfc_buf_len(invite);
    CHECK(len < sizeof uri);
    memcpy(uri, zfc_buf_data(invite), len);
    uri[len] = 0;
    zfc_buf_free(invite);
    int p = w->n++;
    party *x = &w->parties[p];
    CHECK_OK(zfc_member_join(uri, name, NOW, w->rng, &x->member, &out));
    connect_party(w, p);
    take_output(w, p, out);
    pump(w);
    return p;
}

static inline void send_text(net *w, int p, const char *text) {
    zfc_output *out = NULL;
    party *x = &w->parties[p];
    if (x->is_owner) CHECK_OK(zfc_owner_send(x->owner, (const uint8_t *)text, strlen(text), w->rng, &out));
    else CHECK_OK(zfc_member_send(x->member, (const uint8_t *)text, strlen(text), w->rng, &out));
    if (out) take_output(w, p, out);
    pump(w);
}

static inline void net_free(net *w) {
    for (int p = 0; p < w->n; p++) {
        disconnect_party(w, p);
        zfc_owner_free(w->parties[p].owner);
        zfc_member_free(w->parties[p].member);
    }
    zfc_relay_free(w->relay);
    zfc_relay_key_free(w->relay_key);
    zfc_rng_free(w->rng);
}

#endif
