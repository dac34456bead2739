#include "unit.h"
#include "util_form.h"

static void test_form_field_decodes_plus_and_percent(apr_pool_t *p)
{
    int bad;
    CHECK_STR(form_field(p, "SAMLResponse=PHNh%2Bb2%3D&RelayState=a+b", "SAMLResponse", &bad),
              "PHNh+b2=");
    CHECK_INT(bad, 0);
    CHECK_STR(form_field(p, "SAMLResponse=x&RelayState=a+b", "RelayState", &bad), "a b");
}

static void test_form_field_first_occurrence_wins(apr_pool_t *p)
{
    int bad;
    CHECK_STR(form_field(p, "a=1&a=2", "a", &bad), "1");
}

static void test_form_field_exact_names(apr_pool_t *p)
{
    int bad;
    CHECK_STR(form_field(p, "xa=1&ab=2", "a", &bad), NULL);
    CHECK_STR(form_field(p, "a", "a", &bad), "");
    CHECK_STR(form_field(p, "", "a", &bad), NULL);
    CHECK_STR(form_field(p, "b=1&", "a", &bad), NULL);
}

static void test_form_field_refuses_bad_escapes(apr_pool_t *p)
{
    int bad;
    CHECK_STR(form_field(p, "a=%4", "a", &bad), NULL);
    CHECK_INT(bad, 1);
    CHECK_STR(form_field(p, "a=%zz", "a", &bad), NULL);
    CHECK_INT(bad, 1);
    CHECK_STR(form_field(p, "a=x%00y", "a", &bad), NULL);
    CHECK_INT(bad, 1);
    CHECK_STR(form_field(p, "a=%", "a", &bad), NULL);
    CHECK_INT(bad, 1);
}

static const unit_case cases[] = {
    UNIT(test_form_field_decodes_plus_and_percent),
    UNIT(test_form_field_first_occurrence_wins),
    UNIT(test_form_field_exact_names),
    UNIT(test_form_field_refuses_bad_escapes),
    UNIT_END
};

int main(void) { return unit_run("form", cases); }
