/* Planted defect "cpsign": checkpoints are stored with a damaged signature
 * (one bit flipped). The kill -9 harness (checkpoint phase) must fail:
 * eaudit_store_verify() with the trusted key refuses the store. */
#include <sodium.h>

int __real_crypto_sign_detached(unsigned char *sig, unsigned long long *len,
                                const unsigned char *m,
                                unsigned long long mlen,
                                const unsigned char *sk);
int __wrap_crypto_sign_detached(unsigned char *sig, unsigned long long *len,
                                const unsigned char *m,
                                unsigned long long mlen,
                                const unsigned char *sk);

int __wrap_crypto_sign_detached(unsigned char *sig, unsigned long long *len,
                                const unsigned char *m,
                                unsigned long long mlen,
                                const unsigned char *sk) {
  int rc = __real_crypto_sign_detached(sig, len, m, mlen, sk);
  sig[0] ^= 1;
  return rc;
}
