#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "session_seal.h"

#define SEAL_VERSION 1
#define NONCE_BYTES 12
#define TAG_BYTES 16
#define KDF_LABEL "cloudsmith-saml session seal v1"

const char *session_seal_key_derive(const char *material, apr_size_t len,
                                    session_seal_key *out)
{
    while (len && (material[len - 1] == '\n' || material[len - 1] == '\r'))
        len--;
    if (len < SESSION_SEAL_KEY_BYTES)
        return "the session key file must hold at least 32 bytes of secret material "
               "(e.g. the output of `openssl rand -base64 48`)";
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int n = 0;
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL)
             && EVP_DigestUpdate(md, KDF_LABEL, sizeof KDF_LABEL)
             && EVP_DigestUpdate(md, material, len)
             && EVP_DigestFinal_ex(md, out->bytes, &n) && n == SESSION_SEAL_KEY_BYTES;
    EVP_MD_CTX_free(md);
    return ok ? NULL : "OpenSSL could not hash the session key material";
}

/* Fetched once: OpenSSL 3 otherwise looks the algorithm up in its provider tables (under a
 * lock) on every seal and open. */
static EVP_CIPHER *gcm_cipher;
static CRYPTO_ONCE gcm_once = CRYPTO_ONCE_STATIC_INIT;

static void fetch_gcm(void)
{
    gcm_cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
}

static const EVP_CIPHER *aes_256_gcm(void)
{
    return CRYPTO_THREAD_run_once(&gcm_once, fetch_gcm) && gcm_cipher ? gcm_cipher
                                                                       : EVP_aes_256_gcm();
}

/* Per thread and direction, a context keyed once (AES key schedule and GCM tables): each value
 * then only sets its nonce. Freed when the thread ends. */
typedef struct {
    EVP_CIPHER_CTX *ctx;
    unsigned char key[SESSION_SEAL_KEY_BYTES];
    int keyed;
} thread_cipher;

static pthread_key_t cipher_slot[2]; /* [0] open, [1] seal */
static pthread_once_t cipher_slot_once = PTHREAD_ONCE_INIT;
static int cipher_slot_ok;

static void free_thread_cipher(void *data)
{
    thread_cipher *t = data;
    EVP_CIPHER_CTX_free(t->ctx);
    OPENSSL_cleanse(t->key, sizeof t->key);
    free(t);
}

static void make_cipher_slots(void)
{
    cipher_slot_ok = pthread_key_create(&cipher_slot[0], free_thread_cipher) == 0
                     && pthread_key_create(&cipher_slot[1], free_thread_cipher) == 0;
}

/* This thread's context for key, ready for EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, -1),
 * or NULL. */
static EVP_CIPHER_CTX *keyed_context(const session_seal_key *key, int encrypt)
{
    if (pthread_once(&cipher_slot_once, make_cipher_slots) != 0 || !cipher_slot_ok)
        return NULL;
    thread_cipher *t = pthread_getspecific(cipher_slot[encrypt]);
    if (t == NULL) {
        t = calloc(1, sizeof(*t));
        if (t == NULL || (t->ctx = EVP_CIPHER_CTX_new()) == NULL
            || pthread_setspecific(cipher_slot[encrypt], t) != 0) {
            if (t)
                EVP_CIPHER_CTX_free(t->ctx);
            free(t);
            return NULL;
        }
    }
    if (!t->keyed || CRYPTO_memcmp(t->key, key->bytes, sizeof t->key) != 0) {
        t->keyed = EVP_CipherInit_ex(t->ctx, aes_256_gcm(), NULL, key->bytes, NULL, encrypt);
        if (!t->keyed)
            return NULL;
        memcpy(t->key, key->bytes, sizeof t->key);
    }
    return t->ctx;
}

/* After a failure the context may be half-way: key it again next time. */
static void forget_context(int encrypt)
{
    thread_cipher *t = cipher_slot_ok ? pthread_getspecific(cipher_slot[encrypt]) : NULL;
    if (t)
        t->keyed = 0;
}

int session_seal_key_random(session_seal_key *out)
{
    return RAND_bytes(out->bytes, sizeof out->bytes) == 1 ? 0 : -1;
}

unsigned char *session_seal(apr_pool_t *p, const session_seal_key *key, const void *aad,
                            apr_size_t aad_len, const void *plaintext, apr_size_t len,
                            apr_size_t *out_len)
{
    if (len > 1024 * 1024)
        return NULL;
    unsigned char *out = apr_palloc(p, len + SESSION_SEAL_OVERHEAD);
    unsigned char *nonce = out + 1, *body = out + 1 + NONCE_BYTES;
    out[0] = SEAL_VERSION;
    if (RAND_bytes(nonce, NONCE_BYTES) != 1)
        return NULL;
    EVP_CIPHER_CTX *ctx = keyed_context(key, 1);
    int n = 0, tail = 0;
    int ok = ctx && EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, 1)
             && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len)
             && EVP_EncryptUpdate(ctx, body, &n, plaintext, (int)len)
             && EVP_EncryptFinal_ex(ctx, body + n, &tail)
             && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, body + len);
    if (!ok) {
        forget_context(1);
        return NULL;
    }
    *out_len = len + SESSION_SEAL_OVERHEAD;
    return out;
}

char *session_open(apr_pool_t *p, const session_seal_key *key, const void *aad,
                   apr_size_t aad_len, const unsigned char *sealed, apr_size_t len,
                   apr_size_t *out_len)
{
    if (sealed == NULL || len < SESSION_SEAL_OVERHEAD || sealed[0] != SEAL_VERSION
        || len > 1024 * 1024 + SESSION_SEAL_OVERHEAD)
        return NULL;
    apr_size_t body_len = len - SESSION_SEAL_OVERHEAD;
    const unsigned char *nonce = sealed + 1, *body = sealed + 1 + NONCE_BYTES;
    unsigned char tag[TAG_BYTES];
    memcpy(tag, body + body_len, TAG_BYTES);
    char *out = apr_palloc(p, body_len + 1);
    EVP_CIPHER_CTX *ctx = keyed_context(key, 0);
    int n = 0, tail = 0;
    int ok = ctx && EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, 0)
             && EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len)
             && EVP_DecryptUpdate(ctx, (unsigned char *)out, &n, body, (int)body_len)
             && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, tag)
             && EVP_DecryptFinal_ex(ctx, (unsigned char *)out + n, &tail) == 1;
    if (!ok) {
        forget_context(0);
        OPENSSL_cleanse(out, body_len);
        return NULL;
    }
    out[body_len] = '\0';
    *out_len = body_len;
    return out;
}
