#include <stddef.h>
#include "scim_attr.h"

/* Shorthands keep the tables one line per attribute. */
#define RW SCIM_MUTABILITY_READ_WRITE
#define RO SCIM_MUTABILITY_READ_ONLY
#define WO SCIM_MUTABILITY_WRITE_ONLY
#define DEF SCIM_RETURNED_DEFAULT
#define ALW SCIM_RETURNED_ALWAYS
#define NEV SCIM_RETURNED_NEVER
#define END { NULL, 0, 0, 0, 0, 0, 0, NULL }

static const scim_attr_def name_subs[] = {
    { "formatted", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "familyName", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "givenName", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "middleName", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "honorificPrefix", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "honorificSuffix", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    END
};

/* emails, phoneNumbers, ims, entitlements, roles: value/display/type/primary. */
static const scim_attr_def plural_subs[] = {
    { "value", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "display", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "type", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "primary", SCIM_ATTR_BOOLEAN, 0, 0, 0, RW, DEF, NULL },
    END
};

static const scim_attr_def photo_subs[] = {
    { "value", SCIM_ATTR_REFERENCE, 0, 1, 0, RW, DEF, NULL },
    { "display", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "type", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "primary", SCIM_ATTR_BOOLEAN, 0, 0, 0, RW, DEF, NULL },
    END
};

static const scim_attr_def certificate_subs[] = {
    { "value", SCIM_ATTR_BINARY, 0, 1, 0, RW, DEF, NULL },
    { "display", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "type", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "primary", SCIM_ATTR_BOOLEAN, 0, 0, 0, RW, DEF, NULL },
    END
};

static const scim_attr_def address_subs[] = {
    { "formatted", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "streetAddress", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "locality", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "region", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "postalCode", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "country", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "type", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "primary", SCIM_ATTR_BOOLEAN, 0, 0, 0, RW, DEF, NULL },
    END
};

static const scim_attr_def group_subs[] = {
    { "value", SCIM_ATTR_STRING, 0, 0, 0, RO, DEF, NULL },
    { "$ref", SCIM_ATTR_REFERENCE, 0, 1, 0, RO, DEF, NULL },
    { "display", SCIM_ATTR_STRING, 0, 0, 0, RO, DEF, NULL },
    { "type", SCIM_ATTR_STRING, 0, 0, 0, RO, DEF, NULL },
    END
};

static const scim_attr_def meta_subs[] = {
    { "resourceType", SCIM_ATTR_STRING, 0, 1, 0, RO, DEF, NULL },
    { "created", SCIM_ATTR_DATETIME, 0, 0, 0, RO, DEF, NULL },
    { "lastModified", SCIM_ATTR_DATETIME, 0, 0, 0, RO, DEF, NULL },
    { "location", SCIM_ATTR_REFERENCE, 0, 1, 0, RO, DEF, NULL },
    { "version", SCIM_ATTR_STRING, 0, 1, 0, RO, DEF, NULL },
    END
};

static const scim_attr_def user_attrs[] = {
    { "id", SCIM_ATTR_STRING, 0, 1, 0, RO, ALW, NULL },
    { "externalId", SCIM_ATTR_STRING, 0, 1, 0, RW, DEF, NULL },
    { "meta", SCIM_ATTR_COMPLEX, 0, 0, 0, RO, DEF, meta_subs },
    { "userName", SCIM_ATTR_STRING, 0, 0, 1, RW, DEF, NULL },
    { "name", SCIM_ATTR_COMPLEX, 0, 0, 0, RW, DEF, name_subs },
    { "displayName", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "nickName", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "profileUrl", SCIM_ATTR_REFERENCE, 0, 1, 0, RW, DEF, NULL },
    { "title", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "userType", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "preferredLanguage", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "locale", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "timezone", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "active", SCIM_ATTR_BOOLEAN, 0, 0, 0, RW, DEF, NULL },
    { "password", SCIM_ATTR_STRING, 0, 0, 0, WO, NEV, NULL },
    { "emails", SCIM_ATTR_COMPLEX, 1, 0, 0, RW, DEF, plural_subs },
    { "phoneNumbers", SCIM_ATTR_COMPLEX, 1, 0, 0, RW, DEF, plural_subs },
    { "ims", SCIM_ATTR_COMPLEX, 1, 0, 0, RW, DEF, plural_subs },
    { "photos", SCIM_ATTR_COMPLEX, 1, 0, 0, RW, DEF, photo_subs },
    { "addresses", SCIM_ATTR_COMPLEX, 1, 0, 0, RW, DEF, address_subs },
    { "groups", SCIM_ATTR_COMPLEX, 1, 0, 0, RO, DEF, group_subs },
    { "entitlements", SCIM_ATTR_COMPLEX, 1, 0, 0, RW, DEF, plural_subs },
    { "roles", SCIM_ATTR_COMPLEX, 1, 0, 0, RW, DEF, plural_subs },
    { "x509Certificates", SCIM_ATTR_COMPLEX, 1, 0, 0, RW, DEF, certificate_subs },
    END
};

static const scim_attr_def manager_subs[] = {
    { "value", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "$ref", SCIM_ATTR_REFERENCE, 0, 1, 0, RW, DEF, NULL },
    { "displayName", SCIM_ATTR_STRING, 0, 0, 0, RO, DEF, NULL },
    END
};

static const scim_attr_def enterprise_attrs[] = {
    { "employeeNumber", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "costCenter", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "organization", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "division", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "department", SCIM_ATTR_STRING, 0, 0, 0, RW, DEF, NULL },
    { "manager", SCIM_ATTR_COMPLEX, 0, 0, 0, RW, DEF, manager_subs },
    END
};

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

int scim_strcasecmp(const char *a, const char *b)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    while (*x && lower(*x) == lower(*y)) {
        x++;
        y++;
    }
    return lower(*x) - lower(*y);
}

int scim_strcaseeq(const char *a, const char *b)
{
    return a && b && scim_strcasecmp(a, b) == 0;
}

const scim_attr_def *scim_attr_schema(const char *urn)
{
    if (urn == NULL || scim_strcaseeq(urn, SCIM_SCHEMA_USER))
        return user_attrs;
    if (scim_strcaseeq(urn, SCIM_SCHEMA_ENTERPRISE_USER))
        return enterprise_attrs;
    return NULL;
}

static const scim_attr_def *find_in(const scim_attr_def *list, const char *name)
{
    for (; list && list->name; list++)
        if (scim_strcaseeq(list->name, name))
            return list;
    return NULL;
}

const scim_attr_def *scim_attr_find(const char *urn, const char *name)
{
    return find_in(scim_attr_schema(urn), name);
}

const scim_attr_def *scim_attr_find_sub(const scim_attr_def *parent, const char *name)
{
    return parent ? find_in(parent->subs, name) : NULL;
}

const char *scim_attr_extension_urn(const char *urn)
{
    return scim_strcaseeq(urn, SCIM_SCHEMA_ENTERPRISE_USER) ? SCIM_SCHEMA_ENTERPRISE_USER : NULL;
}
