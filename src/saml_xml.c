#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <string.h>
#include <apr_strings.h>
#include <libxml/parser.h>
#include "saml_xml.h"

#define DTD_ERROR "the document has a DTD (DOCTYPE); DTDs and entities are not accepted"

xmlDoc *saml_xml_parse_strict(apr_pool_t *p, const char *buf, apr_size_t len,
                              const char **error)
{
    if (len > (apr_size_t)INT32_MAX) {
        *error = "document too large";
        return NULL;
    }
    /* Refused before the parser runs: a DTD (even one the parser would give up on, like
     * nested entity expansion) and NUL bytes, i.e. UTF-16/32 text a byte scan cannot read. */
    if (memchr(buf, '\0', len)) {
        *error = "the document holds NUL bytes (only UTF-8 XML is accepted)";
        return NULL;
    }
    if (memmem(buf, len, "<!DOCTYPE", 9) || memmem(buf, len, "<!ENTITY", 8)) {
        *error = DTD_ERROR;
        return NULL;
    }
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (ctxt == NULL) {
        *error = "out of memory creating the XML parser";
        return NULL;
    }
    xmlDoc *doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc == NULL) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        if (e && e->message) {
            char *msg = apr_pstrdup(p, e->message);
            apr_size_t n = strlen(msg);
            while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
                msg[--n] = '\0';
            *error = apr_psprintf(p, "not well-formed XML (line %d: %s)", e->line, msg);
        } else {
            *error = "not well-formed XML";
        }
        /* A DOCTYPE that failed to parse is still a DOCTYPE. */
        if (ctxt->myDoc && ctxt->myDoc->intSubset)
            *error = DTD_ERROR;
        xmlFreeParserCtxt(ctxt);
        return NULL;
    }
    xmlFreeParserCtxt(ctxt);
    if (doc->intSubset || doc->extSubset) {
        xmlFreeDoc(doc);
        *error = DTD_ERROR;
        return NULL;
    }
    return doc;
}

int saml_xml_error_is_dtd(const char *error)
{
    return error && strcmp(error, DTD_ERROR) == 0;
}

int saml_xml_is(const xmlNode *node, const char *ns, const char *name)
{
    return node && node->type == XML_ELEMENT_NODE && node->ns && node->ns->href
        && strcmp((const char *)node->ns->href, ns) == 0
        && strcmp((const char *)node->name, name) == 0;
}

const xmlNode *saml_xml_child(const xmlNode *parent, const char *ns, const char *name)
{
    for (const xmlNode *c = parent ? parent->children : NULL; c; c = c->next)
        if (saml_xml_is(c, ns, name))
            return c;
    return NULL;
}

int saml_xml_count_children(const xmlNode *parent, const char *ns, const char *name)
{
    int n = 0;
    for (const xmlNode *c = parent ? parent->children : NULL; c; c = c->next)
        n += saml_xml_is(c, ns, name);
    return n;
}

const xmlNode *saml_xml_find_descendant(const xmlNode *node, const char *ns, const char *name)
{
    for (const xmlNode *c = node ? node->children : NULL; c; c = c->next) {
        if (saml_xml_is(c, ns, name))
            return c;
        const xmlNode *found = saml_xml_find_descendant(c, ns, name);
        if (found)
            return found;
    }
    return NULL;
}

int saml_xml_count_descendants(const xmlNode *node, const char *ns, const char *name)
{
    int n = 0;
    for (const xmlNode *c = node ? node->children : NULL; c; c = c->next)
        n += saml_xml_is(c, ns, name) + saml_xml_count_descendants(c, ns, name);
    return n;
}

const char *saml_xml_attr(apr_pool_t *p, const xmlNode *node, const char *name)
{
    xmlChar *v = xmlGetProp(node, BAD_CAST name);
    if (v == NULL)
        return NULL;
    char *copy = apr_pstrdup(p, (const char *)v);
    xmlFree(v);
    return copy;
}

const char *saml_xml_plain_text(apr_pool_t *p, const xmlNode *node)
{
    apr_size_t total = 0;
    for (const xmlNode *c = node->children; c; c = c->next) {
        if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE)
            return NULL;
        total += c->content ? strlen((const char *)c->content) : 0;
    }
    char *text = apr_palloc(p, total + 1), *w = text;
    for (const xmlNode *c = node->children; c; c = c->next) {
        apr_size_t n = c->content ? strlen((const char *)c->content) : 0;
        memcpy(w, c->content, n);
        w += n;
    }
    *w = '\0';
    while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
        text++;
    while (w > text && (w[-1] == ' ' || w[-1] == '\t' || w[-1] == '\n' || w[-1] == '\r'))
        *--w = '\0';
    return text;
}

const char *saml_xml_escape(apr_pool_t *p, const char *s)
{
    if (s == NULL)
        return "";
    apr_size_t extra = 0;
    for (const char *c = s; *c; c++)
        extra += (*c == '&' || *c == '<' || *c == '>' || *c == '"' || *c == '\'') ? 5 : 0;
    if (extra == 0)
        return s;
    char *out = apr_palloc(p, strlen(s) + extra + 1), *w = out;
    for (const char *c = s; *c; c++) {
        const char *rep = NULL;
        switch (*c) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        }
        if (rep) {
            strcpy(w, rep);
            w += strlen(rep);
        } else {
            *w++ = *c;
        }
    }
    *w = '\0';
    return out;
}
