/* Where the runner's model comes from: linked in as an IREE static library, or loaded at run
 * time from an IREE embedded-ELF image in flash. main.c sees only the query function; CMake
 * (FDT_MODEL_FORMAT) links exactly one of fdt_model_static.c and fdt_model_elf.c. */
#ifndef FDT_MODEL_SOURCE_H
#define FDT_MODEL_SOURCE_H

#include <stdint.h>

#include "fdt_executable_abi.h"

typedef struct fdt_model_t {
  fdt_library_query_fn_t query;
  uint32_t loader_ram_bytes; /* RAM the loaded image occupies; 0 for a static library */
} fdt_model_t;

/* Make the model callable. Returns NULL on success, else a one-line reason. */
const char *fdt_model_open(fdt_model_t *model);

#endif /* FDT_MODEL_SOURCE_H */
