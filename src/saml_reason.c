#include "saml_reason.h"

static const struct {
    const char *name;
    const char *message;
    int status;
} reasons[SAML_ERR__COUNT] = {
    [SAML_OK] = {"ok", "Signed in.", 200},
    [SAML_ERR_NO_RESPONSE] = {"no_saml_response",
        "The sign-in request did not carry a SAML response.", 400},
    [SAML_ERR_TOO_LARGE] = {"message_too_large", "The SAML response is too large.", 413},
    [SAML_ERR_BAD_BASE64] = {"bad_base64", "The SAML response is not valid base64.", 400},
    [SAML_ERR_BAD_XML] = {"bad_xml", "The SAML response is not a well-formed SAML 2.0 Response.",
        400},
    [SAML_ERR_DTD_FORBIDDEN] = {"dtd_forbidden",
        "The SAML response contains a DTD or entity declarations, which are not allowed.", 400},
    [SAML_ERR_ASSERTION_COUNT] = {"assertion_count",
        "The SAML response must contain exactly one assertion.", 403},
    [SAML_ERR_ISSUER_MISMATCH] = {"issuer_mismatch",
        "The SAML response was not issued by this organization's identity provider.", 403},
    [SAML_ERR_SIGNATURE_INVALID] = {"signature_invalid",
        "The SAML response's signature is not valid for this organization's identity provider.",
        403},
    [SAML_ERR_UNSIGNED] = {"unsigned", "The SAML response is not signed.", 403},
    [SAML_ERR_WEAK_ALGORITHM] = {"weak_signature_algorithm",
        "The SAML response is signed with an algorithm this organization does not accept "
        "(SHA-256 or stronger is required).", 403},
    [SAML_ERR_DECRYPT_FAILED] = {"decrypt_failed",
        "The encrypted assertion could not be decrypted with this service's key.", 403},
    [SAML_ERR_STATUS_NOT_SUCCESS] = {"status_not_success",
        "The identity provider did not sign you in (its status was not Success).", 403},
    [SAML_ERR_DESTINATION_MISMATCH] = {"destination_mismatch",
        "The SAML response was sent to a different address than this sign-in endpoint.", 403},
    [SAML_ERR_RECIPIENT_MISMATCH] = {"recipient_mismatch",
        "The SAML assertion was issued for a different sign-in endpoint.", 403},
    [SAML_ERR_NO_BEARER_CONFIRMATION] = {"no_bearer_confirmation",
        "The SAML assertion has no valid bearer subject confirmation.", 403},
    [SAML_ERR_AUDIENCE_MISMATCH] = {"audience_mismatch",
        "The SAML assertion is meant for a different service.", 403},
    [SAML_ERR_NOT_YET_VALID] = {"assertion_not_yet_valid",
        "The SAML assertion is not valid yet; check the clocks of this server and the identity "
        "provider.", 403},
    [SAML_ERR_EXPIRED] = {"assertion_expired",
        "The SAML assertion has expired; please sign in again.", 403},
    [SAML_ERR_ISSUE_INSTANT] = {"issue_instant_out_of_range",
        "The SAML response is too old or dated in the future; please sign in again.", 403},
    [SAML_ERR_REPLAY] = {"assertion_replayed",
        "This SAML assertion has already been used; please sign in again.", 403},
    [SAML_ERR_UNSOLICITED] = {"unsolicited_not_allowed",
        "This organization only accepts sign-ins started here; please start from the sign-in "
        "page.", 403},
    [SAML_ERR_UNKNOWN_REQUEST] = {"unknown_in_response_to",
        "The SAML response answers a sign-in request this service did not make or already "
        "completed.", 403},
    [SAML_ERR_NAMEID_INVALID] = {"nameid_invalid",
        "The SAML assertion does not name the user by a valid email address.", 403},
    [SAML_ERR_LASSO] = {"lasso_error", "The SAML response could not be processed.", 400},
    [SAML_ERR_CACHE_UNAVAILABLE] = {"session_cache_unavailable",
        "Sign-in is temporarily unavailable; please try again shortly.", 503},
    [SAML_ERR_USER_DEACTIVATED] = {"user_deactivated",
        "Your account in this organization is deactivated. Ask your organization's "
        "administrator to reactivate it.", 403},
    [SAML_ERR_USER_STORE_UNAVAILABLE] = {"user_store_unavailable",
        "Sign-in is temporarily unavailable (the user directory cannot be reached); please "
        "try again shortly.", 503},
};

const char *saml_reason_name(saml_reason reason)
{
    return reason < SAML_ERR__COUNT ? reasons[reason].name : "unknown";
}

const char *saml_reason_message(saml_reason reason)
{
    return reason < SAML_ERR__COUNT ? reasons[reason].message : "Sign-in failed.";
}

int saml_reason_http_status(saml_reason reason)
{
    return reason < SAML_ERR__COUNT ? reasons[reason].status : 500;
}
