/* A minimal loader for IREE's embedded-ELF executables on bare metal.
 *
 * The image is an ELF32 little-endian ARM shared object (ET_DYN), position independent.
 * fdt_elf_load copies its PT_LOAD segments into a caller-provided RAM buffer, zero-fills
 * the rest (.bss, gaps), and applies its DT_REL relocations; fdt_elf_lookup then finds a
 * dynamic symbol through DT_HASH or DT_GNU_HASH. No section headers are needed, nothing is
 * imported, no memory is allocated. The buffer is sized at build time from the image's load
 * span (mlir_fdt/codegen/elf_image.py computes the same figure on the host).
 *
 * Plain C11 with no target assumptions, so the host tests build it too (there the relocated
 * 32-bit words hold truncated addresses; the image is never executed).
 */
#ifndef FDT_ELF_LOADER_H
#define FDT_ELF_LOADER_H

#include <stddef.h>
#include <stdint.h>

typedef enum fdt_elf_status_t {
  FDT_ELF_OK = 0,
  FDT_ELF_ERR_TRUNCATED = 1,     /* the file is shorter than its headers say */
  FDT_ELF_ERR_MAGIC = 2,         /* no \x7fELF magic */
  FDT_ELF_ERR_CLASS = 3,         /* not ELF32 little-endian, version 1 (detail: class | data << 8) */
  FDT_ELF_ERR_MACHINE = 4,       /* e_machine is not EM_ARM (detail: e_machine) */
  FDT_ELF_ERR_TYPE = 5,          /* e_type is not ET_DYN (detail: e_type) */
  FDT_ELF_ERR_NO_LOAD = 6,       /* no PT_LOAD segment */
  FDT_ELF_ERR_SEGMENT = 7,       /* a PT_LOAD is inconsistent: filesz > memsz, overflow (detail: index) */
  FDT_ELF_ERR_ALIGNMENT = 8,     /* the RAM buffer is not aligned as asked, or the alignment is no power of 2 */
  FDT_ELF_ERR_NO_ROOM = 9,       /* the RAM buffer is smaller than the image (detail: bytes needed) */
  FDT_ELF_ERR_NO_DYNAMIC = 10,   /* no PT_DYNAMIC segment */
  FDT_ELF_ERR_DYNAMIC = 11,      /* a dynamic table lies outside the image or has odd entry sizes (detail: tag) */
  FDT_ELF_ERR_RELA = 12,         /* DT_RELA relocations (ARM uses DT_REL) */
  FDT_ELF_ERR_RELOC_TYPE = 13,   /* a relocation type the loader does not apply (detail: type) */
  FDT_ELF_ERR_RELOC_OFFSET = 14, /* a relocation patches a word outside the image (detail: offset) */
  FDT_ELF_ERR_UNDEFINED = 15,    /* a relocation needs an undefined, non-weak symbol (detail: symbol index) */
  FDT_ELF_ERR_NO_SYMBOLS = 16,   /* no DT_SYMTAB, DT_STRTAB and DT_HASH/DT_GNU_HASH to look symbols up in */
  FDT_ELF_ERR_NOT_FOUND = 17,    /* the symbol is not defined by the image */
} fdt_elf_status_t;

/* A loaded image. Run-time address of virtual address v: bias + v. */
typedef struct fdt_elf_image_t {
  uintptr_t bias;
  uint32_t vaddr_start;     /* lowest loaded virtual address */
  uint32_t vaddr_end;       /* one past the highest */
  uint32_t ram_bytes;       /* bytes of the buffer the image occupies (span + offset within the alignment) */
  uint32_t relocations;     /* relocations applied (R_ARM_NONE included) */
  const uint8_t *symtab;    /* Elf32_Sym[symbol_count], in RAM */
  const char *strtab;
  uint32_t strsz;
  uint32_t symbol_count;
  const uint8_t *hash;      /* DT_HASH, or NULL */
  const uint8_t *gnu_hash;  /* DT_GNU_HASH, or NULL */
  uint32_t detail;          /* with an error: the offending value (see fdt_elf_status_t) */
} fdt_elf_image_t;

/* Load `file` (file_size bytes, any alignment) into `ram` (ram_size bytes, aligned to
 * `ram_align`, a power of two at least as large as any section alignment of the image).
 * On failure, image->detail says more. */
fdt_elf_status_t fdt_elf_load(const void *file, size_t file_size, void *ram, size_t ram_size, size_t ram_align,
                              fdt_elf_image_t *image);

/* Run-time address of the defined dynamic symbol `name` (functions keep their Thumb bit). */
fdt_elf_status_t fdt_elf_lookup(const fdt_elf_image_t *image, const char *name, uintptr_t *address);

/* One-line description of a status, for FDT_FAIL messages. */
const char *fdt_elf_status_string(fdt_elf_status_t status);

#endif /* FDT_ELF_LOADER_H */
