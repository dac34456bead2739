/* cloudsmith-saml-scim-token: makes an org's SCIM secret, prints it once for the org admin to
 * paste into Okta, and writes only its hash (for CloudsmithSAMLSCIMTokenHashFile). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "scim_auth.h"

static int usage(void)
{
    fprintf(stderr,
            "usage: cloudsmith-saml-scim-token [--force] HASH_FILE\n"
            "  Generates a SCIM secret for one organization, prints it once, and writes its\n"
            "  hash to HASH_FILE (mode 0640). --force replaces an existing file (rotation:\n"
            "  the old secret stops working once Apache reloads its configuration).\n");
    return 2;
}

/* Written next to the target and renamed over it, so Apache never reads half a file. */
static int write_hash(apr_pool_t *p, const char *path, const char *line, int force)
{
    if (!force && access(path, F_OK) == 0) {
        fprintf(stderr, "%s exists; use --force to replace it (this rotates the secret)\n",
                path);
        return 1;
    }
    const char *tmp = apr_pstrcat(p, path, ".tmp", NULL);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0640);
    if (fd < 0) {
        fprintf(stderr, "cannot create %s: %s\n", tmp, strerror(errno));
        return 1;
    }
    apr_size_t len = strlen(line);
    int ok = write(fd, line, len) == (ssize_t)len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int force = argc == 3 && strcmp(argv[1], "--force") == 0;
    if (argc != 2 + force || argv[argc - 1][0] == '-')
        return usage();
    apr_initialize();
    apr_pool_t *p;
    apr_pool_create(&p, NULL);
    const char *path = argv[argc - 1];
    char *secret = scim_secret_generate(p);
    int rc = secret == NULL ? (fprintf(stderr, "no randomness available\n"), 1)
                            : write_hash(p, path, scim_token_hash_line(p, secret), force);
    if (rc == 0)
        printf("SCIM secret (shown once; in Okta's provisioning settings choose Authentication "
               "Mode \"Basic Auth\", user name \"%s\", and paste it as the password):\n\n    %s\n\n"
               "Its hash is in %s. Point CloudsmithSAMLSCIMTokenHashFile at it and reload "
               "Apache.\n", SCIM_TOKEN_USER, secret, path);
    apr_pool_destroy(p);
    apr_terminate();
    return rc;
}
