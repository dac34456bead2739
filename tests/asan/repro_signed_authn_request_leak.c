/* Reproducer (fixed in src/saml_sp.c by commit 5732db3; kept to show the Lasso/xmlsec
 * behaviour): every signed AuthnRequest leaks an OpenSSL BIO (192 bytes) when the Lasso
 * server was given its certificate as PEM *content* (lasso_server_new_from_buffers, as
 * src/saml_sp.c did).
 *
 * Why: on every message Lasso reloads the signing key (lasso_xmlsec_load_private_key) and, to
 * attach the certificate, first tries xmlSecCryptoAppKeyCertLoad(key, certificate, ...), i.e.
 * it takes the PEM text for a *file name*. xmlsec 1.2.37's xmlSecOpenSSLCreateReadFileBio()
 * returns NULL without BIO_free() when BIO_read_filename() fails, so the BIO leaks; Lasso then
 * succeeds with xmlSecCryptoAppKeyCertLoadMemory(). A certificate given as a file path, or no
 * certificate (the HTTP-Redirect binding carries no KeyInfo anyway), does not leak.
 *
 * Build and run (valgrind counts the leak; N requests leak N x 192 bytes):
 *   gcc -g -o /tmp/repro tests/asan/repro_signed_authn_request_leak.c \
 *       $(pkg-config --cflags --libs lasso gobject-2.0)
 *   F=../shared/saml-fixtures/okta/crewjam
 *   valgrind --leak-check=full /tmp/repro $F 10 pem    # definitely lost: 1,360 bytes in 10 blocks
 *   valgrind --leak-check=full /tmp/repro $F 10 path   # definitely lost: 0
 *   valgrind --leak-check=full /tmp/repro $F 10 none   # definitely lost: 0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lasso/lasso.h>

static char *slurp(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(n + 1);
    if (fread(buf, 1, n, f) != (size_t)n)
        exit(2);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The certificate's base64 body, for the SP metadata. */
static char *cert_body(const char *pem)
{
    const char *b = strstr(pem, "-----BEGIN CERTIFICATE-----");
    const char *e = b ? strstr(b, "-----END CERTIFICATE-----") : NULL;
    if (e == NULL)
        exit(2);
    b += strlen("-----BEGIN CERTIFICATE-----");
    char *out = malloc(e - b + 1), *w = out;
    for (const char *r = b; r < e; r++)
        if (*r != '\n' && *r != '\r' && *r != ' ')
            *w++ = *r;
    *w = '\0';
    return out;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s FIXTURE_DIR N pem|path|none\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1], *mode = argv[3];
    int n = atoi(argv[2]);
    char *key = slurp(dir, "sp_key.pem"), *cert = slurp(dir, "sp_cert.pem");
    char *idp_md = slurp(dir, "okta_idp_metadata.xml");
    char cert_path[4096];
    snprintf(cert_path, sizeof cert_path, "%s/sp_cert.pem", dir);
    char *body = cert_body(cert);
    char *sp_md = malloc(strlen(body) + 2048);
    sprintf(sp_md,
            "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" "
            "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"https://sp.test/acs/\">"
            "<md:SPSSODescriptor AuthnRequestsSigned=\"true\" "
            "protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">"
            "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>%s"
            "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
            "<md:AssertionConsumerService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:"
            "HTTP-POST\" Location=\"https://sp.test/acs/\" index=\"0\"/>"
            "</md:SPSSODescriptor></md:EntityDescriptor>", body);

    lasso_init();
    const char *certificate = strcmp(mode, "pem") == 0 ? cert
                              : strcmp(mode, "path") == 0 ? cert_path : NULL;
    LassoServer *server = lasso_server_new_from_buffers(sp_md, key, NULL, certificate);
    if (server == NULL)
        return 1;
    server->signature_method = LASSO_SIGNATURE_METHOD_RSA_SHA256;
    LassoProvider *idp = lasso_provider_new_from_buffer(LASSO_PROVIDER_ROLE_IDP, idp_md, NULL,
                                                        NULL);
    if (idp == NULL || lasso_server_add_provider2(server, idp) != 0)
        return 1;
    g_object_unref(idp);
    const char *idp_id = "http://www.okta.com/exkppsa1qwuFV4D7z0h7";
    int signed_ok = 0;
    for (int i = 0; i < n; i++) {
        LassoLogin *login = lasso_login_new(server);
        lasso_profile_set_signature_hint(LASSO_PROFILE(login),
                                         LASSO_PROFILE_SIGNATURE_HINT_FORCE);
        if (lasso_login_init_authn_request(login, idp_id, LASSO_HTTP_METHOD_REDIRECT) != 0
            || lasso_login_build_authn_request_msg(login) != 0)
            return 1;
        signed_ok += strstr(LASSO_PROFILE(login)->msg_url, "&Signature=") != NULL;
        g_object_unref(login);
    }
    printf("%d of %d AuthnRequests signed (certificate given as %s)\n", signed_ok, n, mode);
    g_object_unref(server);
    lasso_shutdown();
    free(key); free(cert); free(idp_md); free(body); free(sp_md);
    return signed_ok == n ? 0 : 1;
}
