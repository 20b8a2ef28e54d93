/* Reset and exception handling for the QEMU runner (Cortex-M4, mps2-an386).
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

static uint32_t semihost(uint32_t op, const void *arg) {
  register uint32_t r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

/* Faults: report without touching newlib (its state may be what broke), then stop QEMU
 * with a non-zero exit status. */
__attribute__((noreturn)) static void fail_and_stop(const char *line) {
  semihost(SEMIHOST_SYS_WRITE0, line);
  semihost(SEMIHOST_SYS_EXIT, (const void *)ADP_STOPPED_RUNTIME_ERROR);
  for (;;) {
  }
}

/* Entered with the SP it faulted with, on a fresh stack: if the fault came from running
 * off the stack reserve (into the MPU guard below it), the old SP is unusable. */
__attribute__((used, noinline, noreturn)) static void hard_fault(uint32_t faulting_sp) {
  if (faulting_sp < (uint32_t)(uintptr_t)__stack_bottom) fail_and_stop("FDT_FAIL stack overflow\n");
  fail_and_stop("FDT_FAIL hardfault\n");
}

__attribute__((naked)) void HardFault_Handler(void) {
  __asm__ volatile(
      "mrs r0, msp\n\t"
      "ldr r1, =__stack_top\n\t"
      "mov sp, r1\n\t"
      "b hard_fault\n\t"
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

__attribute__((noinline)) void fdt_paint_stack(void) {
  uint32_t sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  /* Up to our own SP: this leaf loop needs no stack and no interrupt is active, so
   * everything below is free. Words between here and the caller's SP (at most our own
   * saved registers) count as used, an overestimate of a few bytes at most. */
  volatile uint32_t *end = (volatile uint32_t *)(sp & ~3u);
  for (volatile uint32_t *p = __stack_bottom; p < end; ++p) *p = FDT_STACK_PAINT;
}

/* PMSAv7 MPU (Cortex-M4). */
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
