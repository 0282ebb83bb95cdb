# Install + export: find_package(llmt) gives llmt::llmt.
include(CMakePackageConfigHelpers)
install(DIRECTORY include/llmt DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS llmt EXPORT llmtTargets)
install(EXPORT llmtTargets NAMESPACE llmt:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/llmt)
configure_package_config_file(cmake/llmtConfig.cmake.in ${PROJECT_BINARY_DIR}/llmtConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/llmt)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/llmtConfigVersion.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${PROJECT_BINARY_DIR}/llmtConfig.cmake ${PROJECT_BINARY_DIR}/llmtConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/llmt)

# pkg-config: `pkg-config --cflags --libs llmt` (the same file as meson.build's; threads as -pthread, which
# Debian's pkg-config has no .pc for).
# The prefix is found from where the file lies (${pcfiledir}), so `cmake --install --prefix P` works too.
set(llmt_pc_prefix "${CMAKE_INSTALL_PREFIX}")
if(NOT IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(llmt_pc_prefix "\${pcfiledir}/..")
  string(REPLACE "/" ";" _libdir_parts "${CMAKE_INSTALL_LIBDIR}")
  foreach(_part IN LISTS _libdir_parts)
    string(APPEND llmt_pc_prefix "/..")
  endforeach()
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(llmt_pc_includedir "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(llmt_pc_includedir "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file(cmake/llmt.pc.in ${PROJECT_BINARY_DIR}/llmt.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/llmt.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The command-line tools, when they are built (they find no model by default: -m FILE or LLMT_MODEL).
if(LLMT_BUILD_EXAMPLES)
  install(TARGETS llmt-run llmt-chat llmt-info llmt-quantize llmt-tokenize RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
if(LLMT_BUILD_BENCH)
  install(TARGETS llmt-bench llmt-kernels RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
