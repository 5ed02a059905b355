#ifndef C_SODIUM_SHIM_H
#define C_SODIUM_SHIM_H
// XChaCha20-Poly1305 (IETF) for confidential-proxy's disk cache; libsodium-dev provides it.
#include <sodium.h>
#endif
