/* A room in one process: an owner and a member talk through a relay rule book, each over its own
 * Noise link, using only zfc.h. A real app sends the same bytes over a WebSocket instead of the
 * `route` function below. Build: cc chat.c $(pkg-config --cflags --libs zfc) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zfc.h"

#define NOW 1800000000ull

static void die(const char *what, zfc_result r) {
    fprintf(stderr, "%s: %s\n", what, zfc_result_text(r));
    exit(1);
}
#define TRY(call) do { zfc_result r_ = (call); if (r_ != ZFC_OK) die(#call, r_); } while (0)

/* One party: its state machine and its end of the link (the relay holds the other end). */
typedef struct {
    const char *name;
    zfc_owner *owner;    /* set for the owner */
    zfc_member *member;  /* set for a member */
    zfc_link *link;      /* the party's end */
    zfc_link *relay_end; /* the relay's end */
    uint64_t conn;
} party;

static zfc_rng *rng;
static zfc_relay *relay;
static party *parties[2];

/* What the relay sent and the parties have not read yet, in order, as a network delivers it:
 * one connection's messages arrive in the order they were sent (the protocol relies on it). */
#define MAX_WIRE 256
static struct {
    party *to;
    uint8_t *bytes;
    size_t len;
} wire[MAX_WIRE];
static size_t wire_head, wire_tail;

static void on_the_wire(party *p, const uint8_t *bytes, size_t len) {
    if (wire_tail - wire_head == MAX_WIRE) die("the wire is full", ZFC_ERR_INVALID_ARGUMENT);
    uint8_t *copy = malloc(len);
    if (!copy) die("out of memory", ZFC_ERR_INVALID_ARGUMENT);
    memcpy(copy, bytes, len);
    wire[wire_tail % MAX_WIRE].to = p;
    wire[wire_tail % MAX_WIRE].bytes = copy;
    wire[wire_tail % MAX_WIRE].len = len;
    wire_tail++;
}

static void deliver_to_party(party *p, const uint8_t *bytes, size_t len);

/* Delivers everything on the wire, including what the deliveries make the parties send. */
static void pump(void) {
    while (wire_head != wire_tail) {
        size_t i = wire_head++ % MAX_WIRE;
        deliver_to_party(wire[i].to, wire[i].bytes, wire[i].len);
        free(wire[i].bytes);
    }
}

/* The relay handles one request from a party and sends what the rule book says. */
static void to_relay(party *p, const uint8_t *req, size_t len) {
    zfc_buf *rec = NULL, *plain = NULL;
    TRY(zfc_link_seal(p->link, req, len, &rec));                                        /* party seals */
    TRY(zfc_link_open(p->relay_end, zfc_buf_data(rec), zfc_buf_len(rec), &plain));     /* relay opens */
    zfc_relay_output *out = NULL;
    TRY(zfc_relay_handle(relay, p->conn, zfc_buf_data(plain), zfc_buf_len(plain), NOW, &out));
    for (size_t i = 0; i < zfc_relay_output_count(out); i++) {
        uint64_t conn;
        const uint8_t *data;
        size_t n;
        TRY(zfc_relay_output_get(out, i, &conn, &data, &n));
        for (int k = 0; k < 2; k++)
            if (parties[k] && parties[k]->conn == conn) on_the_wire(parties[k], data, n);
    }
    zfc_relay_output_free(out);
    zfc_buf_free(rec);
    zfc_buf_free(plain);
}

/* Sends a party's requests and shows its events. */
static void route(party *p, zfc_output *out) {
    for (size_t i = 0; i < zfc_output_event_count(out); i++) {
        zfc_event ev;
        TRY(zfc_output_event(out, i, &ev));
        if (ev.kind == ZFC_EVENT_MESSAGE)
            printf("%s read: %.*s\n", p->name, (int)ev.data_len, (const char *)ev.data);
        if (ev.kind == ZFC_EVENT_JOINED) printf("%s joined as member %u\n", p->name, ev.member);
        if (ev.kind == ZFC_EVENT_JOIN_REQUESTED) {
            printf("%s: join request from %.*s, fingerprint %.*s\n", p->name, (int)ev.data_len,
                   (const char *)ev.data, (int)ev.text_len, (const char *)ev.text);
            zfc_output *o = NULL;
            TRY(zfc_owner_approve_join(p->owner, ev.key, rng, &o));
            route(p, o);
        }
    }
    for (size_t i = 0; i < zfc_output_request_count(out); i++) {
        const uint8_t *data;
        size_t len;
        TRY(zfc_output_request(out, i, &data, &len));
        to_relay(p, data, len);
    }
    zfc_output_free(out);
}

static void deliver_to_party(party *p, const uint8_t *bytes, size_t len) {
    zfc_buf *rec = NULL, *plain = NULL;
    TRY(zfc_link_seal(p->relay_end, bytes, len, &rec));
    TRY(zfc_link_open(p->link, zfc_buf_data(rec), zfc_buf_len(rec), &plain));
    zfc_output *out = NULL;
    if (p->owner) TRY(zfc_owner_handle(p->owner, zfc_buf_data(plain), zfc_buf_len(plain), NOW, rng, &out));
    else TRY(zfc_member_handle(p->member, zfc_buf_data(plain), zfc_buf_len(plain), rng, &out));
    zfc_buf_free(rec);
    zfc_buf_free(plain);
    route(p, out);
}

/* Opens a link to the relay (pinned to its key) and lets the relay challenge the party. */
static void connect(party *p, zfc_relay_key *key, const uint8_t relay_pk[32], uint64_t conn) {
    zfc_link_handshake *hs = NULL;
    zfc_buf *hello = NULL, *answer = NULL;
    TRY(zfc_link_client_start(relay_pk, rng, &hs, &hello));
    TRY(zfc_link_respond(key, zfc_buf_data(hello), zfc_buf_len(hello), rng, &p->relay_end, &answer));
    TRY(zfc_link_client_finish(hs, zfc_buf_data(answer), zfc_buf_len(answer), &p->link));
    zfc_buf_free(hello);
    zfc_buf_free(answer);
    uint8_t binding[32];
    TRY(zfc_link_channel_binding(p->link, binding));
    if (p->owner) TRY(zfc_owner_on_connected(p->owner, binding));
    else TRY(zfc_member_on_connected(p->member, binding));
    p->conn = conn;
    zfc_relay_output *out = NULL;
    TRY(zfc_relay_connect(relay, conn, binding, rng, &out));
    const uint8_t *challenge;
    size_t len;
    uint64_t c;
    TRY(zfc_relay_output_get(out, 0, &c, &challenge, &len));
    on_the_wire(p, challenge, len);
    zfc_relay_output_free(out);
    pump();
}

int main(void) {
    TRY(zfc_rng_new_os(&rng));
    TRY(zfc_relay_new(&relay));
    zfc_relay_key *relay_key = NULL;
    uint8_t relay_pk[32];
    TRY(zfc_relay_key_new(rng, &relay_key));
    TRY(zfc_relay_key_public(relay_key, relay_pk));

    party alice = {.name = "alice"}, carol = {.name = "carol"};
    parties[0] = &alice;
    zfc_room_config cfg;
    TRY(zfc_room_config_default(&cfg));
    zfc_output *out = NULL;
    TRY(zfc_owner_create(&cfg, rng, &alice.owner, &out));
    connect(&alice, relay_key, relay_pk, 1);
    route(&alice, out); /* creates the room at the relay */
    pump();

    zfc_buf *invite = NULL;
    TRY(zfc_owner_invite(alice.owner, NOW, 3600, "ws://127.0.0.1:5103", relay_pk, rng, &invite, &out));
    route(&alice, out);
    pump();
    char uri[1024];
    snprintf(uri, sizeof uri, "%.*s", (int)zfc_buf_len(invite), (const char *)zfc_buf_data(invite));
    zfc_buf_free(invite);

    parties[1] = &carol;
    TRY(zfc_member_join(uri, "carol", NOW, rng, &carol.member, &out));
    connect(&carol, relay_key, relay_pk, 2);
    route(&carol, out); /* the join request; the owner approves it in route() */
    pump();

    const char *text = "hello from the C example";
    TRY(zfc_owner_send(alice.owner, (const uint8_t *)text, strlen(text), rng, &out));
    route(&alice, out);
    pump();

    zfc_link_free(alice.link);
    zfc_link_free(alice.relay_end);
    zfc_link_free(carol.link);
    zfc_link_free(carol.relay_end);
    zfc_owner_free(alice.owner);
    zfc_member_free(carol.member);
    zfc_relay_key_free(relay_key);
    zfc_relay_free(relay);
    zfc_rng_free(rng);
    return 0;
}
