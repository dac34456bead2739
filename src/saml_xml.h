/* Small libxml2 helpers shared by the SAML core: strict parsing and element lookups. */
#ifndef CS_SAML_XML_H
#define CS_SAML_XML_H

#include <apr_pools.h>
#include <libxml/tree.h>

#define SAML2_NS "urn:oasis:names:tc:SAML:2.0:assertion"
#define SAMLP2_NS "urn:oasis:names:tc:SAML:2.0:protocol"
#define XMLDSIG_NS "http://www.w3.org/2000/09/xmldsig#"

/* Parses without network access, DTD loading or entity substitution, and refuses any document
 * that declares a DTD or entities. Returns NULL with *error ("line 3: ..." or "DTD ...") set. */
xmlDoc *saml_xml_parse_strict(apr_pool_t *p, const char *buf, apr_size_t len,
                              const char **error);

/* True when the document carried a DOCTYPE (the caller names the reason). */
int saml_xml_error_is_dtd(const char *error);

int saml_xml_is(const xmlNode *node, const char *ns, const char *name);
const xmlNode *saml_xml_child(const xmlNode *parent, const char *ns, const char *name);
int saml_xml_count_children(const xmlNode *parent, const char *ns, const char *name);
const xmlNode *saml_xml_find_descendant(const xmlNode *node, const char *ns, const char *name);
int saml_xml_count_descendants(const xmlNode *node, const char *ns, const char *name);

/* Attribute value copied into p, or NULL when absent. */
const char *saml_xml_attr(apr_pool_t *p, const xmlNode *node, const char *name);

/* The element's text when its content is only text (no child elements, comments, processing
 * instructions or entity references), else NULL. Surrounding whitespace trimmed. */
const char *saml_xml_plain_text(apr_pool_t *p, const xmlNode *node);

/* Escapes & < > " ' for use in XML/HTML text and attributes. */
const char *saml_xml_escape(apr_pool_t *p, const char *s);

#endif
