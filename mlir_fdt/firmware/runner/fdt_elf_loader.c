/* A minimal ELF32 ARM shared-object loader for IREE's embedded executables; see fdt_elf_loader.h.
 *
 * Every multi-byte field is read with memcpy: the image may sit at any alignment in flash,
 * and a malformed image must give a status code, never a fault. Every address taken from
 * the image is checked against the loaded span before it is dereferenced.
 */
#include "fdt_elf_loader.h"

#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "fdt_elf_loader reads little-endian ELF fields natively"
#endif

enum { EHDR_SIZE = 52, PHDR_SIZE = 32, SYM_SIZE = 16, DYN_SIZE = 8, REL_SIZE = 8 };
enum { EM_ARM = 40, ET_DYN = 3, PT_LOAD = 1, PT_DYNAMIC = 2, SHN_UNDEF = 0, STB_WEAK = 2 };
enum {
  DT_NULL = 0, DT_PLTRELSZ = 2, DT_HASH = 4, DT_STRTAB = 5, DT_SYMTAB = 6, DT_RELA = 7, DT_STRSZ = 10,
  DT_SYMENT = 11, DT_REL = 17, DT_RELSZ = 18, DT_RELENT = 19, DT_PLTREL = 20, DT_JMPREL = 23
};
#define DT_GNU_HASH 0x6FFFFEF5u
enum {
  R_ARM_NONE = 0, R_ARM_ABS32 = 2, R_ARM_REL32 = 3, R_ARM_GLOB_DAT = 21, R_ARM_JUMP_SLOT = 22,
  R_ARM_RELATIVE = 23
};

static uint32_t rd32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

static uint16_t rd16(const uint8_t *p) {
  uint16_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

static fdt_elf_status_t fail(fdt_elf_image_t *image, fdt_elf_status_t status, uint32_t detail) {
  image->detail = detail;
  return status;
}

/* [vaddr, vaddr + size) lies within the loaded span (overflow-safe). */
static int in_image(const fdt_elf_image_t *image, uint32_t vaddr, uint32_t size) {
  uint32_t span = image->vaddr_end - image->vaddr_start;
  return vaddr >= image->vaddr_start && size <= span && vaddr - image->vaddr_start <= span - size;
}

static const uint8_t *at(const fdt_elf_image_t *image, uint32_t vaddr) {
  return (const uint8_t *)(image->bias + vaddr);
}

/* ---- symbols ----------------------------------------------------------------------------- */

static uint32_t sysv_hash(const char *name) {
  uint32_t h = 0;
  while (*name) {
    h = (h << 4) + (uint8_t)*name++;
    uint32_t g = h & 0xF0000000u;
    if (g) h ^= g >> 24;
    h &= ~g;
  }
  return h;
}

static uint32_t gnu_hash(const char *name) {
  uint32_t h = 5381u;
  while (*name) h = h * 33u + (uint8_t)*name++;
  return h;
}

/* GNU hash: uint32 nbuckets, symoffset, bloom words, bloom shift; bloom[]; buckets[]; chains[]. */
static int gnu_tables(const fdt_elf_image_t *image, const uint8_t **buckets, const uint8_t **chains,
                      uint32_t *nbuckets, uint32_t *symoffset) {
  uint32_t vaddr = (uint32_t)(image->gnu_hash - at(image, 0));
  *nbuckets = rd32(image->gnu_hash);
  *symoffset = rd32(image->gnu_hash + 4);
  uint32_t bloom = rd32(image->gnu_hash + 8);
  if (*nbuckets == 0 || bloom > 0x10000000u || *nbuckets > 0x10000000u) return 0;
  uint32_t buckets_vaddr = vaddr + 16u + 4u * bloom;
  if (!in_image(image, buckets_vaddr, 4u * *nbuckets)) return 0;
  *buckets = at(image, buckets_vaddr);
  *chains = *buckets + 4u * *nbuckets;
  return 1;
}

/* Chain entry i (symbol index i >= symoffset), or 1 (end of chain) when it lies outside the image. */
static uint32_t gnu_chain(const fdt_elf_image_t *image, const uint8_t *chains, uint32_t symoffset, uint32_t i) {
  uint32_t vaddr = (uint32_t)(chains - at(image, 0)) + 4u * (i - symoffset);
  return in_image(image, vaddr, 4) ? rd32(at(image, vaddr)) : 1u;
}

/* Number of .dynsym entries: DT_HASH's nchain, or the end of GNU hash's last chain. */
static uint32_t gnu_symbol_count(const fdt_elf_image_t *image) {
  const uint8_t *buckets, *chains;
  uint32_t nbuckets, symoffset, last = 0;
  if (!gnu_tables(image, &buckets, &chains, &nbuckets, &symoffset)) return 0;
  for (uint32_t b = 0; b < nbuckets; ++b)
    if (rd32(buckets + 4u * b) > last) last = rd32(buckets + 4u * b);
  if (last < symoffset) return symoffset;
  while (!(gnu_chain(image, chains, symoffset, last) & 1u)) ++last;
  return last + 1u;
}

static const uint8_t *symbol(const fdt_elf_image_t *image, uint32_t index) {
  return image->symtab + SYM_SIZE * index;
}

static int name_is(const fdt_elf_image_t *image, const uint8_t *sym, const char *name) {
  uint32_t offset = rd32(sym);
  if (offset >= image->strsz) return 0;
  size_t length = strlen(name);
  return length < image->strsz - offset && memcmp(image->strtab + offset, name, length + 1) == 0;
}

static int defines(const fdt_elf_image_t *image, uint32_t index, const char *name) {
  if (index >= image->symbol_count) return 0;
  const uint8_t *sym = symbol(image, index);
  return rd16(sym + 14) != SHN_UNDEF && name_is(image, sym, name);
}

static fdt_elf_status_t found(const fdt_elf_image_t *image, uint32_t index, uintptr_t *address) {
  *address = image->bias + rd32(symbol(image, index) + 4);
  return FDT_ELF_OK;
}

fdt_elf_status_t fdt_elf_lookup(const fdt_elf_image_t *image, const char *name, uintptr_t *address) {
  *address = 0;
  if (!image->symtab || !image->strtab || (!image->hash && !image->gnu_hash)) return FDT_ELF_ERR_NO_SYMBOLS;
  if (image->hash) {
    uint32_t nbucket = rd32(image->hash);
    const uint8_t *buckets = image->hash + 8, *chains = buckets + 4u * nbucket;
    uint32_t i = nbucket ? rd32(buckets + 4u * (sysv_hash(name) % nbucket)) : 0;
    /* At most symbol_count steps: a cyclic chain in a corrupt image cannot hang the loader. */
    for (uint32_t steps = 0; i != 0 && i < image->symbol_count && steps < image->symbol_count; ++steps) {
      if (defines(image, i, name)) return found(image, i, address);
      i = rd32(chains + 4u * i);
    }
    return FDT_ELF_ERR_NOT_FOUND;
  }
  const uint8_t *buckets, *chains;
  uint32_t nbuckets, symoffset, h = gnu_hash(name);
  if (!gnu_tables(image, &buckets, &chains, &nbuckets, &symoffset)) return FDT_ELF_ERR_NO_SYMBOLS;
  for (uint32_t i = rd32(buckets + 4u * (h % nbuckets)); i >= symoffset && i < image->symbol_count; ++i) {
    uint32_t entry = gnu_chain(image, chains, symoffset, i);
    if ((entry | 1u) == (h | 1u) && defines(image, i, name)) return found(image, i, address);
    if (entry & 1u) break;
  }
  return FDT_ELF_ERR_NOT_FOUND;
}

/* ---- relocations --------------------------------------------------------------------------- */

static fdt_elf_status_t symbol_address(fdt_elf_image_t *image, uint32_t index, uint32_t *value) {
  if (!image->symtab || index >= image->symbol_count) return fail(image, FDT_ELF_ERR_NO_SYMBOLS, index);
  const uint8_t *sym = symbol(image, index);
  if (rd16(sym + 14) == SHN_UNDEF) {
    if ((sym[12] >> 4) != STB_WEAK) return fail(image, FDT_ELF_ERR_UNDEFINED, index);
    *value = 0; /* an undefined weak symbol resolves to 0 */
    return FDT_ELF_OK;
  }
  *value = (uint32_t)image->bias + rd32(sym + 4); /* keeps the Thumb bit of functions */
  return FDT_ELF_OK;
}

static fdt_elf_status_t relocate(fdt_elf_image_t *image, uint32_t offset, uint32_t info) {
  uint32_t type = info & 0xFFu, s = 0;
  if (type == R_ARM_NONE) return FDT_ELF_OK;
  if (!in_image(image, offset, 4)) return fail(image, FDT_ELF_ERR_RELOC_OFFSET, offset);
  uint8_t *place = (uint8_t *)(image->bias + offset);
  uint32_t word = rd32(place), base = (uint32_t)image->bias;
  if (type != R_ARM_RELATIVE) {
    if (type != R_ARM_ABS32 && type != R_ARM_REL32 && type != R_ARM_GLOB_DAT && type != R_ARM_JUMP_SLOT)
      return fail(image, FDT_ELF_ERR_RELOC_TYPE, type);
    fdt_elf_status_t status = symbol_address(image, info >> 8, &s);
    if (status != FDT_ELF_OK) return status;
  }
  switch (type) {
    case R_ARM_RELATIVE: word += base; break;        /* B + A (addend in place) */
    case R_ARM_ABS32: word += s; break;              /* S + A */
    case R_ARM_REL32: word += s - (base + offset); break; /* S + A - P */
    default: word = s; break;                        /* GLOB_DAT, JUMP_SLOT: S, as glibc's ld.so */
  }
  memcpy(place, &word, sizeof word);
  return FDT_ELF_OK;
}

static fdt_elf_status_t relocate_table(fdt_elf_image_t *image, uint32_t vaddr, uint32_t size, uint32_t tag) {
  if (size == 0) return FDT_ELF_OK;
  if (size % REL_SIZE != 0 || !in_image(image, vaddr, size)) return fail(image, FDT_ELF_ERR_DYNAMIC, tag);
  for (uint32_t i = 0; i < size; i += REL_SIZE) {
    const uint8_t *rel = at(image, vaddr + i);
    fdt_elf_status_t status = relocate(image, rd32(rel), rd32(rel + 4));
    if (status != FDT_ELF_OK) return status;
    ++image->relocations;
  }
  return FDT_ELF_OK;
}

/* ---- loading --------------------------------------------------------------------------- */

typedef struct dynamic_t {
  uint32_t rel, relsz, relent, jmprel, pltrelsz, pltrel, symtab, syment, strtab, strsz, hash, gnu_hash, rela;
} dynamic_t;

static fdt_elf_status_t read_dynamic(fdt_elf_image_t *image, uint32_t vaddr, uint32_t size, dynamic_t *d) {
  memset(d, 0, sizeof *d);
  d->relent = REL_SIZE;
  d->syment = SYM_SIZE;
  d->pltrel = DT_REL;
  if (!in_image(image, vaddr, size)) return fail(image, FDT_ELF_ERR_DYNAMIC, 0);
  for (uint32_t i = 0; i + DYN_SIZE <= size; i += DYN_SIZE) {
    uint32_t tag = rd32(at(image, vaddr + i)), value = rd32(at(image, vaddr + i + 4));
    switch (tag) {
      case DT_NULL: return FDT_ELF_OK;
      case DT_REL: d->rel = value; break;
      case DT_RELSZ: d->relsz = value; break;
      case DT_RELENT: d->relent = value; break;
      case DT_JMPREL: d->jmprel = value; break;
      case DT_PLTRELSZ: d->pltrelsz = value; break;
      case DT_PLTREL: d->pltrel = value; break;
      case DT_SYMTAB: d->symtab = value; break;
      case DT_SYMENT: d->syment = value; break;
      case DT_STRTAB: d->strtab = value; break;
      case DT_STRSZ: d->strsz = value; break;
      case DT_HASH: d->hash = value; break;
      case DT_GNU_HASH: d->gnu_hash = value; break;
      case DT_RELA: d->rela = 1; break;
      default: break; /* FLAGS, RELCOUNT, TEXTREL, ...: nothing to do */
    }
  }
  return FDT_ELF_OK;
}

/* Symbol and string tables, and the hash table giving the symbol count. */
static fdt_elf_status_t find_symbols(fdt_elf_image_t *image, const dynamic_t *d) {
  if (d->strtab) {
    if (!in_image(image, d->strtab, d->strsz)) return fail(image, FDT_ELF_ERR_DYNAMIC, DT_STRTAB);
    image->strtab = (const char *)at(image, d->strtab);
    image->strsz = d->strsz;
  }
  if (d->hash) {
    if (!in_image(image, d->hash, 8)) return fail(image, FDT_ELF_ERR_DYNAMIC, DT_HASH);
    image->hash = at(image, d->hash);
    uint32_t nbucket = rd32(image->hash), nchain = rd32(image->hash + 4);
    if (nbucket > 0x10000000u || nchain > 0x10000000u || !in_image(image, d->hash, 8u + 4u * (nbucket + nchain)))
      return fail(image, FDT_ELF_ERR_DYNAMIC, DT_HASH);
    image->symbol_count = nchain;
  } else if (d->gnu_hash) {
    if (!in_image(image, d->gnu_hash, 16)) return fail(image, FDT_ELF_ERR_DYNAMIC, DT_GNU_HASH);
    image->gnu_hash = at(image, d->gnu_hash);
    image->symbol_count = gnu_symbol_count(image);
  }
  if (d->symtab) {
    if (d->syment != SYM_SIZE || image->symbol_count > 0x0FFFFFFFu ||
        !in_image(image, d->symtab, SYM_SIZE * image->symbol_count))
      return fail(image, FDT_ELF_ERR_DYNAMIC, DT_SYMTAB);
    image->symtab = at(image, d->symtab);
  }
  return FDT_ELF_OK;
}

/* The ELF header: ELF32, little-endian, EM_ARM, ET_DYN, program headers inside the file. */
static fdt_elf_status_t check_header(const uint8_t *f, size_t file_size, fdt_elf_image_t *image) {
  if (file_size < EHDR_SIZE) return fail(image, FDT_ELF_ERR_TRUNCATED, (uint32_t)file_size);
  if (memcmp(f, "\x7f" "ELF", 4) != 0) return fail(image, FDT_ELF_ERR_MAGIC, rd32(f));
  if (f[4] != 1 || f[5] != 1 || f[6] != 1) return fail(image, FDT_ELF_ERR_CLASS, f[4] | (uint32_t)f[5] << 8);
  if (rd16(f + 18) != EM_ARM) return fail(image, FDT_ELF_ERR_MACHINE, rd16(f + 18));
  if (rd16(f + 16) != ET_DYN) return fail(image, FDT_ELF_ERR_TYPE, rd16(f + 16));
  uint32_t phoff = rd32(f + 28), phentsize = rd16(f + 42), phnum = rd16(f + 44);
  if (phentsize != PHDR_SIZE) return fail(image, FDT_ELF_ERR_CLASS, phentsize);
  if (phoff > file_size || phnum * PHDR_SIZE > file_size - phoff)
    return fail(image, FDT_ELF_ERR_TRUNCATED, phoff + phnum * PHDR_SIZE);
  return FDT_ELF_OK;
}

fdt_elf_status_t fdt_elf_load(const void *file, size_t file_size, void *ram, size_t ram_size, size_t ram_align,
                              fdt_elf_image_t *image) {
  const uint8_t *f = (const uint8_t *)file;
  memset(image, 0, sizeof *image);
  fdt_elf_status_t status = check_header(f, file_size, image);
  if (status != FDT_ELF_OK) return status;
  const uint8_t *phdrs = f + rd32(f + 28);
  uint32_t phnum = rd16(f + 44), lo = UINT32_MAX, hi = 0, dyn_vaddr = 0, dyn_size = 0, loads = 0;
  int has_dynamic = 0;

  for (uint32_t i = 0; i < phnum; ++i) {
    const uint8_t *ph = phdrs + PHDR_SIZE * i;
    uint32_t type = rd32(ph), offset = rd32(ph + 4), vaddr = rd32(ph + 8), filesz = rd32(ph + 16),
             memsz = rd32(ph + 20);
    if (type == PT_DYNAMIC) {
      has_dynamic = 1;
      dyn_vaddr = vaddr;
      dyn_size = memsz;
    }
    if (type != PT_LOAD) continue;
    if (filesz > memsz || vaddr > UINT32_MAX - memsz || offset > file_size || filesz > file_size - offset)
      return fail(image, FDT_ELF_ERR_SEGMENT, i);
    if (vaddr < lo) lo = vaddr;
    if (vaddr + memsz > hi) hi = vaddr + memsz;
    ++loads;
  }
  if (loads == 0) return fail(image, FDT_ELF_ERR_NO_LOAD, 0);

  /* The buffer's start stands for `lo` rounded down to the alignment, so every section keeps
   * its alignment (the segments' page alignment does not matter to a copy). */
  uint32_t mask = (uint32_t)ram_align - 1u;
  if (ram_align == 0 || ram_align > 0x80000000u || (ram_align & mask) != 0 || ((uintptr_t)ram & mask) != 0)
    return fail(image, FDT_ELF_ERR_ALIGNMENT, (uint32_t)ram_align);
  uint32_t first = lo & ~mask, need = hi - first;
  if (need > ram_size) return fail(image, FDT_ELF_ERR_NO_ROOM, need);
  image->bias = (uintptr_t)ram - first;
  image->vaddr_start = lo;
  image->vaddr_end = hi;
  image->ram_bytes = need;

  memset(ram, 0, need); /* .bss, and the gaps between segments */
  for (uint32_t i = 0; i < phnum; ++i) {
    const uint8_t *ph = phdrs + PHDR_SIZE * i;
    if (rd32(ph) == PT_LOAD) memcpy((uint8_t *)(image->bias + rd32(ph + 8)), f + rd32(ph + 4), rd32(ph + 16));
  }

  if (!has_dynamic) return fail(image, FDT_ELF_ERR_NO_DYNAMIC, 0);
  dynamic_t d;
  if ((status = read_dynamic(image, dyn_vaddr, dyn_size, &d)) != FDT_ELF_OK) return status;
  if (d.rela || d.pltrel != DT_REL) return fail(image, FDT_ELF_ERR_RELA, d.rela ? DT_RELA : d.pltrel);
  if (d.relent != REL_SIZE) return fail(image, FDT_ELF_ERR_DYNAMIC, DT_RELENT);
  if ((status = find_symbols(image, &d)) != FDT_ELF_OK) return status;
  if (d.rel && (status = relocate_table(image, d.rel, d.relsz, DT_REL)) != FDT_ELF_OK) return status;
  if (d.jmprel && (status = relocate_table(image, d.jmprel, d.pltrelsz, DT_JMPREL)) != FDT_ELF_OK) return status;

#if defined(__ARM_ARCH)
  /* Code was written as data: complete the writes and refetch. Cortex-M4 has no caches to
   * maintain; on a core with an I-cache (M7), the loaded range would be invalidated here. */
  __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
  return FDT_ELF_OK;
}

const char *fdt_elf_status_string(fdt_elf_status_t status) {
  switch (status) {
    case FDT_ELF_OK: return "ok";
    case FDT_ELF_ERR_TRUNCATED: return "truncated ELF image";
    case FDT_ELF_ERR_MAGIC: return "not an ELF image (bad magic)";
    case FDT_ELF_ERR_CLASS: return "not an ELF32 little-endian image";
    case FDT_ELF_ERR_MACHINE: return "not an ARM image (e_machine)";
    case FDT_ELF_ERR_TYPE: return "not a shared object (e_type is not ET_DYN)";
    case FDT_ELF_ERR_NO_LOAD: return "no PT_LOAD segment";
    case FDT_ELF_ERR_SEGMENT: return "inconsistent PT_LOAD segment";
    case FDT_ELF_ERR_ALIGNMENT: return "RAM buffer misaligned for the image";
    case FDT_ELF_ERR_NO_ROOM: return "RAM buffer too small for the image";
    case FDT_ELF_ERR_NO_DYNAMIC: return "no PT_DYNAMIC segment";
    case FDT_ELF_ERR_DYNAMIC: return "malformed dynamic table";
    case FDT_ELF_ERR_RELA: return "DT_RELA relocations are not supported";
    case FDT_ELF_ERR_RELOC_TYPE: return "unsupported relocation type";
    case FDT_ELF_ERR_RELOC_OFFSET: return "relocation outside the image";
    case FDT_ELF_ERR_UNDEFINED: return "relocation against an undefined symbol";
    case FDT_ELF_ERR_NO_SYMBOLS: return "no dynamic symbol table";
    case FDT_ELF_ERR_NOT_FOUND: return "symbol not found";
  }
  return "unknown loader status";
}
