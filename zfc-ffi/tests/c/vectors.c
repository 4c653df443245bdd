/* Runs spec/vectors through the C API. Reads the flattened vectors (scripts/vectors-to-tsv.py)
 * from the file named by the first argument. */
#include "harness.h"

#define MAX_FIELDS 32

typedef struct {
    char file[64];
    int index;
    int n;
    char *keys[MAX_FIELDS];
    char *values[MAX_FIELDS];
} vec;

static const char *get(const vec *v, const char *key) {
    for (int i = 0; i < v->n; i++)
        if (strcmp(v->keys[i], key) == 0) return v->values[i];
    return NULL;
}

/* Decodes hex into a malloc'd buffer; returns its length. */
static size_t unhex(const char *s, uint8_t **out) {
    size_t n = strlen(s) / 2;
    *out = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        unsigned int b;
        sscanf(s + 2 * i, "%2x", &b);
        (*out)[i] = (uint8_t)b;
    }
    return n;
}

static int eq_hex(const uint8_t *bytes, size_t len, const char *hex) {
    uint8_t *want;
    size_t n = unhex(hex, &want);
    int ok = n == len && memcmp(want, bytes, len) == 0;
    free(want);
    return ok;
}

static int vectors_run = 0;

static void check_vector(const vec *v, zfc_rng *unused_rng) {
    (void)unused_rng;
    vectors_run++;
    if (strcmp(v->file, "invites.json") == 0) {
        zfc_invite_info info;
        zfc_buf *addr = NULL;
        zfc_result r = zfc_invite_parse(get(v, "uri"), &info, &addr);
        if (strlen(get(v, "error")) == 0) {
            CHECK(r == ZFC_OK);
            CHECK(eq_hex(info.room_id, 16, get(v, "room_id")));
            CHECK(eq_hex(info.invite_pk, 32, get(v, "invite_pk")));
            CHECK(eq_hex(info.relay_pk, 32, get(v, "relay_pk")));
            CHECK(zfc_buf_len(addr) == strlen(get(v, "relay_addr")));
            zfc_buf_free(addr);
        } else {
            CHECK(r == ZFC_ERR_BAD_INVITE);
        }
    } else if (strcmp(v->file, "frames.json") == 0) {
        const char *signer = get(v, "signer_pk");
        uint8_t *bytes, *pk;
        size_t len = unhex(get(v, "bytes"), &bytes);
        if (strlen(signer) == 64 && bytes[1] != 0x20) {
            unhex(signer, &pk);
            uint8_t kind = 0;
            CHECK_OK(zfc_frame_verify(bytes, len, pk, &kind));
            CHECK(kind == bytes[1]);
            bytes[len - 1] ^= 1;
            uint8_t kind2 = 0xee;
            CHECK(zfc_frame_verify(bytes, len, pk, &kind2) != ZFC_OK && kind2 == 0xee);
            free(pk);
        }
        free(bytes);
    } else if (strcmp(v->file, "derivations.json") == 0 && strcmp(get(v, "name"), "fingerprint") == 0) {
        uint8_t *room, *pk;
        unhex(get(v, "room_id"), &room);
        unhex(get(v, "sign_pk"), &pk);
        zfc_buf *f = NULL;
        CHECK_OK(zfc_fingerprint(room, pk, &f));
        CHECK(zfc_buf_len(f) == strlen(get(v, "fingerprint")) && memcmp(zfc_buf_data(f), get(v, "fingerprint"), zfc_buf_len(f)) == 0);
        zfc_buf_free(f);
        free(room);
        free(pk);
    } else if (strcmp(v->file, "link.json") == 0) {
        uint8_t *secret, *hs1, *rec, *pt;
        unhex(get(v, "relay_static_secret"), &secret);
        size_t hs1_len = unhex(get(v, "handshake1"), &hs1);
        zfc_relay_key *key = NULL;
        CHECK_OK(zfc_relay_key_from_secret(secret, &key));
        uint8_t pub[32];
        CHECK_OK(zfc_relay_key_public(key, pub));
        CHECK(eq_hex(pub, 32, get(v, "relay_static_pk")));
        uint8_t *seed;
        unhex(get(v, "relay_rng_seed"), &seed);
        zfc_rng *relay_rng = NULL;
        CHECK_OK(zfc_rng_new_seeded(seed, &relay_rng));
        free(seed);
        zfc_link *link = NULL;
        zfc_buf *hs2 = NULL;
        CHECK_OK(zfc_link_respond(key, hs1, hs1_len, relay_rng, &link, &hs2));
        CHECK(eq_hex(zfc_buf_data(hs2), zfc_buf_len(hs2), get(v, "handshake2")));
        zfc_rng_free(relay_rng);
        uint8_t binding[32];
        CHECK_OK(zfc_link_channel_binding(link, binding));
        CHECK(eq_hex(binding, 32, get(v, "channel_binding")));
        size_t rec_len = unhex(get(v, "client_to_relay_0"), &rec);
        size_t pt_len = unhex(get(v, "client_to_relay_0_plaintext"), &pt);
        zfc_buf *opened = NULL;
        CHECK_OK(zfc_link_open(link, rec, rec_len, &opened));
        CHECK(zfc_buf_len(opened) == pt_len && memcmp(zfc_buf_data(opened), pt, pt_len) == 0);
        zfc_buf_free(opened);
        zfc_buf_free(hs2);
        zfc_link_free(link);
        zfc_relay_key_free(key);
        free(secret);
        free(hs1);
        free(rec);
        free(pt);
    } else {
        vectors_run--;
    }
}

static void free_vec(vec *v) {
    for (int i = 0; i < v->n; i++) {
        free(v->keys[i]);
        free(v->values[i]);
    }
    v->n = 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: vectors FILE.tsv\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    zfc_rng *rng = NULL;
    uint8_t seed[32] = {9};
    CHECK_OK(zfc_rng_new_seeded(seed, &rng));
    vec v;
    memset(&v, 0, sizeof v);
    v.index = -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, f)) > 0) {
        if (line[got - 1] == '\n') line[got - 1] = 0;
        char *file = strtok(line, "\t");
        char *index = strtok(NULL, "\t");
        char *key = strtok(NULL, "\t");
        char *value = strtok(NULL, "");
        if (!file || !index || !key) continue;
        if (!value) value = "";
        if (strcmp(file, v.file) != 0 || atoi(index) != v.index) {
            if (v.index >= 0) check_vector(&v, rng);
            free_vec(&v);
            snprintf(v.file, sizeof v.file, "%s", file);
            v.index = atoi(index);
        }
        if (v.n < MAX_FIELDS) {
            v.keys[v.n] = strdup(key);
            v.values[v.n] = strdup(value);
            v.n++;
        }
    }
    if (v.index >= 0) check_vector(&v, rng);
    free_vec(&v);
    free(line);
    fclose(f);
    zfc_rng_free(rng);
    CHECK(vectors_run >= 20);
    printf("vectors: %d vectors run\n", vectors_run);
    return finish("vectors");
}
