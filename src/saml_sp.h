/* One organization's SAML service provider: its Lasso server (SP description + the org's
 * IdP), built once from configuration and then shared read-only by all requests. */
#ifndef CS_SAML_SP_H
#define CS_SAML_SP_H

#include <apr_pools.h>

typedef struct {
    const char *org;               /* slug, for messages */
    const char *acs_url;           /* absolute URL of /{org}/saml/acs/ */
    const char *sp_entity_id;      /* Audience; defaults to acs_url when NULL */
    const char *idp_metadata_xml;  /* the IdP's EntityDescriptor */
    const char *idp_metadata_origin; /* where it came from (file name), for messages */
    const char *sp_key_pem;        /* optional: decrypts assertions, signs requests */
    const char *sp_cert_pem;       /* optional: advertised in SP metadata */
    int sign_authn_requests;       /* 1: always; 0: when the IdP metadata asks for it
                                    * (WantAuthnRequestsSigned). Signing needs sp_key_pem. */
} saml_sp_config;

typedef struct saml_sp saml_sp;

/* Checks IdP metadata without building anything: returns NULL and sets *entity_id, or a
 * message that says what is wrong (XML error with line, missing IDPSSODescriptor, no signing
 * certificate, no SingleSignOnService for HTTP-Redirect, DTD present, ...). */
const char *saml_idp_metadata_check(apr_pool_t *p, const char *xml, const char **entity_id);

/* Builds the SP. Returns NULL and sets *out, or an error message. The Lasso objects are
 * released when p is cleared. Requires lasso_init() to have run. */
const char *saml_sp_create(apr_pool_t *p, const saml_sp_config *cfg, saml_sp **out);

const saml_sp_config *saml_sp_get_config(const saml_sp *sp);
const char *saml_sp_entity_id(const saml_sp *sp);
const char *saml_sp_idp_entity_id(const saml_sp *sp);
int saml_sp_signs_requests(const saml_sp *sp);
void *saml_sp_lasso_server(const saml_sp *sp); /* LassoServer*, for the ACS core */

/* The SP's metadata XML (entityID, ACS with HTTP-POST, encryption/signing certificate when
 * configured), as served at /{org}/saml/metadata/. */
const char *saml_sp_metadata_xml(apr_pool_t *p, const saml_sp_config *cfg);

/* Builds an AuthnRequest for the HTTP-Redirect binding, signed (RSA-SHA256, SigAlg and
 * Signature query parameters) when the SP signs requests, unsigned otherwise. On success
 * returns NULL and sets *redirect_url (the IdP's SSO URL with SAMLRequest and RelayState) and
 * *request_id. */
const char *saml_sp_authn_request(const saml_sp *sp, apr_pool_t *p, const char *relay_state,
                                  int force_authn, const char **redirect_url,
                                  const char **request_id);

#endif
