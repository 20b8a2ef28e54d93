/* Reset and exception handling for the QEMU runner (every Cortex-M target: ARMv6-M,
 * ARMv7-M, ARMv8-M Mainline; which stack guard is built depends on the architecture).
 *
 * rdimon's crt0 is not used: it moves the SP to what SYS_HEAPINFO reports,
 * which would defeat the stack reserve and its high-water measurement.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fdt_board.h"

extern uint32_t __data_load__[], __data_start__[], __data_end__[];
extern uint32_t __bss_start__[], __bss_end__[];
extern uint32_t __heap_end__[];
/* rdimon's _sbrk honours this limit unless it is 0xcafedead (its default, which crt0 replaces). */
extern uint32_t __heap_limit;

extern void initialise_monitor_handles(void);
extern int main(void);

volatile uint32_t fdt_systick_wraps;

#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)

/* Semihosting (ARM "Angel" interface): BKPT 0xAB with the operation in r0. */
#define SEMIHOST_SYS_WRITE0 0x04u
#define SEMIHOST_SYS_EXIT 0x18u
#define ADP_STOPPED_RUNTIME_ERROR 0x20023u

uint32_t fdt_semihost(uint32_t op, const void *arg) {
  register uint32_t r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

/* Faults: report without touching newlib (its state may be what broke), then stop QEMU
 * with a non-zero exit status. */
__attribute__((noreturn)) static void fail_and_stop(const char *line) {
  fdt_semihost(SEMIHOST_SYS_WRITE0, line);
  fdt_semihost(SEMIHOST_SYS_EXIT, (const void *)ADP_STOPPED_RUNTIME_ERROR);
  for (;;) {
  }
}

/* Entered with the SP it faulted with, on a fresh stack: if the fault came from running
 * off the stack reserve (into the MPU guard below it), the old SP is unusable. */
#define SCB_CFSR (*(volatile uint32_t *)0xE000ED28u)
#define CFSR_STKOF (1u << 20) /* UsageFault: stack limit (MSPLIM) violation, ARMv8-M */

__attribute__((used, noinline, noreturn)) static void hard_fault(uint32_t faulting_sp) {
  if (faulting_sp < (uint32_t)(uintptr_t)__stack_bottom) fail_and_stop("FDT_FAIL stack overflow\n");
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
  if (SCB_CFSR & CFSR_STKOF) fail_and_stop("FDT_FAIL stack overflow\n");
#endif
  fail_and_stop("FDT_FAIL hardfault\n");
}

/* `bl` rather than `b`: ARMv6-M's 16-bit `b` reaches only +-2 KiB (hard_fault never returns). */
__attribute__((naked)) void HardFault_Handler(void) {
  __asm__ volatile(
      "mrs r0, msp\n\t"
      "ldr r1, =__stack_top\n\t"
      "mov sp, r1\n\t"
      "bl hard_fault\n\t"
      ".ltorg");
}

/* The configurable faults are not enabled (SHCSR), so they escalate to HardFault; these
 * handlers are here for completeness. */
void NMI_Handler(void) { fail_and_stop("FDT_FAIL nmi\n"); }
void MemManage_Handler(void) { fail_and_stop("FDT_FAIL memmanage fault\n"); }
void BusFault_Handler(void) { fail_and_stop("FDT_FAIL bus fault\n"); }
void UsageFault_Handler(void) { fail_and_stop("FDT_FAIL usage fault\n"); }
void Default_Handler(void) { fail_and_stop("FDT_FAIL unexpected exception\n"); }

void SysTick_Handler(void) { fdt_systick_wraps++; }

_Static_assert(FDT_STACK_PAINT == 0x5AC3A55Cu, "fdt_paint_stack's literal must match FDT_STACK_PAINT");

/* Paint from the bottom of the reserve up to the caller's SP. Naked assembly that touches
 * only r0-r2 and no stack: in C the compiler may save registers below the SP it read
 * (Cortex-M55's low-overhead loops need LR, so it pushed LR, painted over it and returned to
 * the paint). No interrupt is active, so everything below the caller's SP is free.
 * ARMv6-M instructions only, so it runs on every target. */
__attribute__((naked, noinline)) void fdt_paint_stack(void) {
  __asm__ volatile(
      ".syntax unified\n\t"
      "mov r0, sp\n\t"
      "movs r1, #3\n\t"
      "bics r0, r1\n\t"
      "ldr r1, =__stack_bottom\n\t"
      "ldr r2, =0x5AC3A55C\n"
      "1:\n\t"
      "cmp r1, r0\n\t"
      "bhs 2f\n\t"
      "str r2, [r1]\n\t"
      "adds r1, #4\n\t"
      "b 1b\n"
      "2:\n\t"
      "bx lr\n\t"
      ".ltorg");
}

#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
/* ARMv8-M Mainline (Cortex-M33, M55): the stack limit register. A push below MSPLIM raises
 * a UsageFault (STKOF), escalated to HardFault; exact to the byte, no MPU region needed. */
void fdt_stack_guard(int enable) {
  uint32_t limit = enable ? (uint32_t)(uintptr_t)__stack_bottom : 0u;
  __asm__ volatile("msr msplim, %0\n\tisb" : : "r"(limit) : "memory");
}
#elif defined(__ARM_ARCH_6M__)
/* ARMv6-M (Cortex-M0/M0+): the MPU is optional and QEMU's Cortex-M0 has none, so there is
 * no guard; the painted stack still gives the high-water mark, and main.c fails when the
 * paint is gone down to the bottom of the reserve. */
void fdt_stack_guard(int enable) { (void)enable; }
#else
/* PMSAv7 MPU (ARMv7-M: Cortex-M3, M4, M7). */
#define MPU_CTRL (*(volatile uint32_t *)0xE000ED94u)
#define MPU_RNR (*(volatile uint32_t *)0xE000ED98u)
#define MPU_RBAR (*(volatile uint32_t *)0xE000ED9Cu)
#define MPU_RASR (*(volatile uint32_t *)0xE000EDA0u)
#define FDT_STACK_GUARD_MAX 65536u

extern void *_sbrk(int increment);

void fdt_stack_guard(int enable) {
  MPU_CTRL = 0;
  if (enable) {
    /* A no-access region right below the stack reserve, power-of-two sized and aligned,
     * never over the live heap: a dispatch that outgrows the reserve faults there
     * instead of silently scribbling over the heap (painting alone misses sparse use). */
    uint32_t bottom = (uint32_t)(uintptr_t)__stack_bottom;
    uint32_t heap_break = (uint32_t)(uintptr_t)_sbrk(0);
    uint32_t size = FDT_STACK_GUARD_MAX;
    while (size > 32u && ((bottom & (size - 1u)) != 0 || bottom - size < heap_break)) size >>= 1;
    if ((bottom & (size - 1u)) == 0 && bottom - size >= heap_break) {
      uint32_t log2_size = 31u - (uint32_t)__builtin_clz(size);
      MPU_RNR = 0;
      MPU_RBAR = bottom - size;
      MPU_RASR = (1u << 28) /* XN */ | (0u << 24) /* AP: no access */ | ((log2_size - 1u) << 1) | 1u;
      MPU_CTRL = (1u << 2) /* PRIVDEFENA: default map elsewhere */ | 1u;
    }
  }
  __asm__ volatile("dsb\n\tisb" ::: "memory");
}
#endif

uint32_t fdt_stack_high_water(void) {
  const volatile uint32_t *p = __stack_bottom;
  while (p < __stack_top && *p == FDT_STACK_PAINT) ++p;
  return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)p);
}

void Reset_Handler(void) {
#if defined(__ARM_FP)
  /* Full access to CP10/CP11 before any code that may touch the FPU. */
  SCB_CPACR |= 0xFu << 20;
  __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
  for (uint32_t *src = __data_load__, *dst = __data_start__; dst < __data_end__;) *dst++ = *src++;
  for (uint32_t *dst = __bss_start__; dst < __bss_end__;) *dst++ = 0;
  __heap_limit = (uint32_t)(uintptr_t)__heap_end__;
  fdt_paint_stack();
  initialise_monitor_handles();
  exit(main());
}

typedef void (*fdt_vector_t)(void);

__attribute__((section(".isr_vector"), used)) static const fdt_vector_t vectors[16] = {
    (fdt_vector_t)(uintptr_t)__stack_top, /* initial SP */
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    MemManage_Handler,
    BusFault_Handler,
    UsageFault_Handler,
    0, 0, 0, 0,      /* reserved */
    Default_Handler, /* SVCall */
    Default_Handler, /* DebugMonitor */
    0,               /* reserved */
    Default_Handler, /* PendSV */
    SysTick_Handler,
};
