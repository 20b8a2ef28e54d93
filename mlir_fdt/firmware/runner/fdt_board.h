/* What startup.c (reset, vectors, stack paint) shares with main.c. */
#ifndef FDT_BOARD_H
#define FDT_BOARD_H

#include <stdint.h>

/* Word the stack reserve is filled with; the high-water mark is the lowest word that changed. */
#define FDT_STACK_PAINT 0x5AC3A55Cu

/* Linker-script symbols (fdt_sections.ld). */
extern uint32_t __stack_bottom[]; /* lowest address of the stack reserve */
extern uint32_t __stack_top[];    /* initial SP (end of RAM) */

/* SysTick wraps counted by SysTick_Handler (one per 2^24 ticks). */
extern volatile uint32_t fdt_systick_wraps;

/* One ARM semihosting call (BKPT 0xAB): operation `op`, its argument block `arg`; returns r0. Raw, without
 * newlib: for fault reports and for reads inside the dispatch (a streamed input's rows). */
uint32_t fdt_semihost(uint32_t op, const void *arg);

/* Fill the stack reserve below the caller's frame with FDT_STACK_PAINT. */
void fdt_paint_stack(void);

/* Bytes between the stack top and the lowest word that no longer holds the paint. */
uint32_t fdt_stack_high_water(void);

/* Arm (1) or disarm (0) a guard just below the stack reserve: an MPU no-access region on
 * ARMv7-M, the MSPLIM stack limit on ARMv8-M Mainline, nothing on ARMv6-M (no MPU in QEMU). */
void fdt_stack_guard(int enable);

#endif /* FDT_BOARD_H */
