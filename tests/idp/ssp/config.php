<?php
/*
 * SimpleSAMLphp 1.19 main configuration for the mod_cloudsmith_saml test IdP.
 * Template: rendered by tests/idp/ssp_server.py, which replaces the @@...@@ markers.
 * Everything (sessions, logs, cache, metadata, keys) lives in the work directory.
 */
$workdir = '@@WORKDIR@@';

$config = [
    'baseurlpath' => '@@BASEURL@@/',
    'certdir' => $workdir . '/cert/',
    'loggingdir' => $workdir . '/log/',
    'datadir' => $workdir . '/data/',
    'tempdir' => $workdir . '/tmp',
    'metadatadir' => $workdir . '/metadata/',
    'attributenamemapdir' => $workdir . '/attributemap/',

    'technicalcontact_name' => 'Test IdP',
    'technicalcontact_email' => 'na@example.com',
    'timezone' => 'UTC',

    'secretsalt' => '@@SECRETSALT@@',
    'auth.adminpassword' => 'adminpass',
    'admin.protectindexpage' => false,
    'admin.protectmetadata' => false,
    'admin.checkforupdates' => false,

    'trusted.url.domains' => ['127.0.0.1', 'localhost'],
    'trusted.url.regex' => false,
    'enable.http_post' => false,
    'assertion.allowed_clock_skew' => 180,

    'debug' => ['saml' => false, 'backtraces' => true, 'validatexml' => false],
    'showerrors' => true,
    'errorreporting' => false,

    'logging.level' => constant('\SimpleSAML\Logger::@@LOGLEVEL@@'),
    'logging.handler' => 'file',
    'logging.logfile' => 'simplesamlphp.log',
    'logging.processname' => 'test-idp',
    'statistics.out' => [],

    'enable.saml20-idp' => true,
    'enable.shib13-idp' => false,
    'enable.adfs-idp' => false,

    'module.enable' => [
        'exampleauth' => true,
        'core' => true,
        'saml' => true,
        'admin' => true,
    ],

    // Sessions: plain PHP sessions stored in the work directory. The IdP is
    // plain http on loopback, so the cookies must not be "secure", and
    // SameSite=None without Secure is rejected by browsers -> leave it unset.
    'store.type' => 'phpsession',
    'session.duration' => 8 * 60 * 60,
    'session.datastore.timeout' => 4 * 60 * 60,
    'session.state.timeout' => 60 * 60,
    'session.cookie.name' => 'TestIdPSessionID',
    'session.cookie.lifetime' => 0,
    'session.cookie.path' => '/',
    'session.cookie.domain' => null,
    'session.cookie.secure' => false,
    'session.cookie.samesite' => null,
    'session.phpsession.cookiename' => 'TestIdPPHPSession',
    'session.phpsession.savepath' => $workdir . '/sessions',
    'session.phpsession.httponly' => true,
    'session.authtoken.cookiename' => 'TestIdPAuthToken',
    'session.rememberme.enable' => false,

    'language.available' => ['en'],
    'language.default' => 'en',
    'language.cookie.secure' => false,
    'language.cookie.samesite' => null,

    'theme.use' => 'default',
    'template.auto_reload' => false,
    'production' => true,

    // Global IdP authproc: NameID = the email attribute, Format emailAddress.
    'authproc.idp' => [
        10 => [
            'class' => 'saml:AttributeNameID',
            'attribute' => 'email',
            'Format' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
        ],
    ],
    'authproc.sp' => [],

    'metadata.sources' => [
        ['type' => 'flatfile'],
    ],
    'metadata.sign.enable' => false,
];
