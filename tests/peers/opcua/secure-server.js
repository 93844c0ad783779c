#!/usr/bin/env node
// The test server (server.js) with security on: Basic256Sha256, Aes128_Sha256_RsaOaep and
// Aes256_Sha256_RsaPss, each in Sign and SignAndEncrypt, user name login. Every server.js option
// applies, plus --allow-none, --cert FILE --key FILE (serve a certificate the test made) and
// --reject-unknown (client certificates must be in PKI/server/trusted/certs). Prints "READY <port> …".
"use strict";
process.argv.splice(2, 0, "--secure");
require("./server.js");
