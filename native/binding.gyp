# node-gyp build of the Open MPI binding (lasp_mpi.node); run through `npm run build:mpi`.
# Include and link flags come from Open MPI's own wrapper (mpicc --showme), so any install layout works.
{
  "targets": [
    {
      "target_name": "lasp_mpi",
      "sources": [
        "src/addon.cc",
        "src/env.cc",
        "src/requests.cc",
        "src/nonblocking.cc",
        "src/blocking.cc",
        "src/args.cc",
        "src/op_args.cc",
        "src/executor.cc",
        "src/queued.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(mpicc --showme:incdirs)"
      ],
      "libraries": ["<!@(mpicc --showme:link)", "-ldl"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "OMPI_SKIP_MPICXX=1", "MPICH_SKIP_MPICXX=1"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
