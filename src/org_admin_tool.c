/* cloudsmith-saml-admin: manages the org registry (org_store.h) in the database the module
 * reads through mod_dbd, with the same apr_dbd drivers. Every change raises the org's version,
 * which the module notices within seconds, without a restart. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <curl/curl.h>
#include <apr_dbd.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "org_fetch.h"
#include "org_store.h"
#include "saml_sp.h"
#include "scim_auth.h"
#include "scim_db.h"
#include "scim_store.h"

#define PROG "cloudsmith-saml-admin"
#define DEFAULT_DRIVER "sqlite3"
#define DEFAULT_PARAMS "/var/lib/cloudsmith-saml/store.db"
#define DEFAULT_TIMEOUT 10

/* Exit statuses. */
#define EXIT_DONE 0
#define EXIT_REFUSED 1 /* invalid input, an org or mapping that does not exist */
#define EXIT_FAILED 2  /* the database or a metadata fetch failed */

static const char usage_text[] =
    "usage: " PROG " [OPTIONS] org COMMAND [ARGUMENTS]\n"
    "\n"
    "Manages the organizations the module serves from its database (the org registry).\n"
    "Changes apply within seconds, without restarting Apache.\n"
    "\n"
    "Commands:\n"
    "  org list                              every org's slug, one a line\n"
    "  org create SLUG                       a new org (SAML off until its metadata is set)\n"
    "  org show SLUG                         the org's settings (never the SCIM secret)\n"
    "  org delete SLUG                       the org, its mappings and its SCIM users\n"
    "  org enable SLUG | org disable SLUG    turn SAML sign-in on or off\n"
    "  org enforce SLUG on|off               on: every page needs a login; off: optional\n"
    "  org metadata SLUG FILE|-              store the IdP's metadata from a file or stdin\n"
    "  org metadata-url SLUG URL             fetch the IdP's metadata now, store it and the URL\n"
    "  org refresh-metadata [SLUG...]        fetch again every org's metadata URL (or these\n"
    "                                        orgs'); a failure keeps the previous metadata\n"
    "  org groupsync SLUG on|off             turn Group Sync on or off\n"
    "  org groupsync-add SLUG IDP_KEY IDP_VALUE TEAM [Member|Manager]\n"
    "                                        map an IdP attribute value to a team (or change\n"
    "                                        the mapping's role)\n"
    "  org groupsync-remove SLUG IDP_KEY IDP_VALUE TEAM\n"
    "  org groupsync-list SLUG               the mappings, tab-separated\n"
    "  org scim SLUG on|off                  turn SCIM provisioning on or off\n"
    "  org scim-rotate SLUG                  make a new SCIM secret, print it once\n"
    "\n"
    "Options (anywhere on the line):\n"
    "  --dbd-driver sqlite3|pgsql   the apr_dbd driver, as DBDriver (default " DEFAULT_DRIVER
    ";\n"
    "                               environment CLOUDSMITH_SAML_DBD_DRIVER)\n"
    "  --dbd-params STRING          as DBDParams (default " DEFAULT_PARAMS ";\n"
    "                               environment CLOUDSMITH_SAML_DBD_PARAMS, which keeps a\n"
    "                               password out of the process list)\n"
    "  --timeout SECONDS            metadata fetches: connect and total time limit (default 10)\n"
    "  --ca-file PATH               metadata fetches: trust this PEM CA bundle (a private CA)\n"
    "  --allow-http                 metadata fetches: accept plain http:// (tests only)\n"
    "  -h, --help                   this text\n"
    "\n"
    "Exit status: 0 done; 1 refused (invalid input, no such org or mapping); 2 the database\n"
    "or a metadata fetch failed. Messages go to stderr.\n";

typedef struct {
    apr_pool_t *p;
    const char *driver_name;
    const char *params;
    org_fetch_options fetch;
    scim_db db;
} admin;

static void complain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void complain(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (" PROG " --help lists the commands)\n", stderr);
    va_end(ap);
    return EXIT_REFUSED;
}

/* The exit status of a store call; prints its message (*error) when it did not succeed. */
static int store_outcome(org_store_status status, const char *const *error)
{
    if (status == ORG_STORE_OK)
        return EXIT_DONE;
    complain("%s", *error ? *error : "the org registry gave no reason");
    return status == ORG_STORE_FAILED ? EXIT_FAILED : EXIT_REFUSED;
}

static int open_database(admin *a)
{
    if (scim_store_dialect(a->driver_name, &a->db.dialect) != 0)
        return usage_error("--dbd-driver must be sqlite3 or pgsql, not '%s'", a->driver_name);
    apr_status_t rv = apr_dbd_init(a->p);
    if (rv == APR_SUCCESS)
        rv = apr_dbd_get_driver(a->p, a->driver_name, &a->db.driver);
    if (rv != APR_SUCCESS) {
        complain("no apr_dbd driver '%s' (install libaprutil1-dbd-%s)", a->driver_name,
                 a->driver_name);
        return EXIT_FAILED;
    }
    /* a mistyped SQLite path would otherwise quietly start an empty registry */
    struct stat st;
    int new_file = a->db.dialect == SCIM_SQL_SQLITE && strcmp(a->params, ":memory:") != 0
                   && stat(a->params, &st) != 0 && errno == ENOENT;
    const char *error = NULL;
    rv = apr_dbd_open_ex(a->db.driver, a->p, a->params, &a->db.handle, &error);
    if (rv != APR_SUCCESS) {
        complain("cannot open the %s database '%s': %s", a->driver_name,
                 a->db.dialect == SCIM_SQL_SQLITE ? a->params : "(--dbd-params)",
                 error ? error : "the driver gave no reason");
        return EXIT_FAILED;
    }
    if (new_file)
        complain("note: created a new database %s (Apache's user must be able to write it "
                 "and its directory)", a->params);
    const char *why = scim_db_migrate(a->p, &a->db);
    if (why) {
        complain("cannot bring the database schema to version %d: %s",
                 SCIM_STORE_SCHEMA_VERSION, why);
        return EXIT_FAILED;
    }
    return EXIT_DONE;
}

/* "on"/"off" -> 1/0; -1 otherwise. */
static int parse_on_off(const char *text)
{
    if (strcasecmp(text, "on") == 0)
        return 1;
    if (strcasecmp(text, "off") == 0)
        return 0;
    return -1;
}

/* Reads the whole of f, refusing more than ORG_METADATA_MAX_BYTES and NUL bytes. */
static int read_metadata(apr_pool_t *p, FILE *f, const char *name, const char **xml)
{
    apr_size_t cap = ORG_METADATA_MAX_BYTES + 2;
    char *buf = apr_palloc(p, cap);
    apr_size_t len = fread(buf, 1, cap - 1, f);
    if (ferror(f)) {
        complain("cannot read %s: %s", name, strerror(errno));
        return EXIT_REFUSED;
    }
    if (len > ORG_METADATA_MAX_BYTES) {
        complain("%s is larger than %d bytes: not IdP metadata", name, ORG_METADATA_MAX_BYTES);
        return EXIT_REFUSED;
    }
    if (memchr(buf, '\0', len)) {
        complain("%s is not valid IdP metadata: it contains a NUL byte", name);
        return EXIT_REFUSED;
    }
    buf[len] = '\0';
    *xml = buf;
    return EXIT_DONE;
}

static const char *entity_id_of(apr_pool_t *p, const char *xml)
{
    const char *id = NULL;
    return xml && saml_idp_metadata_check(p, xml, &id) == NULL ? id : NULL;
}

static int cmd_list(admin *a, int argc, char **argv)
{
    apr_array_header_t *slugs = NULL;
    const char *error = NULL;
    int rc = store_outcome(org_store_list(a->p, &a->db, &slugs, &error), &error);
    for (int i = 0; rc == EXIT_DONE && i < slugs->nelts; i++)
        printf("%s\n", APR_ARRAY_IDX(slugs, i, const char *));
    return rc;
}

static int cmd_create(admin *a, int argc, char **argv)
{
    const char *error = NULL;
    int rc = store_outcome(org_store_create(a->p, &a->db, argv[0], apr_time_now(), &error),
                           &error);
    if (rc == EXIT_DONE)
        printf("created org %s: store its IdP metadata (org metadata or org metadata-url), "
               "then enable it (org enable %s)\n", argv[0], argv[0]);
    return rc;
}

static const char *on_off(int on)
{
    return on ? "on" : "off";
}

static int cmd_show(admin *a, int argc, char **argv)
{
    org_record r;
    const char *error = NULL;
    int rc = store_outcome(org_store_get(a->p, &a->db, argv[0], &r, &error), &error);
    if (rc != EXIT_DONE)
        return rc;
    const char *entity_id = entity_id_of(a->p, r.idp_metadata_xml);
    printf("org %s\n", r.slug);
    printf("  version:           %" APR_INT64_T_FMT "\n", r.version);
    printf("  created:           %s\n", r.created);
    printf("  updated:           %s\n", r.updated);
    printf("  saml:              %s\n", on_off(r.saml_enabled));
    printf("  enforce:           %s\n", on_off(r.saml_enforced));
    printf("  idp metadata:      %s\n", r.idp_metadata_xml == NULL ? "none"
           : apr_psprintf(a->p, "%" APR_SIZE_T_FMT " bytes, entity ID %s",
                          strlen(r.idp_metadata_xml), entity_id ? entity_id : "(unreadable)"));
    printf("  metadata url:      %s\n", r.idp_metadata_url ? r.idp_metadata_url : "none");
    printf("  metadata fetched:  %s\n", r.metadata_fetched_at ? r.metadata_fetched_at : "never");
    printf("  metadata error:    %s\n", r.metadata_error ? r.metadata_error : "none");
    printf("  groupsync:         %s\n", on_off(r.groupsync_enabled));
    for (int i = 0; i < r.groupsync->nelts; i++) {
        const groupsync_rule *g = &APR_ARRAY_IDX(r.groupsync, i, groupsync_rule);
        printf("    mapping:         %s = %s -> %s (%s)\n", g->idp_key, g->idp_value, g->team,
               groupsync_role_name(g->role));
    }
    printf("  scim:              %s\n", on_off(r.scim_enabled));
    printf("  scim secret:       %s\n", r.scim_token_hash ? "set" : "not set");
    return EXIT_DONE;
}

static int cmd_delete(admin *a, int argc, char **argv)
{
    int users = 0;
    const char *error = NULL;
    int rc = store_outcome(org_store_delete(a->p, &a->db, argv[0], &users, &error), &error);
    if (rc == EXIT_DONE)
        printf("deleted org %s, its Group Sync mappings and its %d SCIM user%s\n", argv[0],
               users, users == 1 ? "" : "s");
    return rc;
}

typedef org_store_status (*flag_writer)(apr_pool_t *p, const scim_db *db, const char *slug,
                                        int on, apr_time_t now, const char **error);

static int set_flag(admin *a, const char *slug, int on, flag_writer write, const char *what)
{
    const char *error = NULL;
    int rc = store_outcome(write(a->p, &a->db, slug, on, apr_time_now(), &error), &error);
    if (rc == EXIT_DONE)
        printf("org %s: %s %s\n", slug, what, on_off(on));
    return rc;
}

/* "SLUG on|off" for a flag writer. */
static int switch_flag(admin *a, char **argv, const char *command, flag_writer write)
{
    int on = parse_on_off(argv[1]);
    if (on < 0)
        return usage_error("org %s: expected on or off, not '%s'", command, argv[1]);
    return set_flag(a, argv[0], on, write, command);
}

static int cmd_enable(admin *a, int argc, char **argv)
{
    return set_flag(a, argv[0], 1, org_store_set_saml_enabled, "saml");
}

static int cmd_disable(admin *a, int argc, char **argv)
{
    return set_flag(a, argv[0], 0, org_store_set_saml_enabled, "saml");
}

static int cmd_enforce(admin *a, int argc, char **argv)
{
    return switch_flag(a, argv, "enforce", org_store_set_saml_enforced);
}

static int cmd_groupsync(admin *a, int argc, char **argv)
{
    return switch_flag(a, argv, "groupsync", org_store_set_groupsync_enabled);
}

static int cmd_scim(admin *a, int argc, char **argv)
{
    return switch_flag(a, argv, "scim", org_store_set_scim_enabled);
}

static int cmd_metadata(admin *a, int argc, char **argv)
{
    const char *name = argv[1], *xml = NULL;
    int rc;
    if (strcmp(name, "-") == 0) {
        rc = read_metadata(a->p, stdin, "standard input", &xml);
    } else {
        FILE *f = fopen(name, "rb");
        if (f == NULL) {
            complain("cannot open %s: %s", name, strerror(errno));
            return EXIT_REFUSED;
        }
        rc = read_metadata(a->p, f, name, &xml);
        fclose(f);
    }
    const char *error = NULL;
    if (rc == EXIT_DONE)
        rc = store_outcome(org_store_set_metadata(a->p, &a->db, argv[0], xml, NULL,
                                                  apr_time_now(), &error), &error);
    if (rc == EXIT_DONE)
        printf("org %s: stored the IdP metadata of %s\n", argv[0], entity_id_of(a->p, xml));
    return rc;
}

/* A failure message as the registry keeps it: one line, bounded. */
static const char *one_line(apr_pool_t *p, const char *text)
{
    char *line = apr_pstrndup(p, text, ORG_FETCH_FAILURE_MAX_LEN);
    for (char *c = line; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = ' ';
    }
    if (strlen(text) > ORG_FETCH_FAILURE_MAX_LEN)
        memcpy(line + ORG_FETCH_FAILURE_MAX_LEN - 3, "...", 3);
    return line;
}

/* Fetches url for slug and stores it, or records why not (the previous metadata stays). The
 * metadata is allocated from p. */
static int fetch_and_store(admin *a, apr_pool_t *p, const char *slug, const char *url)
{
    const char *xml = NULL, *error = NULL;
    const char *failed = org_fetch(p, url, &a->fetch, &xml);
    if (failed == NULL) {
        org_store_status st = org_store_set_metadata(p, &a->db, slug, xml, url,
                                                     apr_time_now(), &error);
        if (st == ORG_STORE_OK) {
            printf("org %s: stored the IdP metadata of %s from %s\n", slug,
                   entity_id_of(p, xml), url);
            return EXIT_DONE;
        }
        if (st != ORG_STORE_REFUSED)
            return store_outcome(st, &error);
        /* what the URL served is not usable metadata: a failure of the source */
        failed = apr_psprintf(p, "%s (from %s)", error, url);
    }
    complain("org %s: %s; the previous metadata stays", slug, failed);
    org_store_status st = org_store_record_fetch_failure(p, &a->db, slug,
                                                         one_line(p, failed),
                                                         apr_time_now(), &error);
    if (st != ORG_STORE_OK)
        complain("org %s: could not record the failure: %s", slug, error);
    return EXIT_FAILED;
}

static int cmd_metadata_url(admin *a, int argc, char **argv)
{
    const char *slug = argv[0], *url = argv[1], *error = NULL;
    const char *why = org_fetch_check_url(a->p, url, &a->fetch);
    if (why == NULL)
        why = org_metadata_url_check(a->p, url);
    if (why) {
        complain("%s", why);
        return EXIT_REFUSED;
    }
    apr_int64_t version;
    int rc = store_outcome(org_store_version(a->p, &a->db, slug, &version, &error), &error);
    return rc != EXIT_DONE ? rc : fetch_and_store(a, a->p, slug, url);
}

/* Every URL-based org, or the named ones; goes on after a failure. Exit status: 2 when any
 * fetch or the database failed, else 1 when a named org could not be refreshed, else 0. */
static int cmd_refresh_metadata(admin *a, int argc, char **argv)
{
    const char *error = NULL;
    apr_array_header_t *sources = NULL;
    int refused = 0, failed = 0;
    if (argc == 0) {
        int rc = store_outcome(org_store_metadata_sources(a->p, &a->db, &sources, &error),
                               &error);
        if (rc != EXIT_DONE)
            return rc;
    } else {
        sources = apr_array_make(a->p, argc, sizeof(org_metadata_source));
        for (int i = 0; i < argc; i++) {
            org_record r;
            int rc = store_outcome(org_store_get(a->p, &a->db, argv[i], &r, &error), &error);
            if (rc == EXIT_DONE && r.idp_metadata_url == NULL) {
                complain("org %s: its metadata was not fetched from a URL (set one with org "
                         "metadata-url)", argv[i]);
                rc = EXIT_REFUSED;
            }
            failed |= rc == EXIT_FAILED;
            refused |= rc == EXIT_REFUSED;
            if (rc == EXIT_DONE)
                APR_ARRAY_PUSH(sources, org_metadata_source) =
                    (org_metadata_source){r.slug, r.idp_metadata_url};
        }
    }
    apr_pool_t *each = NULL; /* one org's metadata at a time, however many orgs */
    apr_pool_create(&each, a->p);
    for (int i = 0; i < sources->nelts; i++) {
        const org_metadata_source *s = &APR_ARRAY_IDX(sources, i, org_metadata_source);
        apr_pool_clear(each);
        /* a stored http:// URL needs --allow-http again: it is a failed refresh */
        const char *why = org_fetch_check_url(each, s->url, &a->fetch);
        if (why)
            complain("org %s: %s", s->slug, why);
        int rc = why ? EXIT_FAILED : fetch_and_store(a, each, s->slug, s->url);
        failed |= rc == EXIT_FAILED;
        refused |= rc == EXIT_REFUSED;
    }
    apr_pool_destroy(each);
    return failed ? EXIT_FAILED : refused ? EXIT_REFUSED : EXIT_DONE;
}

static int cmd_groupsync_add(admin *a, int argc, char **argv)
{
    const char *previous = NULL, *error = NULL;
    const char *role = argc == 5 ? argv[4] : NULL;
    int rc = store_outcome(org_store_groupsync_add(a->p, &a->db, argv[0], argv[1], argv[2],
                                                   argv[3], role, apr_time_now(), &previous,
                                                   &error), &error);
    if (rc != EXIT_DONE)
        return rc;
    const char *now_role = groupsync_role_name(groupsync_role_parse(role ? role : "Member"));
    if (previous == NULL)
        printf("org %s: added mapping %s = %s -> %s (%s)\n", argv[0], argv[1], argv[2],
               argv[3], now_role);
    else
        printf("org %s: mapping %s = %s -> %s now %s (was %s)\n", argv[0], argv[1], argv[2],
               argv[3], now_role, previous);
    return EXIT_DONE;
}

static int cmd_groupsync_remove(admin *a, int argc, char **argv)
{
    const char *error = NULL;
    int rc = store_outcome(org_store_groupsync_remove(a->p, &a->db, argv[0], argv[1], argv[2],
                                                      argv[3], apr_time_now(), &error), &error);
    if (rc == EXIT_DONE)
        printf("org %s: removed mapping %s = %s -> %s\n", argv[0], argv[1], argv[2], argv[3]);
    return rc;
}

static int cmd_groupsync_list(admin *a, int argc, char **argv)
{
    org_record r;
    const char *error = NULL;
    int rc = store_outcome(org_store_get(a->p, &a->db, argv[0], &r, &error), &error);
    for (int i = 0; rc == EXIT_DONE && i < r.groupsync->nelts; i++) {
        const groupsync_rule *g = &APR_ARRAY_IDX(r.groupsync, i, groupsync_rule);
        printf("%s\t%s\t%s\t%s\n", g->idp_key, g->idp_value, g->team,
               groupsync_role_name(g->role));
    }
    return rc;
}

static int cmd_scim_rotate(admin *a, int argc, char **argv)
{
    char *secret = scim_secret_generate(a->p);
    if (secret == NULL) {
        complain("no randomness available for a secret");
        return EXIT_FAILED;
    }
    const char *error = NULL;
    int rc = store_outcome(org_store_set_scim_token_hash(a->p, &a->db, argv[0],
                                                     scim_token_hash_line(a->p, secret),
                                                     apr_time_now(), &error), &error);
    if (rc == EXIT_DONE)
        printf("SCIM secret for org %s (shown once; in Okta's provisioning settings choose "
               "Basic Auth, user name \"%s\", and paste it as the password):\n\n"
               "    %s\n\nOnly its hash is stored; a previous secret stops working within "
               "seconds. SCIM itself is switched with: " PROG " org scim %s on\n", argv[0],
               SCIM_TOKEN_USER, secret, argv[0]);
    return rc;
}

typedef struct {
    const char *name;
    const char *arguments; /* for a usage message */
    int min_args, max_args;
    int (*run)(admin *a, int argc, char **argv);
} org_command;

static const org_command org_commands[] = {
    {"list", "", 0, 0, cmd_list},
    {"create", "SLUG", 1, 1, cmd_create},
    {"show", "SLUG", 1, 1, cmd_show},
    {"delete", "SLUG", 1, 1, cmd_delete},
    {"enable", "SLUG", 1, 1, cmd_enable},
    {"disable", "SLUG", 1, 1, cmd_disable},
    {"enforce", "SLUG on|off", 2, 2, cmd_enforce},
    {"metadata", "SLUG FILE|-", 2, 2, cmd_metadata},
    {"metadata-url", "SLUG URL", 2, 2, cmd_metadata_url},
    {"refresh-metadata", "[SLUG...]", 0, 1 << 20, cmd_refresh_metadata},
    {"groupsync", "SLUG on|off", 2, 2, cmd_groupsync},
    {"groupsync-add", "SLUG IDP_KEY IDP_VALUE TEAM [Member|Manager]", 4, 5, cmd_groupsync_add},
    {"groupsync-remove", "SLUG IDP_KEY IDP_VALUE TEAM", 4, 4, cmd_groupsync_remove},
    {"groupsync-list", "SLUG", 1, 1, cmd_groupsync_list},
    {"scim", "SLUG on|off", 2, 2, cmd_scim},
    {"scim-rotate", "SLUG", 1, 1, cmd_scim_rotate},
    {NULL, NULL, 0, 0, NULL}};

static const org_command *find_command(const char *name)
{
    for (const org_command *c = org_commands; c->name; c++) {
        if (strcmp(name, c->name) == 0)
            return c;
    }
    return NULL;
}

/* An option's value: "--name=value" or "--name value". */
static const char *option_value(int argc, char **argv, int *i, const char *name)
{
    apr_size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc)
        return "";
    return argv[++*i];
}

/* Takes the options out of argv (anywhere, until "--"), leaving the words in order. */
static int parse_options(admin *a, int *argc, char **argv, int *help)
{
    int words = 0, options_done = 0;
    for (int i = 1; i < *argc; i++) {
        const char *arg = argv[i], *v;
        if (options_done || arg[0] != '-' || strcmp(arg, "-") == 0) {
            argv[1 + words++] = argv[i];
        } else if (strcmp(arg, "--") == 0) {
            options_done = 1;
        } else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            *help = 1;
        } else if (strcmp(arg, "--allow-http") == 0) {
            a->fetch.allow_http = 1;
        } else if ((v = option_value(*argc, argv, &i, "--dbd-driver")) != NULL) {
            a->driver_name = v;
        } else if ((v = option_value(*argc, argv, &i, "--dbd-params")) != NULL) {
            a->params = v;
        } else if ((v = option_value(*argc, argv, &i, "--ca-file")) != NULL) {
            if (*v == '\0')
                return usage_error("--ca-file needs a file name");
            a->fetch.ca_file = v;
        } else if ((v = option_value(*argc, argv, &i, "--timeout")) != NULL) {
            char *end = NULL;
            long seconds = strtol(v, &end, 10);
            if (*v == '\0' || *end != '\0' || seconds < 1 || seconds > 3600)
                return usage_error("--timeout must be a whole number of seconds from 1 to "
                                   "3600, not '%s'", v);
            a->fetch.timeout_seconds = seconds;
        } else {
            return usage_error("unknown option '%s'", arg);
        }
    }
    *argc = 1 + words;
    return EXIT_DONE;
}

int main(int argc, char **argv)
{
    const char *env_driver = getenv("CLOUDSMITH_SAML_DBD_DRIVER");
    const char *env_params = getenv("CLOUDSMITH_SAML_DBD_PARAMS");
    admin a = {
        .driver_name = env_driver && *env_driver ? env_driver : DEFAULT_DRIVER,
        .params = env_params && *env_params ? env_params : DEFAULT_PARAMS,
        .fetch = {.timeout_seconds = DEFAULT_TIMEOUT, .max_bytes = ORG_METADATA_MAX_BYTES}};
    int help = 0;
    int rc = parse_options(&a, &argc, argv, &help);
    if (rc != EXIT_DONE)
        return rc;
    if (help) {
        fputs(usage_text, stdout);
        return EXIT_DONE;
    }
    if (argc < 3 || strcmp(argv[1], "org") != 0) {
        fputs(usage_text, stderr);
        return EXIT_REFUSED;
    }
    /* a wrong command line is refused before the database is opened */
    const org_command *command = find_command(argv[2]);
    if (command == NULL)
        return usage_error("unknown command 'org %s'", argv[2]);
    int nargs = argc - 3;
    if (nargs < command->min_args || nargs > command->max_args)
        return usage_error("usage: org %s %s (got %d argument%s)", command->name,
                           command->arguments, nargs, nargs == 1 ? "" : "s");
    apr_initialize();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    apr_pool_create(&a.p, NULL);
    rc = open_database(&a);
    if (rc == EXIT_DONE)
        rc = command->run(&a, nargs, argv + 3);
    if (a.db.handle)
        apr_dbd_close(a.db.driver, a.db.handle);
    apr_pool_destroy(a.p);
    curl_global_cleanup();
    apr_terminate();
    return rc;
}
