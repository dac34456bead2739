/* Named reasons for refusing a login: one enum, one log name, one sentence for humans. */
#ifndef CS_SAML_REASON_H
#define CS_SAML_REASON_H

typedef enum {
    SAML_OK = 0,
    SAML_ERR_NO_RESPONSE,          /* no SAMLResponse parameter */
    SAML_ERR_TOO_LARGE,            /* body or message above the configured limit */
    SAML_ERR_BAD_BASE64,
    SAML_ERR_BAD_XML,              /* not well-formed, or not a samlp:Response */
    SAML_ERR_DTD_FORBIDDEN,        /* DOCTYPE / entities present */
    SAML_ERR_ASSERTION_COUNT,      /* not exactly one (Encrypted)Assertion */
    SAML_ERR_ISSUER_MISMATCH,      /* Response or Assertion Issuer is not the org's IdP */
    SAML_ERR_SIGNATURE_INVALID,    /* signature present but not valid with the IdP's key */
    SAML_ERR_UNSIGNED,             /* neither Response nor Assertion signed */
    SAML_ERR_WEAK_ALGORITHM,       /* SHA-1 without the org's consent, or HMAC/MD5/unknown */
    SAML_ERR_DECRYPT_FAILED,
    SAML_ERR_STATUS_NOT_SUCCESS,
    SAML_ERR_DESTINATION_MISMATCH,
    SAML_ERR_RECIPIENT_MISMATCH,
    SAML_ERR_NO_BEARER_CONFIRMATION,
    SAML_ERR_AUDIENCE_MISMATCH,
    SAML_ERR_NOT_YET_VALID,
    SAML_ERR_EXPIRED,
    SAML_ERR_ISSUE_INSTANT,        /* IssueInstant missing, unparsable or too old/in future */
    SAML_ERR_REPLAY,               /* assertion ID already consumed */
    SAML_ERR_UNSOLICITED,          /* no InResponseTo and the org refuses unsolicited logins */
    SAML_ERR_UNKNOWN_REQUEST,      /* InResponseTo names no pending request of this org */
    SAML_ERR_NAMEID_INVALID,       /* missing, not an email address, or XML tricks inside */
    SAML_ERR_LASSO,                /* any other failure reported by Lasso */
    SAML_ERR_CACHE_UNAVAILABLE,    /* the session cache could not be written or read */
    SAML_ERR_USER_DEACTIVATED,     /* SCIM has the user with active=false */
    SAML_ERR_USER_STORE_UNAVAILABLE, /* SCIM is on and its database could not be asked */
    SAML_ERR__COUNT
} saml_reason;

const char *saml_reason_name(saml_reason reason);    /* e.g. "assertion_expired", for logs */
const char *saml_reason_message(saml_reason reason); /* one plain sentence for the user */
int saml_reason_http_status(saml_reason reason);

#endif
