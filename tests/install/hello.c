/* hello.c - a weft user built only from what `make install` put in place:
 * <weft.h> and -lweft, found through pkg-config. */
#include <stdio.h>
#include <string.h>

#include <weft.h>

int main(void) {
  weft_handle lock;
  int locked = -1;
  printf("version %s\n", weft_version());
  if (strcmp(weft_version(), "") == 0 ||
      weft_version_number() != WEFT_VERSION_MAJOR * 10000 +
                                   WEFT_VERSION_MINOR * 100 +
                                   WEFT_VERSION_PATCH) {
    printf("header and library versions differ\n");
    return 1;
  }
  if (weft_lock_new(&lock) != 0 || weft_lock_acquire(lock, -1) != 0 ||
      weft_lock_locked(lock, &locked) != 0 || locked != 1 ||
      weft_lock_release(lock) != 0 || weft_close(lock) != 0) {
    printf("lock round trip failed: %s\n", weft_last_error_message());
    return 1;
  }
  printf("lock round trip ok\n");
  return 0;
}
