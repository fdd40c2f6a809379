# The layers above the core (nn, optim, train, ml) use only nx's public API: none of their
# files includes a backend header or names a backend, and no backend includes them.
# Run: cmake -DROOT=<source dir> -P layering.cmake
file(GLOB_RECURSE layer_files
     ${ROOT}/include/nx/nn.hpp ${ROOT}/include/nx/optim.hpp ${ROOT}/include/nx/train.hpp ${ROOT}/include/nx/ml.hpp
     ${ROOT}/include/nx/nn/* ${ROOT}/include/nx/optim/* ${ROOT}/include/nx/train/* ${ROOT}/include/nx/ml/*
     ${ROOT}/src/nn/* ${ROOT}/src/optim/* ${ROOT}/src/train/* ${ROOT}/src/ml/*)
set(bad "")
foreach(f ${layer_files})
  file(READ ${f} text)
  string(REGEX MATCH "#include [<\"](nx/(llvm|onednn|interp|cuda|backend)\\.hpp|nx/detail/[a-z_]+\\.hpp|backends/)" inc "${text}")
  string(REGEX MATCH "(\"|[^a-z_])(llvm|onednn|interp|cuda|dnnl|cublas)(\"|[^a-z_])" name "${text}")
  if(inc OR name)
    list(APPEND bad "${f}: ${inc}${name}")
  endif()
endforeach()
file(GLOB_RECURSE backend_files ${ROOT}/backends/*)
foreach(f ${backend_files})
  file(READ ${f} text)
  string(REGEX MATCH "#include [<\"]nx/(nn|optim|train|ml)[./]" inc "${text}")
  if(inc)
    list(APPEND bad "${f}: ${inc}")
  endif()
endforeach()
list(LENGTH layer_files n)
if(n LESS 10)
  message(FATAL_ERROR "layering: found only ${n} layer files under ${ROOT}: wrong ROOT?")
endif()
if(bad)
  string(REPLACE ";" "\n  " bad "${bad}")
  message(FATAL_ERROR "layering: these files reach below the public API:\n  ${bad}")
endif()
message(STATUS "layering: ${n} layer files use only the public API")
