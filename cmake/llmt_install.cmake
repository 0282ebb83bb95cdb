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
