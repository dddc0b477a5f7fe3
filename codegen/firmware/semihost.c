/* Semihosting for utc's QEMU firmware: `bkpt 0xab` with the operation in r0 and its
 * argument block in r1. printf reaches the host's stdout through newlib's _write hook
 * (SYS_OPEN of ":tt", SYS_WRITE); the exit status reaches QEMU's through
 * SYS_EXIT_EXTENDED. */
#include <stdint.h>

static int sh_call(int op, const void *arg) {
  register int r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

__attribute__((noreturn)) void sh_exit(int code) {
  uint32_t block[2] = {0x20026u /* ADP_Stopped_ApplicationExit */, (uint32_t)code};
  sh_call(0x20 /* SYS_EXIT_EXTENDED */, block);
  for (;;) {
  }
}

void sh_write0(const char *text) { sh_call(0x04 /* SYS_WRITE0 */, text); }

static int console = -1;

int _write(int fd, const char *buf, int len) {
  (void)fd;
  if (console < 0) {
    uint32_t open_args[3] = {(uint32_t)":tt", 4 /* "w" */, 3};
    console = sh_call(0x01 /* SYS_OPEN */, open_args);
  }
  uint32_t write_args[3] = {(uint32_t)console, (uint32_t)buf, (uint32_t)len};
  return len - sh_call(0x05 /* SYS_WRITE: returns the bytes not written */, write_args);
}

__attribute__((noreturn)) void _exit(int code) { sh_exit(code); }
