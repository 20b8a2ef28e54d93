/* The model as an IREE static library linked into the firmware: nothing to load. */
#include <stddef.h>

#include "fdt_model_config.h" /* FDT_LIBRARY_QUERY: the library's query function */
#include "fdt_model_source.h"

extern const fdt_library_header_t *const *FDT_LIBRARY_QUERY(uint32_t max_version,
                                                            const fdt_environment_v0_t *environment);

const char *fdt_model_open(fdt_model_t *model) {
  model->query = FDT_LIBRARY_QUERY;
  model->loader_ram_bytes = 0;
  return NULL;
}
