# LUCID_CUDA=EMULATE: the CUDA backend's own code, run on the CPU
# (tests/cuda_emu/README.md). Needs the CUDA toolkit's headers (for the API's
# types and signatures), not its compiler or a GPU.
#
# Sets LUCID_WITH_CUDA and LUCID_CUDA_EMULATED, and defines
#   lucid_cuda_emulate(<target> <.cu files>)
# which rewrites each .cu file into C++ (cuda_emu_rewrite), compiles it into
# <target> with cuda_emu.h force-included, and links the fake runtime, cuBLAS
# and cuDNN (lucid_cuda_emu) in place of the real ones.
set(LUCID_CUDA_EMU_DIR ${CMAKE_CURRENT_LIST_DIR})
if(LUCID_SANITIZE OR LUCID_TSAN)
  # Kernel threads are fibers that switch stacks behind the sanitizers' back.
  message(FATAL_ERROR "LUCID_CUDA=EMULATE cannot be combined with LUCID_SANITIZE or LUCID_TSAN")
endif()
if(NOT DEFINED CUDAToolkit_ROOT AND EXISTS /usr/local/cuda/include/cuda_runtime_api.h)
  set(CUDAToolkit_ROOT /usr/local/cuda)
endif()
find_package(CUDAToolkit REQUIRED)
find_path(CUDNN_INCLUDE_DIR cudnn.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
if(NOT CUDNN_INCLUDE_DIR)
  message(FATAL_ERROR "LUCID_CUDA=EMULATE needs cudnn.h (the cuDNN headers)")
endif()
set(LUCID_WITH_CUDA ON)
set(LUCID_CUDA_EMULATED ON)
message(STATUS "lucid: CUDA backend EMULATED on the CPU (tests/cuda_emu; CUDA headers ${CUDAToolkit_INCLUDE_DIRS})")

add_executable(cuda_emu_rewrite ${LUCID_CUDA_EMU_DIR}/rewrite.cpp)

# The fake CUDA runtime, cuBLAS, cuDNN and the kernel launcher.
add_library(lucid_cuda_emu STATIC
  ${LUCID_CUDA_EMU_DIR}/cublas.cpp
  ${LUCID_CUDA_EMU_DIR}/cudart.cpp
  ${LUCID_CUDA_EMU_DIR}/cudnn.cpp
  ${LUCID_CUDA_EMU_DIR}/device_memory.cpp
  ${LUCID_CUDA_EMU_DIR}/launch.cpp)

target_include_directories(lucid_cuda_emu PUBLIC
  $<BUILD_INTERFACE:${LUCID_CUDA_EMU_DIR}/include>
  $<BUILD_INTERFACE:${LUCID_CUDA_EMU_DIR}>
  $<BUILD_INTERFACE:${CUDAToolkit_INCLUDE_DIRS}>
  $<BUILD_INTERFACE:${CUDNN_INCLUDE_DIR}>)
target_link_libraries(lucid_cuda_emu PUBLIC Threads::Threads)
target_compile_options(lucid_cuda_emu PRIVATE -Wall -Wextra -Wno-unused-parameter)
set_target_properties(lucid_cuda_emu PROPERTIES POSITION_INDEPENDENT_CODE ON)

function(lucid_cuda_emulate target)
  foreach(cu ${ARGN})
    get_filename_component(name ${cu} NAME_WE)
    set(out ${CMAKE_CURRENT_BINARY_DIR}/cuda_emu/${name}.cu.cpp)
    add_custom_command(OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/cuda_emu
      COMMAND cuda_emu_rewrite ${cu} ${out}
      DEPENDS cuda_emu_rewrite ${cu}
      COMMENT "cuda_emu: rewriting ${name}.cu")
    target_sources(${target} PRIVATE ${out})
    # Kernels are plain C++ here; CUDA's #pragma unroll means nothing to g++.
    set_source_files_properties(${out} PROPERTIES
      COMPILE_OPTIONS "-include;${LUCID_CUDA_EMU_DIR}/cuda_emu.h;-Wno-unknown-pragmas")
  endforeach()
  target_link_libraries(${target} PUBLIC lucid_cuda_emu)
endfunction()
