/* The model as an IREE embedded-ELF image stored in flash (fdt_model_blob.s.in), loaded into
 * a static RAM buffer at start-up. The buffer's size and alignment come from the build
 * (FDT_ELF_LOAD_BYTES, FDT_ELF_LOAD_ALIGN: mlir_fdt/codegen/elf_image.py measures the image),
 * so the whole RAM cost is visible in the link map like any other static buffer. Code runs
 * from this buffer: SRAM at 0x20000000 is executable in the Cortex-M default memory map, and
 * the runner's MPU region (the stack guard) keeps that map as background (PRIVDEFENA). */
#include <stdio.h>

#include "fdt_elf_loader.h"
#include "fdt_model_config.h" /* FDT_LIBRARY_QUERY: the entry symbol's name */
#include "fdt_model_source.h"

#ifndef FDT_ELF_LOAD_BYTES
#error "FDT_ELF_LOAD_BYTES (the image's load span) must be defined by the build"
#endif
#ifndef FDT_ELF_LOAD_ALIGN
#error "FDT_ELF_LOAD_ALIGN (the image's largest section alignment) must be defined by the build"
#endif
_Static_assert(FDT_ELF_LOAD_BYTES > 0, "FDT_ELF_LOAD_BYTES must be positive");
_Static_assert((FDT_ELF_LOAD_ALIGN & (FDT_ELF_LOAD_ALIGN - 1)) == 0, "FDT_ELF_LOAD_ALIGN must be a power of two");

#define FDT_STRINGIFY_(x) #x
#define FDT_STRINGIFY(x) FDT_STRINGIFY_(x)

extern const uint8_t fdt_model_elf_start[]; /* fdt_model_blob.s */
extern const uint8_t fdt_model_elf_end[];

static _Alignas(FDT_ELF_LOAD_ALIGN) uint8_t g_image_ram[FDT_ELF_LOAD_BYTES];

const char *fdt_model_open(fdt_model_t *model) {
  static char reason[96];
  fdt_elf_image_t image;
  size_t size = (size_t)(fdt_model_elf_end - fdt_model_elf_start);
  fdt_elf_status_t status = fdt_elf_load(fdt_model_elf_start, size, g_image_ram, sizeof g_image_ram,
                                         FDT_ELF_LOAD_ALIGN, &image);
  uintptr_t query = 0;
  if (status == FDT_ELF_OK) status = fdt_elf_lookup(&image, FDT_STRINGIFY(FDT_LIBRARY_QUERY), &query);
  if (status != FDT_ELF_OK) {
    snprintf(reason, sizeof reason, "elf loader: %s (code %d, detail %lu)", fdt_elf_status_string(status),
             (int)status, (unsigned long)image.detail);
    return reason;
  }
  /* The symbol's value keeps the Thumb bit; a call through the pointer (BLX) honours it. */
  model->query = (fdt_library_query_fn_t)query;
  model->loader_ram_bytes = image.ram_bytes;
  return NULL;
}
