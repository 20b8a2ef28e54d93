# MlirFdt.cmake: compile neural-network models with mlir-fdt as part of a firmware build.
#
#   include(path/to/mlir-fdt/cmake/MlirFdt.cmake)
#   mlir_fdt_add_model(NAME kws SRC model.tflite TARGET cortex-m4
#                      [TEST_VECTOR] [FLAGS --planner optimal ...] [IREE_FLAGS --iree-flag-x ...]
#                      [RAM_BUDGET bytes])
#   target_link_libraries(my_firmware PRIVATE kws)
#
# At build time (add_custom_command, rerun when SRC or mlir-fdt changes) it runs
#   mlir-fdt compile SRC --target TARGET --library-name NAME -o <binary dir>/mlir_fdt/NAME [FLAGS]
#            [--iree-flag=F for each IREE_FLAGS entry] [--run host when TEST_VECTOR; --run qemu when
#            FLAGS hold --stream-input, which the host cannot run]
# and makes a STATIC library target NAME holding the model object (the IREE static library:
# one global symbol, NAME_library_query), whose INTERFACE include directories give
#   NAME_config.h       arena size and alignment, input/output offsets and sizes (from report.json),
#                       the query function's declaration (types from fdt_executable_abi.h); with
#                       FLAGS --stream-input, the row callback the firmware defines instead of writing
#                       the input into the arena (NAME_read_input_row, NAME_INPUT0_ROW_BYTES/_ROWS);
#   NAME_test_vector.h  with TEST_VECTOR: NAME_test_input[] and NAME_test_expected[], the seeded
#                       input and the reference (TFLite Micro) output mlir-fdt checked on the host;
#   fdt_executable_abi.h  our declaration of IREE's executable-library ABI (the runner's).
# RAM_BUDGET is passed on as mlir-fdt's --ram-budget (the search picks the fewest MACs that fit;
# the build fails naming the smallest arena found when nothing fits); an mlir-fdt without that
# option is a configure error, so a budget is never silently ignored.
#
# The firmware must be built for the same core as the model: configure with
# cmake/arm-none-eabi.cmake as the toolchain file and, before project(),
#   mlir_fdt_use_target(<target>)   # sets FDT_CPU / FDT_FPU / FDT_FLOAT_ABI for the toolchain file
# mlir_fdt_add_model checks that they agree with its TARGET. mlir_fdt_target_info(<target> <prefix>)
# gives the board's linker script, the runner directory (startup.c) and the QEMU command line.
# Every fact comes from `mlir-fdt targets --json`, i.e. mlir_fdt/targets.py.
#
# MLIR_FDT_EXECUTABLE (cache): the mlir-fdt program; default: found on PATH or in the
# repository's .venv/bin.

include_guard(GLOBAL)
cmake_minimum_required(VERSION 3.20)  # string(JSON), cmake_path

set(_MLIR_FDT_CMAKE_DIR "${CMAKE_CURRENT_LIST_DIR}")
find_program(MLIR_FDT_EXECUTABLE mlir-fdt
  HINTS "${CMAKE_CURRENT_LIST_DIR}/../.venv/bin"
  DOC "The mlir-fdt compiler driver")

function(_mlir_fdt_require_executable)
  if(NOT MLIR_FDT_EXECUTABLE)
    message(FATAL_ERROR "mlir-fdt was not found: install mlir-fdt (scripts/setup.sh creates .venv/bin/mlir-fdt) "
                        "or configure with -DMLIR_FDT_EXECUTABLE=/path/to/mlir-fdt")
  endif()
endfunction()

# Sets <prefix>_JSON to the `mlir-fdt targets --json` object of <target> (cached per run).
function(_mlir_fdt_target_json target prefix)
  _mlir_fdt_require_executable()
  get_property(_json GLOBAL PROPERTY "_MLIR_FDT_TARGET_JSON_${target}")
  if(NOT _json)
    execute_process(COMMAND "${MLIR_FDT_EXECUTABLE}" targets "${target}" --json
                    OUTPUT_VARIABLE _out ERROR_VARIABLE _err RESULT_VARIABLE _rc)
    if(NOT _rc EQUAL 0)
      string(STRIP "${_err}" _err)
      message(FATAL_ERROR "mlir-fdt does not know target '${target}': ${_err}")
    endif()
    string(JSON _json GET "${_out}" 0)
    set_property(GLOBAL PROPERTY "_MLIR_FDT_TARGET_JSON_${target}" "${_json}")
  endif()
  set(${prefix}_JSON "${_json}" PARENT_SCOPE)
endfunction()

# mlir_fdt_use_target(<target>): before project(), make cmake/arm-none-eabi.cmake build for <target>.
macro(mlir_fdt_use_target target)
  _mlir_fdt_target_json("${target}" _mlir_fdt_use)
  string(JSON _mlir_fdt_cpu GET "${_mlir_fdt_use_JSON}" gcc cpu)
  string(JSON _mlir_fdt_fpu GET "${_mlir_fdt_use_JSON}" gcc fpu)
  string(JSON _mlir_fdt_abi GET "${_mlir_fdt_use_JSON}" gcc float_abi)
  set(FDT_CPU "${_mlir_fdt_cpu}" CACHE STRING "-mcpu for the firmware (from mlir-fdt target ${target})" FORCE)
  set(FDT_FPU "${_mlir_fdt_fpu}" CACHE STRING "-mfpu for the firmware (from mlir-fdt target ${target})" FORCE)
  set(FDT_FLOAT_ABI "${_mlir_fdt_abi}" CACHE STRING "-mfloat-abi (from mlir-fdt target ${target})" FORCE)
endmacro()

# mlir_fdt_target_info(<target> <prefix>): sets <prefix>_GCC_CPU, _GCC_FPU, _FLOAT_ABI and, when
# QEMU has a board for it (<prefix>_HAS_BOARD), _LINKER_SCRIPT, _RUNNER_DIR and _QEMU_ARGS (a list:
# -M machine -cpu cpu [...]).
function(mlir_fdt_target_info target prefix)
  _mlir_fdt_target_json("${target}" _info)
  string(JSON _v GET "${_info_JSON}" gcc cpu)
  set(${prefix}_GCC_CPU "${_v}" PARENT_SCOPE)
  string(JSON _v GET "${_info_JSON}" gcc fpu)
  set(${prefix}_GCC_FPU "${_v}" PARENT_SCOPE)
  string(JSON _v GET "${_info_JSON}" gcc float_abi)
  set(${prefix}_FLOAT_ABI "${_v}" PARENT_SCOPE)
  string(JSON _type TYPE "${_info_JSON}" board)
  if(_type STREQUAL "NULL")
    set(${prefix}_HAS_BOARD FALSE PARENT_SCOPE)
    return()
  endif()
  set(${prefix}_HAS_BOARD TRUE PARENT_SCOPE)
  string(JSON _v GET "${_info_JSON}" board linker_script)
  set(${prefix}_LINKER_SCRIPT "${_v}" PARENT_SCOPE)
  string(JSON _v GET "${_info_JSON}" board runner_dir)
  set(${prefix}_RUNNER_DIR "${_v}" PARENT_SCOPE)
  string(JSON _n LENGTH "${_info_JSON}" board qemu_args)
  set(_args "")
  math(EXPR _last "${_n} - 1")
  foreach(_i RANGE ${_last})
    string(JSON _v GET "${_info_JSON}" board qemu_args ${_i})
    list(APPEND _args "${_v}")
  endforeach()
  set(${prefix}_QEMU_ARGS "${_args}" PARENT_SCOPE)
endfunction()

# True in <out> when `mlir-fdt compile --help` lists <option>.
function(_mlir_fdt_compile_has_option option out)
  get_property(_help GLOBAL PROPERTY _MLIR_FDT_COMPILE_HELP)
  if(NOT _help)
    execute_process(COMMAND "${MLIR_FDT_EXECUTABLE}" compile --help OUTPUT_VARIABLE _help ERROR_QUIET)
    set_property(GLOBAL PROPERTY _MLIR_FDT_COMPILE_HELP "${_help}")
  endif()
  string(FIND "${_help}" "${option}" _at)
  if(_at EQUAL -1)
    set(${out} FALSE PARENT_SCOPE)
  else()
    set(${out} TRUE PARENT_SCOPE)
  endif()
endfunction()

function(mlir_fdt_add_model)
  cmake_parse_arguments(PARSE_ARGV 0 ARG "TEST_VECTOR" "NAME;SRC;TARGET;RAM_BUDGET" "FLAGS;IREE_FLAGS")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "mlir_fdt_add_model: unknown arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  foreach(_required NAME SRC TARGET)
    if(NOT ARG_${_required})
      message(FATAL_ERROR "mlir_fdt_add_model: ${_required} is required")
    endif()
  endforeach()
  if(NOT ARG_NAME MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "mlir_fdt_add_model: NAME '${ARG_NAME}' must be a C identifier (it prefixes the symbols)")
  endif()
  cmake_path(ABSOLUTE_PATH ARG_SRC BASE_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}" NORMALIZE OUTPUT_VARIABLE _src)
  if(NOT EXISTS "${_src}")
    message(FATAL_ERROR "mlir_fdt_add_model(${ARG_NAME}): model file ${_src} does not exist")
  endif()
  foreach(_flag IN LISTS ARG_FLAGS)
    if(_flag MATCHES "^(-o|--output|--target|--library-name|--format)(=.*)?$")
      message(FATAL_ERROR "mlir_fdt_add_model(${ARG_NAME}): FLAGS may not contain ${_flag}: the function "
                          "chooses the output directory, --target TARGET, --library-name NAME and the static format")
    endif()
  endforeach()
  _mlir_fdt_require_executable()

  # The firmware's compiler flags must match the model's core (the linker rejects mixed float ABIs).
  mlir_fdt_target_info("${ARG_TARGET}" _t)
  if(DEFINED FDT_CPU AND (NOT FDT_CPU STREQUAL _t_GCC_CPU OR NOT FDT_FPU STREQUAL _t_GCC_FPU
                          OR NOT FDT_FLOAT_ABI STREQUAL _t_FLOAT_ABI))
    message(FATAL_ERROR "mlir_fdt_add_model(${ARG_NAME}): TARGET ${ARG_TARGET} needs -mcpu=${_t_GCC_CPU} "
                        "-mfpu=${_t_GCC_FPU} -mfloat-abi=${_t_FLOAT_ABI}, but the toolchain builds for "
                        "-mcpu=${FDT_CPU} -mfpu=${FDT_FPU} -mfloat-abi=${FDT_FLOAT_ABI}; call "
                        "mlir_fdt_use_target(${ARG_TARGET}) before project() in a fresh build directory")
  endif()

  set(_args compile "${_src}" --target "${ARG_TARGET}" --library-name "${ARG_NAME}")
  if(DEFINED ARG_RAM_BUDGET)
    _mlir_fdt_compile_has_option("--ram-budget" _has_budget)
    if(NOT _has_budget)
      message(FATAL_ERROR "mlir_fdt_add_model(${ARG_NAME}): this mlir-fdt has no "
                          "--ram-budget; update mlir-fdt or remove RAM_BUDGET")
    endif()
    list(APPEND _args --ram-budget "${ARG_RAM_BUDGET}")
  endif()
  if(ARG_TEST_VECTOR AND "--stream-input" IN_LIST ARG_FLAGS)
    # the host (iree.runtime) cannot call a row callback: the seeded input is checked under QEMU
    list(APPEND _args --run qemu --checks 1)
  elseif(ARG_TEST_VECTOR)
    list(APPEND _args --run host)
  endif()
  list(APPEND _args ${ARG_FLAGS})
  foreach(_flag IN LISTS ARG_IREE_FLAGS)
    list(APPEND _args "--iree-flag=${_flag}")
  endforeach()

  set(_out "${CMAKE_CURRENT_BINARY_DIR}/mlir_fdt/${ARG_NAME}")
  set(_object "${_out}/${ARG_NAME}.o")
  set(_outputs "${_object}" "${_out}/${ARG_NAME}.h" "${_out}/report.json" "${_out}/${ARG_NAME}_config.h")
  set(_vector_args "")
  if(ARG_TEST_VECTOR)
    list(APPEND _outputs "${_out}/${ARG_NAME}_test_vector.h")
    set(_vector_args -DTEST_VECTOR=ON)
  endif()
  add_custom_command(
    OUTPUT ${_outputs}
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${_out}"
    COMMAND "${MLIR_FDT_EXECUTABLE}" ${_args} -o "${_out}"
    COMMAND "${CMAKE_COMMAND}" -DOUT_DIR=${_out} -DNAME=${ARG_NAME} ${_vector_args}
            -P "${_MLIR_FDT_CMAKE_DIR}/MlirFdtHeaders.cmake"
    DEPENDS "${_src}" "${MLIR_FDT_EXECUTABLE}" "${_MLIR_FDT_CMAKE_DIR}/MlirFdtHeaders.cmake"
    COMMENT "mlir-fdt: compiling ${ARG_NAME} (${_src}) for ${ARG_TARGET}"
    VERBATIM)

  set_source_files_properties("${_object}" PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  add_library(${ARG_NAME} STATIC "${_object}")
  set_target_properties(${ARG_NAME} PROPERTIES LINKER_LANGUAGE C)
  # The headers are produced by the same command as the object; a target of its own makes every
  # consumer's compilation wait for them.
  add_custom_target(${ARG_NAME}_mlir_fdt DEPENDS ${_outputs})
  add_dependencies(${ARG_NAME} ${ARG_NAME}_mlir_fdt)
  set(_runner_dir "${_MLIR_FDT_CMAKE_DIR}/../mlir_fdt/firmware/runner")
  cmake_path(NORMAL_PATH _runner_dir)
  target_include_directories(${ARG_NAME} INTERFACE "${_out}" "${_runner_dir}")
  # Soft-float and libm helpers (__aeabi_*, floorf, ...) the object may call.
  target_link_libraries(${ARG_NAME} INTERFACE m gcc)
  set_target_properties(${ARG_NAME} PROPERTIES
    MLIR_FDT_TARGET "${ARG_TARGET}" MLIR_FDT_REPORT "${_out}/report.json" MLIR_FDT_OUTPUT_DIR "${_out}")
endfunction()
