#ifndef C_OPENSSL_SHIM_H
#define C_OPENSSL_SHIM_H
// OpenSSL 3's libcrypto (Debian: libssl-dev), for key-service's RSA-PSS signing only: on our
// hardware it signs RSA-2048 about 2.5 times faster than BoringSSL (see docs/performance.md).
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#endif
