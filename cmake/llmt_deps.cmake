# Dependencies of the llmt::llmt target: xsimd, fmt, threads.
include(GNUInstallDirs)
find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
# Debian's xsimd CMake config links a library named "xtl" that its package does not ship:
# an empty imported target of that name satisfies it.
if(NOT TARGET xtl)
  add_library(xtl INTERFACE IMPORTED)
endif()
find_package(xsimd REQUIRED)
