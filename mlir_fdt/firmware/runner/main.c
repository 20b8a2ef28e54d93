/* Bare-metal runner: one model dispatch under QEMU (any Cortex-M board in mlir_fdt/targets.py).
 *
 * Reads input<i>.bin into the arena for every input i (the model's order), calls the model's
 * single dispatch once while SysTick counts instructions (QEMU -icount shift=0), writes
 * output<j>.bin for every output j and prints one line:
 *   FDT_RESULT status=ok arena_bytes=N stack_bytes=N ticks=N instructions=N local_memory_bytes=N
 *              loader_ram_bytes=N
 * The model is linked in, or first loaded from an embedded ELF (fdt_model_source.h).
 * Failures print `FDT_FAIL <reason>` and exit non-zero (semihosting SYS_EXIT).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fdt_board.h"
#include "fdt_executable_abi.h"
#include "fdt_model_config.h" /* generated: FDT_LIBRARY_QUERY, FDT_ARENA_BYTES, FDT_NUM_INPUTS,
                                 FDT_NUM_OUTPUTS, FDT_INPUTS(X), FDT_OUTPUTS(X) */
#include "fdt_model_source.h"

/* Test hook: declare the arena this many bytes smaller than the model expects, so the
 * dispatch writes into the trailing canary and the overrun check must fire. */
#ifndef FDT_ARENA_UNDERSIZE
#define FDT_ARENA_UNDERSIZE 0
#endif

/* Largest workgroup-local scratch (bytes) the runner provides; 0 = none. */
#ifndef FDT_MAX_LOCAL_MEMORY
#define FDT_MAX_LOCAL_MEMORY 0
#endif

/* Instructions per SysTick tick with CLKSOURCE=processor under `-icount shift=0` (1 instruction
 * = 1 ns of virtual time), as the fraction FDT_INSTRUCTIONS_PER_TICK_NUM / _DEN: it depends on
 * the board's SysTick clock, so each target in mlir_fdt/targets.py carries its own measured value
 * and the build passes it in. The default is mps2-an386's (25 MHz): measured with the CMake
 * option FDT_CALIBRATE=ON (calibrate() below), a 2-instruction `subs; bne` loop run 1,000,000
 * and 3,000,000 times read 50,000 and 150,000 ticks, i.e. 4,000,000 instructions in exactly
 * 100,000 ticks -> 40 instructions per tick; with -DFDT_CALIBRATE_LONG=1, 800,000,000
 * instructions (across a 2^24-tick wrap) read exactly 20,000,000 ticks. Resolution: one tick,
 * so a count is exact to within one tick's instructions. */
#ifndef FDT_INSTRUCTIONS_PER_TICK_NUM
#define FDT_INSTRUCTIONS_PER_TICK_NUM 40u
#endif
#ifndef FDT_INSTRUCTIONS_PER_TICK_DEN
#define FDT_INSTRUCTIONS_PER_TICK_DEN 1u
#endif
_Static_assert(FDT_INSTRUCTIONS_PER_TICK_NUM > 0 && FDT_INSTRUCTIONS_PER_TICK_DEN > 0,
               "instructions per tick must be a positive fraction");

#define FDT_ARENA_DECLARED (FDT_ARENA_BYTES - FDT_ARENA_UNDERSIZE)
_Static_assert(FDT_ARENA_BYTES > 0, "FDT_ARENA_BYTES must be positive");
_Static_assert(FDT_ARENA_UNDERSIZE >= 0 && FDT_ARENA_UNDERSIZE < FDT_ARENA_BYTES,
               "FDT_ARENA_UNDERSIZE must be in [0, FDT_ARENA_BYTES)");

/* The model's inputs and outputs, in its order: FDT_INPUTS(X) / FDT_OUTPUTS(X) expand
 * X(index, offset, bytes) once for each (X-macro lists). Each lies inside the arena, and each
 * list holds as many entries as its count says. */
#define FDT_IO_IN_ARENA(kind, index, offset, bytes)                                             \
  _Static_assert((uint64_t)(offset) + (uint64_t)(bytes) <= (uint64_t)FDT_ARENA_BYTES,            \
                 kind " " #index " lies outside the arena");
#define FDT_INPUT_IN_ARENA(index, offset, bytes) FDT_IO_IN_ARENA("input", index, offset, bytes)
#define FDT_OUTPUT_IN_ARENA(index, offset, bytes) FDT_IO_IN_ARENA("output", index, offset, bytes)
FDT_INPUTS(FDT_INPUT_IN_ARENA)
FDT_OUTPUTS(FDT_OUTPUT_IN_ARENA)
#define FDT_IO_COUNT(index, offset, bytes) +1
_Static_assert(FDT_NUM_INPUTS >= 0 && (0 FDT_INPUTS(FDT_IO_COUNT)) == FDT_NUM_INPUTS,
               "FDT_INPUTS holds FDT_NUM_INPUTS entries");
_Static_assert(FDT_NUM_OUTPUTS >= 0 && (0 FDT_OUTPUTS(FDT_IO_COUNT)) == FDT_NUM_OUTPUTS,
               "FDT_OUTPUTS holds FDT_NUM_OUTPUTS entries");

typedef struct {
  uint32_t offset;
  uint32_t bytes;
  const char *file; /* semihosting path: input<i>.bin / output<j>.bin */
} fdt_io_t;

/* Each table ends in an entry without a file: never empty (a model without inputs), and the
 * loops below stop there. */
#define FDT_INPUT_ENTRY(index, offset, bytes) {(offset), (bytes), "input" #index ".bin"},
#define FDT_OUTPUT_ENTRY(index, offset, bytes) {(offset), (bytes), "output" #index ".bin"},
static const fdt_io_t fdt_inputs[FDT_NUM_INPUTS + 1] = {FDT_INPUTS(FDT_INPUT_ENTRY){0, 0, NULL}};
static const fdt_io_t fdt_outputs[FDT_NUM_OUTPUTS + 1] = {FDT_OUTPUTS(FDT_OUTPUT_ENTRY){0, 0, NULL}};

/* One struct so the canaries sit directly against the arena. The leading canary fills
 * the 64-byte alignment gap; the trailing one is bytes, so no padding hides an overrun. */
#define FDT_CANARY_BEFORE 64
#define FDT_CANARY_AFTER 32
static struct {
  uint8_t before[FDT_CANARY_BEFORE];
  _Alignas(64) uint8_t arena[FDT_ARENA_DECLARED];
  uint8_t after[FDT_CANARY_AFTER];
} g_memory __attribute__((aligned(64)));

#if FDT_MAX_LOCAL_MEMORY > 0
static _Alignas(64) uint8_t g_local_memory[FDT_MAX_LOCAL_MEMORY];
#endif

static uint8_t canary_byte(uint32_t i) { return (uint8_t)(0xA5u ^ (i * 29u)); }

static void fill_canaries(void) {
  for (uint32_t i = 0; i < FDT_CANARY_BEFORE; ++i) g_memory.before[i] = canary_byte(i);
  for (uint32_t i = 0; i < FDT_CANARY_AFTER; ++i) g_memory.after[i] = canary_byte(i + 64u);
}

static int canaries_intact(void) {
  for (uint32_t i = 0; i < FDT_CANARY_BEFORE; ++i)
    if (g_memory.before[i] != canary_byte(i)) return 0;
  for (uint32_t i = 0; i < FDT_CANARY_AFTER; ++i)
    if (g_memory.after[i] != canary_byte(i + 64u)) return 0;
  return 1;
}

__attribute__((noreturn, format(printf, 2, 3))) static void fail(int code, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  fputs("FDT_FAIL ", stdout);
  vprintf(fmt, args);
  va_end(args);
  fputc('\n', stdout);
  fflush(stdout);
  exit(code);
}

/* newlib-nano's printf has no %llu; 64-bit counts go through this. */
static const char *u64_to_str(uint64_t v, char buf[21]) {
  char *p = buf + 20;
  *p = '\0';
  do {
    *--p = (char)('0' + (int)(v % 10u));
    v /= 10u;
  } while (v != 0);
  return p;
}

/* ---- SysTick instruction counter ---------------------------------------------------- */
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SCB_ICSR (*(volatile uint32_t *)0xE000ED04u)
#define ICSR_PENDSTSET (1u << 26)
#define ICSR_PENDSTCLR (1u << 25)
#define SYST_RELOAD 0x00FFFFFFu

/* Both are inlined into the caller so their frames do not count as dispatch stack. */

/* Start SysTick from the processor clock with its interrupt on (it counts wraps), and
 * return the first count. CVR is read only after the first reload: a write clears it. */
__attribute__((always_inline)) static inline uint32_t counter_start(void) {
  __asm__ volatile("cpsid i" ::: "memory");
  SYST_CSR = 0;
  SYST_RVR = SYST_RELOAD;
  SYST_CVR = 0;
  SYST_CSR = 7; /* ENABLE | TICKINT | CLKSOURCE=processor */
  while ((SYST_CVR & SYST_RELOAD) == 0) {
  }
  SCB_ICSR = ICSR_PENDSTCLR; /* the first reload is no wrap of ours */
  fdt_systick_wraps = 0;
  uint32_t start = SYST_CVR & SYST_RELOAD;
  __asm__ volatile("cpsie i" ::: "memory");
  return start;
}

/* Ticks since counter_start(). A wrap that is pending but not yet handled is counted here
 * (then the post-wrap value is used), so the result is exact however the reads interleave. */
__attribute__((always_inline)) static inline uint64_t counter_stop(uint32_t start) {
  __asm__ volatile("cpsid i" ::: "memory");
  uint32_t before = SYST_CVR & SYST_RELOAD;
  uint32_t pending = SCB_ICSR & ICSR_PENDSTSET;
  uint32_t after = SYST_CVR & SYST_RELOAD;
  SYST_CSR = 0;
  SCB_ICSR = ICSR_PENDSTCLR;
  uint64_t wraps = (uint64_t)fdt_systick_wraps + (pending ? 1u : 0u);
  uint32_t end = pending ? after : before;
  __asm__ volatile("cpsie i" ::: "memory");
  return wraps * (SYST_RELOAD + 1ull) + start - end;
}

#if defined(FDT_CALIBRATE) && FDT_CALIBRATE
/* Exactly 2 instructions per iteration. GCC emits inline assembly for ARMv6-M in divided
 * syntax, where `subs r0, r0, #1` is not a 16-bit instruction: ask for unified syntax. */
__attribute__((noinline)) static void spin(uint32_t iterations) {
  __asm__ volatile(".syntax unified\n1: subs %0, %0, #1\n\tbne 1b" : "+r"(iterations) : : "cc");
}

static uint64_t ticks_for(uint32_t iterations) {
  uint32_t start = counter_start();
  spin(iterations);
  return counter_stop(start);
}

/* Two loop lengths: the difference cancels the fixed cost of call and counter. */
static void calibrate(void) {
  char d[21], a[21], b[21], o[21];
  uint64_t t1 = ticks_for(1000000u), t3 = ticks_for(3000000u), t0 = ticks_for(1u);
  printf("FDT_CALIBRATION instructions=4000000 ticks=%s t1=%s t3=%s overhead_ticks=%s\n",
         u64_to_str(t3 - t1, d), u64_to_str(t1, a), u64_to_str(t3, b), u64_to_str(t0, o));
#if defined(FDT_CALIBRATE_LONG) && FDT_CALIBRATE_LONG
  /* 800 M instructions = 20 M ticks: crosses a 2^24-tick SysTick wrap (checks wrap counting). */
  printf("FDT_CALIBRATION instructions=800000000 ticks=%s\n", u64_to_str(ticks_for(400000000u), d));
#endif
}
#endif

/* ---- file I/O via semihosting (paths relative to QEMU's working directory) ---------- */
/* The file of an input or output: input<i>.bin for the measured inference (`inference` < 0), input<i>.bin.<k>
 * for inference k of those before it (a stateful model's sequence: each inference sees the state the ones
 * before it left, mlir_fdt/importers/tflite_svdf.py). */
static const char *io_path(const fdt_io_t *io, int inference) {
  static char path[40];
  if (inference < 0) return io->file;
  snprintf(path, sizeof path, "%s.%d", io->file, inference);
  return path;
}

/* Whether the run holds inference k before the measured one: its first input with bytes has a file. */
static int has_inference(int inference) {
  for (const fdt_io_t *in = fdt_inputs; in->file; ++in) {
    if (in->bytes == 0) continue;
    FILE *f = fopen(io_path(in, inference), "rb");
    if (f) fclose(f);
    return f != NULL;
  }
  return 0;
}

/* Every input with bytes: a zero-byte input needs no file. Not inlined: main's frame is part
 * of the measured stack. */
__attribute__((noinline)) static void read_inputs(int inference) {
  for (const fdt_io_t *in = fdt_inputs; in->file; ++in) {
    if (in->bytes == 0) continue;
    const char *file = io_path(in, inference);
    FILE *f = fopen(file, "rb");
    if (!f) fail(2, "cannot open %s", file);
    size_t got = fread(g_memory.arena + in->offset, 1, in->bytes, f);
    int extra = fgetc(f) != EOF;
    fclose(f);
    if (got != (size_t)in->bytes || extra)
      fail(2, "%s holds %s%lu bytes, expected %lu", file, extra ? "more than " : "", (unsigned long)got,
           (unsigned long)in->bytes);
  }
}

/* ---- streamed inputs: the program's row callback (mlir_fdt/memory/stream_input.py) ----------------- */
/* An input the program asks for a row at a time is never in the arena: the callback reads its next row
 * from input<i>.bin (raw semihosting, so the dispatch's stack holds no stdio frames) straight into the
 * window the program passes. Rows must come once each, in order: the input is never whole in RAM. */
#ifndef FDT_NUM_STREAMED_INPUTS
#define FDT_NUM_STREAMED_INPUTS 0
#define FDT_STREAMED_INPUTS(X)
#endif

#if FDT_NUM_STREAMED_INPUTS > 0
#define SEMIHOST_SYS_OPEN 0x01u
#define SEMIHOST_SYS_CLOSE 0x02u
#define SEMIHOST_SYS_READ 0x06u
#define SEMIHOST_SYS_SEEK 0x0Au
#define SEMIHOST_SYS_FLEN 0x0Cu
#define SEMIHOST_OPEN_RB 1u

/* A row is `segments` contiguous runs of the file (an NCHW input: row r of each channel plane, `rows` runs apart). */
typedef struct {
  uint32_t index, row_bytes, rows, segments;
  const char *file;
} fdt_streamed_input_t;
#define FDT_STREAMED_ENTRY(index, row_bytes, rows, segments) \
  {(index), (row_bytes), (rows), (segments), "input" #index ".bin"},
static const fdt_streamed_input_t fdt_streamed[FDT_NUM_STREAMED_INPUTS] = {FDT_STREAMED_INPUTS(FDT_STREAMED_ENTRY)};
static int32_t g_stream_file[FDT_NUM_STREAMED_INPUTS];
static uint32_t g_next_row[FDT_NUM_STREAMED_INPUTS];
static const char *g_stream_error;

__attribute__((noinline)) static void open_streamed_inputs(void) {
  for (uint32_t k = 0; k < FDT_NUM_STREAMED_INPUTS; ++k) {
    const fdt_streamed_input_t *in = &fdt_streamed[k];
    const uint32_t open_args[3] = {(uint32_t)(uintptr_t)in->file, SEMIHOST_OPEN_RB, (uint32_t)strlen(in->file)};
    g_stream_file[k] = (int32_t)fdt_semihost(SEMIHOST_SYS_OPEN, open_args);
    if (g_stream_file[k] < 0) fail(2, "cannot open %s", in->file);
    const uint32_t flen_args[1] = {(uint32_t)g_stream_file[k]};
    int32_t length = (int32_t)fdt_semihost(SEMIHOST_SYS_FLEN, flen_args);
    if (length != (int32_t)(in->row_bytes * in->rows))
      fail(2, "%s holds %ld bytes, expected %lu (%lu rows of %lu)", in->file, (long)length,
           (unsigned long)(in->row_bytes * in->rows), (unsigned long)in->rows, (unsigned long)in->row_bytes);
  }
}

/* The program's row callback (FDT_READ_INPUT_ROW, `<library>_read_input_row`, linked statically): row `row`
 * of input `input` into `dst`. A wrong request is kept and reported after the dispatch. */
void FDT_READ_INPUT_ROW(int32_t input, int32_t row, int32_t bytes, void *dst);
void FDT_READ_INPUT_ROW(int32_t input, int32_t row, int32_t bytes, void *dst) {
  for (uint32_t k = 0; k < FDT_NUM_STREAMED_INPUTS; ++k) {
    const fdt_streamed_input_t *in = &fdt_streamed[k];
    if ((uint32_t)input != in->index) continue;
    if (g_stream_error) return;
    if ((uint32_t)bytes != in->row_bytes) {
      g_stream_error = "a row of the wrong size asked for";
    } else if ((uint32_t)row != g_next_row[k]) {
      g_stream_error = "rows asked for out of order";
    } else {
      const uint32_t run = in->row_bytes / in->segments;
      for (uint32_t s = 0; s < in->segments && !g_stream_error; ++s) {
        const uint32_t seek_args[2] = {(uint32_t)g_stream_file[k], (s * in->rows + (uint32_t)row) * run};
        const uint32_t read_args[3] = {(uint32_t)g_stream_file[k], (uint32_t)(uintptr_t)dst + s * run, run};
        if (fdt_semihost(SEMIHOST_SYS_SEEK, seek_args) != 0 || fdt_semihost(SEMIHOST_SYS_READ, read_args) != 0)
          g_stream_error = "short read";
      }
      ++g_next_row[k];
    }
    return;
  }
  g_stream_error = "a row of an input that is not streamed asked for";
}

/* Every row delivered, once, in order; files closed; the rows delivered. */
__attribute__((noinline)) static uint32_t close_streamed_inputs(void) {
  uint32_t rows = 0;
  for (uint32_t k = 0; k < FDT_NUM_STREAMED_INPUTS; ++k) {
    const uint32_t close_args[1] = {(uint32_t)g_stream_file[k]};
    fdt_semihost(SEMIHOST_SYS_CLOSE, close_args);
    if (g_stream_error) fail(4, "input %lu: row callback: %s", (unsigned long)fdt_streamed[k].index, g_stream_error);
    if (g_next_row[k] != fdt_streamed[k].rows)
      fail(4, "input %lu: the program asked for %lu of its %lu rows", (unsigned long)fdt_streamed[k].index,
           (unsigned long)g_next_row[k], (unsigned long)fdt_streamed[k].rows);
    rows += g_next_row[k];
  }
  return rows;
}
#endif

/* Every output, a zero-byte one as an empty file, so the host finds one file per output. */
__attribute__((noinline)) static void write_outputs(int inference) {
  for (const fdt_io_t *out = fdt_outputs; out->file; ++out) {
    const char *file = io_path(out, inference);
    FILE *f = fopen(file, "wb");
    if (!f) fail(2, "cannot create %s", file);
    size_t put = out->bytes > 0 ? fwrite(g_memory.arena + out->offset, 1, out->bytes, f) : 0;
    if (fclose(f) != 0 || put != (size_t)out->bytes) fail(2, "cannot write %s", file);
  }
}

#ifdef FDT_PROFILE_COUNT
/* `--profile`: the dispatch stored SYST_CVR before each of its loop nests and after the last in the
 * words at FDT_PROFILE_OFFSET of the arena (codegen/profile_nests.py). SysTick counts down: a nest's
 * ticks are (before - after) mod 2^24. */
__attribute__((noinline)) static void print_profile(void) {
  const uint8_t *table = g_memory.arena + FDT_PROFILE_OFFSET;
  for (uint32_t i = 0; i + 1 < FDT_PROFILE_COUNT; ++i) {
    uint32_t before, after;
    memcpy(&before, table + 4u * i, 4);
    memcpy(&after, table + 4u * (i + 1u), 4);
    printf("FDT_PROFILE nest=%" PRIu32 " ticks=%" PRIu32 "\n", i, (before - after) & SYST_RELOAD);
  }
}
#endif

static uint32_t current_sp(void) {
  uint32_t sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  return sp;
}

/* The model's source and the loading's figures live outside main's frame, and are handled
 * by the non-inlined functions below: main's frame is part of the measured stack_bytes, which
 * must not depend on how the model was linked. */
static fdt_model_t g_model;
static uint64_t g_load_ticks;

/* Link or load the model; loading an embedded ELF (copy, relocate) is timed apart from the dispatch. */
__attribute__((noinline)) static void open_model(void) {
  uint32_t start = counter_start();
  const char *error = fdt_model_open(&g_model);
  g_load_ticks = counter_stop(start);
  if (error) fail(2, "%s", error);
}

/* The end of the FDT_RESULT line, and the loading's instruction count. */
__attribute__((noinline)) static void print_loader_figures(void) {
  char l[21];
  printf(" loader_ram_bytes=%" PRIu32 "\nFDT_INFO loader_instructions=%s\n", g_model.loader_ram_bytes,
         u64_to_str(g_load_ticks * FDT_INSTRUCTIONS_PER_TICK_NUM / FDT_INSTRUCTIONS_PER_TICK_DEN, l));
}

int main(void) {
  static const fdt_environment_v0_t environment; /* zero: the model has no imports */

#if defined(FDT_CALIBRATE) && FDT_CALIBRATE
  calibrate();
#endif

  open_model();
  const fdt_library_header_t *const *query = g_model.query(FDT_EXECUTABLE_LIBRARY_VERSION_0_6, &environment);
  if (!query || !*query) fail(2, "library query returned NULL (ABI version mismatch?)");
  if ((*query)->version != FDT_EXECUTABLE_LIBRARY_VERSION_0_6)
    fail(2, "library version %" PRIu32 ", expected 6", (*query)->version);
  const fdt_library_v0_t *library = (const fdt_library_v0_t *)query;
  if (library->imports.count != 0)
    fail(2, "library imports %s, which this runner does not provide", library->imports.symbols[0]);

  if (library->exports.count < 1 || !library->exports.ptrs) fail(2, "library exports no dispatch");
  if (!library->exports.attrs) fail(2, "library has no dispatch attributes");
  const fdt_dispatch_attrs_v0_t *attrs = &library->exports.attrs[0];
  if (attrs->binding_count != 1) fail(2, "dispatch takes %u bindings, expected 1", (unsigned)attrs->binding_count);
  if (attrs->constant_count != 0)
    fail(2, "dispatch takes %u push constants, expected 0", (unsigned)attrs->constant_count);

  uint32_t local_memory_bytes = (uint32_t)attrs->local_memory_pages * FDT_LOCAL_MEMORY_PAGE_BYTES;
  void *local_memory = NULL;
  if (local_memory_bytes > 0) {
    if (local_memory_bytes > (uint32_t)FDT_MAX_LOCAL_MEMORY)
      fail(2, "dispatch needs %" PRIu32 " bytes of local memory; rebuild with FDT_MAX_LOCAL_MEMORY >= that",
           local_memory_bytes);
#if FDT_MAX_LOCAL_MEMORY > 0
    local_memory = g_local_memory;
#endif
  }

  fill_canaries();

  void *bindings[1] = {g_memory.arena};
  const size_t binding_lengths[1] = {FDT_ARENA_BYTES};
  const fdt_dispatch_state_v0_t dispatch_state = {
      .workgroup_size_x = attrs->workgroup_size_x,
      .workgroup_size_y = attrs->workgroup_size_y,
      .workgroup_size_z = attrs->workgroup_size_z,
      .workgroup_count_x = 1,
      .workgroup_count_y = 1,
      .workgroup_count_z = 1,
      .max_concurrency = 1,
      .binding_count = 1,
      .binding_ptrs = bindings,
      .binding_lengths = binding_lengths,
  };
  const fdt_workgroup_state_v0_t workgroup_state = {
      .local_memory = local_memory,
      .local_memory_size = local_memory_bytes,
  };
  fdt_dispatch_fn_t dispatch = library->exports.ptrs[0];

  /* The inferences before the measured one, in order (a stateful model's sequence; none otherwise). */
  int earlier = 0;
  for (; has_inference(earlier); ++earlier) {
    read_inputs(earlier);
    int earlier_status = dispatch(&environment, &dispatch_state, &workgroup_state);
    if (earlier_status != 0) fail(4, "dispatch of inference %d returned %d", earlier, earlier_status);
    if (!canaries_intact()) fail(3, "arena overrun");
    write_outputs(earlier);
  }
  read_inputs(-1);
#if FDT_NUM_STREAMED_INPUTS > 0
  open_streamed_inputs();
#endif

  /* Repaint below this frame: newlib's stdio above used stack the model does not. From
   * here until the scan, nothing but the dispatch may call below this frame. */
  uint32_t io_stack_bytes = fdt_stack_high_water();
  fdt_stack_guard(1);
  fdt_paint_stack();
  uint32_t caller_stack_bytes = (uint32_t)(uintptr_t)__stack_top - current_sp();

  uint32_t start = counter_start();
  int status = dispatch(&environment, &dispatch_state, &workgroup_state);
  uint64_t ticks = counter_stop(start);

  uint32_t stack_bytes = fdt_stack_high_water();
  fdt_stack_guard(0);
  uint32_t stack_reserve = (uint32_t)((uintptr_t)__stack_top - (uintptr_t)__stack_bottom);
#if FDT_NUM_STREAMED_INPUTS > 0
  uint32_t streamed_rows = close_streamed_inputs();
#endif
  if (!canaries_intact()) fail(3, "arena overrun");
  if (stack_bytes >= stack_reserve) fail(5, "stack reserve of %" PRIu32 " bytes exhausted", stack_reserve);
  if (status != 0) fail(4, "dispatch returned %d", status);

  write_outputs(-1);
#ifdef FDT_PROFILE_COUNT
  print_profile();
#endif

  char t[21], n[21];
  printf("FDT_INFO dispatch_stack_bytes=%" PRIu32 " caller_stack_bytes=%" PRIu32 " io_stack_bytes=%" PRIu32
         " stack_reserve=%" PRIu32 " output_files=%u earlier_inferences=%d\n",
         stack_bytes - caller_stack_bytes, caller_stack_bytes, io_stack_bytes, stack_reserve,
         (unsigned)FDT_NUM_OUTPUTS, earlier);
  printf("FDT_RESULT status=ok arena_bytes=%lu stack_bytes=%" PRIu32 " ticks=%s instructions=%s"
         " local_memory_bytes=%" PRIu32,
         (unsigned long)FDT_ARENA_BYTES, stack_bytes, u64_to_str(ticks, t),
         u64_to_str(ticks * FDT_INSTRUCTIONS_PER_TICK_NUM / FDT_INSTRUCTIONS_PER_TICK_DEN, n), local_memory_bytes);
  print_loader_figures();
#if FDT_NUM_STREAMED_INPUTS > 0
  printf("FDT_INFO streamed_rows=%" PRIu32 "\n", streamed_rows);
#endif
  fflush(stdout);
  return 0;
}
