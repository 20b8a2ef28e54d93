/* Our own declarations of IREE's HAL executable library ABI, version 0 ("0.6").
 *
 * IREE's llvm-cpu backend emits each executable as a library: a query function
 * returning a table of dispatch functions. No IREE runtime sources exist in this
 * project, so the layout is written from docs/iree-executable-abi.md (offsets
 * measured for ARM32/ILP32). The _Static_asserts below make a wrong layout a
 * build error instead of a silent miscall on the target.
 */
#ifndef FDT_EXECUTABLE_ABI_H
#define FDT_EXECUTABLE_ABI_H

#include <stddef.h>
#include <stdint.h>

/* The query function returns the library only when asked for exactly this version. */
#define FDT_EXECUTABLE_LIBRARY_VERSION_0_6 0x00000006u

/* Size of one workgroup-local memory page (dispatch_attrs.local_memory_pages). */
#define FDT_LOCAL_MEMORY_PAGE_BYTES 4096u

typedef struct fdt_library_header_t {
  uint32_t version;
  const char *name;
  uint32_t features;
  uint32_t sanitizer;
} fdt_library_header_t;

typedef struct fdt_processor_v0_t {
  uint64_t data[8];
} fdt_processor_v0_t;

/* Zero-filled is valid when the library has no imports. */
typedef struct fdt_environment_v0_t {
  const uint32_t *constants;
  void *import_thunk;
  const void *const *import_funcs;
  const void *const *import_contexts;
  fdt_processor_v0_t processor;
} fdt_environment_v0_t;

typedef struct fdt_dispatch_state_v0_t {
  uint32_t workgroup_size_x;
  uint32_t workgroup_size_y;
  uint16_t workgroup_size_z;
  uint16_t constant_count;
  uint32_t workgroup_count_x;
  uint32_t workgroup_count_y;
  uint16_t workgroup_count_z;
  uint8_t max_concurrency;
  uint8_t binding_count;
  const uint32_t *constants;
  void *const *binding_ptrs;
  const size_t *binding_lengths;
} fdt_dispatch_state_v0_t;

typedef struct fdt_workgroup_state_v0_t {
  uint32_t workgroup_id_x;
  uint32_t workgroup_id_y;
  uint16_t workgroup_id_z;
  uint16_t reserved;
  uint32_t processor_id;
  void *local_memory;
  uint32_t local_memory_size;
} fdt_workgroup_state_v0_t;

/* Returns 0 on success. */
typedef int (*fdt_dispatch_fn_t)(const fdt_environment_v0_t *environment,
                                 const fdt_dispatch_state_v0_t *dispatch_state,
                                 const fdt_workgroup_state_v0_t *workgroup_state);

typedef struct fdt_dispatch_attrs_v0_t {
  uint64_t flags;
  uint16_t local_memory_pages; /* 4 KiB pages of workgroup-local scratch */
  uint8_t constant_count;
  uint8_t binding_count;
  uint32_t workgroup_size_x;
  uint32_t workgroup_size_y;
  uint16_t workgroup_size_z;
  uint16_t parameter_count;
  uint64_t reserved[5];
} fdt_dispatch_attrs_v0_t;

typedef struct fdt_import_table_v0_t {
  uint32_t count;
  const char *const *symbols;
} fdt_import_table_v0_t;

/* Everything after `attrs` is metadata the runner never reads; kept opaque. */
typedef struct fdt_export_table_v0_t {
  uint32_t count;
  const fdt_dispatch_fn_t *ptrs;
  const fdt_dispatch_attrs_v0_t *attrs;
  const void *params;
  const void *occupancy;
  const char *const *names;
  const void *tags;
  const void *parameter_names;
  const void *source_locations;
  const void *stage_locations;
} fdt_export_table_v0_t;

typedef struct fdt_constant_table_v0_t {
  uint32_t count;
} fdt_constant_table_v0_t;

typedef struct fdt_source_file_table_v0_t {
  uint32_t count;
  const void *files;
} fdt_source_file_table_v0_t;

typedef struct fdt_library_v0_t {
  const fdt_library_header_t *header;
  fdt_import_table_v0_t imports;
  fdt_export_table_v0_t exports;
  fdt_constant_table_v0_t constants;
  fdt_source_file_table_v0_t sources;
} fdt_library_v0_t;

/* `const header_t** <name>_library_query(uint32_t max_version, const environment_v0_t*)`:
 * the returned pointer points at the library's first field (its header pointer). */
typedef const fdt_library_header_t *const *(*fdt_library_query_fn_t)(
    uint32_t max_version, const fdt_environment_v0_t *environment);

/* Layout checks (ARM32 values from the ABI doc). Only meaningful for ILP32. */
#if UINTPTR_MAX == 0xFFFFFFFFu
#define FDT_ABI_CHECK(type, member, off) \
  _Static_assert(offsetof(type, member) == (off), #type "." #member " offset")

_Static_assert(sizeof(fdt_library_header_t) == 16, "header_t size");
FDT_ABI_CHECK(fdt_library_header_t, version, 0);
FDT_ABI_CHECK(fdt_library_header_t, name, 4);
FDT_ABI_CHECK(fdt_library_header_t, features, 8);
FDT_ABI_CHECK(fdt_library_header_t, sanitizer, 12);

_Static_assert(sizeof(fdt_export_table_v0_t) == 40, "export table size");
FDT_ABI_CHECK(fdt_export_table_v0_t, count, 0);
FDT_ABI_CHECK(fdt_export_table_v0_t, ptrs, 4);
FDT_ABI_CHECK(fdt_export_table_v0_t, attrs, 8);
FDT_ABI_CHECK(fdt_export_table_v0_t, names, 20);
FDT_ABI_CHECK(fdt_export_table_v0_t, stage_locations, 36);

_Static_assert(sizeof(fdt_library_v0_t) == 64, "library_v0_t size");
FDT_ABI_CHECK(fdt_library_v0_t, header, 0);
FDT_ABI_CHECK(fdt_library_v0_t, imports, 4);
FDT_ABI_CHECK(fdt_library_v0_t, exports, 12);
FDT_ABI_CHECK(fdt_library_v0_t, constants, 52);
FDT_ABI_CHECK(fdt_library_v0_t, sources, 56);

_Static_assert(sizeof(fdt_dispatch_attrs_v0_t) == 64, "dispatch_attrs_v0_t size");
FDT_ABI_CHECK(fdt_dispatch_attrs_v0_t, flags, 0);
FDT_ABI_CHECK(fdt_dispatch_attrs_v0_t, local_memory_pages, 8);
FDT_ABI_CHECK(fdt_dispatch_attrs_v0_t, constant_count, 10);
FDT_ABI_CHECK(fdt_dispatch_attrs_v0_t, binding_count, 11);
FDT_ABI_CHECK(fdt_dispatch_attrs_v0_t, workgroup_size_x, 12);
FDT_ABI_CHECK(fdt_dispatch_attrs_v0_t, workgroup_size_y, 16);
FDT_ABI_CHECK(fdt_dispatch_attrs_v0_t, workgroup_size_z, 20);
FDT_ABI_CHECK(fdt_dispatch_attrs_v0_t, parameter_count, 22);
FDT_ABI_CHECK(fdt_dispatch_attrs_v0_t, reserved, 24);

_Static_assert(sizeof(fdt_environment_v0_t) == 80, "environment_v0_t size");
FDT_ABI_CHECK(fdt_environment_v0_t, constants, 0);
FDT_ABI_CHECK(fdt_environment_v0_t, import_thunk, 4);
FDT_ABI_CHECK(fdt_environment_v0_t, import_funcs, 8);
FDT_ABI_CHECK(fdt_environment_v0_t, import_contexts, 12);
FDT_ABI_CHECK(fdt_environment_v0_t, processor, 16);

_Static_assert(sizeof(fdt_dispatch_state_v0_t) == 36, "dispatch_state_v0_t size");
FDT_ABI_CHECK(fdt_dispatch_state_v0_t, workgroup_size_x, 0);
FDT_ABI_CHECK(fdt_dispatch_state_v0_t, workgroup_size_y, 4);
FDT_ABI_CHECK(fdt_dispatch_state_v0_t, workgroup_size_z, 8);
FDT_ABI_CHECK(fdt_dispatch_state_v0_t, constant_count, 10);
FDT_ABI_CHECK(fdt_dispatch_state_v0_t, workgroup_count_x, 12);
FDT_ABI_CHECK(fdt_dispatch_state_v0_t, workgroup_count_y, 16);
FDT_ABI_CHECK(fdt_dispatch_state_v0_t, workgroup_count_z, 20);
FDT_ABI_CHECK(fdt_dispatch_state_v0_t, max_concurrency, 22);
FDT_ABI_CHECK(fdt_dispatch_state_v0_t, binding_count, 23);
FDT_ABI_CHECK(fdt_dispatch_state_v0_t, constants, 24);
FDT_ABI_CHECK(fdt_dispatch_state_v0_t, binding_ptrs, 28);
FDT_ABI_CHECK(fdt_dispatch_state_v0_t, binding_lengths, 32);

_Static_assert(sizeof(fdt_workgroup_state_v0_t) == 24, "workgroup_state_v0_t size");
FDT_ABI_CHECK(fdt_workgroup_state_v0_t, workgroup_id_x, 0);
FDT_ABI_CHECK(fdt_workgroup_state_v0_t, workgroup_id_y, 4);
FDT_ABI_CHECK(fdt_workgroup_state_v0_t, workgroup_id_z, 8);
FDT_ABI_CHECK(fdt_workgroup_state_v0_t, reserved, 10);
FDT_ABI_CHECK(fdt_workgroup_state_v0_t, processor_id, 12);
FDT_ABI_CHECK(fdt_workgroup_state_v0_t, local_memory, 16);
FDT_ABI_CHECK(fdt_workgroup_state_v0_t, local_memory_size, 20);

#undef FDT_ABI_CHECK
#endif /* ILP32 */

#endif /* FDT_EXECUTABLE_ABI_H */
