<?php
/*
 * Remote SPs. Rather than a fixed list, this file parses every SAML metadata
 * XML file in WORKDIR/sp/ on each request (SimpleSAMLphp re-reads metadata
 * files per request), so SPs can be added or updated while the IdP runs.
 *
 * For WORKDIR/sp/NAME.xml an optional WORKDIR/sp/NAME.json holds per-SP
 * overrides of SimpleSAMLphp SP options (e.g. {"saml20.sign.response": false,
 * "assertion.encryption": true}); keys with a null value are removed.
 *
 * Defaults applied to every SP (before the overrides): NameID format
 * emailAddress taken from the "email" attribute.
 */
$spdir = '@@WORKDIR@@/sp';
$defaults = [
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    'simplesaml.nameidattribute' => 'email',
];

$files = glob($spdir . '/*.xml') ?: [];
sort($files);
foreach ($files as $file) {
    $overrides = [];
    $jsonFile = substr($file, 0, -4) . '.json';
    if (is_file($jsonFile)) {
        $overrides = json_decode(file_get_contents($jsonFile), true);
        if (!is_array($overrides)) {
            throw new \Exception('Invalid JSON in ' . $jsonFile);
        }
    }
    $entities = \SimpleSAML\Metadata\SAMLParser::parseDescriptorsFile($file);
    foreach ($entities as $entityId => $entity) {
        $sp = $entity->getMetadata20SP();
        if ($sp === null) {
            continue;
        }
        // The defaults replace the SP's own NameIDFormat list, unless overridden.
        $sp = array_merge($sp, $defaults, $overrides);
        foreach ($overrides as $k => $v) {
            if ($v === null) {
                unset($sp[$k]);
            }
        }
        unset($sp['metadata-set']);
        $metadata[$entityId] = $sp;
    }
}
