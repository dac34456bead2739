#include <string.h>
#include <apr_strings.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <lasso/lasso.h>
#include <lasso/utils.h>
#include <lasso/xml/saml-2.0/samlp2_authn_request.h>
#include <lasso/xml/saml-2.0/samlp2_name_id_policy.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <apr_base64.h>
#include <apr_tables.h>
#include "saml_sp.h"
#include "saml_xml.h"

#define MD_NS "urn:oasis:names:tc:SAML:2.0:metadata"
#define DS_NS "http://www.w3.org/2000/09/xmldsig#"
#define BINDING_REDIRECT "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"

struct saml_sp {
    saml_sp_config cfg;
    const char *idp_entity_id;
    int signs_requests;
    LassoServer *server;
};

static const xmlNode *find_idp_descriptor(const xmlNode *entity)
{
    for (const xmlNode *c = entity->children; c; c = c->next)
        if (saml_xml_is(c, MD_NS, "IDPSSODescriptor"))
            return c;
    return NULL;
}

/* The public key of a base64 ds:X509Certificate, as PEM SubjectPublicKeyInfo; NULL when the
 * text is not one DER certificate. */
static const char *certificate_public_key_pem(apr_pool_t *p, const char *b64)
{
    char *compact = apr_pstrdup(p, b64), *w = compact;
    for (const char *r = b64; *r; r++)
        if (*r != ' ' && *r != '\t' && *r != '\r' && *r != '\n')
            *w++ = *r;
    *w = '\0';
    unsigned char *der = apr_palloc(p, apr_base64_decode_len(compact));
    int der_len = apr_base64_decode_binary(der, compact);
    const unsigned char *in = der;
    X509 *cert = der_len > 0 ? d2i_X509(NULL, &in, der_len) : NULL;
    const char *pem = NULL;
    if (cert && in == der + der_len) {
        BIO *out = BIO_new(BIO_s_mem());
        EVP_PKEY *key = X509_get0_pubkey(cert);
        char *data;
        long n;
        if (out && key && PEM_write_bio_PUBKEY(out, key)
            && (n = BIO_get_mem_data(out, &data)) > 0)
            pem = apr_pstrndup(p, data, n);
        BIO_free(out);
    }
    X509_free(cert);
    if (pem == NULL)
        ERR_clear_error(); /* not left for the next OpenSSL user of this thread */
    return pem;
}

/* The public key of the first certificate of each signing KeyDescriptor of the IdP's
 * descriptor, in metadata order (key rollover publishes two). */
static const char *idp_signing_keys(apr_pool_t *p, const xmlNode *idp,
                                    apr_array_header_t **out)
{
    apr_array_header_t *keys = apr_array_make(p, 2, sizeof(const char *));
    for (const xmlNode *kd = idp->children; kd; kd = kd->next) {
        if (!saml_xml_is(kd, MD_NS, "KeyDescriptor"))
            continue;
        const char *use = saml_xml_attr(p, kd, "use");
        const xmlNode *cert = saml_xml_find_descendant(kd, DS_NS, "X509Certificate");
        if ((use && strcmp(use, "signing") != 0) || cert == NULL)
            continue;
        const char *text = saml_xml_plain_text(p, cert);
        const char *pem = text ? certificate_public_key_pem(p, text) : NULL;
        if (pem == NULL)
            return apr_psprintf(p, "signing certificate %d is not a base64 X.509 certificate",
                                keys->nelts + 1);
        APR_ARRAY_PUSH(keys, const char *) = pem;
    }
    if (keys->nelts == 0)
        return "the IDPSSODescriptor has no signing certificate (KeyDescriptor with "
               "X509Certificate)";
    *out = keys;
    return NULL;
}

static int has_redirect_sso(const xmlNode *idp)
{
    for (const xmlNode *c = idp->children; c; c = c->next) {
        if (!saml_xml_is(c, MD_NS, "SingleSignOnService"))
            continue;
        char *binding = (char *)xmlGetProp(c, BAD_CAST "Binding");
        int ok = binding && strcmp(binding, BINDING_REDIRECT) == 0;
        xmlFree(binding);
        if (ok)
            return 1;
    }
    return 0;
}

/* (libxml2 bounds the depth of what it parses, so the recursion is bounded too) */
static void drop_key_descriptors(xmlNode *node)
{
    xmlNode *next;
    for (xmlNode *c = node->children; c; c = next) {
        next = c->next;
        if (saml_xml_is(c, MD_NS, "KeyDescriptor")) {
            xmlUnlinkNode(c);
            xmlFreeNode(c);
        } else {
            drop_key_descriptors(c);
        }
    }
}

/* What the module reads of an IdP's metadata, from one parse. */
typedef struct {
    const char *entity_id;
    int wants_signed_requests;         /* WantAuthnRequestsSigned="true" (or "1") */
    apr_array_header_t *signing_keys;  /* PEM public keys, see idp_signing_keys */
    const char *for_lasso;             /* when asked: the document without KeyDescriptors */
} idp_metadata;

/* Checks the metadata and reads it. What Lasso gets of it (for_lasso) is the document
 * without any KeyDescriptor, plus the signing keys as bare public keys: Lasso would otherwise
 * read each KeyDescriptor through an xmlsec keys manager, which loads the system CA bundle
 * (about 20 ms each), and keep the certificate in the key, which xmlsec then copies through
 * OpenSSL's decoders on every signature it checks. Keys from any other role descriptor are
 * not trusted for the IdP's signatures. */
static const char *idp_metadata_read(apr_pool_t *p, const char *xml, int for_lasso,
                                     idp_metadata *out)
{
    const char *error = NULL;
    xmlDoc *doc = saml_xml_parse_strict(p, xml, strlen(xml), &error);
    if (doc == NULL)
        return error;
    xmlNode *root = xmlDocGetRootElement(doc);
    const xmlNode *idp = NULL;
    memset(out, 0, sizeof(*out));
    if (!saml_xml_is(root, MD_NS, "EntityDescriptor"))
        error = "the root element is not an md:EntityDescriptor (SAML 2.0 metadata namespace)";
    else if ((out->entity_id = saml_xml_attr(p, root, "entityID")) == NULL
             || *out->entity_id == '\0')
        error = "the EntityDescriptor has no entityID";
    else if ((idp = find_idp_descriptor(root)) == NULL)
        error = "no IDPSSODescriptor: this is not an identity provider's metadata";
    else if ((error = idp_signing_keys(p, idp, &out->signing_keys)) != NULL)
        ;
    else if (!has_redirect_sso(idp))
        error = "the IDPSSODescriptor has no SingleSignOnService with the HTTP-Redirect binding";
    if (error == NULL) {
        const char *want = saml_xml_attr(p, idp, "WantAuthnRequestsSigned");
        out->wants_signed_requests = want && (strcmp(want, "true") == 0
                                              || strcmp(want, "1") == 0);
    }
    if (error == NULL && for_lasso) {
        drop_key_descriptors(root);
        xmlChar *text = NULL;
        int len = 0;
        xmlDocDumpMemory(doc, &text, &len);
        out->for_lasso = text ? apr_pstrndup(p, (const char *)text, len) : NULL;
        xmlFree(text);
        if (out->for_lasso == NULL)
            error = "out of memory writing the IdP metadata for Lasso";
    }
    xmlFreeDoc(doc);
    return error;
}

const char *saml_idp_metadata_check(apr_pool_t *p, const char *xml, const char **entity_id)
{
    idp_metadata md;
    const char *error = idp_metadata_read(p, xml, 0, &md);
    if (error == NULL)
        *entity_id = md.entity_id;
    return error;
}

static const char *xml_escape(apr_pool_t *p, const char *s)
{
    return saml_xml_escape(p, s);
}

static const char *pem_body(apr_pool_t *p, const char *pem)
{
    const char *begin = strstr(pem, "-----BEGIN CERTIFICATE-----");
    if (begin == NULL)
        return NULL;
    begin += strlen("-----BEGIN CERTIFICATE-----");
    const char *end = strstr(begin, "-----END CERTIFICATE-----");
    if (end == NULL)
        return NULL;
    char *body = apr_pstrndup(p, begin, end - begin);
    char *w = body;
    for (const char *r = body; *r; r++)
        if (*r != '\n' && *r != '\r' && *r != ' ' && *r != '\t')
            *w++ = *r;
    *w = '\0';
    return body;
}

static const char *sp_metadata(apr_pool_t *p, const saml_sp_config *cfg, int with_keys)
{
    const char *entity_id = cfg->sp_entity_id ? cfg->sp_entity_id : cfg->acs_url;
    const char *keys = "";
    const char *cert = with_keys && cfg->sp_cert_pem ? pem_body(p, cfg->sp_cert_pem) : NULL;
    if (cert)
        keys = apr_psprintf(p,
            "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>%s"
            "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
            "<md:KeyDescriptor use=\"encryption\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>%s"
            "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>", cert, cert);
    return apr_psprintf(p,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<md:EntityDescriptor xmlns:md=\"" MD_NS "\" xmlns:ds=\"" DS_NS "\" entityID=\"%s\">"
        "<md:SPSSODescriptor AuthnRequestsSigned=\"%s\" WantAssertionsSigned=\"true\" "
        "protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">%s"
        "<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>"
        "<md:AssertionConsumerService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" "
        "Location=\"%s\" index=\"0\" isDefault=\"true\"/>"
        "</md:SPSSODescriptor></md:EntityDescriptor>\n",
        xml_escape(p, entity_id), cfg->sign_authn_requests ? "true" : "false", keys,
        xml_escape(p, cfg->acs_url));
}

const char *saml_sp_metadata_xml(apr_pool_t *p, const saml_sp_config *cfg)
{
    return sp_metadata(p, cfg, 1);
}

static apr_status_t release_server(void *data)
{
    g_object_unref(data);
    return APR_SUCCESS;
}

const char *saml_sp_create(apr_pool_t *p, const saml_sp_config *cfg, saml_sp **out)
{
    saml_sp *sp = apr_pcalloc(p, sizeof(*sp));
    sp->cfg = *cfg;
    if (sp->cfg.sp_entity_id == NULL)
        sp->cfg.sp_entity_id = cfg->acs_url;
    idp_metadata md;
    const char *error = idp_metadata_read(p, cfg->idp_metadata_xml, 1, &md);
    if (error)
        return apr_psprintf(p, "IdP metadata %s: %s", cfg->idp_metadata_origin, error);
    sp->idp_entity_id = md.entity_id;
    apr_array_header_t *keys = md.signing_keys;

    sp->signs_requests = cfg->sign_authn_requests || md.wants_signed_requests;
    if (sp->signs_requests && cfg->sp_key_pem == NULL)
        return cfg->sign_authn_requests
            ? "signing AuthnRequests needs an SP private key and certificate"
            : apr_psprintf(p, "IdP metadata %s asks for signed AuthnRequests "
                           "(WantAuthnRequestsSigned): configure an SP private key and "
                           "certificate", cfg->idp_metadata_origin);
    sp->cfg.sign_authn_requests = sp->signs_requests; /* what the SP metadata advertises */

    /* No certificate for Lasso, neither as an argument nor in its copy of our metadata: it
     * would only go into KeyInfo, which the HTTP-Redirect binding does not carry; as an
     * argument Lasso first tries the PEM text as a file name, leaking an OpenSSL BIO in xmlsec
     * on every signed request (tests/asan/repro_...); in the metadata each KeyDescriptor costs
     * an xmlsec keys manager, which loads the system CA bundle (about 20 ms, most of an org's
     * build). The SP metadata we serve still advertises the certificate. */
    sp->server = lasso_server_new_from_buffers(sp_metadata(p, &sp->cfg, 0), cfg->sp_key_pem,
                                               NULL, NULL);
    if (sp->server == NULL)
        return "Lasso could not build the service provider from its metadata and key (check "
               "the SP private key and certificate)";
    apr_pool_cleanup_register(p, sp->server, release_server, apr_pool_cleanup_null);
    sp->server->signature_method = LASSO_SIGNATURE_METHOD_RSA_SHA256;

    LassoProvider *idp = lasso_provider_new_from_buffer(LASSO_PROVIDER_ROLE_IDP, md.for_lasso,
                                                        NULL, NULL);
    if (idp == NULL)
        return apr_psprintf(p, "IdP metadata %s: Lasso refused it", cfg->idp_metadata_origin);
    int rc = 0;
    for (int i = 0; i < keys->nelts && rc == 0; i++) {
        const char *pem = APR_ARRAY_IDX(keys, i, const char *);
        LassoKey *key = lasso_key_new_for_signature_from_memory(
            pem, strlen(pem), NULL, LASSO_SIGNATURE_METHOD_RSA_SHA256, NULL);
        rc = key ? lasso_provider_add_key(idp, key, TRUE) : LASSO_DS_ERROR_PUBLIC_KEY_LOAD_FAILED;
        if (key)
            g_object_unref(key);
    }
    /* Lasso uses the keys it holds only when the provider names a public key (or has
     * KeyDescriptors): it names the first, set after construction so that Lasso never loads
     * it itself (it would first try the PEM text as a file name, through GLib, whose error
     * path made LeakSanitizer's tracer crash at exit). */
    if (rc == 0) {
        g_free(idp->public_key);
        idp->public_key = g_strdup(APR_ARRAY_IDX(keys, 0, const char *));
        rc = lasso_server_add_provider2(sp->server, idp);
    }
    g_object_unref(idp);
    if (rc != 0)
        return apr_psprintf(p, "IdP metadata %s: Lasso could not add the provider: %s",
                            cfg->idp_metadata_origin, lasso_strerror(rc));
    if (cfg->sp_key_pem) {
        rc = lasso_server_set_encryption_private_key_with_password(sp->server, cfg->sp_key_pem,
                                                                   NULL);
        if (rc != 0)
            return apr_psprintf(p, "SP private key: %s", lasso_strerror(rc));
    }
    *out = sp;
    return NULL;
}

const saml_sp_config *saml_sp_get_config(const saml_sp *sp) { return &sp->cfg; }
const char *saml_sp_entity_id(const saml_sp *sp) { return sp->cfg.sp_entity_id; }
const char *saml_sp_idp_entity_id(const saml_sp *sp) { return sp->idp_entity_id; }
int saml_sp_signs_requests(const saml_sp *sp) { return sp->signs_requests; }
void *saml_sp_lasso_server(const saml_sp *sp) { return sp->server; }

const char *saml_sp_authn_request(const saml_sp *sp, apr_pool_t *p, const char *relay_state,
                                  int force_authn, const char **redirect_url,
                                  const char **request_id)
{
    LassoLogin *login = lasso_login_new(sp->server);
    if (login == NULL)
        return "Lasso could not create a login object";
    const char *error = NULL;
    /* Explicit either way: Lasso's own default would try to sign whenever it can. */
    lasso_profile_set_signature_hint(LASSO_PROFILE(login), sp->signs_requests
                                     ? LASSO_PROFILE_SIGNATURE_HINT_FORCE
                                     : LASSO_PROFILE_SIGNATURE_HINT_FORBID);
    int rc = lasso_login_init_authn_request(login, sp->idp_entity_id, LASSO_HTTP_METHOD_REDIRECT);
    if (rc != 0) {
        error = apr_psprintf(p, "lasso_login_init_authn_request: %s", lasso_strerror(rc));
        goto done;
    }
    LassoSamlp2AuthnRequest *request = LASSO_SAMLP2_AUTHN_REQUEST(LASSO_PROFILE(login)->request);
    request->ForceAuthn = force_authn ? TRUE : FALSE;
    request->IsPassive = FALSE;
    if (request->NameIDPolicy == NULL)
        request->NameIDPolicy = LASSO_SAMLP2_NAME_ID_POLICY(lasso_samlp2_name_id_policy_new());
    lasso_assign_string(request->NameIDPolicy->Format, LASSO_SAML2_NAME_IDENTIFIER_FORMAT_EMAIL);
    request->NameIDPolicy->AllowCreate = TRUE;
    lasso_assign_string(request->ProtocolBinding, LASSO_SAML2_METADATA_BINDING_POST);
    lasso_assign_string(request->AssertionConsumerServiceURL, sp->cfg.acs_url);
    lasso_assign_string(LASSO_PROFILE(login)->msg_relayState, relay_state);
    rc = lasso_login_build_authn_request_msg(login);
    if (rc != 0) {
        error = apr_psprintf(p, "lasso_login_build_authn_request_msg: %s", lasso_strerror(rc));
        goto done;
    }
    *redirect_url = apr_pstrdup(p, LASSO_PROFILE(login)->msg_url);
    *request_id = apr_pstrdup(p, LASSO_SAMLP2_REQUEST_ABSTRACT(request)->ID);
done:
    g_object_unref(login);
    return error;
}
