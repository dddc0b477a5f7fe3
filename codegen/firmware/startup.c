/* Bare-metal start-up for utc's Cortex-M test and benchmark firmware (QEMU mps2/mps3
 * boards): a vector table, a reset handler that enables the FPU/MVE coprocessors before
 * any floating-point or vector instruction can run, copies .data, clears .bss, runs C++
 * static constructors and calls main; a fault handler that reports the fault and exits
 * with status 128 + exception number. Written for utc from the Armv7-M/Armv8-M
 * architecture facts in ../shared/CORTEX-M.md; not part of generated model code. */
#include <stdint.h>

extern uint32_t __stack_top[], __data_load[], __data_start[], __data_end[], __bss_start[],
    __bss_end[];
extern void (*__init_array_start[])(void), (*__init_array_end[])(void);
int main(void);
void sh_exit(int code) __attribute__((noreturn));
void sh_write0(const char *text);
void Reset_Handler(void) __attribute__((noreturn));
void Fault_Handler(void) __attribute__((noreturn));

__attribute__((section(".isr_vector"), used)) void (*const utc_vector_table[16])(void) = {
    (void (*)(void))__stack_top, Reset_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler,
    0, 0, 0, Fault_Handler, Fault_Handler, 0, Fault_Handler, Fault_Handler};

void Reset_Handler(void) {
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
  *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: CP10 and CP11 full access */
  __asm__ volatile("dsb\n isb" ::: "memory");
#endif
  uint32_t *src = __data_load, *dst = __data_start;
  while (dst < __data_end) *dst++ = *src++;
  for (dst = __bss_start; dst < __bss_end;) *dst++ = 0;
  for (void (**f)(void) = __init_array_start; f < __init_array_end; f++) (*f)();
  sh_exit(main());
}

static void put_hex(char *out, uint32_t v) {
  for (int i = 7; i >= 0; --i, v >>= 4) out[i] = "0123456789abcdef"[v & 15u];
}

void Fault_Handler(void) {
  uint32_t ipsr;
  __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
  char text[] = "fault: exception 00000000 CFSR 00000000\n";
  put_hex(text + 17, ipsr & 0x1FFu);
#if __ARM_ARCH >= 7 /* Armv6-M has no Configurable Fault Status Register: reading it faults */
  put_hex(text + 31, *(volatile uint32_t *)0xE000ED28u);
#endif
  sh_write0(text);
  sh_exit(128 + (int)(ipsr & 0x1FFu));
}
