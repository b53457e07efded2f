/* Linked into a copy of the library by abi/CMakeLists.txt: an export that
 * abi/symbols.txt does not record, which the symbol test must reject. */
#include <eaudit.h>

EAUDIT_EXTERN int eaudit_abi_negative_extra(void);

int eaudit_abi_negative_extra(void) { return 0; }
