# How the runner gets its model (FDT_MODEL_FORMAT), included by the top-level CMakeLists.txt:
#   static        FDT_MODEL_OBJECT: iree-compile's static library object, linked in (default)
#   embedded-elf  FDT_MODEL_ELF: IREE's embedded ELF (.so), stored in flash as bytes and loaded
#                 into a static RAM buffer of FDT_MODEL_ELF_LOAD_BYTES bytes aligned to
#                 FDT_MODEL_ELF_LOAD_ALIGN at start-up (mlir_fdt/codegen/elf_image.py measures both)
# fdt_add_model_sources(<target>) adds the matching sources to the runner.
set(FDT_MODEL_FORMAT "static" CACHE STRING "Model format: static (library object) or embedded-elf (loaded ELF)")
set_property(CACHE FDT_MODEL_FORMAT PROPERTY STRINGS static embedded-elf)
set(FDT_MODEL_ELF "" CACHE FILEPATH "embedded-elf: the model's embedded ELF from iree-compile")
set(FDT_MODEL_ELF_LOAD_BYTES 0 CACHE STRING "embedded-elf: bytes of RAM the loaded image takes")
set(FDT_MODEL_ELF_LOAD_ALIGN 64 CACHE STRING "embedded-elf: alignment of that RAM (largest section alignment)")

if(FDT_MODEL_FORMAT STREQUAL "static")
  if(NOT FDT_MODEL_OBJECT OR NOT EXISTS "${FDT_MODEL_OBJECT}")
    message(FATAL_ERROR "FDT_MODEL_OBJECT must name the model object file (got '${FDT_MODEL_OBJECT}')")
  endif()
elseif(FDT_MODEL_FORMAT STREQUAL "embedded-elf")
  if(NOT FDT_MODEL_ELF OR NOT EXISTS "${FDT_MODEL_ELF}")
    message(FATAL_ERROR "FDT_MODEL_ELF must name the model's embedded ELF (got '${FDT_MODEL_ELF}')")
  endif()
  if(FDT_MODEL_ELF MATCHES "[\"\\\\\n]")
    message(FATAL_ERROR "FDT_MODEL_ELF must not contain quotes, backslashes or newlines (got '${FDT_MODEL_ELF}')")
  endif()
  if(NOT FDT_MODEL_ELF_LOAD_BYTES MATCHES "^[1-9][0-9]*$")
    message(FATAL_ERROR "FDT_MODEL_ELF_LOAD_BYTES must be a positive integer (got '${FDT_MODEL_ELF_LOAD_BYTES}')")
  endif()
  if(NOT FDT_MODEL_ELF_LOAD_ALIGN MATCHES "^[1-9][0-9]*$")
    message(FATAL_ERROR "FDT_MODEL_ELF_LOAD_ALIGN must be a positive power of two (got '${FDT_MODEL_ELF_LOAD_ALIGN}')")
  endif()
  enable_language(ASM)  # the .incbin that puts the image into flash
else()
  message(FATAL_ERROR "FDT_MODEL_FORMAT must be static or embedded-elf (got '${FDT_MODEL_FORMAT}')")
endif()

function(fdt_add_model_sources target)
  if(FDT_MODEL_FORMAT STREQUAL "static")
    set_source_files_properties("${FDT_MODEL_OBJECT}" PROPERTIES EXTERNAL_OBJECT TRUE)
    target_sources(${target} PRIVATE "${FDT_RUNNER_DIR}/fdt_model_static.c" "${FDT_MODEL_OBJECT}")
  else()
    set(_blob "${CMAKE_CURRENT_BINARY_DIR}/fdt_model_blob.s")
    configure_file("${FDT_RUNNER_DIR}/fdt_model_blob.s.in" "${_blob}" @ONLY)
    # .incbin is invisible to CMake's dependency scanning: rebuild when the image changes.
    set_source_files_properties("${_blob}" PROPERTIES OBJECT_DEPENDS "${FDT_MODEL_ELF}")
    target_sources(${target} PRIVATE "${FDT_RUNNER_DIR}/fdt_model_elf.c" "${FDT_RUNNER_DIR}/fdt_elf_loader.c"
                   "${_blob}")
    set_source_files_properties("${FDT_RUNNER_DIR}/fdt_model_elf.c" PROPERTIES COMPILE_DEFINITIONS
      "FDT_ELF_LOAD_BYTES=${FDT_MODEL_ELF_LOAD_BYTES}u;FDT_ELF_LOAD_ALIGN=${FDT_MODEL_ELF_LOAD_ALIGN}u")
  endif()
endfunction()
