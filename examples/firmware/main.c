/* Example firmware: run the model `kws` (mlir_fdt_add_model in CMakeLists.txt) once on the test
 * vector mlir-fdt checked, compare with the reference output and print the result through
 * semihosting. With -DEXAMPLE_STREAM_INPUT=ON (mlir-fdt --stream-input) the input is not in the
 * arena: the library asks kws_read_input_row() for each row as it needs it, here copied from the test
 * vector in flash (a sensor's line in a real firmware). Everything model-specific comes from two
 * generated headers:
 *   kws_config.h       arena size, input/output offsets and sizes, kws_library_query()
 *   kws_test_vector.h  kws_test_input[], kws_test_expected[]
 * The model is an IREE executable library: a query function returning a table of dispatch
 * functions; with no IREE runtime, we call its single dispatch directly (fdt_executable_abi.h). */
#include <stdio.h>
#include <string.h>

#include "kws_config.h"
#include "kws_test_vector.h"

_Static_assert(sizeof(kws_test_input) == KWS_INPUT_BYTES, "test input size differs from the model's input");
_Static_assert(sizeof(kws_test_expected) == KWS_OUTPUT_BYTES, "reference size differs from the model's output");

#ifdef KWS_INPUT_STREAMED
_Static_assert(KWS_INPUT0_ROW_BYTES * KWS_INPUT0_ROWS == KWS_INPUT_BYTES, "the rows make the input");
/* The library's row callback: it asks for each row once, in order, when its first layer needs it. */
static unsigned rows_delivered;
void kws_read_input_row(int32_t input, int32_t row, int32_t bytes, void *dst) {
  if (input != 0 || bytes != (int32_t)KWS_INPUT0_ROW_BYTES || row != (int32_t)rows_delivered) return;
  memcpy(dst, kws_test_input + (uint32_t)row * KWS_INPUT0_ROW_BYTES, KWS_INPUT0_ROW_BYTES);
  ++rows_delivered;
}
#endif

/* Every activation buffer of the model, its input and output included, lives in this arena. */
static _Alignas(64) uint8_t arena[KWS_ARENA_BYTES];

static int run_model(void) {
  static const fdt_environment_v0_t environment; /* zero: the model imports nothing */
  const fdt_library_header_t *const *header = KWS_LIBRARY_QUERY(FDT_EXECUTABLE_LIBRARY_VERSION_0_6, &environment);
  if (!header || !*header) return -1;
  const fdt_library_v0_t *library = (const fdt_library_v0_t *)header;
  if (library->exports.count != 1 || library->exports.attrs[0].binding_count != 1) return -2;
  if (library->exports.attrs[0].local_memory_pages != 0) return -3; /* no scratch in this example */

  void *bindings[1] = {arena};
  const size_t binding_lengths[1] = {sizeof arena};
  const fdt_dispatch_state_v0_t dispatch_state = {
      .workgroup_size_x = 1, .workgroup_size_y = 1, .workgroup_size_z = 1,
      .workgroup_count_x = 1, .workgroup_count_y = 1, .workgroup_count_z = 1,
      .max_concurrency = 1, .binding_count = 1, .binding_ptrs = bindings, .binding_lengths = binding_lengths,
  };
  const fdt_workgroup_state_v0_t workgroup_state = {0};
  return library->exports.ptrs[0](&environment, &dispatch_state, &workgroup_state);
}

int main(void) {
#ifndef KWS_INPUT_STREAMED
  memcpy(arena + KWS_INPUT_OFFSET, kws_test_input, KWS_INPUT_BYTES);
#endif
  int status = run_model();
  const uint8_t *output = arena + KWS_OUTPUT_OFFSET;
  printf("FDT_EXAMPLE output");
  for (unsigned i = 0; i < KWS_OUTPUT_BYTES; ++i) printf(" %d", (int)(int8_t)output[i]);
  printf("\n");
  if (status != 0) {
    printf("FDT_EXAMPLE fail: dispatch returned %d\n", status);
    return 1;
  }
  if (memcmp(output, kws_test_expected, KWS_OUTPUT_BYTES) != 0) {
    printf("FDT_EXAMPLE fail: output differs from the reference\n");
    return 1;
  }
#ifdef KWS_INPUT_STREAMED
  if (rows_delivered != KWS_INPUT0_ROWS) {
    printf("FDT_EXAMPLE fail: the library asked for %u of the input's %u rows\n", rows_delivered,
           (unsigned)KWS_INPUT0_ROWS);
    return 1;
  }
  printf("FDT_EXAMPLE streamed_rows=%u\n", rows_delivered);
#endif
  printf("FDT_EXAMPLE ok arena_bytes=%u\n", (unsigned)KWS_ARENA_BYTES);
  return 0;
}
