<?php
/*
 * Authentication sources for the test IdP: one exampleauth:UserPass source
 * with the demo users. Keys are "username:password"; values are attributes
 * (every attribute is a list of strings).
 */
$config = [
    'admin' => [
        'core:AdminPassword',
    ],

    'example-userpass' => [
        'exampleauth:UserPass',

        'alice@example.com:alicepass' => [
            'email' => ['alice@example.com'],
            'firstName' => ['Alice'],
            'lastName' => ['Anderson'],
            'groups' => ['Dev', 'Ops'],
            // Okta's other style: one attribute per group, value = group name.
            'Ops' => ['Ops'],
            'Dev' => ['Dev'],
        ],

        'bob@example.com:bobpass' => [
            'email' => ['bob@example.com'],
            'firstName' => ['Bob'],
            'lastName' => ['Brown'],
            'groups' => ['Dev'],
            'Dev' => ['Dev'],
        ],

        // Hostile-ish values for header/HTML/CSV encoding tests.
        'carol@example.com:carolpass' => [
            'email' => ['carol@example.com'],
            'firstName' => ['Carol, "CJ"'],
            'lastName' => ['Ünal'],
            'groups' => ['Design, UX'],
        ],
    ],
];
