# CMake toolchain file for bare-metal Arm (arm-none-eabi-gcc + newlib).
#   cmake -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake \
#         [-DFDT_CPU=cortex-m4 -DFDT_FPU=fpv4-sp-d16 -DFDT_FLOAT_ABI=hard]
# The CPU/FPU/float-ABI must match what iree-compile targeted for the model object
# (thumbv7em, cortex-m4, +vfp4d16sp, aapcs-vfp): the linker rejects mixed VFP calling conventions.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(FDT_CPU "cortex-m4" CACHE STRING "-mcpu for the firmware")
set(FDT_FPU "fpv4-sp-d16" CACHE STRING "-mfpu for the firmware (\"none\" for no FPU)")
set(FDT_FLOAT_ABI "hard" CACHE STRING "-mfloat-abi for the firmware (hard, softfp, soft)")

# No executables can run on the host: test the compiler by building a static library.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
# try_compile projects get a fresh cache: forward our choices to them.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES FDT_CPU FDT_FPU FDT_FLOAT_ABI)

set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
set(CMAKE_OBJCOPY arm-none-eabi-objcopy CACHE FILEPATH "objcopy for the target")
set(CMAKE_SIZE arm-none-eabi-size CACHE FILEPATH "size for the target")

# Kept as a list too: CMakeLists.txt adds it to the target, so a user -DCMAKE_C_FLAGS=...
# (which replaces the *_INIT values below) cannot silently drop the architecture.
set(FDT_ARCH_FLAGS -mcpu=${FDT_CPU} -mthumb -mfloat-abi=${FDT_FLOAT_ABI})
if(FDT_FPU AND NOT FDT_FPU STREQUAL "none" AND NOT FDT_FLOAT_ABI STREQUAL "soft")
  list(APPEND FDT_ARCH_FLAGS -mfpu=${FDT_FPU})
endif()
list(JOIN FDT_ARCH_FLAGS " " _fdt_arch_flags)
set(CMAKE_C_FLAGS_INIT "${_fdt_arch_flags}")
set(CMAKE_ASM_FLAGS_INIT "${_fdt_arch_flags}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${_fdt_arch_flags}")

# Look for libraries and headers only in the target environment, for programs only on the host.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
